// The simulated modem: an AT interpreter (ModemEngine) and the program around it (ModemServer):
// a pseudo-terminal, the outbox of sent SMS, and the control FIFO.
#include "homesafe/sim/modem.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "homesafe/sim/time.hpp"

namespace homesafe::sim {
namespace {

constexpr std::string_view kCrLf = "\r\n";
constexpr std::string_view kOk = "\r\nOK\r\n";
constexpr std::string_view kError = "\r\nERROR\r\n";
constexpr std::size_t kMaxLine = 1024;
constexpr std::size_t kMaxTyped = 4096;
constexpr char kCtrlZ = 0x1A;
constexpr char kEscape = 0x1B;

// ---- UCS2 codec (independent of the gateway's) ----

constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point starting at `text[pos]`; advances `pos`. Malformed → U+FFFD, one byte.
char32_t next_code_point(std::string_view text, std::size_t& pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char first = byte(pos);
  if (first < 0x80) {
    ++pos;
    return first;
  }
  int extra = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((first & 0xE0) == 0xC0) {
    extra = 1;
    value = first & 0x1Fu;
    minimum = 0x80;
  } else if ((first & 0xF0) == 0xE0) {
    extra = 2;
    value = first & 0x0Fu;
    minimum = 0x800;
  } else if ((first & 0xF8) == 0xF0) {
    extra = 3;
    value = first & 0x07u;
    minimum = 0x10000;
  } else {
    ++pos;
    return kReplacementChar;
  }
  if (pos + static_cast<std::size_t>(extra) >= text.size()) {  // truncated
    ++pos;
    return kReplacementChar;
  }
  for (int i = 1; i <= extra; ++i) {
    const unsigned char next = byte(pos + static_cast<std::size_t>(i));
    if ((next & 0xC0) != 0x80) {
      ++pos;
      return kReplacementChar;
    }
    value = (value << 6) | (next & 0x3Fu);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    ++pos;
    return kReplacementChar;
  }
  pos += static_cast<std::size_t>(extra) + 1;
  return value;
}

void put_utf8(std::string& out, char32_t value) {
  if (value <= 0x7F) {
    out.push_back(static_cast<char>(value));
    return;
  }
  if (value <= 0x7FF) {
    out.push_back(static_cast<char>(0xC0 | (value >> 6)));
  } else if (value <= 0xFFFF) {
    out.push_back(static_cast<char>(0xE0 | (value >> 12)));
    out.push_back(static_cast<char>(0x80 | ((value >> 6) & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (value >> 18)));
    out.push_back(static_cast<char>(0x80 | ((value >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((value >> 6) & 0x3F)));
  }
  out.push_back(static_cast<char>(0x80 | (value & 0x3F)));
}

void put_hex_unit(std::string& out, unsigned unit) {
  out += fmt::format("{:04X}", unit & 0xFFFFu);
}

// Code points of a UTF-8 text (malformed bytes as U+FFFD).
std::size_t count_code_points(std::string_view utf8) {
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < utf8.size(); ++count) next_code_point(utf8, pos);
  return count;
}

// What a GSM 7-bit SMS makes of a text: characters outside ASCII arrive as '?'.
std::string gsm_approximation(std::string_view utf8) {
  std::string out;
  for (std::size_t pos = 0; pos < utf8.size();) {
    const char32_t value = next_code_point(utf8, pos);
    out.push_back(value < 0x80 ? static_cast<char>(value) : '?');
  }
  return out;
}

// ---- small text helpers ----

std::string to_upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string_view strip(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::optional<int> to_int(std::string_view text) {
  text = strip(text);
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool is_number(std::string_view text) {
  if (text.starts_with('+')) text.remove_prefix(1);
  return text.size() >= 3 && text.size() <= 20 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Arg {
  std::string value;
  bool quoted = false;
};

// AT command arguments: comma-separated, strings in double quotes.
std::vector<Arg> split_args(std::string_view text) {
  std::vector<Arg> args;
  if (strip(text).empty()) return args;
  Arg current;
  bool in_quotes = false;
  for (char c : text) {
    if (c == '"') {
      in_quotes = !in_quotes;
      current.quoted = true;
    } else if (c == ',' && !in_quotes) {
      if (!current.quoted) current.value = std::string(strip(current.value));
      args.push_back(std::move(current));
      current = Arg{};
    } else if (in_quotes || (c != ' ' && c != '\t')) {
      current.value.push_back(c);
    }
  }
  args.push_back(std::move(current));
  return args;
}

std::string info(std::string_view line) {
  return std::string(kCrLf) + std::string(line) + std::string(kCrLf);
}

std::string info_ok(std::string_view line) {
  return info(line) + std::string(kOk);
}

const char* cms_text(int code) {
  switch (code) {
    case 1:
      return "unassigned number";
    case 21:
      return "short message transfer rejected";
    case 38:
      return "network out of order";
    case 302:
      return "operation not allowed";
    case 303:
      return "operation not supported";
    case 305:
      return "invalid text mode parameter";
    case 321:
      return "invalid memory index";
    case 322:
      return "memory full";
    case 331:
      return "no network service";
    case 500:
      return "unknown error";
    default:
      return nullptr;
  }
}

}  // namespace

std::string ucs2_hex_from_utf8(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() * 4);
  for (std::size_t pos = 0; pos < utf8.size();) {
    const char32_t value = next_code_point(utf8, pos);
    if (value > 0xFFFF) {
      const char32_t offset = value - 0x10000;
      put_hex_unit(out, 0xD800 + (offset >> 10));
      put_hex_unit(out, 0xDC00 + (offset & 0x3FF));
    } else {
      put_hex_unit(out, value);
    }
  }
  return out;
}

std::optional<std::string> utf8_from_ucs2_hex(std::string_view hex) {
  if (hex.size() % 4 != 0) return std::nullopt;
  std::vector<unsigned> units;
  for (std::size_t i = 0; i < hex.size(); i += 4) {
    unsigned unit = 0;
    for (char c : hex.substr(i, 4)) {
      unit <<= 4;
      if (c >= '0' && c <= '9') {
        unit |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        unit |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        unit |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        return std::nullopt;
      }
    }
    units.push_back(unit);
  }
  std::string out;
  for (std::size_t i = 0; i < units.size(); ++i) {
    const unsigned unit = units[i];
    const bool high = unit >= 0xD800 && unit <= 0xDBFF;
    const bool low = unit >= 0xDC00 && unit <= 0xDFFF;
    if (high && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
      put_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (units[i + 1] - 0xDC00));
      ++i;
    } else if (high || low) {
      put_utf8(out, kReplacementChar);
    } else {
      put_utf8(out, unit);
    }
  }
  return out;
}

std::optional<ModemControl> parse_modem_control(std::string_view line, std::string& error) {
  line = strip(line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  const auto space = line.find_first_of(" \t");
  const std::string verb(line.substr(0, space));
  std::string_view rest = space == std::string_view::npos ? "" : strip(line.substr(space));
  std::vector<std::string> words;
  for (std::string_view remaining = rest; !remaining.empty();) {
    const auto end = remaining.find_first_of(" \t");
    words.emplace_back(remaining.substr(0, end));
    remaining = end == std::string_view::npos ? "" : strip(remaining.substr(end));
  }
  ModemControl command;
  if (verb == "reply") {
    command.kind = ModemControl::Kind::reply;
    if (words.size() < 2) {
      error = "usage: reply <number> <text...>";
      return std::nullopt;
    }
    if (!is_number(words[0])) {
      error = fmt::format("reply: '{}' is not a phone number (+8613800000000)", words[0]);
      return std::nullopt;
    }
    command.number = words[0];
    command.text = std::string(strip(rest.substr(words[0].size())));
    return command;
  }
  if (verb == "fail" || verb == "hang") {
    command.kind = verb == "fail" ? ModemControl::Kind::fail : ModemControl::Kind::hang;
    const std::size_t max_words = verb == "fail" ? 2 : 1;
    const auto count = words.empty() ? std::nullopt : to_int(words[0]);
    if (!count || words.size() > max_words) {
      error = verb == "fail" ? "usage: fail <n> [cms-code]" : "usage: hang <n>";
      return std::nullopt;
    }
    command.count = *count;
    if (words.size() == 2) {
      const auto code = to_int(words[1]);
      if (!code || *code > 999) {
        error = fmt::format("fail: '{}' is not a +CMS ERROR code (0-999)", words[1]);
        return std::nullopt;
      }
      command.code = *code;
    }
    return command;
  }
  if (verb == "reset") {
    if (!words.empty()) {
      error = "usage: reset";
      return std::nullopt;
    }
    command.kind = ModemControl::Kind::reset;
    return command;
  }
  error = fmt::format("unknown control command '{}' (reply, fail, hang, reset)", verb);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// ModemEngine

ModemEngine::ModemEngine(SentHandler on_sent, NowFunction now, NoteHandler on_note)
    : on_sent_(std::move(on_sent)),
      now_(now ? std::move(now) : NowFunction(now_unix_ms)),
      on_note_(std::move(on_note)) {}

std::string ModemEngine::receive(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    if (typing_) {
      if (c == kCtrlZ) {
        typing_ = false;
        out += finish_sms();
        out += std::exchange(held_urcs_, {});
      } else if (c == kEscape) {
        typing_ = false;
        typed_.clear();
        out += kOk;
        out += std::exchange(held_urcs_, {});
      } else if (c == '\r') {  // a line break in the text: a new prompt, as on a real modem
        if (typed_.size() < kMaxTyped) typed_ += '\n';
        out += "\r\n> ";
      } else if (c != '\n') {
        if (echo_) out += c;
        if (typed_.size() < kMaxTyped) typed_ += c;
      }
      continue;
    }
    if (c == kCtrlZ || c == kEscape) continue;
    if (echo_) out += c;
    if (c == '\r') {
      const std::string line = std::exchange(line_, {});
      out += execute(line);
    } else if (c == '\b' || c == 0x7F) {
      if (!line_.empty()) line_.pop_back();
    } else if (c != '\n' && line_.size() < kMaxLine) {
      line_ += c;
    }
  }
  return out;
}

std::string ModemEngine::execute(std::string_view raw) {
  const std::string_view line = strip(raw);
  if (line.size() < 2 || to_upper(line.substr(0, 2)) != "AT") return {};  // noise: ignored
  const std::string_view rest = line.substr(2);
  if (rest.empty()) return std::string(kOk);
  if (rest.front() == '+') {
    const auto end = rest.find_first_of("=?");
    const std::string name = to_upper(rest.substr(0, end));
    char form = 'a';  // action
    std::string_view args;
    if (end != std::string_view::npos) {
      if (rest.substr(end) == "=?") {
        form = 't';
      } else if (rest.substr(end) == "?") {
        form = 'r';
      } else if (rest[end] == '=') {
        form = 's';
        args = rest.substr(end + 1);
      } else {
        return std::string(kError);
      }
    }
    return execute_extended(name, form, args);
  }
  const std::string basic = to_upper(rest);
  if (basic == "E0" || basic == "E") {
    echo_ = false;
    return std::string(kOk);
  }
  if (basic == "E1") {
    echo_ = true;
    return std::string(kOk);
  }
  if (basic == "I" || basic == "I0") return info_ok("homesafe-sim simulated modem");
  if (basic == "V1" || basic == "Q0") return std::string(kOk);
  if (basic == "Z" || basic == "Z0" || basic == "&F" || basic == "&F0") {
    echo_ = true;
    cmee_ = 0;
    text_mode_ = false;
    charset_ = "IRA";
    csmp_[0] = 17;
    csmp_[1] = 167;
    csmp_[2] = 0;
    csmp_[3] = 0;
    std::fill(std::begin(cnmi_), std::end(cnmi_), 0);
    return std::string(kOk);
  }
  return std::string(kError);
}

std::string ModemEngine::execute_extended(const std::string& name, char form,
                                          std::string_view arg_text) {
  const auto args = split_args(arg_text);
  const auto int_arg = [&](std::size_t i) -> std::optional<int> {
    if (i >= args.size() || args[i].quoted) return std::nullopt;
    return to_int(args[i].value);
  };

  if (name == "+CMEE") {
    if (form == 'r') return info_ok(fmt::format("+CMEE: {}", cmee_));
    if (form == 't') return info_ok("+CMEE: (0-2)");
    const auto value = int_arg(0);
    if (form != 's' || args.size() != 1 || !value || *value > 2) return std::string(kError);
    cmee_ = *value;
    return std::string(kOk);
  }
  if (name == "+CMGF") {
    if (form == 'r') return info_ok(fmt::format("+CMGF: {}", text_mode_ ? 1 : 0));
    if (form == 't') return info_ok("+CMGF: (0,1)");
    const auto value = int_arg(0);
    if (form != 's' || args.size() != 1 || !value || *value > 1) return cme_error(4);
    text_mode_ = *value == 1;
    return std::string(kOk);
  }
  if (name == "+CSCS") {
    if (form == 'r') return info_ok(fmt::format("+CSCS: \"{}\"", charset_));
    if (form == 't') return info_ok("+CSCS: (\"IRA\",\"GSM\",\"UCS2\")");
    if (form != 's' || args.size() != 1 || !args[0].quoted) return cme_error(4);
    std::string value = to_upper(args[0].value);
    if (charset_ == "UCS2") {
      if (auto decoded = utf8_from_ucs2_hex(args[0].value)) value = to_upper(*decoded);
    }
    if (value != "IRA" && value != "GSM" && value != "UCS2") return cme_error(4);
    charset_ = value;
    return std::string(kOk);
  }
  if (name == "+CSMP") {
    if (form == 'r') {
      return info_ok(fmt::format("+CSMP: {},{},{},{}", csmp_[0], csmp_[1], csmp_[2], csmp_[3]));
    }
    if (form == 't') return std::string(kOk);
    if (form != 's' || args.empty() || args.size() > 4) return std::string(kError);
    int values[4];
    std::copy(std::begin(csmp_), std::end(csmp_), values);
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i].value.empty()) continue;
      const auto value = int_arg(i);
      if (!value || *value > 255) return std::string(kError);
      values[i] = *value;
    }
    std::copy(std::begin(values), std::end(values), csmp_);
    return std::string(kOk);
  }
  if (name == "+CNMI") {
    if (form == 'r') {
      return info_ok(
          fmt::format("+CNMI: {},{},{},{},{}", cnmi_[0], cnmi_[1], cnmi_[2], cnmi_[3], cnmi_[4]));
    }
    if (form == 't') return info_ok("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)");
    if (form != 's' || args.empty() || args.size() > 5) return std::string(kError);
    int values[5];
    std::copy(std::begin(cnmi_), std::end(cnmi_), values);
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i].value.empty()) continue;
      const auto value = int_arg(i);
      if (!value || *value > 3) return std::string(kError);
      values[i] = *value;
    }
    std::copy(std::begin(values), std::end(values), cnmi_);
    return std::string(kOk);
  }
  if (name == "+CPMS") {
    const auto used = stored_.size();
    if (form == 'r') {
      return info_ok(
          fmt::format("+CPMS: \"SM\",{0},{1},\"SM\",{0},{1},\"SM\",{0},{1}", used, kStorageSlots));
    }
    if (form == 't') return info_ok("+CPMS: (\"SM\"),(\"SM\"),(\"SM\")");
    if (form != 's' || args.empty() || args.size() > 3) return std::string(kError);
    for (const auto& arg : args) {
      std::string value = to_upper(arg.value);
      if (charset_ == "UCS2") {
        if (auto decoded = utf8_from_ucs2_hex(arg.value)) value = *decoded;
      }
      if (!arg.quoted || (value != "SM" && value != "ME" && value != "MT")) return cms_error(302);
    }
    return info_ok(fmt::format("+CPMS: {0},{1},{0},{1},{0},{1}", used, kStorageSlots));
  }
  if (name == "+CMGS") {
    if (form == 't') return std::string(kOk);
    if (form != 's') return std::string(kError);
    if (!text_mode_) return cms_error(303);  // PDU mode is not simulated
    if (args.empty() || args.size() > 2 || !args[0].quoted) return cms_error(305);
    const auto to = decode(args[0].value);
    if (!to || !is_number(*to)) return cms_error(305);
    typing_ = true;
    typing_to_ = *to;
    typed_.clear();
    return "\r\n> ";
  }
  if (name == "+CMGR") {
    if (form == 't') return std::string(kOk);
    if (form != 's') return std::string(kError);
    if (!text_mode_) return cms_error(303);
    const auto index = int_arg(0);
    if (args.size() != 1 || !index) return cms_error(321);
    const auto it = std::find_if(stored_.begin(), stored_.end(),
                                 [&](const StoredSms& sms) { return sms.index == *index; });
    if (it == stored_.end()) return cms_error(321);
    std::string out = info(list_entry(*it, false)) + std::string(kOk);
    it->read = true;
    return out;
  }
  if (name == "+CMGL") {
    if (form == 't') {
      return info_ok("+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO SENT\",\"ALL\")");
    }
    if (form == 'r') return std::string(kError);
    if (!text_mode_) return cms_error(303);
    std::string status = "REC UNREAD";
    if (form == 's') {
      if (args.size() != 1 || !args[0].quoted) return cms_error(305);
      status = to_upper(args[0].value);
      if (charset_ == "UCS2") {
        if (auto decoded = utf8_from_ucs2_hex(args[0].value)) status = *decoded;
      }
    }
    if (status != "REC UNREAD" && status != "REC READ" && status != "STO UNSENT" &&
        status != "STO SENT" && status != "ALL") {
      return cms_error(305);
    }
    std::vector<StoredSms*> listed;
    for (auto& sms : stored_) {
      if (status == "ALL" || (status == "REC UNREAD" && !sms.read) ||
          (status == "REC READ" && sms.read)) {
        listed.push_back(&sms);
      }
    }
    std::sort(listed.begin(), listed.end(),
              [](const StoredSms* a, const StoredSms* b) { return a->index < b->index; });
    std::string out;
    for (auto* sms : listed) {
      out += std::string(kCrLf) + list_entry(*sms, true);
      sms->read = true;
    }
    if (!out.empty()) out += kCrLf;
    return out + std::string(kOk);
  }
  if (name == "+CMGD") {
    if (form == 't') return info_ok("+CMGD: (1-30),(0-4)");
    if (form != 's') return std::string(kError);
    const auto index = int_arg(0);
    const int flag = args.size() >= 2 ? int_arg(1).value_or(-1) : 0;
    if (!index || args.size() > 2 || flag < 0 || flag > 4) return cms_error(321);
    const auto deleted = std::erase_if(stored_, [&](const StoredSms& sms) {
      return flag == 0 ? sms.index == *index : (flag == 4 || sms.read);
    });
    if (flag == 0 && deleted > 0) {
      note(fmt::format("SM {} deleted", *index));
    } else if (flag != 0) {
      note(fmt::format("{} message(s) deleted", deleted));
    }
    return std::string(kOk);
  }
  if (name == "+CPIN" && form == 'r') return info_ok("+CPIN: READY");
  if (name == "+CREG" && form == 'r') return info_ok("+CREG: 0,1");
  if (name == "+CSQ" && form == 'a') return info_ok("+CSQ: 24,99");
  if (name == "+CGMI" && form == 'a') return info_ok("homesafe");
  if (name == "+CGMM" && form == 'a') return info_ok("homesafe-sim modem");
  if (name == "+CGMR" && form == 'a') return info_ok("homesafe-sim 1");
  return std::string(kError);
}

