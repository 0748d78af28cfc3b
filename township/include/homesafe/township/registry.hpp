#pragma once
// The households registry as CSV (docs/township.md lists the columns).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "homesafe/township/store.hpp"

namespace homesafe::township {

// All the problems of a file, one per line: "line N: ...".
struct ImportError : std::runtime_error {
  explicit ImportError(std::vector<std::string> problems);
  std::vector<std::string> problems;
};

// The header every file must start with (in this order).
const std::vector<std::string>& household_csv_columns();

// Parses and checks the whole file, then stores every row in one transaction: all or nothing.
// Returns the number of households imported. Throws ImportError listing every bad row.
int import_households(Store& store, const std::string& csv, std::int64_t now_ms);
std::string export_households(Store& store);

}  // namespace homesafe::township
