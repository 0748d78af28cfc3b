#pragma once

#include <iosfwd>
#include <span>
#include <string>

namespace homesafe::sim {

// Exit codes of homesafe-sim.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // broker, delivery or file I/O
inline constexpr int kExitUsage = 2;    // bad command line or scenario

// The homesafe-sim command line, without the program name. Published messages and results go to
// `out`, errors to `err`. Returns the exit code.
int run_cli(std::span<const std::string> args, std::ostream& out, std::ostream& err);

std::string usage_text();

}  // namespace homesafe::sim