std::string ModemEngine::finish_sms() {
  std::string text;
  std::size_t units = 0;
  if (charset_ == "UCS2") {
    auto decoded = utf8_from_ucs2_hex(typed_);
    if (!decoded) return cms_error(305);
    text = std::move(*decoded);
    units = typed_.size() / 4;
  } else {
    text = typed_;
    units = count_code_points(text);
  }
  typed_.clear();
  const bool ucs2_coding = (csmp_[3] & 0x0C) == 0x08;
  if (!ucs2_coding) text = gsm_approximation(text);  // a 7-bit SMS cannot carry Chinese
  if (units > (ucs2_coding ? kMaxUcs2Units : kMaxGsmChars)) return cms_error(305);
  if (hang_count_ > 0) {
    --hang_count_;
    note(fmt::format("SMS to {} not answered (hang)", typing_to_));
    return {};  // never answered
  }
  if (fail_count_ > 0) {
    --fail_count_;
    note(fmt::format("SMS to {} failed: +CMS ERROR: {}", typing_to_, fail_code_));
    return cms_error(fail_code_);
  }
  message_reference_ = (message_reference_ + 1) % 256;
  if (on_sent_) on_sent_(SentSms{typing_to_, text});
  return info(fmt::format("+CMGS: {}", message_reference_)) + std::string(kOk);
}

