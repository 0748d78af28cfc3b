// Placeholder: `homesafe-gateway discover` (issue 5) is being written.
#include "discover.hpp"

#include <iostream>

namespace homesafe::gateway::cli {

int discover(const std::string& /*config_path*/, int /*seconds*/) {
  std::cerr << "homesafe-gateway: discover is not available in this build yet\n";
  return 2;
}

}  // namespace homesafe::gateway::cli
