// SMS through a cellular modem on a serial port (AT commands, text mode, UCS2). One thread owns
// the port: it sends queued notifications one at a time, reads replies, and reconnects after
// errors. The pure AT/UCS2 pieces are in at_codec.cpp. See docs/notifiers-sms.md.
#include "homesafe/gateway/notify/sms_modem.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway::notify {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr auto kReconnectMin = milliseconds{1000};
constexpr auto kReconnectMax = milliseconds{60000};
constexpr auto kHealthCheckInterval = milliseconds{60000};
constexpr auto kMaxRetryDelay = milliseconds{3600000};
constexpr auto kDrainQuiet = milliseconds{300};
constexpr int kSyncTries = 3;
constexpr std::size_t kMaxQueuedUrcs = 64;
constexpr char kCtrlZ = '\x1A';
constexpr char kEscape = '\x1B';

std::optional<speed_t> baud_constant(int baud) {
  switch (baud) {
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 921600:
      return B921600;
    default:
      return std::nullopt;
  }
}

std::string errno_text(int error) {
  return std::strerror(error);
}

// What may be logged of an unsolicited line: its name only (+CMT: carries a number and a text).
std::string urc_name(std::string_view line) {
  return std::string(line.substr(0, std::min(line.find(':'), std::size_t{16})));
}

std::string final_text(const std::optional<AtFinal>& final_result) {
  return final_result ? final_result->text : std::string("no final result");
}

// The result of one command.
struct Outcome {
  enum class Status { ok, failed, timeout, io_error, stopped };
  Status status = Status::ok;
  std::optional<AtFinal> final_result;  // for ok and failed
  std::vector<std::string> info;

  bool ok() const { return status == Status::ok; }
  std::string describe() const {
    switch (status) {
      case Status::ok:
      case Status::failed:
        return final_text(final_result);
      case Status::timeout:
        return "timeout";
      case Status::io_error:
        return "modem I/O error";
      case Status::stopped:
        return "notifier stopped";
    }
    return "?";
  }
};

struct Pending {
  std::string id;
  std::string address;
  std::string text;
  std::string link;  // the one-tap link at the end of `text`, or empty
  std::function<void(const DeliveryResult&)> done;
  int attempts = 0;
  Clock::time_point due{};
  std::uint64_t sequence = 0;
};

void finish(Pending& pending, const DeliveryResult& result) {
  if (!pending.done) return;
  auto done = std::move(pending.done);
  pending.done = nullptr;
  try {
    done(result);
  } catch (const std::exception& error) {
    log::error("sms notification {}: completion handler threw: {}", pending.id, error.what());
  }
}

}  // namespace

struct SmsModemNotifier::Impl {
  Impl(SmsModemOptions opts, ReplyHandler reply)
      : options(std::move(opts)), on_reply(std::move(reply)) {}

  // ---- shared with send() and the destructor ----
  std::mutex mutex;
  std::deque<Pending> incoming;
  bool stopping = false;
  std::uint64_t next_sequence = 0;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> connected{false};
  int wake_fd = -1;
  std::thread thread;

