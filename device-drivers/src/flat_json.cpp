#include "flat_json.hpp"

#include <charconv>
#include <system_error>

namespace homesafe::drivers::detail {
namespace {

// A one-pass reader over the payload. Every method returns false for input outside the subset
// the scan is sure of; the caller then gives up and leaves the payload to nlohmann.
class Scanner {
 public:
  Scanner(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  bool object(std::vector<FlatObject::Member>& members) {
    skip_space();
    if (!take('{')) return false;
    skip_space();
    if (take('}')) return at_end();
    do {
      skip_space();
      FlatObject::Member member;
      if (!string(member.key)) return false;
      skip_space();
      if (!take(':')) return false;
      skip_space();
      if (!value(member.value, 1)) return false;
      members.push_back(member);
      skip_space();
    } while (take(','));
    return take('}') && at_end();
  }

 private:
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

  void skip_space() {
    while (pos_ < text_.size()) {
      const char ch = text_[pos_];
      if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') return;
      ++pos_;
    }
  }

  bool take(char expected) {
    if (pos_ >= text_.size() || text_[pos_] != expected) return false;
    ++pos_;
    return true;
  }

  bool word(std::string_view expected) {
    if (text_.substr(pos_, expected.size()) != expected) return false;
    pos_ += expected.size();
    return true;
  }

  // A string of printable ASCII without escapes (anything else: nlohmann's business).
  bool string(std::string_view& out) {
    if (!take('"')) return false;
    const std::size_t first = pos_;
    while (pos_ < text_.size()) {
      const auto ch = static_cast<unsigned char>(text_[pos_]);
      if (ch == '"') {
        out = text_.substr(first, pos_ - first);
        ++pos_;
        return true;
      }
      if (ch < 0x20 || ch >= 0x80 || ch == '\\') return false;
      ++pos_;
    }
    return false;
  }

  bool digits() {
    const std::size_t first = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > first;
  }

  // RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number(Scalar& out) {
    const std::size_t first = pos_;
    take('-');
    if (take('0')) {
      if (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') return false;
    } else if (!digits()) {
      return false;
    }
    bool integer = true;
    if (take('.')) {
      integer = false;
      if (!digits()) return false;
    }
    if (take('e') || take('E')) {
      integer = false;
      if (!take('+')) take('-');
      if (!digits()) return false;
    }
    const char* begin = text_.data() + first;
    const char* end = text_.data() + pos_;
    out.kind = Scalar::Kind::number;
    if (integer) {
      std::int64_t value = 0;
      const auto [stop, error] = std::from_chars(begin, end, value);
      if (error != std::errc() || stop != end) return false;  // beyond 64 bits
      out.integer = value;
      out.number = static_cast<double>(value);
      return true;
    }
    const auto [stop, error] = std::from_chars(begin, end, out.number);
    return error == std::errc() && stop == end;  // overflow and underflow: nlohmann decides
  }

  // Any JSON value; a nested object or array is validated and recorded as `structured`.
  bool value(Scalar& out, int depth) {
    if (pos_ >= text_.size()) return false;
    switch (text_[pos_]) {
      case '"':
        out.kind = Scalar::Kind::string;
        return string(out.text);
      case 't':
        out.kind = Scalar::Kind::boolean;
        out.flag = true;
        return word("true");
      case 'f':
        out.kind = Scalar::Kind::boolean;
        return word("false");
      case 'n':
        out.kind = Scalar::Kind::null;
        return word("null");
      case '{':
      case '[':
        out.kind = Scalar::Kind::structured;
        return structured(depth + 1);
      default:
        return number(out);
    }
  }

  bool structured(int depth) {
    if (depth > max_depth_) return false;
    const bool is_object = text_[pos_] == '{';
    const char close = is_object ? '}' : ']';
    ++pos_;
    skip_space();
    if (take(close)) return true;
    do {
      skip_space();
      if (is_object) {
        std::string_view key;
        if (!string(key)) return false;
        skip_space();
        if (!take(':')) return false;
        skip_space();
      }
      Scalar ignored;
      if (!value(ignored, depth)) return false;
      skip_space();
    } while (take(','));
    return take(close);
  }

  std::string_view text_;
  int max_depth_;
  std::size_t pos_ = 0;
};

}  // namespace

Scalar FlatObject::at(std::string_view key) const {
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
    if (it->key == key) return it->value;
  }
  return {};
}

std::optional<FlatObject> scan_flat_object(std::string_view payload, int max_depth) {
  FlatObject object;
  object.members_.reserve(8);
  if (!Scanner(payload, max_depth).object(object.members_)) return std::nullopt;
  return object;
}

}  // namespace homesafe::drivers::detail
