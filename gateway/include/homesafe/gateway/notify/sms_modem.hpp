#pragma once
// SMS through a cellular modem (Quectel EC20/EC25, SIMCom SIM7600 ...) that speaks AT commands on
// a serial port, so that a hub without internet can still reach a caregiver's phone, and hear the
// replies ("1") that acknowledge an alert. See docs/notifiers-sms.md.
//
// The second half of this header is the pure AT/UCS2 code the notifier is built from
// (src/notify/at_codec.cpp); it is public so that it can be tested on its own.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homesafe/gateway/notify/notifier.hpp"

namespace homesafe::gateway::notify {

struct SmsModemOptions {
  std::string device;  // e.g. /dev/ttyUSB2 (the modem's AT port)
  int baud = 115200;   // 9600 ... 921600; USB modems ignore it
  // Longest wait for the answer to an ordinary command, and for the `> ` prompt of AT+CMGS.
  std::chrono::milliseconds command_timeout{10000};
  // Longest wait for `+CMGS: <mr>` after the text went out (the network can be slow).
  std::chrono::milliseconds send_timeout{60000};
  // Attempts per notification (the first one included); between attempts retry_backoff, doubled
  // after every failed attempt. "Modem not there" counts as a failed attempt.
  int max_attempts = 3;
  std::chrono::milliseconds retry_backoff{5000};
  // Country code for sender numbers the network delivers without one ("13800000000").
  std::string country_code = "86";
};

// Sends each notification as one SMS (UCS2, at most 70 characters) to `Notification::address`,
// one at a time, on its own thread; reconnects to the modem after errors, with backoff. Replies
// are read as they arrive (+CMTI) and, at every (re)connect, from the unread messages stored on
// the SIM; each is handed to `on_reply(E.164 sender, UTF-8 text)` on the notifier's thread and
// then deleted from the modem.
class SmsModemNotifier final : public Notifier {
 public:
  // Throws std::invalid_argument for an unsupported baud rate or an empty device path. Does not
  // open the device: a missing modem is reported (logged) by the notifier's thread.
  SmsModemNotifier(SmsModemOptions options, ReplyHandler on_reply);
  // Stops the thread; notifications not yet delivered complete with ok = false and the error
  // "notifier stopped".
  ~SmsModemNotifier() override;
  SmsModemNotifier(const SmsModemNotifier&) = delete;
  SmsModemNotifier& operator=(const SmsModemNotifier&) = delete;

  std::string_view channel() const override { return "sms"; }
  // Queues and returns at once; `done` is called exactly once, on the notifier's thread (or
  // right away on the caller's, with "notifier stopped", once the destructor has begun).
  void send(const Notification& notification,
            std::function<void(const DeliveryResult&)> done) override;

  // True while the modem is open and initialised (for status reports).
  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// AT and UCS2 building blocks (pure functions and classes, no I/O).

// The longest single SMS in UCS2: 70 UTF-16 code units.
inline constexpr std::size_t kSmsMaxUnits = 70;

// UTF-8 → UTF-16. Every byte that does not start a valid sequence (stray continuation bytes,
// overlong forms, encoded surrogates, code points past U+10FFFF, truncated sequences) becomes one
// U+FFFD. Never throws on bad input.
std::u16string utf8_to_utf16(std::string_view utf8);
// UTF-16 → UTF-8; an unpaired surrogate becomes U+FFFD.
std::string utf16_to_utf8(std::u16string_view utf16);
// Four uppercase hex digits per code unit (UTF-16BE), as modems expect with AT+CSCS="UCS2".
std::string to_ucs2_hex(std::u16string_view utf16);
std::string utf8_to_ucs2_hex(std::string_view utf8);
// The inverse (either case). std::nullopt unless `hex` is whole groups of four hex digits.
std::optional<std::u16string> from_ucs2_hex(std::string_view hex);
// At most `max_units` code units: a longer text keeps what fits before a final "…" (U+2026),
// never half of a surrogate pair.
std::u16string truncate_for_sms(std::u16string text, std::size_t max_units = kSmsMaxUnits);

// A number we can send to: optional '+', then 3 to 20 digits.
bool is_dialable_number(std::string_view number);
// A sender number as the network delivered it → E.164 ("+8613800000000") when it is a phone
// number: "+..." stays, "00..." → "+...", a national "0..." or an 11-digit Chinese mobile number
// gets `country_code`; short codes ("10086") and alphanumeric senders are returned unchanged.
std::string to_e164(std::string_view number, std::string_view country_code);
// +CMS ERROR codes (3GPP TS 27.005 / 24.011) after which retrying the same message cannot help:
// the destination or the message is refused (1 unassigned number, 21 rejected, 28 unidentified
// and 30 unknown subscriber, 96 invalid mandatory information, 304/305 invalid parameter).
// Everything else (network out of order 38, congestion 42, no network 331, SIM busy 314, 500 ...)
// is temporary.
bool cms_error_is_permanent(int code);

// Splits the modem's byte stream into lines (any run of CR/LF ends one; empty lines are
// skipped) and recognises the `> ` prompt of AT+CMGS at the start of a line.
class AtLineReader {
 public:
  struct Event {
    enum class Kind { line, prompt };
    Kind kind = Kind::line;
    std::string text;  // the line without CR/LF; empty for a prompt
  };
  // A line longer than this is cut into pieces (garbage on the port must not grow memory).
  static constexpr std::size_t kMaxLine = 4096;