  // ---- the notifier's thread only ----
  const SmsModemOptions options;
  const ReplyHandler on_reply;
  speed_t speed = B115200;
  int fd = -1;
  AtLineReader reader;
  std::deque<std::string> urcs;
  std::deque<int> to_read;  // SIM indexes announced by +CMTI
  std::vector<Pending> queue;
  bool need_init = false;
  Clock::time_point reopen_at{};
  milliseconds reconnect_delay = kReconnectMin;
  Clock::time_point next_health_check{};
  std::string last_connect_error;

  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_fd, &one, sizeof one);
  }

  // ------------------------------------------------------------------------------------------
  // Port I/O

  enum class Wait { data, timeout, woken, stopped, io_error };

  // Waits until bytes arrive from the modem (fed to `reader`), `deadline` passes, or stop; with
  // `return_when_woken` also when send() queued a notification.
  Wait wait_io(Clock::time_point deadline, bool return_when_woken = false) {
    while (true) {
      if (stop_requested) return Wait::stopped;
      pollfd fds[2] = {{wake_fd, POLLIN, 0}, {fd, POLLIN, 0}};
      const nfds_t count = fd >= 0 ? 2 : 1;
      const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
      const int timeout = static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
      const int ready = ::poll(fds, count, timeout);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return Wait::io_error;
      }
      if (fds[0].revents & POLLIN) {
        std::uint64_t value = 0;
        [[maybe_unused]] const auto got = ::read(wake_fd, &value, sizeof value);
        if (stop_requested) return Wait::stopped;
      }
      if (count == 2 && fds[1].revents != 0) {
        char buffer[1024];
        bool got_data = false;
        while (true) {
          const auto n = ::read(fd, buffer, sizeof buffer);
          if (n > 0) {
            reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
            got_data = true;
            continue;
          }
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          // 0 (hang-up) or an error such as EIO (PTY master closed) / ENODEV (unplugged).
          if (got_data) return Wait::data;  // report the data; the error shows again next time
          return Wait::io_error;
        }
        if (got_data) return Wait::data;
        if (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) return Wait::io_error;
      }
      if (return_when_woken && (fds[0].revents & POLLIN)) return Wait::woken;
      if (ready == 0 || Clock::now() >= deadline) return Wait::timeout;
      // Woken by send() in the middle of a command: keep waiting for the modem.
    }
  }

  bool write_all(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
      const auto n = ::write(fd, data.data(), data.size());
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd out{fd, POLLOUT, 0};
        const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
        if (left <= 0 || stop_requested) return false;
        if (::poll(&out, 1, static_cast<int>(std::min<long long>(left, 1000))) < 0 &&
            errno != EINTR) {
          return false;
        }
        if (out.revents & (POLLHUP | POLLERR | POLLNVAL)) return false;
        continue;
      }
      return false;
    }
    return true;
  }

  void queue_urc(std::string line) {
    if (urcs.size() >= kMaxQueuedUrcs) urcs.pop_front();
    urcs.push_back(std::move(line));
  }

  // Complete lines already received outside any command: URCs are queued, the rest (a late
  // answer to a command that timed out, an echo) is dropped.
  void take_unsolicited_lines() {
    while (auto event = reader.next()) {
      if (event->kind == AtLineReader::Event::Kind::prompt) continue;
      if (is_unsolicited(event->text)) {
        queue_urc(std::move(event->text));
      } else {
        log::debug("sms modem: dropped a stray line ({})", urc_name(event->text));
      }
    }
  }

  // Reads lines into `exchange` until its final result, `deadline`, or an error.
  Outcome finish_exchange(AtExchange& exchange, Clock::time_point deadline) {
    while (true) {
      while (auto event = reader.next()) {
        if (event->kind == AtLineReader::Event::Kind::prompt) continue;
        if (exchange.accept(event->text) == AtExchange::Accepted::urc) {
          queue_urc(std::move(event->text));
        }
        if (exchange.done()) {
          return Outcome{exchange.ok() ? Outcome::Status::ok : Outcome::Status::failed,
                         exchange.final(), exchange.info()};
        }
      }
      switch (wait_io(deadline)) {
        case Wait::data:
        case Wait::woken:
          break;
        case Wait::timeout:
          return Outcome{Outcome::Status::timeout, std::nullopt, {}};
        case Wait::stopped:
          return Outcome{Outcome::Status::stopped, std::nullopt, {}};
        case Wait::io_error:
          return Outcome{Outcome::Status::io_error, std::nullopt, {}};
      }
    }
  }

  Outcome command(const std::string& text, milliseconds timeout, bool body_follows_info = false) {
    if (fd < 0) return Outcome{Outcome::Status::io_error, std::nullopt, {}};
    take_unsolicited_lines();
    const auto deadline = Clock::now() + timeout;
    if (!write_all(text + "\r", deadline)) {
      return Outcome{
          stop_requested ? Outcome::Status::stopped : Outcome::Status::io_error, std::nullopt, {}};
    }
    AtExchange exchange(text, body_follows_info);
    return finish_exchange(exchange, deadline);
  }

  // ------------------------------------------------------------------------------------------
  // Connection

  void close_port() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    connected = false;
    reader.clear();
    urcs.clear();
    to_read.clear();
    need_init = false;
  }

  void disconnect(std::string_view reason) {
    if (fd < 0) return;
    log::warn("sms modem: lost {} ({}); reconnecting", options.device, reason);
    close_port();
    last_connect_error.clear();
    reconnect_delay = kReconnectMin;
    reopen_at = Clock::now() + reconnect_delay;
  }

  // Opens the device in raw mode. On failure returns the reason.
  std::optional<std::string> open_port() {
    const int opened = ::open(options.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (opened < 0) return "cannot open: " + errno_text(errno);
    termios tio{};
    if (::tcgetattr(opened, &tio) != 0) {
      const int error = errno;
      ::close(opened);
      return "not a serial port: " + errno_text(error);
    }
    ::cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~static_cast<tcflag_t>(CRTSCTS);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    ::cfsetispeed(&tio, speed);
    ::cfsetospeed(&tio, speed);
    if (::tcsetattr(opened, TCSANOW, &tio) != 0) {
      const int error = errno;
      ::close(opened);
      return "cannot configure: " + errno_text(error);
    }
    ::tcflush(opened, TCIOFLUSH);
    fd = opened;
    reader.clear();
    return std::nullopt;
  }

  // Reads and discards what the modem still says until it has been quiet for a moment.
  void drain() {
    auto quiet_until = Clock::now() + kDrainQuiet;
    while (fd >= 0) {
      const auto result = wait_io(quiet_until);
      take_unsolicited_lines();
      if (result == Wait::data) {
        quiet_until = Clock::now() + kDrainQuiet;
        continue;
      }
      if (result == Wait::io_error) disconnect("read error");
      return;
    }
  }

  milliseconds sync_timeout() const {
    return std::min(options.command_timeout, milliseconds{3000});
  }

  // The initialisation sequence; on failure returns what failed (the port stays open).
  std::optional<std::string> initialise() {
    // A gateway that died in the middle of AT+CMGS leaves the modem waiting for text: ESC ends it.
    if (!write_all(std::string(1, kEscape), Clock::now() + sync_timeout())) return "write failed";
    drain();
    if (fd < 0) return "read error";
    Outcome alive;
    for (int i = 0; i < kSyncTries; ++i) {
      alive = command("AT", sync_timeout());
      if (alive.ok() || alive.status == Outcome::Status::io_error ||
          alive.status == Outcome::Status::stopped) {
        break;
      }
    }
    if (!alive.ok()) return "AT: " + alive.describe();
    const std::pair<const char*, bool> sequence[] = {
        {"ATE0", true},                           // no echo
        {"AT+CMEE=1", true},                      // numeric +CME/+CMS ERROR codes
        {"AT+CMGF=1", true},                      // text mode
        {"AT+CPMS=\"SM\",\"SM\",\"SM\"", false},  // SIM storage (before UCS2: plain strings)
        {"AT+CSCS=\"UCS2\"", true},               // numbers and texts as UCS2 hex
        {"AT+CSMP=17,167,0,8", true},             // validity 24 h, data coding UCS2
        {"AT+CNMI=2,1,0,0,0", true},              // +CMTI: "SM",<index> for a new SMS
    };
    for (const auto& [text, required] : sequence) {
      const auto outcome = command(text, options.command_timeout);
      if (outcome.ok()) continue;
      if (outcome.status == Outcome::Status::io_error ||
          outcome.status == Outcome::Status::stopped || required) {
        return command_name(text) + ": " + outcome.describe();
      }
      log::warn("sms modem: {} failed ({}); using the modem's default storage", command_name(text),
                outcome.describe());
    }
    need_init = false;
    return std::nullopt;
  }

  // Opens and initialises the modem, then reads replies stored while nobody listened.
  bool connect() {
    close_port();
    auto error = open_port();
    if (!error) {
      error = initialise();
      if (error) close_port();
    }
    if (error) {
      if (*error != last_connect_error) {
        log::warn("sms modem: {} not ready: {}", options.device, *error);
      } else {
        log::debug("sms modem: {} still not ready: {}", options.device, *error);
      }
      last_connect_error = *error;
      return false;
    }
    connected = true;
    last_connect_error.clear();
    reconnect_delay = kReconnectMin;
    next_health_check = Clock::now() + kHealthCheckInterval;
    log::info("sms modem: ready on {}", options.device);
    read_stored();
    return fd >= 0;
  }

  void connect_with_backoff() {
    if (connect()) return;
    reopen_at = Clock::now() + reconnect_delay;
    reconnect_delay = std::min(reconnect_delay * 2, kReconnectMax);
  }

  // AT+CMGF? must say text mode: the modem answers, and has not been reset behind our back.
  bool check_health() {
    for (int i = 0; i < kSyncTries && fd >= 0; ++i) {
      const auto outcome = command("AT+CMGF?", sync_timeout());
      if (outcome.status == Outcome::Status::io_error) {
        disconnect("read error");
        return false;
      }
      if (outcome.status == Outcome::Status::stopped) return false;
      if (!outcome.ok()) continue;
      const bool has_mode =
          std::any_of(outcome.info.begin(), outcome.info.end(),
                      [](const auto& line) { return line.starts_with("+CMGF:"); });
      if (!has_mode) continue;  // a late OK of an earlier command: ask again
      const bool text_mode =
          std::any_of(outcome.info.begin(), outcome.info.end(), [](const std::string& line) {
            std::string_view value(line);
            value.remove_prefix(std::min(value.size(), std::string_view("+CMGF:").size()));
            return value.find_first_not_of(' ') != std::string_view::npos &&
                   value.substr(value.find_first_not_of(' ')).starts_with('1');
          });
      if (!text_mode) {
        log::warn("sms modem: modem was reset; initialising again");
        need_init = true;
      }
      return true;
    }
    if (fd >= 0) disconnect("no answer");
    return false;
  }

  // After a timeout: end a pending text entry, drop late answers, make sure the modem answers.
  void recover() {
    if (fd < 0) return;
    if (!write_all(std::string(1, kEscape), Clock::now() + sync_timeout())) {
      disconnect("write failed");
      return;
    }
    drain();
    if (fd >= 0) check_health();
  }

  // ------------------------------------------------------------------------------------------
  // Replies

  void deliver_reply(const SmsHeader& header, std::string_view body) {
    const std::string from = to_e164(decode_modem_text(header.sender), options.country_code);
    const std::string text = decode_modem_text(body);
    if (!on_reply) return;
    try {
      on_reply(from, text);
    } catch (const std::exception& error) {
      log::error("sms modem: reply handler threw: {}", error.what());
    }
  }

  void delete_message(int index) {
    const auto outcome = command("AT+CMGD=" + std::to_string(index), options.command_timeout);
    if (!outcome.ok()) {
      log::warn("sms modem: AT+CMGD={} failed: {}", index, outcome.describe());
    }
    if (outcome.status == Outcome::Status::io_error) disconnect("read error");
  }

  void read_stored() {
    auto outcome =
        command("AT+CMGL=\"REC UNREAD\"", options.command_timeout, /*body_follows_info=*/true);
    if (outcome.status == Outcome::Status::failed) {
      // Some modems want the status in the UCS2 character set too.
      outcome = command("AT+CMGL=\"" + utf8_to_ucs2_hex("REC UNREAD") + "\"",
                        options.command_timeout, true);
    }
    if (!outcome.ok()) {
      log::warn("sms modem: cannot list unread messages: {}", outcome.describe());
      if (outcome.status == Outcome::Status::io_error) disconnect("read error");
      return;
    }
    std::vector<std::pair<SmsHeader, std::string>> messages;
    for (std::size_t i = 0; i < outcome.info.size(); ++i) {
      auto header = parse_sms_header(outcome.info[i]);
      if (!header || header->index < 0) continue;
      std::string body = i + 1 < outcome.info.size() ? outcome.info[i + 1] : std::string();
      ++i;
      messages.emplace_back(std::move(*header), std::move(body));
    }
    if (!messages.empty()) {
      log::info("sms modem: {} unread message(s) stored on the SIM", messages.size());
    }
    for (const auto& [header, body] : messages) {
      log::info("sms modem: reply received (stored, index {})", header.index);
      deliver_reply(header, body);
      if (fd < 0) return;
      delete_message(header.index);
      if (fd < 0) return;
    }
  }

  void read_message(int index) {
    const auto outcome = command("AT+CMGR=" + std::to_string(index), options.command_timeout, true);
    if (outcome.status == Outcome::Status::io_error) {
      disconnect("read error");
      return;
    }
    if (!outcome.ok()) {
      log::warn("sms modem: AT+CMGR={} failed: {}", index, outcome.describe());
      return;
    }
    for (std::size_t i = 0; i < outcome.info.size(); ++i) {
      if (auto header = parse_sms_header(outcome.info[i])) {
        log::info("sms modem: reply received (index {})", index);
        deliver_reply(*header, i + 1 < outcome.info.size() ? outcome.info[i + 1] : "");
        if (fd < 0) return;
        break;
      }
    }
    delete_message(index);
  }

  void handle_urcs() {
    while (!urcs.empty()) {
      const std::string line = std::move(urcs.front());
      urcs.pop_front();
      if (auto indication = parse_cmti(line)) {
        if (std::find(to_read.begin(), to_read.end(), indication->index) == to_read.end()) {
          to_read.push_back(indication->index);
        }
      } else if (line.starts_with("RDY")) {
        log::warn("sms modem: modem restarted; initialising again");
        need_init = true;
      } else {
        log::debug("sms modem: unsolicited {}", urc_name(line));
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  // One SMS holds 70 UCS-2 units. A message whose one-tap link does not fit goes out as two: the
  // alarm text first (its outcome is the notification's), then the link.
  DeliveryResult send_sms(const Pending& pending) {
    if (!is_dialable_number(pending.address)) return {false, false, "invalid phone number"};
    const std::string suffix = " " + pending.link;
    if (pending.link.empty() || !pending.text.ends_with(suffix) ||
        utf8_to_utf16(pending.text).size() <= kSmsMaxUnits) {
      return send_text(pending.address, truncate_for_sms(utf8_to_utf16(pending.text)));
    }
    const std::string alarm = pending.text.substr(0, pending.text.size() - suffix.size());
    auto result = send_text(pending.address, truncate_for_sms(utf8_to_utf16(alarm)));
    if (!result.ok) return result;
    auto link = utf8_to_utf16("一键回复：" + pending.link);
    if (link.size() > kSmsMaxUnits) link = utf8_to_utf16(pending.link);
    if (link.size() > kSmsMaxUnits) {
      log::warn("sms notification {}: link longer than one SMS, not sent", pending.id);
      return result;
    }
    if (auto second = send_text(pending.address, link); !second.ok) {
      log::warn("sms notification {}: the link SMS failed ({}); the alarm SMS went out", pending.id,
                second.error);
    }
    return result;
  }

  DeliveryResult send_text(const std::string& address, const std::u16string& text) {
    if (text.empty()) return {false, false, "empty text"};

    const std::string command_text = "AT+CMGS=\"" + utf8_to_ucs2_hex(address) + "\"";
    take_unsolicited_lines();
    if (!write_all(command_text + "\r", Clock::now() + options.command_timeout)) {
      disconnect("write failed");
      return {false, true, "modem I/O error"};
    }
    AtExchange exchange(command_text);
    // Wait for the "> " prompt (or an early error).
    const auto prompt_deadline = Clock::now() + options.command_timeout;
    bool prompted = false;
    while (!prompted) {
      while (auto event = reader.next()) {
        if (event->kind == AtLineReader::Event::Kind::prompt) {
          prompted = true;
          break;
        }
        if (exchange.accept(event->text) == AtExchange::Accepted::urc) {
          queue_urc(std::move(event->text));
        }
        if (exchange.done()) return failure(*exchange.final());
      }
      if (prompted) break;
      switch (wait_io(prompt_deadline)) {
        case Wait::data:
        case Wait::woken:
          break;
        case Wait::timeout:
          recover();
          return {false, true, "timeout waiting for the > prompt"};
        case Wait::stopped:
          return {false, true, "notifier stopped"};
        case Wait::io_error:
          disconnect("read error");
          return {false, true, "modem I/O error"};
      }
    }
    const auto send_deadline = Clock::now() + options.send_timeout;
    if (!write_all(to_ucs2_hex(text) + kCtrlZ, send_deadline)) {
      disconnect("write failed");
      return {false, true, "modem I/O error"};
    }
    const auto outcome = finish_exchange(exchange, send_deadline);
    switch (outcome.status) {
      case Outcome::Status::ok:
        return {true, true, {}};
      case Outcome::Status::failed:
        return failure(*outcome.final_result);
      case Outcome::Status::timeout:
        recover();
        return {false, true, "timeout waiting for +CMGS"};
      case Outcome::Status::stopped:
        return {false, true, "notifier stopped"};
      case Outcome::Status::io_error:
        disconnect("read error");
        return {false, true, "modem I/O error"};
    }
    return {false, true, "?"};
  }

  static DeliveryResult failure(const AtFinal& final_result) {
    const bool permanent =
        final_result.kind == AtFinal::Kind::cms_error && cms_error_is_permanent(final_result.code);
    return {false, !permanent, final_result.text};
  }

  void attempt(Pending& pending) {
    ++pending.attempts;
    DeliveryResult result;
    if (fd < 0) connect();  // a due message does not wait for the reconnect backoff
    if (fd < 0) {
      result = {false, true,
                "modem unavailable" +
                    (last_connect_error.empty() ? std::string() : ": " + last_connect_error)};
      reopen_at = Clock::now() + reconnect_delay;
    } else {
      result = send_sms(pending);
    }
    if (result.ok) {
      log::info("sms notification {}: sent (attempt {})", pending.id, pending.attempts);
      finish(pending, result);
      return;
    }
    if (!result.retryable || pending.attempts >= options.max_attempts || stop_requested) {
      log::warn("sms notification {}: failed after {} attempt(s): {}{}", pending.id,
                pending.attempts, result.error, result.retryable ? "" : " (permanent)");
      finish(pending, result);
      return;
    }
    auto delay = options.retry_backoff;
    for (int i = 1; i < pending.attempts && delay < kMaxRetryDelay; ++i) delay *= 2;
    delay = std::min(delay, kMaxRetryDelay);
    pending.due = Clock::now() + delay;
    log::warn("sms notification {}: attempt {} failed: {}; retrying in {} ms", pending.id,
              pending.attempts, result.error, delay.count());
  }

  // ------------------------------------------------------------------------------------------
  // The thread

  // Moves what send() queued to `queue`; true if there was anything.
  bool collect_incoming() {
    std::lock_guard lock(mutex);
    const bool any = !incoming.empty();
    while (!incoming.empty()) {
      queue.push_back(std::move(incoming.front()));
      incoming.pop_front();
    }
    return any;
  }

  // The oldest notification whose attempt is due, or queue.end().
  std::vector<Pending>::iterator next_due(Clock::time_point now) {
    auto best = queue.end();
    for (auto it = queue.begin(); it != queue.end(); ++it) {
      if (it->due <= now && (best == queue.end() || it->sequence < best->sequence)) best = it;
    }
    return best;
  }

  void run() {
    reopen_at = Clock::now();
    while (!stop_requested) {
      collect_incoming();
      const auto now = Clock::now();
      if (fd < 0 && now >= reopen_at) connect_with_backoff();
      if (fd >= 0) {
        take_unsolicited_lines();
        handle_urcs();
        if (need_init) {
          if (auto error = initialise()) {
            disconnect(*error);
          } else {
            read_stored();
          }
          continue;
        }
        if (!to_read.empty()) {
          const int index = to_read.front();
          to_read.pop_front();
          read_message(index);
          continue;
        }
      }
      if (auto it = next_due(Clock::now()); it != queue.end()) {
        attempt(*it);
        if (!it->done) queue.erase(it);
        continue;
      }
      if (fd >= 0 && Clock::now() >= next_health_check) {
        check_health();
        next_health_check = Clock::now() + kHealthCheckInterval;
        continue;
      }
      // send() may have queued a notification while a command ran (connecting, say): that
      // command's wait_io() consumed the wake, so the idle wait below would not return for it.
      if (collect_incoming()) continue;
      auto deadline = Clock::now() + kHealthCheckInterval;
      for (const auto& pending : queue) deadline = std::min(deadline, pending.due);
      if (fd < 0) deadline = std::min(deadline, reopen_at);
      if (fd >= 0) deadline = std::min(deadline, next_health_check);
      if (wait_io(deadline, /*return_when_woken=*/true) == Wait::io_error && fd >= 0) {
        disconnect("read error");
      }
    }
    close_port();
    collect_incoming();
    for (auto& pending : queue) finish(pending, {false, true, "notifier stopped"});
    queue.clear();
  }
};

SmsModemNotifier::SmsModemNotifier(SmsModemOptions options, ReplyHandler on_reply) {
  if (options.device.empty()) throw std::invalid_argument("sms modem: no device given");
  const auto speed = baud_constant(options.baud);
  if (!speed) {
    throw std::invalid_argument("sms modem: unsupported baud rate " + std::to_string(options.baud));
  }
  if (options.max_attempts < 1) options.max_attempts = 1;
  impl_ = std::make_unique<Impl>(std::move(options), std::move(on_reply));
  impl_->speed = *speed;
  impl_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->wake_fd < 0) {
    throw std::system_error(errno, std::generic_category(), "sms modem: eventfd");
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

SmsModemNotifier::~SmsModemNotifier() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->stop_requested = true;
  impl_->wake();
  impl_->thread.join();
  ::close(impl_->wake_fd);
}

void SmsModemNotifier::send(const Notification& notification,
                            std::function<void(const DeliveryResult&)> done) {
  Pending pending{notification.notification_id, notification.address, notification.text,
                  notification.link, std::move(done)};
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->stopping) {
      pending.sequence = impl_->next_sequence++;
      pending.due = Clock::now();
      impl_->incoming.push_back(std::move(pending));
      pending.done = nullptr;
    }
  }
  if (pending.done) {
    finish(pending, {false, true, "notifier stopped"});
    return;
  }
  log::debug("sms notification {}: queued", notification.notification_id);
  impl_->wake();
}

bool SmsModemNotifier::connected() const {
  return impl_->connected;
}

}  // namespace homesafe::gateway::notify