ModemEngine::ControlResult ModemEngine::control(const ModemControl& command) {
  switch (command.kind) {
    case ModemControl::Kind::reply: {
      const std::int64_t now = now_();
      const std::string urc_time = timestamp(now);
      if (cnmi_[1] == 2 || cnmi_[1] == 3) {  // routed straight to the host, not stored
        const std::string urc = fmt::format("\r\n+CMT: \"{}\",,\"{}\"\r\n{}\r\n",
                                            encode(command.number), urc_time, encode(command.text));
        return {true, fmt::format("SMS from {} delivered as +CMT", command.number), emit(urc)};
      }
      int index = 1;
      while (index <= kStorageSlots &&
             std::any_of(stored_.begin(), stored_.end(),
                         [&](const StoredSms& sms) { return sms.index == index; })) {
        ++index;
      }
      if (index > kStorageSlots) {
        return {false, fmt::format("SIM storage full ({} messages)", kStorageSlots), {}};
      }
      stored_.push_back(StoredSms{index, command.number, command.text, now, false});
      std::string to_host;
      if (cnmi_[0] != 0 && cnmi_[1] == 1) {
        to_host = emit(fmt::format("\r\n+CMTI: \"SM\",{}\r\n", index));
      }
      return {true, fmt::format("SMS from {} stored at SM {}", command.number, index), to_host};
    }
    case ModemControl::Kind::fail:
      fail_count_ = command.count;
      fail_code_ = command.code;
      return {
          true,
          fmt::format("the next {} send(s) fail with +CMS ERROR: {}", command.count, command.code),
          {}};
    case ModemControl::Kind::hang:
      hang_count_ = command.count;
      return {true, fmt::format("the next {} send(s) are never answered", command.count), {}};
    case ModemControl::Kind::reset:
      fail_count_ = 0;
      hang_count_ = 0;
      stored_.clear();
      typing_ = false;
      typed_.clear();
      line_.clear();
      held_urcs_.clear();
      return {true, "reset", {}};
  }
  return {false, "?", {}};
}

