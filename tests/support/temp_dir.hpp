#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace homesafe::test {

// A fresh directory from mkdtemp under $TMPDIR (or /tmp), removed with its contents on
// destruction. Set HOMESAFE_KEEP_TEMP=1 to keep it for debugging.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "homesafe-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, for files inside the directory.
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  void remove() noexcept;

  std::filesystem::path path_;
};

// Whole content of a file; empty if it cannot be read.
std::string read_file(const std::filesystem::path& path);
// Writes (replaces) a file; throws std::runtime_error on failure.
void write_file(const std::filesystem::path& path, std::string_view content);

}  // namespace homesafe::test
