#include "support/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;  // NOLINT: POSIX

namespace homesafe::test {
namespace {

// posix_spawn attributes and file actions, released on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attributes_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attributes_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attributes() { return &attributes_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
};

void check(int error, const std::string& what) {
  if (error != 0) throw std::system_error(error, std::generic_category(), what);
}

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> result;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view item(*entry);
    const auto equals = item.find('=');
    const std::string name(item.substr(0, equals));
    if (!extra.contains(name)) result.emplace_back(item);
  }
  for (const auto& [name, value] : extra) result.push_back(name + "=" + value);
  return result;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (auto& text : strings) result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

int encode_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

Process::Process(std::vector<std::string> argv, ProcessOptions options) : argv_(std::move(argv)) {
  if (argv_.empty()) throw std::invalid_argument("Process: empty argv");
  stdout_path_ = std::move(options.stdout_path);
  stderr_path_ = std::move(options.stderr_path);
  if (stdout_path_.empty() || stderr_path_.empty()) {
    output_dir_ = std::make_unique<TempDir>("homesafe-process");
    if (stdout_path_.empty()) stdout_path_ = output_dir_->path() / "stdout";
    if (stderr_path_.empty()) stderr_path_ = output_dir_->path() / "stderr";
  }

  SpawnSetup setup;
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC;
  check(posix_spawn_file_actions_addopen(setup.actions(), STDIN_FILENO, "/dev/null", O_RDONLY, 0),
        "redirect stdin");
  check(posix_spawn_file_actions_addopen(setup.actions(), STDOUT_FILENO, stdout_path_.c_str(),
                                         kFlags, 0644),
        "redirect stdout");
  check(posix_spawn_file_actions_addopen(setup.actions(), STDERR_FILENO, stderr_path_.c_str(),
                                         kFlags, 0644),
        "redirect stderr");
  if (!options.working_dir.empty()) {
    check(posix_spawn_file_actions_addchdir_np(setup.actions(), options.working_dir.c_str()),
          "chdir");
  }
  // The child starts with default signal dispositions and an empty signal mask, whatever the
  // test runner has changed.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  check(posix_spawnattr_setsigdefault(setup.attributes(), &all), "sigdefault");
  check(posix_spawnattr_setsigmask(setup.attributes(), &none), "sigmask");
  check(
      posix_spawnattr_setflags(setup.attributes(), POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK),
      "spawn flags");

  auto args = argv_;
  auto env = merged_environment(options.env);
  auto arg_pointers = pointers(args);
  auto env_pointers = pointers(env);
  pid_t pid = -1;
  check(posix_spawnp(&pid, args[0].c_str(), setup.actions(), setup.attributes(),
                     arg_pointers.data(), env_pointers.data()),
        "posix_spawn " + argv_[0]);
  pid_ = pid;
  reaped_ = false;
}

Process::~Process() {
  kill_and_reap();
}

Process::Process(Process&& other) noexcept
    : argv_(std::move(other.argv_)),
      output_dir_(std::move(other.output_dir_)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)),
      pid_(std::exchange(other.pid_, -1)),
      reaped_(std::exchange(other.reaped_, true)),
      status_(other.status_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    argv_ = std::move(other.argv_);
    output_dir_ = std::move(other.output_dir_);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
    pid_ = std::exchange(other.pid_, -1);
    reaped_ = std::exchange(other.reaped_, true);
    status_ = other.status_;
  }
  return *this;
}

void Process::reap(int wait_status) {
  reaped_ = true;
  status_ = encode_status(wait_status);
}

bool Process::running() {
  if (reaped_) return false;
  int wait_status = 0;
  const pid_t result = ::waitpid(pid_, &wait_status, WNOHANG);
  if (result == pid_) {
    reap(wait_status);
    return false;
  }
  if (result < 0 && errno == ECHILD) {  // reaped elsewhere: no status to report
    reaped_ = true;
    return false;
  }
  return true;
}

void Process::kill(int signal) {
  if (reaped_ || pid_ <= 0) return;
  ::kill(pid_, signal);  // a zombie ignores it; the PID cannot be reused before we reap it
}

std::optional<int> Process::wait_for_exit(std::chrono::milliseconds timeout) {
  wait_until([this] { return !running(); }, timeout, std::chrono::milliseconds{5});
  return status_;
}

std::optional<int> Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return status_;
  kill(SIGTERM);
  if (wait_for_exit(grace)) return status_;
  kill(SIGKILL);
  return wait_for_exit(kDefaultTimeout);
}

void Process::kill_and_reap() noexcept {
  if (reaped_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int wait_status = 0;
  while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

std::string Process::read_stdout() const {
  return read_file(stdout_path_);
}
std::string Process::read_stderr() const {
  return read_file(stderr_path_);
}

std::string Process::describe() const {
  std::ostringstream out;
  out << "process";
  for (const auto& arg : argv_) out << ' ' << arg;
  out << " (pid " << pid_ << ")";
  if (status_) {
    out << " exited with status " << *status_;
  } else {
    out << " has not exited";
  }
  out << "\n--- stdout ---\n" << read_stdout() << "\n--- stderr ---\n" << read_stderr();
  return out.str();
}

}  // namespace homesafe::test
