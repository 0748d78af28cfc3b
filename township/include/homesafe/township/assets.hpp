#pragma once
// The console's pages (township/console/*), embedded in the binary at build time
// (cmake/EmbedFiles.cmake).

#include <optional>
#include <string_view>

namespace homesafe::township {

struct Asset {
  std::string_view name;
  std::string_view content_type;
  std::string_view data;
};

// The embedded file `name` (a plain file name, no folders), or nullopt.
std::optional<Asset> find_asset(std::string_view name);

}  // namespace homesafe::township
