#pragma once

#include <chrono>
#include <functional>

namespace homesafe::test {

// Generous by design: CI machines are shared and noisy. A passing test never waits this long.
inline constexpr std::chrono::milliseconds kDefaultTimeout{20'000};

// Polls `predicate` every `poll` until it returns true (→ true) or `timeout` passes (→ false).
// The predicate is checked once more at the deadline.
bool wait_until(const std::function<bool()>& predicate,
                std::chrono::milliseconds timeout = kDefaultTimeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds{10});

}  // namespace homesafe::test