std::string ModemEngine::emit(std::string urc) {
  if (typing_) {
    held_urcs_ += urc;
    return {};
  }
  return urc;
}

std::string ModemEngine::cms_error(int code) const {
  if (cmee_ == 0) return std::string(kError);
  const char* text = cmee_ == 2 ? cms_text(code) : nullptr;
  return text ? info(fmt::format("+CMS ERROR: {}", text))
              : info(fmt::format("+CMS ERROR: {}", code));
}

std::string ModemEngine::cme_error(int code) const {
  if (cmee_ == 0) return std::string(kError);
  if (cmee_ == 2 && code == 4) return info("+CME ERROR: operation not supported");
  return info(fmt::format("+CME ERROR: {}", code));
}

std::string ModemEngine::encode(std::string_view utf8) const {
  return charset_ == "UCS2" ? ucs2_hex_from_utf8(utf8) : std::string(utf8);
}

std::optional<std::string> ModemEngine::decode(std::string_view field) const {
  if (charset_ == "UCS2") return utf8_from_ucs2_hex(field);
  return std::string(field);
}

std::string ModemEngine::timestamp(std::int64_t unix_ms) const {
  const int offset = local_utc_offset_minutes(unix_ms);
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000 + offset * 60);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  const int quarters = std::abs(offset) / 15;
  return fmt::format("{:02}/{:02}/{:02},{:02}:{:02}:{:02}{}{:02}", parts.tm_year % 100,
                     parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                     offset < 0 ? '-' : '+', quarters);
}

