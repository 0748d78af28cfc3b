#pragma once
// A minimal Excel workbook (.xlsx, Office Open XML): sheets of text and number cells, with inline
// strings and a bold first row, in an uncompressed ZIP container. Enough for a report a duty desk
// opens in Excel or WPS; no formulas, no styles beyond the header.

#include <string>
#include <vector>

namespace homesafe::township {

struct XlsxCell {
  std::string text;
  bool number = false;  // `text` is a decimal number written as a numeric cell
};

struct XlsxSheet {
  std::string name;  // at most 31 characters, none of []:*?/\ (replaced by _)
  std::vector<std::vector<XlsxCell>> rows;
};

// The workbook's bytes.
std::string xlsx_workbook(const std::vector<XlsxSheet>& sheets);

// Stored (uncompressed) ZIP archive of (name, content) entries, with CRC-32 (exposed for tests).
std::string zip_store(const std::vector<std::pair<std::string, std::string>>& entries);
std::uint32_t crc32(const std::string& data);

}  // namespace homesafe::township
