#include "homesafe/township/spot_check.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace homesafe::township {
namespace {

// Uniform in [0, bound) without modulo bias.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    const std::uint64_t x = rng();
    if (x < limit) return x % bound;
  }
}

}  // namespace

std::vector<std::string> draw_sample(std::vector<std::string> population, int rate_percent,
                                     std::uint64_t seed) {
  if (rate_percent < 1 || rate_percent > 100) throw std::invalid_argument("rate out of range");
  std::sort(population.begin(), population.end());
  population.erase(std::unique(population.begin(), population.end()), population.end());
  const std::size_t n = population.size();
  const std::size_t k = (n * static_cast<std::size_t>(rate_percent) + 99) / 100;
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(uniform_below(rng, n - i));
    std::swap(population[i], population[j]);
  }
  population.resize(k);
  std::sort(population.begin(), population.end());
  return population;
}

std::uint64_t random_seed() {
  std::uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return seed;
}

}  // namespace homesafe::township
