# Every dependency comes from a Debian 12 package (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(PahoMqttCpp REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG)  # 1.74 Asio does not build as C++20 with GCC 12
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)

# Boost.Asio is header-only; use it without deprecated interfaces.
add_library(homesafe_asio INTERFACE)
target_link_libraries(homesafe_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(homesafe_asio INTERFACE BOOST_ASIO_NO_DEPRECATED)
