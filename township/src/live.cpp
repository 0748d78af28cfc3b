#include "homesafe/township/live.hpp"

#include <nlohmann/json.hpp>
#include <vector>

#include "homesafe/township/views.hpp"

namespace homesafe::township {

using nlohmann::json;

std::uint64_t LiveFeed::subscribe(User user, Send send) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  connections_.emplace(id, Connection{std::move(user), std::move(send)});
  return id;
}

void LiveFeed::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  connections_.erase(id);
}

std::size_t LiveFeed::connections() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

void LiveFeed::publish(Store& store, const Changes& changes) {
  std::vector<Connection> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, c] : connections_) targets.push_back(c);
  }
  if (targets.empty()) return;
  auto send_to_visible = [&](const std::string& household_id, const Frame& frame) {
    auto household = store.household(household_id);
    if (!household) return;
    for (const auto& c : targets) {
      if (can_access(store, c.user, *household)) c.send(frame);
    }
  };
  for (const auto& alert_id : changes.alerts) {
    auto alert = alert_view(store.db(), alert_id);
    if (!alert) continue;
    const std::string household = (*alert)["household"].get<std::string>();
    send_to_visible(household, std::make_shared<const std::string>(
                                   json{{"type", "alert"}, {"alert", *alert}}.dump()));
  }
  for (const auto& household : changes.health) {
    send_to_visible(household, std::make_shared<const std::string>(
                                   json{{"type", "health"}, {"household", household}}.dump()));
  }
}

void LiveFeed::ping(std::int64_t now_ms) {
  const auto frame =
      std::make_shared<const std::string>(json{{"type", "ping"}, {"now", now_ms}}.dump());
  std::lock_guard lock(mutex_);
  for (const auto& [id, c] : connections_) c.send(frame);
}

std::string LiveFeed::hello_frame(const User& user, std::int64_t now_ms) {
  return json{
      {"type", "hello"},
      {"now", now_ms},
      {"user",
       {{"username", user.username}, {"role", role_name(user.role)}, {"scope", user.scope}}}}
      .dump();
}

}  // namespace homesafe::township
