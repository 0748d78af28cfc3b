#include "setup.hpp"

#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "homesafe/drivers/driver.hpp"

namespace homesafe::gateway::cli {
namespace {

constexpr std::string_view kAppUser = "homesafe-app";

std::string first_segment(const std::string& topic) {
  return topic.substr(0, topic.find('/'));
}

// Usernames go into "user NAME" lines of the ACL and "NAME:hash" lines of the password file.
std::string safe_username(std::string_view text) {
  std::string out;
  for (char ch : text) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    out.push_back(ok ? ch : '-');
  }
  return out;
}

bool covers(const std::vector<std::string>& namespaces, const std::string& topic) {
  return std::any_of(namespaces.begin(), namespaces.end(), [&](const std::string& ns) {
    return topic == ns || topic.rfind(ns + "/", 0) == 0;
  });
}

// The MQTT client that publishes a device's data, and the topic trees it owns.
struct Client {
  std::string username;
  std::string role;
  std::vector<std::string> namespaces;
};

Client client_of(const drivers::DeviceConfig& device) {
  const std::string& topic = device.topic;
  if (device.format == "zigbee2mqtt" || device.format == "wmbusmeters") {
    // One bridge process publishes every device of its radio under its base topic.
    const std::string prefix = first_segment(topic);
    return {safe_username(prefix), "bridge", {prefix}};
  }
  if (device.format == "tasmota") {
    // tele/<topic>/..., stat/<topic>/... and its commands on cmnd/<topic>/...
    const bool bare = topic.find('/') == std::string::npos;
    const std::string base = bare ? "tele/" + topic : topic;
    if (first_segment(base) == "tele") {
      const std::string name = base.substr(5);
      return {safe_username("tasmota-" + name),
              "device",
              {"tele/" + name, "stat/" + name, "cmnd/" + name}};
    }
    return {safe_username("tasmota-" + base), "device", {base}};
  }
  if (device.format == "esphome") {
    // One ESPHome node publishes all its entities under <node>/.
    const std::string node = first_segment(topic);
    return {safe_username("esphome-" + node), "device", {node}};
  }
  if (device.format == "shelly") return {safe_username("shelly-" + topic), "device", {topic}};
  return {safe_username(device.id), "device", {topic}};
}

std::string base64(std::span<const unsigned char> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

struct Owner {
  uid_t uid = static_cast<uid_t>(-1);  // -1: leave as created
  gid_t gid = static_cast<gid_t>(-1);
};

// Replaces `path` with `content` atomically (temp file, fsync, rename), created with `mode`.
void write_atomically(const std::filesystem::path& path, const std::string& content, mode_t mode,
                      Owner owner) {
  std::string temp = path.string() + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    throw std::runtime_error("cannot create " + temp + ": " + std::strerror(errno));
  }
  auto fail = [&](const std::string& what) {
    const int saved = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(saved));
  };
  if (::fchmod(fd, mode) != 0) fail("cannot set the mode of");
  if ((owner.uid != static_cast<uid_t>(-1) || owner.gid != static_cast<gid_t>(-1)) &&
      ::fchown(fd, owner.uid, owner.gid) != 0) {
    fail("cannot set the owner of");
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("cannot sync");
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    throw std::runtime_error("cannot replace " + path.string() + ": " + std::strerror(saved));
  }
  // The rename itself must survive a power cut.
  const int dir =
      ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

std::optional<Owner> user_owner(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const passwd* pw = ::getpwnam(name.c_str());
  if (pw == nullptr) return std::nullopt;
  return Owner{pw->pw_uid, pw->pw_gid};
}

std::optional<Owner> group_owner(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const group* gr = ::getgrnam(name.c_str());
  if (gr == nullptr) return std::nullopt;
  return Owner{0, gr->gr_gid};
}

}  // namespace

