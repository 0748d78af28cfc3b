#pragma once
// Signed one-tap links for caregivers (docs/console.md "Caregiver link"): the hub puts
// BASE_URL/c/ALERT_ID/CONTACT_ID/MAC into a caregiver's message; the township checks MAC and lets
// the caregiver acknowledge that one alert without a password. MAC is an HMAC-SHA256 of the alert
// and the contact under the hub's link key, which the township derives from its own secret, so
// the township needs no per-hub key table.

#include <string>
#include <string_view>

namespace homesafe::gateway::notify {

// The hub's link key: HMAC-SHA256(secret, "homesafe-link-v1|" + hub_id) as 64 hex digits.
std::string link_key_for_hub(std::string_view township_secret, std::string_view hub_id);
// The MAC of (alert, contact): the first 12 bytes of HMAC-SHA256(key, "v1|ALERT|CONTACT") in
// base64url (16 characters).
std::string link_mac(std::string_view key, std::string_view alert_id, std::string_view contact_id);
// Constant-time comparison of `mac` with the right one.
bool link_mac_matches(std::string_view key, std::string_view alert_id, std::string_view contact_id,
                      std::string_view mac);
// BASE_URL/c/ALERT_ID/CONTACT_ID/MAC (a trailing slash of the base is dropped); empty when the
// base or the key is empty or an id has a character that is not safe in a path segment.
std::string link_url(std::string_view base_url, std::string_view key, std::string_view alert_id,
                     std::string_view contact_id);
// Whether `id` may appear in a link: [A-Za-z0-9_.:-]{1,128}.
bool link_safe_id(std::string_view id);

}  // namespace homesafe::gateway::notify