  void feed(std::string_view bytes);
  // The next complete line or prompt, in order.
  std::optional<Event> next();
  void clear() { buffer_.clear(); }

 private:
  std::string buffer_;
};

// A final result code.
struct AtFinal {
  enum class Kind { ok, error, cms_error, cme_error };
  Kind kind = Kind::ok;
  int code = -1;     // for +CMS/+CME ERROR: <n>; -1 when the modem gave text (AT+CMEE=2)
  std::string text;  // the line itself, e.g. "+CMS ERROR: 500" (never carries personal data)
};
std::optional<AtFinal> parse_final(std::string_view line);

// Lines a modem sends on its own (new SMS, ring, registration, reboot ...), which can arrive in
// the middle of another command's response.
bool is_unsolicited(std::string_view line);

// The response to one command, line by line. Lines that start with the command's own prefix
// ("+CMGR:" for AT+CMGR=3) belong to it, and with `body_follows_info` so does the line after each
// of them (the text of an SMS); other "+XXX:" lines and known unsolicited lines are returned as
// URCs for the caller to queue; the echo of the command is dropped.
class AtExchange {
 public:
  enum class Accepted { echo, info, final, urc };

  AtExchange(std::string command, bool body_follows_info = false);
  Accepted accept(std::string_view line);

  bool done() const { return final_.has_value(); }
  const std::optional<AtFinal>& final() const { return final_; }
  const std::vector<std::string>& info() const { return info_; }
  bool ok() const { return final_ && final_->kind == AtFinal::Kind::ok; }

 private:
  std::string command_;
  std::string prefix_;  // "+CMGR:"; empty for commands without one (ATE0)
  bool body_follows_info_ = false;
  bool expecting_body_ = false;
  std::vector<std::string> info_;
  std::optional<AtFinal> final_;
};

// "AT+CMGS=..." → "AT+CMGS": what may be logged of a command (its arguments can be a number).
std::string command_name(std::string_view command);

// `+CMTI: "SM",3` → {"SM", 3}.
struct NewMessageIndication {
  std::string storage;
  int index = -1;
};
std::optional<NewMessageIndication> parse_cmti(std::string_view line);

// The header line of a stored SMS in text mode:
// `+CMGR: "REC UNREAD","<sender>",,"<time>"` or `+CMGL: <index>,"REC UNREAD","<sender>",,...`.
// `sender` is as the modem wrote it (UCS2 hex with AT+CSCS="UCS2").
struct SmsHeader {
  int index = -1;  // +CMGL only
  std::string status;
  std::string sender;
};
std::optional<SmsHeader> parse_sms_header(std::string_view line);

// A sender field or SMS body as read with AT+CSCS="UCS2" → UTF-8: decoded when it is UCS2 hex,
// else taken as text (with invalid UTF-8 replaced).
std::string decode_modem_text(std::string_view field);

}  // namespace homesafe::gateway::notify
