#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "homesafe/drivers/driver.hpp"

namespace homesafe::drivers {
namespace {

TEST(Registry, FindsDriversByFormat) {
  ASSERT_NE(find_driver("native"), nullptr);
  EXPECT_EQ(find_driver("native")->format(), "native");
  EXPECT_EQ(find_driver("no-such-format"), nullptr);
  for (const auto* format : {"zigbee2mqtt", "tasmota", "shelly", "esphome", "wmbusmeters"}) {
    ASSERT_NE(find_driver(format), nullptr) << format;
    EXPECT_EQ(find_driver(format)->format(), format);
  }
}

TEST(Registry, FormatsAreUnique) {
  std::set<std::string_view> formats;
  for (const Driver* driver : all_drivers()) {
    EXPECT_TRUE(formats.insert(driver->format()).second) << driver->format();
  }
}

// Every driver class declared under device-drivers/include is in the explicit registry list.
TEST(Registry, EveryDriverFileIsListed) {
  const std::filesystem::path include_dir =
      std::filesystem::path(HOMESAFE_SOURCE_DIR) / "device-drivers/include/homesafe/drivers";
  const std::regex declaration(R"(class\s+(\w+)\s+final\s*:\s*public\s+Driver)");
  int declared = 0;
  for (const auto& entry : std::filesystem::directory_iterator(include_dir)) {
    std::ifstream file(entry.path());
    std::stringstream text;
    text << file.rdbuf();
    const std::string content = text.str();
    declared += static_cast<int>(std::distance(
        std::sregex_iterator(content.begin(), content.end(), declaration), std::sregex_iterator()));
  }
  EXPECT_GT(declared, 0);
  EXPECT_EQ(declared, static_cast<int>(all_drivers().size()))
      << "a driver class exists that device-drivers/src/registry.cpp does not list";
}

}  // namespace
}  // namespace homesafe::drivers
