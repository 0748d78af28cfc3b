#include "homesafe/rules/rule.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

#include "homesafe/rules/edge.hpp"

namespace homesafe::rules {

std::string_view to_string(Signal signal) {
  switch (signal) {
    case Signal::raise:
      return "raise";
    case Signal::repeat:
      return "repeat";
    case Signal::clear:
      return "clear";
    case Signal::record:
      return "record";
    case Signal::suppressed:
      return "suppressed";
  }
  return "unknown";
}

// keys_ views the keys inside values_' nodes: a copy indexes its own nodes. (A move keeps the
// nodes, so the views stay valid.)
RuleState::RuleState(const RuleState& other)
    : values_(other.values_),
      changes_(other.changes_),
      change_count_(other.change_count_),
      last_change_(other.last_change_) {
  index_keys();
}

RuleState& RuleState::operator=(const RuleState& other) {
  if (this != &other) *this = RuleState(other);
  return *this;
}

void RuleState::index_keys() {
  keys_.clear();
  for (const auto& entry : values_) keys_.insert(entry.first);
}

std::optional<std::string_view> RuleState::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return std::string_view(it->second);
}

void RuleState::set(std::string_view key, std::string_view value) {
  auto it = values_.find(key);
  if (it == values_.end()) {
    keys_.insert(values_.emplace(std::string(key), std::string(value)).first->first);
  } else if (it->second == value) {
    return;
  } else {
    it->second.assign(value);  // in place: no new key, usually no new allocation
  }
  record_change(key, value);
}

void RuleState::erase(std::string_view key) {
  auto it = values_.find(key);
  if (it == values_.end()) return;
  keys_.erase(std::string_view(it->first));
  values_.erase(it);
  record_change(key, std::nullopt);
}

void RuleState::record_change(std::string_view key, std::optional<std::string_view> value) {
  last_change_ = ++change_count_;
  auto it = changes_.find(key);
  if (it == changes_.end()) {
    std::optional<std::string> copy;
    if (value) copy.emplace(*value);
    changes_.emplace(std::string(key), Change{std::move(copy), change_count_});
    return;
  }
  // A key that changes again before it is written (a meter's total): updated in place.
  if (!value) {
    it->second.value.reset();
  } else if (it->second.value) {
    it->second.value->assign(*value);
  } else {
    it->second.value.emplace(*value);
  }
  it->second.number = change_count_;
}

std::optional<std::int64_t> RuleState::get_int(std::string_view key) const {
  auto text = get(key);
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

void RuleState::set_int(std::string_view key, std::int64_t value) {
  set(key, std::to_string(value));
}

std::vector<std::pair<std::string, std::string>> RuleState::with_prefix(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = keys_.lower_bound(prefix); it != keys_.end(); ++it) {
    if (!it->starts_with(prefix)) break;
    out.emplace_back(std::string(*it), values_.find(*it)->second);
  }
  return out;
}

void RuleState::load(std::string key, std::string value) {
  keys_.insert(values_.insert_or_assign(std::move(key), std::move(value)).first->first);
}

RuleState::Changes RuleState::take_changes() {
  Changes out;
  for (auto& [key, change] : changes_) out.emplace(key, std::move(change.value));
  changes_.clear();
  last_change_ = 0;
  return out;
}

RuleState::Changes RuleState::take_changes_since(std::uint64_t mark) {
  Changes out;
  std::uint64_t newest_left = 0;
  for (auto it = changes_.begin(); it != changes_.end();) {
    if (it->second.number > mark) {
      out.emplace(it->first, std::move(it->second.value));
      it = changes_.erase(it);
    } else {
      newest_left = std::max(newest_left, it->second.number);
      ++it;
    }
  }
  last_change_ = newest_left;
  return out;
}

Edge update_edge(RuleState& state, std::string_view key, bool value) {
  const bool was_true = state.get(key) == std::optional<std::string_view>("1");
  state.set(key, value ? "1" : "0");
  if (value) return was_true ? Edge::still_true : Edge::rise;
  return was_true ? Edge::fall : Edge::still_false;
}

std::optional<Signal> signal_for(Edge edge) {
  switch (edge) {
    case Edge::rise:
      return Signal::raise;
    case Edge::still_true:
      return Signal::repeat;
    case Edge::fall:
      return Signal::clear;
    case Edge::still_false:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace homesafe::rules
