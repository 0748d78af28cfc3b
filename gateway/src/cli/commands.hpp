#pragma once
// The installer commands of homesafe-gateway (everything but the daemon itself).

#include <iosfwd>
#include <optional>
#include <string>

namespace homesafe::gateway::cli {

// Also reports the township's config override when the config's store exists.
int check_config(const std::string& path, std::ostream& out, std::ostream& err);
// Removes the township's config override from the store (takes effect at the next start).
int clear_override(const std::string& config_path);
int replay(const std::string& config_path, const std::string& input, const std::string& tail,
           const std::string& store_path);
int alerts(const std::string& config_path, const std::optional<std::string>& show, int limit,
           bool json);
int ack(const std::string& config_path, const std::string& alert_id, const std::string& by,
        bool resolve, const std::string& note);
// Away mode (外出/住院) until a local time, or back home when `until` is empty.
int away(const std::string& config_path, const std::string& by,
         const std::optional<std::string>& until, const std::string& note);

}  // namespace homesafe::gateway::cli