std::string ModemEngine::list_entry(const StoredSms& sms, bool with_index) const {
  const std::string status = sms.read ? "REC READ" : "REC UNREAD";
  const std::string fields =
      fmt::format("\"{}\",\"{}\",,\"{}\"", status, encode(sms.from), timestamp(sms.unix_ms));
  const std::string header = with_index ? fmt::format("+CMGL: {},{}", sms.index, fields)
                                        : fmt::format("+CMGR: {}", fields);
  return header + std::string(kCrLf) + encode(sms.text);
}

// ---------------------------------------------------------------------------------------------
// ModemServer

namespace {

std::runtime_error system_failure(const std::string& what) {
  return std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

ModemServer::ModemServer(ModemServerOptions options, std::ostream& out, std::ostream& err)
    : options_(std::move(options)),
      out_(out),
      err_(err),
      engine_([this](const SentSms& sms) { on_sent(sms); }, {},
              [this](const std::string& text) { say(text); }) {
  try {
    if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw system_failure("pipe");

    {  // The outbox must be writable before anything is announced.
      std::ofstream outbox(options_.outbox, std::ios::app | std::ios::binary);
      if (!outbox) {
        throw std::runtime_error(fmt::format("cannot write outbox {}", options_.outbox.string()));
      }
    }

    master_fd_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_fd_ < 0) throw system_failure("posix_openpt");
    if (::grantpt(master_fd_) != 0) throw system_failure("grantpt");
    if (::unlockpt(master_fd_) != 0) throw system_failure("unlockpt");
    char name[256];
    if (::ptsname_r(master_fd_, name, sizeof name) != 0) throw system_failure("ptsname");
    device_ = name;
    slave_fd_ = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave_fd_ < 0) throw system_failure(fmt::format("open {}", device_));
    termios tio{};
    if (::tcgetattr(slave_fd_, &tio) != 0) throw system_failure("tcgetattr");
    ::cfmakeraw(&tio);
    ::cfsetispeed(&tio, B115200);
    ::cfsetospeed(&tio, B115200);
    if (::tcsetattr(slave_fd_, TCSANOW, &tio) != 0) throw system_failure("tcsetattr");
    set_nonblocking(master_fd_);

    if (!options_.control.empty()) {
      struct stat info {};
      if (::stat(options_.control.c_str(), &info) == 0) {
        if (!S_ISFIFO(info.st_mode)) {
          throw std::runtime_error(
              fmt::format("{} exists and is not a FIFO", options_.control.string()));
        }
      } else {
        if (::mkfifo(options_.control.c_str(), 0600) != 0) {
          throw system_failure(fmt::format("mkfifo {}", options_.control.string()));
        }
        created_fifo_ = true;
      }
      control_fd_ = ::open(options_.control.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (control_fd_ < 0) throw system_failure(fmt::format("open {}", options_.control.string()));
      // Our own writer keeps the FIFO from reporting end-of-file between two writers.
      control_keepalive_fd_ = ::open(options_.control.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (control_keepalive_fd_ < 0) {
        throw system_failure(fmt::format("open {}", options_.control.string()));
      }
    }

    // Last: the link appears only once the modem answers.
    std::error_code error;
    const auto status = std::filesystem::symlink_status(options_.link, error);
    if (!error && std::filesystem::exists(status) && !std::filesystem::is_symlink(status)) {
      throw std::runtime_error(
          fmt::format("{} exists and is not a symlink; not replacing it", options_.link.string()));
    }
    auto temporary = options_.link;
    temporary += fmt::format(".tmp{}", ::getpid());
    std::filesystem::remove(temporary, error);
    std::filesystem::create_symlink(device_, temporary);
    std::filesystem::rename(temporary, options_.link);
  } catch (const std::filesystem::filesystem_error& error) {
    cleanup();
    throw std::runtime_error(error.what());
  } catch (...) {
    cleanup();
    throw;
  }
  say(fmt::format("modem ready: {} -> {}", options_.link.string(), device_));
}

ModemServer::~ModemServer() {
  cleanup();
}

void ModemServer::cleanup() noexcept {
  std::error_code error;
  if (!device_.empty() && std::filesystem::read_symlink(options_.link, error) == device_) {
    std::filesystem::remove(options_.link, error);
  }
  for (int* fd : {&master_fd_, &slave_fd_, &control_fd_, &control_keepalive_fd_, &stop_pipe_[0],
                  &stop_pipe_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  if (created_fifo_) {
    std::filesystem::remove(options_.control, error);
    created_fifo_ = false;
  }
}

void ModemServer::stop() noexcept {
  const char byte = 1;
  if (stop_pipe_[1] >= 0) {
    [[maybe_unused]] const auto written = ::write(stop_pipe_[1], &byte, 1);
  }
}

void ModemServer::say(const std::string& line) {
  if (options_.quiet) return;
  out_ << line << std::endl;
}

void ModemServer::on_sent(const SentSms& sms) {
  const auto now = now_unix_ms();
  nlohmann::ordered_json line{{"ts", format_iso8601(now, local_utc_offset_minutes(now))},
                              {"to", sms.to},
                              {"text", sms.text}};
  std::ofstream outbox(options_.outbox, std::ios::app | std::ios::binary);
  outbox << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  outbox.flush();
  if (!outbox) err_ << "homesafe-sim: cannot write outbox " << options_.outbox.string() << '\n';
  say(fmt::format("SMS to {} : {}", sms.to, sms.text));
}

void ModemServer::write_to_host(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::write(master_fd_, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;  // nobody reads the port and its buffer is full: the bytes are lost, as on a modem
    }
  }
}

void ModemServer::handle_control_input() {
  char buffer[512];
  while (true) {
    const auto n = ::read(control_fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    control_buffer_.append(buffer, static_cast<std::size_t>(n));
  }
  std::size_t end;
  while ((end = control_buffer_.find('\n')) != std::string::npos) {
    const std::string line = control_buffer_.substr(0, end);
    control_buffer_.erase(0, end + 1);
    if (strip(line).empty()) continue;
    std::string error;
    const auto command = parse_modem_control(line, error);
    if (!command) {
      err_ << "homesafe-sim modem: control: " << error << std::endl;
      continue;
    }
    const auto result = engine_.control(*command);
    write_to_host(result.to_host);
    if (result.ok) {
      say(result.message);
    } else {
      err_ << "homesafe-sim modem: control: " << result.message << std::endl;
    }
  }
  if (control_buffer_.size() > kMaxTyped) control_buffer_.clear();
}

void ModemServer::run() {
  while (true) {
    pollfd fds[3] = {{stop_pipe_[0], POLLIN, 0}, {master_fd_, POLLIN, 0}, {control_fd_, POLLIN, 0}};
    const nfds_t count = control_fd_ >= 0 ? 3 : 2;
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      throw system_failure("poll");
    }
    if (fds[0].revents & POLLIN) return;
    if (fds[1].revents & POLLIN) {
      char buffer[1024];
      const auto n = ::read(master_fd_, buffer, sizeof buffer);
      if (n > 0) {
        write_to_host(engine_.receive(std::string_view(buffer, static_cast<std::size_t>(n))));
      }
    } else if (fds[1].revents & (POLLHUP | POLLERR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds{50});  // no client: do not spin
    }
    if (count == 3 && (fds[2].revents & POLLIN)) handle_control_input();
  }
}

// ---------------------------------------------------------------------------------------------
// Programs

namespace {

std::atomic<ModemServer*> g_running_server{nullptr};

extern "C" void stop_on_signal(int) {
  if (ModemServer* server = g_running_server.load()) server->stop();
}

}  // namespace

int run_modem(const ModemServerOptions& options, std::ostream& out, std::ostream& err) {
  try {
    ModemServer server(options, out, err);
    struct sigaction action {};
    action.sa_handler = stop_on_signal;
    sigemptyset(&action.sa_mask);
    struct sigaction old_term {};
    struct sigaction old_int {};
    g_running_server = &server;
    ::sigaction(SIGTERM, &action, &old_term);
    ::sigaction(SIGINT, &action, &old_int);
    try {
      server.run();
    } catch (...) {
      g_running_server = nullptr;
      ::sigaction(SIGTERM, &old_term, nullptr);
      ::sigaction(SIGINT, &old_int, nullptr);
      throw;
    }
    g_running_server = nullptr;
    ::sigaction(SIGTERM, &old_term, nullptr);
    ::sigaction(SIGINT, &old_int, nullptr);
    return 0;
  } catch (const std::exception& error) {
    err << "homesafe-sim modem: " << error.what() << '\n';
    return 1;
  }
}

int send_modem_control(const std::filesystem::path& fifo, std::string_view line,
                       std::ostream& err) {
  std::string error;
  if (!parse_modem_control(line, error)) {
    err << "homesafe-sim modem-ctl: " << error << '\n';
    return 2;
  }
  const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO) {
      err << "homesafe-sim modem-ctl: no simulated modem is reading " << fifo.string() << '\n';
    } else {
      err << "homesafe-sim modem-ctl: cannot open " << fifo.string() << ": " << std::strerror(errno)
          << '\n';
    }
    return 1;
  }
  std::string text(strip(line));
  std::replace(text.begin(), text.end(), '\n', ' ');  // one command, one line
  text += '\n';
  const auto written = ::write(fd, text.data(), text.size());
  const int write_error = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    err << "homesafe-sim modem-ctl: cannot write " << fifo.string() << ": "
        << std::strerror(write_error) << '\n';
    return 1;
  }
  return 0;
}

}  // namespace homesafe::sim
