#include "homesafe/cloud_bridge/commands.hpp"

#include <nlohmann/json.hpp>

#include "homesafe/gateway/log.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::cloud_bridge {
namespace {

namespace log = gateway::log;
using Json = nlohmann::json;

constexpr std::size_t kMaxIdBytes = 128;
constexpr std::size_t kMaxByBytes = 64;
constexpr std::size_t kMaxNoteBytes = 2000;
constexpr std::size_t kMaxErrorBytes = 2000;

// A string field: nullopt when absent or not a string or too long.
std::optional<std::string> string_field(const Json& json, const char* key, std::size_t max) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_string()) return std::nullopt;
  std::string value = it->get<std::string>();
  if (value.size() > max) return std::nullopt;
  return value;
}

CommandOutcome failed(const std::string& id, std::string error) {
  return {id, false, std::move(error), false};
}

}  // namespace

CommandProcessor::CommandProcessor(gateway::Store& store, HubActions& hub)
    : store_(store), hub_(hub) {}

std::optional<CommandOutcome> CommandProcessor::handle(std::string_view payload,
                                                       const rules::Instant& now) {
  const Json json = Json::parse(payload, nullptr, false);
  std::optional<std::string> id;
  if (json.is_object()) id = string_field(json, "command_id", kMaxIdBytes);
  if (!id || id->empty()) {
    ++malformed_;
    log::warn("uplink: command without a usable command_id ignored ({} so far)", malformed_);
    return std::nullopt;
  }
  CommandOutcome outcome;
  gateway::Store::Transaction tx(store_, gateway::Durability::full);
  if (auto prior = store_.find_command(*id)) {
    outcome = {*id, prior->ok, prior->error, true};
    log::info("uplink: command {} already applied; answering again", *id);
  } else {
    outcome = apply(*id, json, now);
    store_.record_command({*id, outcome.ok, outcome.error, now.wall_ms});
    if (outcome.ok) {
      log::info("uplink: command {} applied", *id);
    } else {
      log::warn("uplink: command {} refused: {}", *id, outcome.error);
    }
  }
  nlohmann::ordered_json body{
      {"command_id", *id},
      {"ok", outcome.ok},
      {"error", outcome.error.empty() ? Json(nullptr) : Json(outcome.error)}};
  store_.add_outbox_event("command_result", 1, body.dump(), now);
  tx.commit();
  return outcome;
}

CommandOutcome CommandProcessor::apply(const std::string& id, const Json& json,
                                       const rules::Instant& now) {
  if (auto v = json.find("v"); v != json.end() && (!v->is_number_integer() || *v != 1)) {
    return failed(id, "unsupported version");
  }
  auto type = string_field(json, "type", 32);
  if (!type) return failed(id, "malformed: type");
  auto by = string_field(json, "by", kMaxByBytes);
  std::string note;
  if (json.contains("note")) {
    auto value = string_field(json, "note", kMaxNoteBytes);
    if (!value) return failed(id, "malformed: note");
    note = *value;
  }
  if (*type == "ack" || *type == "resolve") {
    auto alert_id = string_field(json, "alert_id", kMaxIdBytes);
    if (!alert_id || alert_id->empty()) return failed(id, "malformed: alert_id");
    if (!by || by->empty()) return failed(id, "malformed: by");
    // "link": a caregiver tapped the one-tap link; `by` is then one of the hub's contacts.
    std::string channel = "township";
    if (json.contains("channel")) {
      auto value = string_field(json, "channel", 16);
      if (!value || *value != "link") return failed(id, "malformed: channel");
      channel = *value;
    }
    gateway::AckRequest request{
        *alert_id, *by, *type == "ack" ? gateway::AckAction::ack : gateway::AckAction::resolve,
        note, channel};
    switch (hub_.acknowledge(request, now)) {
      case gateway::AckOutcome::applied:
      case gateway::AckOutcome::already_done:
        return {id, true, {}, false};
      case gateway::AckOutcome::unknown_alert:
        return failed(id, "unknown_alert");
      case gateway::AckOutcome::unknown_contact:
        return failed(id, "unknown_contact");
    }
    return failed(id, "internal");
  }
  if (*type == "away") {
    if (!by || by->empty()) return failed(id, "malformed: by");
    auto until_text = string_field(json, "until", 64);
    auto until = until_text ? rules::parse_iso8601_ms(*until_text) : std::nullopt;
    if (!until) return failed(id, "malformed: until (ISO 8601 with offset)");
    if (*until <= now.wall_ms) return failed(id, "until is in the past");
    if (*until > now.wall_ms + kMaxAwayMs) return failed(id, "until is more than 90 days ahead");
    hub_.set_away(*until, *by, note, now);
    return {id, true, {}, false};
  }
  if (*type == "home") {
    if (!by || by->empty()) return failed(id, "malformed: by");
    hub_.end_away(*by, now);
    return {id, true, {}, false};
  }
  if (*type == "config") {
    auto patch = json.find("patch");
    if (patch == json.end() || !patch->is_object()) return failed(id, "malformed: patch");
    std::string error = hub_.configure(patch->dump(), id, now);
    if (error.empty()) return {id, true, {}, false};
    if (error.size() > kMaxErrorBytes) {
      // Cut at a character boundary (messages may quote UTF-8 values).
      std::size_t cut = kMaxErrorBytes;
      while (cut > 0 && (static_cast<unsigned char>(error[cut]) & 0xC0U) == 0x80U) --cut;
      error = error.substr(0, cut) + "...";
    }
    return failed(id, "invalid patch: " + error);
  }
  return failed(id, "unknown type");
}

}  // namespace homesafe::cloud_bridge
