#pragma once
// Random spot checks (抽查) of new or re-assessed residents, reproducible from a recorded seed.

#include <cstdint>
#include <string>
#include <vector>

namespace homesafe::township {

// ceil(population × rate_percent / 100) ids drawn without replacement from `population` (sorted
// first, so the order it is given in does not matter). The same seed and population always give
// the same sample: std::mt19937_64 (its output is fixed by the C++ standard), a partial
// Fisher–Yates shuffle, and rejection sampling for unbiased indices. The result is sorted.
std::vector<std::string> draw_sample(std::vector<std::string> population, int rate_percent,
                                     std::uint64_t seed);

// A fresh seed from OpenSSL's RAND_bytes.
std::uint64_t random_seed();

}  // namespace homesafe::township
