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
endif()
