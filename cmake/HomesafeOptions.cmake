# Warnings, sanitizers and compiler caching shared by every target of the project.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

add_library(homesafe_options INTERFACE)
target_compile_options(homesafe_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                  -Wnon-virtual-dtor -Wold-style-cast)
# GCC 12's -Wmaybe-uninitialized reports false positives inside libstdc++ (std::variant holding a
# std::string, std::regex), more so at -O2 and with sanitizers (GCC bugs 105562, 107138).
# -Wuninitialized stays on.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(homesafe_options INTERFACE -Wno-maybe-uninitialized)
endif()
if(HOMESAFE_WERROR)
  target_compile_options(homesafe_options INTERFACE -Werror)
endif()
if(HOMESAFE_SANITIZE)
  target_compile_options(homesafe_options INTERFACE -fsanitize=address,undefined
                                                    -fno-sanitize-recover=undefined
                                                    -fno-omit-frame-pointer)
  target_link_options(homesafe_options INTERFACE -fsanitize=address,undefined)

endif()
