# Cross-build for arm64 hubs (Raspberry Pi class, Debian 12 arm64) with Debian's multiarch packages:
#   scripts/install-deps-arm64.sh      # cross compiler, qemu-user, the :arm64 -dev packages
#   cmake -S . -B build/arm64 -G Ninja --toolchain cmake/toolchains/aarch64-linux-gnu.cmake
# or simply `scripts/build.sh arm64`. See docs/packaging.md.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Makes find_library/find_package use the multiarch folders /usr/lib/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config must see only the arm64 .pc files, or OpenSSL, SQLite and the others are found for
# the build machine's architecture.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# libyaml-cpp-dev cannot be installed for two architectures at once: install-deps-arm64.sh unpacks
# the arm64 one into this overlay (headers, CMake config, the library to link against).
set(HOMESAFE_ARM64_OVERLAY "/opt/homesafe-cross/arm64" CACHE PATH
    "Unpacked arm64 -dev packages that cannot be co-installed (scripts/install-deps-arm64.sh)")
if(NOT EXISTS "${HOMESAFE_ARM64_OVERLAY}/usr/lib/aarch64-linux-gnu/cmake/yaml-cpp")
  message(FATAL_ERROR "arm64 yaml-cpp not found in ${HOMESAFE_ARM64_OVERLAY}: "
                      "run scripts/install-deps-arm64.sh first")
endif()
list(APPEND CMAKE_PREFIX_PATH "${HOMESAFE_ARM64_OVERLAY}/usr")

# No sysroot: headers are shared (/usr/include, with /usr/include/aarch64-linux-gnu searched by the
# cross compiler), libraries and CMake package files come from /usr/lib/aarch64-linux-gnu (through
# CMAKE_LIBRARY_ARCHITECTURE) or the overlay, programs (pkg-config, qemu) from the build machine.

# CTest (and gtest_discover_tests) run the arm64 test programs under user-mode emulation. `-L /`
# makes qemu load the arm64 loader and libraries from the multiarch folders of this machine
# (with -L /usr/aarch64-linux-gnu threaded programs hang).
find_program(HOMESAFE_QEMU_AARCH64 qemu-aarch64)
if(NOT HOMESAFE_QEMU_AARCH64)
  message(WARNING "qemu-aarch64 not found (apt-get install qemu-user): arm64 tests cannot run")
  set(HOMESAFE_QEMU_AARCH64 qemu-aarch64)
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR "${HOMESAFE_QEMU_AARCH64};-L;/")