std::vector<BrokerCredential> broker_credentials(const HubConfig& config,
                                                 std::vector<std::string>& errors) {
  const std::string home = "homesafe/" + config.household.id;
  std::vector<BrokerCredential> out;
  // The gateway reads every device's topics, publishes alerts, notifications and device
  // commands (check-in), and `discover` listens to everything.
  out.push_back({config.broker.username, "gateway", {}, {"#"}, {}, {}});
  // Caregiver apps on the LAN: alerts and notifications in, acknowledgements out.
  out.push_back({std::string(kAppUser),
                 "app",
                 {},
                 {},
                 {home + "/alert/#", home + "/notify", home + "/gateway/status"},
                 {home + "/ack"}});

  for (const auto& device : config.devices) {
    const Client client = client_of(device);
    auto found = std::find_if(out.begin(), out.end(), [&](const BrokerCredential& c) {
      return c.username == client.username;
    });
    if (found == out.end()) {
      BrokerCredential credential;
      credential.username = client.username;
      credential.role = client.role;
      found = out.insert(out.end(), std::move(credential));
    } else if (found->role != client.role || found->role == "gateway" || found->role == "app") {
      errors.push_back("device " + device.id + " would get the broker username " + client.username +
                       ", which is already used by the " + found->role + ": rename the device");
      continue;
    }
    found->devices.push_back(device.id);
    for (const auto& ns : client.namespaces) {
      const std::string filter = ns + "/#";
      if (std::find(found->readwrite.begin(), found->readwrite.end(), filter) ==
          found->readwrite.end()) {
        found->readwrite.push_back(filter);
      }
    }
    // Whatever the driver subscribes to must be writable by this client (and nothing more).
    const drivers::Driver* driver = drivers::find_driver(device.format);
    if (driver == nullptr) continue;
    for (const auto& topic : driver->topics(device)) {
      if (covers(client.namespaces, topic)) continue;
      if (std::find(found->write.begin(), found->write.end(), topic) == found->write.end()) {
        found->write.push_back(topic);
      }
    }
  }
  return out;
}

std::string acl_text(const std::span<const BrokerCredential> credentials) {
  std::ostringstream out;
  out << "# Mosquitto ACL of the homesafe hub, written by `homesafe-gateway setup` from the hub\n"
         "# config. Do not edit: change the config and run setup again.\n"
         "# Nobody may use the broker without a user below (allow_anonymous false).\n";
  for (const auto& c : credentials) {
    out << "\n# " << c.role;
    if (!c.devices.empty()) out << ": " << join(c.devices, ", ");
    out << "\nuser " << c.username << '\n';
    for (const auto& t : c.readwrite) out << "topic readwrite " << t << '\n';
    for (const auto& t : c.read) out << "topic read " << t << '\n';
    for (const auto& t : c.write) out << "topic write " << t << '\n';
  }
  return out.str();
}

std::string mosquitto_hash(std::string_view password, std::span<const unsigned char> salt,
                           int iterations) {
  unsigned char hash[64];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), iterations, EVP_sha512(), sizeof hash,
                        hash) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return "$7$" + std::to_string(iterations) + "$" + base64(salt) + "$" + base64(hash);
}

std::string random_password() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < 24) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes");
    for (unsigned char b : bytes) {
      // 62 * 4 = 248: reject 248..255 so every character is equally likely.
      if (b < 248 && out.size() < 24) out.push_back(kAlphabet[b % kAlphabet.size()]);
    }
  }
  return out;
}

std::map<std::string, std::string> read_credentials_file(const std::filesystem::path& path) {
  std::map<std::string, std::string> out;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string username;
    std::string password;
    if (fields >> username >> password) out[username] = password;
  }
  return out;
}

