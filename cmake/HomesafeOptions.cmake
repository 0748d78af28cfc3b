# Warnings, sanitizers and compiler caching shared by every target of the project.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

add_library(homesafe_options INTERFACE)
target_compile_options(homesafe_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                  -Wnon-virtual-dtor -Wold-style-cast)
if(HOMESAFE_WERROR)
  target_compile_options(homesafe_options INTERFACE -Werror)
endif()
if(HOMESAFE_SANITIZE)
  target_compile_options(homesafe_options INTERFACE -fsanitize=address,undefined
                                                    -fno-sanitize-recover=undefined
                                                    -fno-omit-frame-pointer)
  target_link_options(homesafe_options INTERFACE -fsanitize=address,undefined)
  # GCC 12's -Wmaybe-uninitialized reports false positives inside libstdc++ (std::regex,
  # std::variant) once sanitizer instrumentation is on; the plain build keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(homesafe_options INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()
