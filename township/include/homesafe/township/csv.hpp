#pragma once
// RFC 4180 CSV: quoted fields with "" escapes and line breaks inside quotes, CRLF or LF.

#include <string>
#include <vector>

namespace homesafe::township {

struct CsvRecord {
  int line = 0;  // 1-based physical line where the record starts
  std::vector<std::string> fields;
};

// Throws std::runtime_error("line N: ...") on an unterminated quote or a stray quote.
// A leading UTF-8 byte order mark is skipped; empty lines are skipped.
std::vector<CsvRecord> parse_csv(const std::string& text);

// Every field quoted; records end in CRLF.
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace homesafe::township