int setup(const SetupOptions& options, std::ostream& out, std::ostream& err) {
  auto loaded = load_config(options.config_path);
  if (!loaded.errors.empty()) {
    for (const auto& error : loaded.errors) err << error.to_string() << '\n';
    err << "homesafe-gateway setup: " << loaded.errors.size() << " error(s) in "
        << options.config_path << '\n';
    return 1;
  }
  const HubConfig& config = *loaded.config;
  std::vector<std::string> errors;
  if (config.broker.username.empty()) {
    errors.push_back(
        "broker.username is not set: add `username: homesafe-gateway` to the broker section");
  }
  if (!config.broker.password.empty()) {
    errors.push_back(
        "broker.password is set in the config: setup writes a random password for the gateway; "
        "replace it with `password_file: /etc/homesafe/broker/gateway.password`");
  }
  if (config.broker.password_file.empty()) {
    errors.push_back(
        "broker.password_file is not set: add `password_file: "
        "/etc/homesafe/broker/gateway.password` to the broker section");
  }
  auto credentials = broker_credentials(config, errors);
  if (!errors.empty()) {
    for (const auto& error : errors) err << options.config_path << ": " << error << '\n';
    err << "homesafe-gateway setup: nothing written\n";
    return 1;
  }

  const auto passwd_path = options.out_dir / "passwd";
  const auto acl_path = options.out_dir / "acl";
  const auto credentials_path = options.out_dir / "credentials";
  const std::filesystem::path gateway_password_path = config.broker.password_file;

  // Keep every password already handed out, unless asked to rotate.
  std::map<std::string, std::string> existing;
  if (!options.rotate) {
    existing = read_credentials_file(credentials_path);
    std::error_code ec;
    if (!existing.contains(config.broker.username) &&
        std::filesystem::exists(gateway_password_path, ec)) {
      try {
        const auto password = read_secret_file(gateway_password_path.string());
        if (!password.empty()) existing[config.broker.username] = password;
      } catch (const std::exception&) {  // unreadable: a new one is written
      }
    }
  }

  std::string passwd;
  std::ostringstream plain;
  plain << "# Broker credentials of household " << config.household.id
        << ", written by `homesafe-gateway setup`. Keep this file secret (mode 0600).\n"
           "# Give each device or bridge its own username and password; setup keeps them\n"
           "# unless run with --rotate.\n"
           "# username password role devices\n";
  int kept = 0;
  int created = 0;
  std::string gateway_password;
  for (const auto& c : credentials) {
    std::string password;
    if (auto found = existing.find(c.username); found != existing.end()) {
      password = found->second;
      ++kept;
    } else {
      password = random_password();
      ++created;
    }
    unsigned char salt[12];
    if (RAND_bytes(salt, sizeof salt) != 1) {
      err << "homesafe-gateway setup: no random bytes from OpenSSL\n";
      return 1;
    }
    passwd += c.username + ":" + mosquitto_hash(password, salt) + "\n";
    plain << c.username << ' ' << password << ' ' << c.role;
    if (!c.devices.empty()) plain << ' ' << join(c.devices, ",");
    plain << '\n';
    if (c.role == "gateway") gateway_password = password;
  }

  const bool root = ::geteuid() == 0;
  const Owner broker_owner = root ? user_owner(options.broker_user).value_or(Owner{}) : Owner{};
  const Owner gateway_owner = root ? group_owner(options.gateway_group).value_or(Owner{}) : Owner{};
  try {
    std::filesystem::create_directories(options.out_dir);
    if (!gateway_password_path.parent_path().empty()) {
      std::filesystem::create_directories(gateway_password_path.parent_path());
    }
    // The installer's copy first: a power cut after it leaves passwords that a re-run reuses.
    write_atomically(credentials_path, plain.str(), 0600, Owner{});
    write_atomically(gateway_password_path, gateway_password + "\n", 0640, gateway_owner);
    write_atomically(passwd_path, passwd, 0600, broker_owner);
    write_atomically(acl_path, acl_text(credentials), 0600, broker_owner);
  } catch (const std::exception& error) {
    err << "homesafe-gateway setup: " << error.what() << '\n';
    return 1;
  }

  out << "setup: " << credentials.size() << " broker credential(s) for household "
      << config.household.id << " (" << created << " new, " << kept << " kept)\n";
  for (const auto& c : credentials) {
    out << "  " << c.username << " (" << c.role;
    if (!c.devices.empty()) out << ": " << join(c.devices, ", ");
    out << ")\n";
  }
  out << "wrote " << passwd_path.string() << ", " << acl_path.string() << ", "
      << gateway_password_path.string() << "\n"
      << "device passwords: " << credentials_path.string() << " (readable by root only)\n"
      << "reload the broker to apply: systemctl reload mosquitto\n";
  return 0;
}

}  // namespace homesafe::gateway::cli
