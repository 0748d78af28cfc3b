#pragma once
// A device's state message is nearly always a flat JSON object of a few numbers and flags
// ({"power":12.5,"energy":3.25}). Reading it into nlohmann's tree costs a map node and a string
// per key; scan_flat_object reads it in place instead, keeping string views into the payload.
//
// The scan accepts only what it is sure of: valid JSON (RFC 8259) whose strings are printable
// ASCII without escapes and whose integers fit in 64 bits. For anything else it returns
// nullopt and the caller parses with nlohmann, which then decides (and reports malformed
// payloads). So for every payload it accepts, nlohmann reads the same members with the same
// values (DecodeProperty.FlatScanReadsWhatNlohmannReads checks that on mutated payloads).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace homesafe::drivers::detail {

// One value of a JSON object, as both parsers report it.
struct Scalar {
  enum class Kind : std::uint8_t { absent, null, boolean, number, string, structured };
  Kind kind = Kind::absent;
  bool flag = false;                    // boolean
  double number = 0;                    // number (an integer converted to double)
  std::optional<std::int64_t> integer;  // number written without fraction or exponent
  std::string_view text;                // string; views the payload or the tree
};

class FlatObject {
 public:
  struct Member {
    std::string_view key;
    Scalar value;
  };

  // The value of `key` (the last one when a key repeats, as nlohmann keeps it); kind `absent`
  // when there is none.
  Scalar at(std::string_view key) const;
  bool empty() const { return members_.empty(); }
  const std::vector<Member>& members() const { return members_; }

 private:
  friend std::optional<FlatObject> scan_flat_object(std::string_view payload, int max_depth);
  std::vector<Member> members_;
};

// The payload's top-level object, or nullopt when the payload is not an object the scan is
// sure of (see above). Nested objects and arrays are validated and skipped (kind
// `structured`); nesting deeper than `max_depth` gives nullopt.
std::optional<FlatObject> scan_flat_object(std::string_view payload, int max_depth);

}  // namespace homesafe::drivers::detail
