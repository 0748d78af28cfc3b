// The pure half of the SMS modem notifier: UTF-8 ↔ UTF-16 ↔ UCS2 hex, and the AT line reader and
// response classifier. No I/O; declared in homesafe/gateway/notify/sms_modem.hpp.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "homesafe/gateway/notify/sms_modem.hpp"

namespace homesafe::gateway::notify {
namespace {

constexpr char16_t kReplacement = u'\uFFFD';
constexpr char16_t kEllipsis = u'\u2026';

bool is_high_surrogate(char16_t unit) {
  return unit >= 0xD800 && unit <= 0xDBFF;
}
bool is_low_surrogate(char16_t unit) {
  return unit >= 0xDC00 && unit <= 0xDFFF;
}
bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

void append_utf8(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<int> parse_int(std::string_view text) {
  text = trim(text);
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// Comma-separated fields; commas inside double quotes do not split; quotes are removed.
std::vector<std::string> split_fields(std::string_view text) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  for (auto& field : fields) field = std::string(trim(field));
  return fields;
}

std::string upper(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

// "+CMGR:" for "AT+CMGR=3", "+CMGF:" for "AT+CMGF?"; empty for basic commands (AT, ATE0).
std::string info_prefix(std::string_view command) {
  const std::string text = upper(command);
  if (!text.starts_with("AT") || text.size() < 4) return {};
  const char mark = text[2];
  if (mark != '+' && mark != '^' && mark != '$' && mark != '#') return {};
  const auto end = text.find_first_of("=?", 3);
  return text.substr(2, end == std::string::npos ? std::string::npos : end - 2) + ":";
}

// Control characters other than TAB, LF and CR: a decoded "UCS2" that contains them was not UCS2.
bool has_control_units(std::u16string_view text) {
  return std::any_of(text.begin(), text.end(), [](char16_t unit) {
    return unit < 0x20 && unit != u'\t' && unit != u'\n' && unit != u'\r';
  });
}

}  // namespace

std::u16string utf8_to_utf16(std::string_view utf8) {
  std::u16string result;
  result.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    if (lead < 0x80) {
      result += static_cast<char16_t>(lead);
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;  // allowed range of the second byte (excludes overlongs etc.)
    unsigned char high = 0xBF;
    char32_t code_point = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code_point = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code_point = lead & 0x0F;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code_point = lead & 0x07;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // past U+10FFFF
    }
    bool valid = length != 0 && i + length <= utf8.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto byte = static_cast<unsigned char>(utf8[i + k]);
      if (k == 1 ? (byte < low || byte > high) : !is_continuation(byte)) valid = false;
      code_point = (code_point << 6) | (byte & 0x3F);
    }
    if (!valid) {
      result += kReplacement;
      ++i;
      continue;
    }
    if (code_point >= 0x10000) {
      code_point -= 0x10000;
      result += static_cast<char16_t>(0xD800 + (code_point >> 10));
      result += static_cast<char16_t>(0xDC00 + (code_point & 0x3FF));
    } else {
      result += static_cast<char16_t>(code_point);
    }
    i += length;
  }
  return result;
}

std::string utf16_to_utf8(std::u16string_view utf16) {
  std::string result;
  result.reserve(utf16.size() * 3);
  for (std::size_t i = 0; i < utf16.size(); ++i) {
    const char16_t unit = utf16[i];
    if (is_high_surrogate(unit) && i + 1 < utf16.size() && is_low_surrogate(utf16[i + 1])) {
      const char32_t code_point =
          0x10000 + ((static_cast<char32_t>(unit) - 0xD800) << 10) + (utf16[i + 1] - 0xDC00);
      append_utf8(result, code_point);
      ++i;
    } else if (is_high_surrogate(unit) || is_low_surrogate(unit)) {
      append_utf8(result, kReplacement);
    } else {
      append_utf8(result, unit);
    }
  }
  return result;
}

std::string to_ucs2_hex(std::u16string_view utf16) {
  static constexpr std::array<char, 16> kDigits{'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string result;
  result.reserve(utf16.size() * 4);
  for (const char16_t unit : utf16) {
    for (int shift = 12; shift >= 0; shift -= 4) result += kDigits[(unit >> shift) & 0xF];
  }
  return result;
}

std::string utf8_to_ucs2_hex(std::string_view utf8) {
  return to_ucs2_hex(utf8_to_utf16(utf8));
}

std::optional<std::u16string> from_ucs2_hex(std::string_view hex) {
  if (hex.size() % 4 != 0) return std::nullopt;
  std::u16string result;
  result.reserve(hex.size() / 4);
  for (std::size_t i = 0; i < hex.size(); i += 4) {
    unsigned value = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int digit = hex_value(hex[i + k]);
      if (digit < 0) return std::nullopt;
      value = (value << 4) | static_cast<unsigned>(digit);
    }
    result += static_cast<char16_t>(value);
  }
  return result;
}

std::u16string truncate_for_sms(std::u16string text, std::size_t max_units) {
  if (text.size() <= max_units) return text;
  if (max_units == 0) return {};
  std::size_t keep = max_units - 1;
  if (keep > 0 && is_high_surrogate(text[keep - 1])) --keep;
  text.resize(keep);
  text += kEllipsis;
  return text;
}

bool is_dialable_number(std::string_view number) {
  if (number.starts_with('+')) number.remove_prefix(1);
  return number.size() >= 3 && number.size() <= 20 && all_digits(number);
}

std::string to_e164(std::string_view number, std::string_view country_code) {
  const std::string_view text = trim(number);
  if (text.starts_with('+')) return std::string(text);
  if (!all_digits(text)) return std::string(text);
  if (text.starts_with("00") && text.size() > 4) return "+" + std::string(text.substr(2));
  if (!country_code.empty()) {
    if (text.starts_with('0') && text.size() >= 8) {
      return "+" + std::string(country_code) + std::string(text.substr(1));
    }
    if (country_code == "86" && text.size() == 11 && text.front() == '1') {
      return "+86" + std::string(text);
    }
    if (text.starts_with(country_code) && text.size() >= country_code.size() + 8) {
      return "+" + std::string(text);
    }
  }
  return std::string(text);
}

bool cms_error_is_permanent(int code) {
  switch (code) {
    case 1:    // unassigned (unallocated) number
    case 21:   // short message transfer rejected
    case 28:   // unidentified subscriber
    case 30:   // unknown subscriber
    case 96:   // invalid mandatory information
    case 304:  // invalid PDU mode parameter
    case 305:  // invalid text mode parameter
      return true;
    default:
      return false;
  }
}

void AtLineReader::feed(std::string_view bytes) {
  buffer_.append(bytes);
}

std::optional<AtLineReader::Event> AtLineReader::next() {
  const auto start = buffer_.find_first_not_of("\r\n");
  if (start == std::string::npos) {
    buffer_.clear();
    return std::nullopt;
  }
  buffer_.erase(0, start);
  if (buffer_.starts_with("> ")) {
    buffer_.erase(0, 2);
    return Event{Event::Kind::prompt, {}};
  }
  auto end = buffer_.find_first_of("\r\n");
  if (end == std::string::npos) {
    if (buffer_.size() < kMaxLine) return std::nullopt;
    end = kMaxLine;
  }
  Event event{Event::Kind::line, buffer_.substr(0, end)};
  buffer_.erase(0, end);
  return event;
}

std::optional<AtFinal> parse_final(std::string_view line) {
  line = trim(line);
  if (line == "OK") return AtFinal{AtFinal::Kind::ok, -1, std::string(line)};
  if (line == "ERROR") return AtFinal{AtFinal::Kind::error, -1, std::string(line)};
  for (const auto& [prefix, kind] :
       {std::pair{std::string_view{"+CMS ERROR:"}, AtFinal::Kind::cms_error},
        std::pair{std::string_view{"+CME ERROR:"}, AtFinal::Kind::cme_error}}) {
    if (line.starts_with(prefix)) {
      return AtFinal{kind, parse_int(line.substr(prefix.size())).value_or(-1), std::string(line)};
    }
  }
  return std::nullopt;
}

bool is_unsolicited(std::string_view line) {
  static constexpr std::array<std::string_view, 22> kPrefixes{
      "+CMTI:",     "+CMT:",    "+CDSI:",  "+CDS:",  "+CBM:",   "RING",   "+CRING:", "+CLIP:",
      "+CREG:",     "+CGREG:",  "+CEREG:", "RDY",    "+CPIN:",  "+QIND:", "+CFUN:",  "POWERED DOWN",
      "NO CARRIER", "SMS DONE", "PB DONE", "+CUSD:", "+QUSIM:", "^"};
  return std::any_of(kPrefixes.begin(), kPrefixes.end(),
                     [line](std::string_view prefix) { return line.starts_with(prefix); });
}

AtExchange::AtExchange(std::string command, bool body_follows_info)
    : command_(std::move(command)),
      prefix_(info_prefix(command_)),
      body_follows_info_(body_follows_info) {}

AtExchange::Accepted AtExchange::accept(std::string_view line) {
  if (done()) return Accepted::urc;
  if (expecting_body_) {
    expecting_body_ = false;
    info_.emplace_back(line);
    return Accepted::info;
  }
  if (line == command_) return Accepted::echo;
  if (auto final_result = parse_final(line)) {
    final_ = std::move(final_result);
    return Accepted::final;
  }
  if (!prefix_.empty() && line.starts_with(prefix_)) {
    info_.emplace_back(line);
    expecting_body_ = body_follows_info_;
    return Accepted::info;
  }
  if (is_unsolicited(line) || (line.starts_with('+') && line.find(':') != std::string::npos)) {
    return Accepted::urc;
  }
  info_.emplace_back(line);
  return Accepted::info;
}

std::string command_name(std::string_view command) {
  return std::string(command.substr(0, command.find('=')));
}

std::optional<NewMessageIndication> parse_cmti(std::string_view line) {
  constexpr std::string_view kPrefix = "+CMTI:";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  const auto fields = split_fields(line.substr(kPrefix.size()));
  if (fields.size() < 2) return std::nullopt;
  const auto index = parse_int(fields[1]);
  if (!index || *index < 0) return std::nullopt;
  return NewMessageIndication{fields[0], *index};
}

std::optional<SmsHeader> parse_sms_header(std::string_view line) {
  SmsHeader header;
  std::vector<std::string> fields;
  if (line.starts_with("+CMGR:")) {
    fields = split_fields(line.substr(6));
  } else if (line.starts_with("+CMGL:")) {
    fields = split_fields(line.substr(6));
    if (fields.empty()) return std::nullopt;
    const auto index = parse_int(fields.front());
    if (!index || *index < 0) return std::nullopt;
    header.index = *index;
    fields.erase(fields.begin());
  } else {
    return std::nullopt;
  }
  if (fields.size() < 2) return std::nullopt;
  header.status = fields[0];
  header.sender = fields[1];
  return header;
}

std::string decode_modem_text(std::string_view field) {
  if (!field.empty()) {
    if (auto units = from_ucs2_hex(field); units && !has_control_units(*units)) {
      return utf16_to_utf8(*units);
    }
  }
  return utf16_to_utf8(utf8_to_utf16(field));
}

}  // namespace homesafe::gateway::notify
