// homesafe-sim: simulated devices publishing homesafe's native MQTT format (see README.md).
#include <iostream>
#include <string>
#include <vector>

#include "homesafe/sim/cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return homesafe::sim::run_cli(args, std::cout, std::cerr);
}
