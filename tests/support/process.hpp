#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace homesafe::test {

struct ProcessOptions {
  // Added to (or replacing in) the parent's environment.
  std::map<std::string, std::string> env{};
  // Where stdout and stderr go. Empty: files in a temp dir owned by the Process.
  std::filesystem::path stdout_path{};
  std::filesystem::path stderr_path{};
  // Working directory of the child. Empty: the parent's.
  std::filesystem::path working_dir{};
};

// A child process started with posix_spawn (argv[0] is looked up in PATH if it has no slash).
// Signals go to its PID only. The destructor SIGKILLs and reaps it if it is still running.
class Process {
 public:
  // Throws std::system_error if the program cannot be started.
  explicit Process(std::vector<std::string> argv, ProcessOptions options = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }

  // True until the child has exited (reaps it without blocking once it has).
  bool running();
  // Sends `signal` to the child's PID; does nothing once the child has been reaped.
  void kill(int signal = SIGTERM);
  // Waits up to `timeout` for the child to exit. Returns its exit code, or 128 + N when signal N
  // ended it (as a shell reports it); std::nullopt if it is still running at the deadline.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout = kDefaultTimeout);
  // The exit status once known (same encoding as wait_for_exit).
  std::optional<int> exit_status() const { return status_; }
  // SIGTERM, then SIGKILL if it has not exited within `grace`. Returns the exit status.
  std::optional<int> stop(std::chrono::milliseconds grace = kDefaultTimeout);

  const std::filesystem::path& stdout_path() const { return stdout_path_; }
  const std::filesystem::path& stderr_path() const { return stderr_path_; }
  std::string read_stdout() const;
  std::string read_stderr() const;
  // "argv..., exit status, stdout, stderr": for failure messages.
  std::string describe() const;

 private:
  void reap(int wait_status);
  void kill_and_reap() noexcept;

  std::vector<std::string> argv_;
  std::unique_ptr<TempDir> output_dir_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
  pid_t pid_ = -1;
  bool reaped_ = true;
  std::optional<int> status_;
};

}  // namespace homesafe::test
