#pragma once
// A simulated 4G modem for the SMS notifier: answers AT commands on a pseudo-terminal like a
// Quectel/SIMCom module (text mode, UCS2 character set), records every SMS it "sends" in an
// outbox, and takes control commands (inject a reply, fail or hang the next sends) from a FIFO.
// It shares no code with the gateway: its own UCS2 codec keeps the notifier's tests honest.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace homesafe::sim {

// ---- UCS2 as modems write it with AT+CSCS="UCS2": four hex digits per UTF-16 code unit ----

// UTF-8 → uppercase UCS2 hex. A byte that does not begin a well-formed UTF-8 sequence is
// encoded as U+FFFD.
std::string ucs2_hex_from_utf8(std::string_view utf8);
// UCS2 hex (either case) → UTF-8; unpaired surrogates become U+FFFD. std::nullopt unless the
// input is whole groups of four hex digits.
std::optional<std::string> utf8_from_ucs2_hex(std::string_view hex);

// ---- Control commands (one per line on the FIFO, or `homesafe-sim modem-ctl FIFO ...`) ----

struct ModemControl {
  enum class Kind {
    reply,  // reply <number> <text...>: store an incoming SMS, announce it with +CMTI
    fail,   // fail <n> [cms-code]: the next n sends end with +CMS ERROR: <code> (default 500)
    hang,   // hang <n>: the next n sends are never answered
    reset,  // reset: forget failures, hangs, stored messages and a half-typed SMS
  };
  Kind kind = Kind::reset;
  std::string number;  // reply
  std::string text;    // reply (UTF-8)
  int count = 0;       // fail, hang
  int code = 500;      // fail
};

// Parses one control line. On error returns std::nullopt and sets `error`.
std::optional<ModemControl> parse_modem_control(std::string_view line, std::string& error);

// ---- The AT interpreter (no I/O: bytes in, bytes out) ----

struct SentSms {
  std::string to;    // as the host gave it, decoded ("+8613800000000")
  std::string text;  // decoded UTF-8, as the phone would show it
};

struct StoredSms {
  int index = 0;
  std::string from;
  std::string text;  // UTF-8
  std::int64_t unix_ms = 0;
  bool read = false;
};

class ModemEngine {
 public:
  using SentHandler = std::function<void(const SentSms&)>;
  using NowFunction = std::function<std::int64_t()>;  // Unix ms
  // What else happened, for the operator: failed or hung sends, deleted messages.
  using NoteHandler = std::function<void(const std::string&)>;

  static constexpr int kStorageSlots = 30;
  static constexpr std::size_t kMaxUcs2Units = 70;  // one SMS with data coding 8
  static constexpr std::size_t kMaxGsmChars = 160;

  // `on_sent` is called for every SMS that goes out (not for failed or hung sends).
  explicit ModemEngine(SentHandler on_sent = {}, NowFunction now = {}, NoteHandler on_note = {});

  // Bytes the host wrote to the modem → bytes the modem answers (echo, responses, prompts).
  std::string receive(std::string_view bytes);

  struct ControlResult {
    bool ok = true;
    std::string message;  // for the operator: what happened, or the error
    std::string to_host;  // unsolicited output (+CMTI) for the host
  };
  ControlResult control(const ModemControl& command);

  // For tests and status.
  const std::vector<StoredSms>& stored() const { return stored_; }
  int pending_failures() const { return fail_count_; }
  int pending_hangs() const { return hang_count_; }
  bool echo() const { return echo_; }
  bool text_mode() const { return text_mode_; }
  const std::string& charset() const { return charset_; }

 private:
  std::string execute(std::string_view line);
  std::string execute_extended(const std::string& name, char form, std::string_view args);
  std::string finish_sms();
  std::string cms_error(int code) const;
  std::string cme_error(int code) const;
  std::string encode(std::string_view utf8) const;                  // for the host, per CSCS
  std::optional<std::string> decode(std::string_view field) const;  // from the host, per CSCS
  std::string timestamp(std::int64_t unix_ms) const;                // "26/11/01,07:00:00+32"
  std::string list_entry(const StoredSms& sms, bool with_index) const;
  std::string emit(std::string urc);  // now, or after the SMS being typed

  void note(const std::string& text) const {
    if (on_note_) on_note_(text);
  }

  SentHandler on_sent_;
  NowFunction now_;
  NoteHandler on_note_;
  // Settings (AT+... defaults like a freshly powered modem).
  bool echo_ = true;
  int cmee_ = 0;
  bool text_mode_ = false;  // AT+CMGF=0: PDU mode, which this simulator does not implement
  std::string charset_ = "IRA";
  int csmp_[4] = {17, 167, 0, 0};
  int cnmi_[5] = {0, 0, 0, 0, 0};
  // Input state.
  std::string line_;
  bool typing_ = false;  // after AT+CMGS: collecting the text until Ctrl-Z
  std::string typing_to_;
  std::string typed_;
  std::string held_urcs_;  // URCs held back while the host types an SMS
  // Network and SIM.
  int message_reference_ = 0;
  int fail_count_ = 0;
  int fail_code_ = 500;
  int hang_count_ = 0;
  std::vector<StoredSms> stored_;
};

// ---- The program: a PTY, the outbox, the control FIFO ----

struct ModemServerOptions {
  std::filesystem::path link;     // symlink to the PTY's slave device, e.g. /tmp/ttyUSB2
  std::filesystem::path outbox;   // JSON lines, appended
  std::filesystem::path control;  // FIFO; empty: none
  bool quiet = false;
};

class ModemServer {
 public:
  // Opens the pseudo-terminal (raw mode), the outbox and the control FIFO (created if missing),
  // then points `link` at the PTY (replacing a stale symlink, refusing to replace anything else).
  // Throws std::runtime_error with a readable message.
  // What happens goes to `out` (unless quiet); control errors go to `err`.
  ModemServer(ModemServerOptions options, std::ostream& out, std::ostream& err);
  // Removes the link if it still points at this modem, and the FIFO if this modem created it.
  ~ModemServer();
  ModemServer(const ModemServer&) = delete;
  ModemServer& operator=(const ModemServer&) = delete;

  const std::string& device() const { return device_; }
  // Serves until stop().
  void run();
  // Async-signal-safe and thread-safe.
  void stop() noexcept;

 private:
  void on_sent(const SentSms& sms);
  void handle_control_input();
  void write_to_host(std::string_view bytes);
  void say(const std::string& line);
  void cleanup() noexcept;

  ModemServerOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  ModemEngine engine_;
  std::string device_;
  int master_fd_ = -1;
  int slave_fd_ = -1;  // held open so that the PTY lives while no client has it open
  int control_fd_ = -1;
  int control_keepalive_fd_ = -1;
  bool created_fifo_ = false;
  int stop_pipe_[2] = {-1, -1};
  std::string control_buffer_;
};

// `homesafe-sim modem`: serves until SIGTERM/SIGINT. Returns the exit code.
int run_modem(const ModemServerOptions& options, std::ostream& out, std::ostream& err);

// `homesafe-sim modem-ctl FIFO COMMAND...`: checks the command and writes it as one line.
// Returns 0, 1 (nobody reads the FIFO, I/O error) or 2 (bad command).
int send_modem_control(const std::filesystem::path& fifo, std::string_view line, std::ostream& err);

}  // namespace homesafe::sim
