#include "homesafe/township/assets.hpp"

#include <utility>

namespace homesafe::township {

// Generated from township/console/ (cmake/EmbedFiles.cmake); ends with an empty name.
extern const std::pair<std::string_view, std::string_view> kEmbeddedFiles[];

namespace {

std::string_view content_type_of(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  };
  for (const auto& [suffix, type] : kTypes) {
    if (name.ends_with(suffix)) return type;
  }
  return "application/octet-stream";
}

}  // namespace

std::optional<Asset> find_asset(std::string_view name) {
  for (const auto* file = kEmbeddedFiles; !file->first.empty(); ++file) {
    if (file->first == name) return Asset{file->first, content_type_of(name), file->second};
  }
  return std::nullopt;
}

}  // namespace homesafe::township
