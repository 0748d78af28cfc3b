#include "homesafe/gateway/notify/link.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <stdexcept>

namespace homesafe::gateway::notify {
namespace {

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &length) == nullptr ||
      length != out.size()) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return out;
}

std::string base64url(const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < size; ++i) {
    bits = (bits << 8) | data[i];
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 0x3F];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 0x3F];
  return out;
}

}  // namespace

std::string link_key_for_hub(std::string_view township_secret, std::string_view hub_id) {
  const auto mac = hmac_sha256(township_secret, "homesafe-link-v1|" + std::string(hub_id));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : mac) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

std::string link_mac(std::string_view key, std::string_view alert_id, std::string_view contact_id) {
  const auto mac = hmac_sha256(key, "v1|" + std::string(alert_id) + "|" + std::string(contact_id));
  return base64url(mac.data(), 12);
}

bool link_mac_matches(std::string_view key, std::string_view alert_id, std::string_view contact_id,
                      std::string_view mac) {
  const std::string expected = link_mac(key, alert_id, contact_id);
  return mac.size() == expected.size() &&
         CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) == 0;
}

bool link_safe_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return id != "." && id != "..";
}

std::string link_url(std::string_view base_url, std::string_view key, std::string_view alert_id,
                     std::string_view contact_id) {
  if (base_url.empty() || key.empty() || !link_safe_id(alert_id) || !link_safe_id(contact_id)) {
    return {};
  }
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return std::string(base_url) + "/c/" + std::string(alert_id) + "/" + std::string(contact_id) +
         "/" + link_mac(key, alert_id, contact_id);
}

}  // namespace homesafe::gateway::notify
