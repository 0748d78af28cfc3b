#include "homesafe/township/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "homesafe/gateway/notify/link.hpp"
#include "homesafe/township/assets.hpp"
#include "homesafe/township/log.hpp"
#include "homesafe/township/report.hpp"
#include "homesafe/township/spot_check.hpp"
#include "homesafe/township/views.hpp"
#include "homesafe/township/xlsx.hpp"

namespace homesafe::township {
namespace {

using nlohmann::json;

ApiResponse json_response(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

// User-facing error texts are zh-CN; `code` is for programs.
ApiResponse error(int status, const std::string& code, const std::string& message) {
  return json_response(status, {{"error", code}, {"message", message}});
}

ApiResponse bad_request(const std::string& message) {
  return error(400, "bad_request", message);
}
ApiResponse not_found() {
  return error(404, "not_found", "未找到");
}
ApiResponse forbidden() {
  return error(403, "forbidden", "无权访问");
}

// Alert ids come from hubs ("h001-000042") or from the township ("township-h001-silent-…").
bool valid_alert_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.' || c == ':')) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> split_path(const std::string& path, bool& ok) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  ok = !path.empty() && path[0] == '/';
  while (ok && start <= path.size()) {
    const auto slash = path.find('/', start);
    const std::string raw =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    std::string decoded;
    if (!url_decode(raw, decoded, false)) ok = false;
    parts.push_back(decoded);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // trailing slash
  return parts;
}

std::string cookie_value(const std::string& header, const std::string& name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == ';')) ++pos;
    const auto end = header.find(';', pos);
    const std::string pair =
        header.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    const auto eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return {};
}

json nullable(const Row& r, std::size_t i, bool integer) {
  if (r.is_null(i)) return nullptr;
  return integer ? json(r.integer(i)) : json(r.text(i));
}

json household_summary(const Household& h) {
  return {{"household_id", h.household_id},
          {"resident_id", h.resident_id},
          {"display_name", h.display_name},
          {"county", h.county},
          {"township", h.township},
          {"village", h.village},
          {"risk_class", h.risk_class},
          {"hub_id", h.hub_id.empty() ? json(nullptr) : json(h.hub_id)}};
}

// A caregiver's link works until its alert is resolved, and at most this long.
constexpr std::int64_t kLinkLifetimeMs = 7LL * 24 * 3600 * 1000;

class Handler {
 public:
  Handler(Store& store, const Clock& clock, const ApiOptions& options, const ApiRequest& request,
          Api::LoginFailures& failures, const Ingest* ingest)
      : failures_(failures),
        ingest_(ingest),
        store_(store),
        db_(store.db()),
        clock_(clock),
        options_(options),
        req_(request),
        now_(clock.now_ms()) {}

  ApiResponse run() {
    ApiResponse r = dispatch();
    r.changes = std::move(changes_);
    return r;
  }

 private:
  ApiResponse dispatch() {
    const auto qmark = req_.target.find('?');
    const std::string path = req_.target.substr(0, qmark);
    bool ok = true;
    if (qmark != std::string::npos) query_ = parse_query(req_.target.substr(qmark + 1), ok);
    if (!ok) return bad_request("请求参数格式错误");
    parts_ = split_path(path, ok);
    if (!ok) return bad_request("请求路径格式错误");
    if (parts_.empty() || parts_[0] != "api") return static_file();
    if (parts_.size() < 2) return not_found();
    if (parts_[1] == "link") return link();

    if (parts_.size() == 2 && parts_[1] == "login") {
      if (req_.method != "POST") return method_not_allowed();
      return login();
    }
    // Everything else needs a session.
    const std::string token = cookie_value(req_.cookie, kSessionCookie);
    auto user = token.empty() ? std::nullopt : find_session(store_, token, now_);
    if (!user) return error(401, "unauthenticated", "请先登录");
    user_ = *user;

    const std::string& what = parts_[1];
    if (what == "logout" && parts_.size() == 2) {
      if (req_.method != "POST") return method_not_allowed();
      delete_session(store_, token);
      store_.audit(now_, user_.username, "logout", "session", {});
      ApiResponse r = json_response(200, {{"ok", true}});
      r.set_cookie =
          std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
      return r;
    }
    if (what == "me" && parts_.size() == 2) {
      return json_response(
          200,
          {{"username", user_.username}, {"role", role_name(user_.role)}, {"scope", user_.scope}});
    }
    if (what == "status" && parts_.size() == 2) {
      if (req_.method != "GET") return method_not_allowed();
      return status();
    }
    if (what == "alerts") return alerts();
    if (what == "households") return households();
    if (what == "reports") return reports();
    if (what == "spot-checks") return spot_checks();
    if (what == "health" && parts_.size() == 2) {
      if (req_.method != "GET") return method_not_allowed();
      const auto households = visible_households();
      std::vector<std::string> ids;
      for (const auto& h : households) ids.push_back(h.household_id);
      store_.audit(now_, user_.username, "read", "health", ids);
      return json_response(200, hub_health(db_, households));
    }
    return not_found();
  }

  ApiResponse method_not_allowed() { return error(405, "method_not_allowed", "不支持的请求方法"); }

  std::optional<json> body_object() {
    if (req_.body.empty()) return json::object();
    json body = json::parse(req_.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return std::nullopt;
    return body;
  }

  ApiResponse login() {
    json body = json::parse(req_.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("username") ||
        !body.contains("password") || !body["username"].is_string() ||
        !body["password"].is_string()) {
      return bad_request("需要用户名和密码");
    }
    const std::string username = body["username"].get<std::string>();
    const std::string password = body["password"].get<std::string>();
    if (username.empty() || username.size() > 64 || password.size() > 1024) {
      return bad_request("用户名或密码格式错误");
    }
    auto& failed = failures_[username];
    while (!failed.empty() && failed.front() <= now_ - Api::kLoginWindowMs) failed.pop_front();
    if (failed.size() >= static_cast<std::size_t>(Api::kMaxFailedLogins)) {
      store_.audit(now_, username, "login_throttled", "session", {}, req_.remote);
      return error(429, "too_many_attempts", "登录失败次数过多，请15分钟后再试");
    }
    auto user = check_login(store_, username, password);
    if (!user) {
      failed.push_back(now_);
      if (failures_.size() > 10'000) {  // many made-up usernames: forget the stale ones
        std::erase_if(failures_, [&](const auto& entry) {
          return entry.second.empty() || entry.second.back() <= now_ - Api::kLoginWindowMs;
        });
      }
      store_.audit(now_, username, "login_failed", "session", {}, req_.remote);
      return error(401, "login_failed", "用户名或密码错误");
    }
    failures_.erase(username);
    const std::string token = create_session(store_, user->username, now_, options_.session_ttl_ms);
    store_.audit(now_, user->username, "login", "session", {}, req_.remote);
    ApiResponse r = json_response(
        200,
        {{"username", user->username}, {"role", role_name(user->role)}, {"scope", user->scope}});
    r.set_cookie =
        fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", kSessionCookie, token,
                    options_.session_ttl_ms / 1000, options_.secure_cookie ? "; Secure" : "");
    return r;
  }

  // The household if the user may see it; nullopt both when it does not exist and when it is out
  // of scope (the answer is the same 404, so ids cannot be probed).
  std::optional<Household> visible_household(const std::string& id) {
    if (!valid_id(id)) return std::nullopt;
    auto h = store_.household(id);
    if (!h || !can_access(store_, user_, *h)) return std::nullopt;
    return h;
  }

  std::vector<Household> visible_households() {
    std::vector<Household> out;
    for (auto& h : store_.households()) {
      if (can_access(store_, user_, h)) out.push_back(std::move(h));
    }
    return out;
  }

  // Ingest counters since the service started: no personal data.
  ApiResponse status() {
    json out{{"now", now_}};
    if (ingest_) {
      json reasons = json::object();
      for (const auto& [reason, n] : ingest_->rejected_by_reason()) reasons[reason] = n;
      out["ingest"] = {{"stored", ingest_->stored_total()},
                       {"duplicates", ingest_->duplicate_total()},
                       {"rejected", ingest_->rejected_total()},
                       {"rejected_by_reason", reasons}};
    }
    return json_response(200, out);
  }

  ApiResponse alerts() {
    if (parts_.size() == 2) {
      if (req_.method != "GET") return method_not_allowed();
      std::string state = query_.contains("state") ? query_["state"] : "all";
      if (state != "open" && state != "acknowledged" && state != "resolved" && state != "active" &&
          state != "all") {
        return bad_request("state 只能是 open、acknowledged、resolved、active 或 all");
      }
      std::vector<Value> params;
      std::string sql =
          std::string("SELECT ") + kAlertViewColumns +
          " FROM alerts a JOIN households o ON o.household_id = a.household_id WHERE " +
          scope_condition(user_, params);
      if (state == "active") {
        sql += " AND a.state <> 'resolved'";
      } else if (state != "all") {
        sql += " AND a.state = ?";
        params.emplace_back(state);
      }
      sql += " ORDER BY a.updated_at DESC, a.alert_id LIMIT 1000";
      json out = json::array();
      std::vector<std::string> ids;
      for (const auto& row : db_.query(sql, params)) {
        out.push_back(alert_view(db_, row));
        ids.push_back(row.text(1));
      }
      if (state != "all" && state != "resolved") {
        // The board's order: emergencies first, then the newest.
        auto rank = [](const json& a) {
          const auto& s = a["severity"];
          return s == "emergency" ? 0 : s == "warning" ? 1 : 2;
        };
        std::stable_sort(out.begin(), out.end(), [&](const json& a, const json& b) {
          if (rank(a) != rank(b)) return rank(a) < rank(b);
          return a["raised_at"].get<std::int64_t>() > b["raised_at"].get<std::int64_t>();
        });
      }
      store_.audit(now_, user_.username, "read", "alerts", ids, "state=" + state);
      return json_response(200, out);
    }
    const std::string& alert_id = parts_[2];
    if (!valid_alert_id(alert_id)) return bad_request("告警编号格式错误");
    std::vector<Value> params{alert_id};
    const std::string condition = scope_condition(user_, params);
    auto row = db_.query_one(std::string("SELECT ") + kAlertViewColumns +
                                 " FROM alerts a JOIN households o ON o.household_id = "
                                 "a.household_id WHERE a.alert_id = ? AND " +
                                 condition,
                             params);
    if (!row) return not_found();
    json alert = alert_view(db_, *row);
    const std::string household = row->text(1);
    if (parts_.size() == 3) {
      if (req_.method != "GET") return method_not_allowed();
      json history = json::array();
      for (const auto& h : db_.query(
               "SELECT event_id, state, updated_at FROM alert_history WHERE alert_id = ? ORDER BY "
               "updated_at, event_id",
               {alert_id})) {
        history.push_back(
            {{"event_id", h.text(0)}, {"state", h.text(1)}, {"updated_at", h.integer(2)}});
      }
      // Notifications the hub asked the township to relay, with their outcome (ids only).
      json relays = json::array();
      for (const auto& r : db_.query(
               "SELECT notification_id, contact_id, role, step, repeat_no, state, attempts, error, "
               "created_at, settled_at FROM relays WHERE alert_id = ? AND household_id = ? ORDER "
               "BY created_at, notification_id",
               {alert_id, household})) {
        relays.push_back({{"notification_id", r.text(0)},
                          {"contact_id", r.text(1)},
                          {"role", r.text(2)},
                          {"step", r.integer(3)},
                          {"repeat", r.integer(4)},
                          {"state", r.text(5)},
                          {"attempts", r.integer(6)},
                          {"error", nullable(r, 7, false)},
                          {"received_at", r.integer(8)},
                          {"settled_at", nullable(r, 9, true)}});
      }
      alert["history"] = history;
      alert["relays"] = relays;
      store_.audit(now_, user_.username, "read", "alert", {household}, alert_id);
      return json_response(200, alert);
    }
    if (parts_.size() == 4 && (parts_[3] == "ack" || parts_[3] == "resolve")) {
      if (req_.method != "POST") return method_not_allowed();
      return handle_alert(alert, household, parts_[3]);
    }
    if (parts_.size() == 4 && parts_[3] == "note") {
      if (req_.method != "POST") return method_not_allowed();
      return add_note(alert, household);
    }
    return not_found();
  }

  ApiResponse handle_alert(const json& alert, const std::string& household,
                           const std::string& action) {
    if (user_.role == Role::kCountyStaff) return forbidden();
    auto body = body_object();
    if (!body) return bad_request("请求体必须是 JSON 对象");
    std::string note;
    if (body->contains("note")) {
      if (!(*body)["note"].is_string()) return bad_request("note 必须是文本");
      note = (*body)["note"].get<std::string>();
      if (note.size() > 2000) return bad_request("note 过长");
    }
    const std::string alert_id = alert.at("alert_id").get<std::string>();
    const std::string state = alert.at("state").get<std::string>();
    if (state == "resolved") return error(409, "already_resolved", "告警已解除");
    if (action == "ack" && state == "acknowledged") {
      return error(409, "already_acknowledged", "告警已确认");
    }
    const std::string by = "township:" + user_.username;
    ApiResponse r;
    Transaction tx(db_);
    if (alert.at("source") == "township") {
      // The township's own alerts (hub_silent) change here.
      if (action == "ack") {
        db_.exec(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, "
            "updated_at = ? WHERE alert_id = ?",
            {now_, by, now_, alert_id});
      } else {
        db_.exec(
            "UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ?, updated_at = "
            "? WHERE alert_id = ?",
            {now_, by, now_, alert_id});
      }
      db_.exec(
          "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
          "channel, note, source) VALUES (?, ?, ?, ?, ?, ?, 'township', ?, 'township')",
          {random_id(), alert_id, household, action == "ack" ? "acknowledged" : "resolved", now_,
           by, note});
      r = json_response(200, {{"alert_id", alert_id}, {"action", action}});
    } else {
      // A hub's alert changes on the hub: send the command; the hub reports the change back.
      const std::string hub = alert.at("hub").get<std::string>();
      const std::string command_id = "c-" + random_id();
      const json command{{"v", 1},         {"command_id", command_id},
                         {"type", action}, {"alert_id", alert_id},
                         {"by", by},       {"note", note}};
      db_.exec(
          "INSERT INTO commands (command_id, hub_id, type, alert_id, body, created_by, "
          "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {command_id, hub, action, alert_id, command.dump(), user_.username, now_});
      db_.exec(
          "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
          "channel, note, source) VALUES (?, ?, ?, ?, ?, ?, 'township', ?, 'township')",
          {random_id(), alert_id, household,
           action == "ack" ? "ack_requested" : "resolve_requested", now_, by, note});
      r = json_response(202,
                        {{"alert_id", alert_id}, {"action", action}, {"command_id", command_id}});
      r.publish.push_back({"homesafe-down/" + hub + "/command", command.dump()});
    }
    store_.audit(now_, user_.username, action, "alert", {household}, alert_id);
    tx.commit();
    changes_.alerts.insert(alert_id);
    return r;
  }

  // A handling note (处理记录) on the township; the hub's alert is not changed by it.
  ApiResponse add_note(const json& alert, const std::string& household) {
    if (user_.role == Role::kCountyStaff) return forbidden();
    auto body = body_object();
    if (!body) return bad_request("请求体必须是 JSON 对象");
    if (!body->contains("note") || !(*body)["note"].is_string()) {
      return bad_request("需要填写处理记录");
    }
    const std::string note = (*body)["note"].get<std::string>();
    if (note.find_first_not_of(" \t\r\n") == std::string::npos) {
      return bad_request("处理记录不能为空");
    }
    if (note.size() > 2000) return bad_request("处理记录过长（最多2000字节）");
    const std::string alert_id = alert.at("alert_id").get<std::string>();
    const std::string record_id = random_id();
    Transaction tx(db_);
    db_.exec(
        "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
        "channel, note, source) VALUES (?, ?, ?, 'note', ?, ?, 'township', ?, 'township')",
        {record_id, alert_id, household, now_, "township:" + user_.username, note});
    store_.audit(now_, user_.username, "note", "alert", {household}, alert_id);
    tx.commit();
    changes_.alerts.insert(alert_id);
    return json_response(201, {{"alert_id", alert_id}, {"record_id", record_id}});
  }

  // The caregiver's one-tap link: /api/link/ALERT/CONTACT/MAC, no session (docs/console.md).
  ApiResponse link() {
    if (options_.link_secret.empty()) return error(404, "links_disabled", "一键确认链接未启用");
    if (parts_.size() != 5) return not_found();
    const std::string& alert_id = parts_[2];
    const std::string& contact_id = parts_[3];
    const std::string& mac = parts_[4];
    auto invalid = [] { return error(404, "invalid_link", "链接无效，请以短信或电话联系值班台"); };
    if (!gateway::notify::link_safe_id(alert_id) || !gateway::notify::link_safe_id(contact_id) ||
        mac.size() != 16) {
      return invalid();
    }
    auto row = db_.query_one(std::string("SELECT ") + kAlertViewColumns +
                                 " FROM alerts a JOIN households o ON o.household_id = "
                                 "a.household_id WHERE a.alert_id = ? AND a.source = 'hub'",
                             {alert_id});
    if (!row) return invalid();
    const std::string hub = row->text(2);
    const std::string key = gateway::notify::link_key_for_hub(options_.link_secret, hub);
    if (!gateway::notify::link_mac_matches(key, alert_id, contact_id, mac)) return invalid();
    const json alert = alert_view(db_, *row);
    const std::string household = row->text(1);
    const std::string by = "link:" + contact_id;
    const std::string state = alert["state"].get<std::string>();
    if (state == "resolved") return error(410, "resolved", "此告警已解除，无需再操作。谢谢！");
    if (now_ - alert["raised_at"].get<std::int64_t>() > kLinkLifetimeMs) {
      return error(410, "expired", "链接已过期，请联系值班台");
    }
    json done = json::array();
    for (const auto& h : alert["handling"]) {
      if (h["by"] == by) done.push_back(h["event"]);
    }
    if (req_.method == "GET") {
      store_.audit(now_, by, "read", "link", {household}, alert_id);
      return json_response(200, {{"alert",
                                  {{"alert_id", alert_id},
                                   {"kind", alert["kind"]},
                                   {"kind_label", alert["kind_label"]},
                                   {"severity", alert["severity"]},
                                   {"severity_label", alert["severity_label"]},
                                   {"location", alert["location"]},
                                   {"raised_at", alert["raised_at"]},
                                   {"state", alert["state"]},
                                   {"state_label", alert["state_label"]},
                                   {"display_name", alert["display_name"]}}},
                                 {"contact", {{"contact_id", contact_id}}},
                                 {"actions", {"ack", "on_site", "need_help"}},
                                 {"done", done}});
    }
    if (req_.method != "POST") return method_not_allowed();
    auto body = body_object();
    if (!body || !body->contains("action") || !(*body)["action"].is_string()) {
      return bad_request("需要 action：ack、on_site 或 need_help");
    }
    const std::string action = (*body)["action"].get<std::string>();
    if (action != "ack" && action != "on_site" && action != "need_help") {
      return bad_request("action 只能是 ack、on_site 或 need_help");
    }
    // A second tap within a minute is the same tap.
    if (db_.query_one("SELECT 1 FROM handling_records WHERE alert_id = ? AND by_whom = ? AND "
                      "event = ? AND at > ?",
                      {alert_id, by, "link_" + action, now_ - 60'000})) {
      return json_response(202, {{"alert_id", alert_id}, {"action", action}, {"repeated", true}});
    }
    static const std::map<std::string, std::string> kNotes{
        {"ack", "照护人已知晓"}, {"on_site", "照护人已到场"}, {"need_help", "照护人请求支援"}};
    ApiResponse r =
        json_response(202, {{"alert_id", alert_id}, {"action", action}, {"repeated", false}});
    Transaction tx(db_);
    db_.exec(
        "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
        "channel, note, source) VALUES (?, ?, ?, ?, ?, ?, 'link', ?, 'township')",
        {random_id(), alert_id, household, "link_" + action, now_, by, kNotes.at(action)});
    if (action == "need_help") {
      db_.exec(
          "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
          "channel, note, source) VALUES (?, ?, ?, 'help_requested', ?, ?, 'link', ?, "
          "'township')",
          {random_id(), alert_id, household, now_, by, kNotes.at(action)});
    } else if (state == "open") {
      // Acknowledged on the hub like any other channel: the hub stops the escalation.
      const std::string command_id = "c-" + random_id();
      const json command{{"v", 1},
                         {"command_id", command_id},
                         {"type", "ack"},
                         {"alert_id", alert_id},
                         {"by", contact_id},
                         {"channel", "link"},
                         {"note", kNotes.at(action)}};
      db_.exec(
          "INSERT INTO commands (command_id, hub_id, type, alert_id, body, created_by, "
          "created_at) VALUES (?, ?, 'ack', ?, ?, ?, ?)",
          {command_id, hub, alert_id, command.dump(), by, now_});
      r.publish.push_back({"homesafe-down/" + hub + "/command", command.dump()});
    }
    store_.audit(now_, by, action, "alert", {household}, alert_id + " via link");
    tx.commit();
    changes_.alerts.insert(alert_id);
    return r;
  }

  // GET of the console's files: "/" the console, "/assets/NAME" its scripts and styles, "/c/..."
  // the caregiver's one-tap page.
  ApiResponse static_file() {
    if (req_.method != "GET" && req_.method != "HEAD") return method_not_allowed();
    std::string name;
    if (parts_.empty() || (parts_.size() == 1 && parts_[0] == "index.html")) {
      name = "index.html";
    } else if (parts_.size() == 2 && parts_[0] == "assets") {
      name = parts_[1];
    } else if (!parts_.empty() && parts_[0] == "c") {
      name = "link.html";
    }
    auto asset = name.empty() ? std::nullopt : find_asset(name);
    if (!asset) return not_found();
    ApiResponse r;
    r.content_type = std::string(asset->content_type);
    r.body = std::string(asset->data);
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                           "form-action 'self'");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    return r;
  }

  ApiResponse households() {
    if (parts_.size() == 2) {
      if (req_.method != "GET") return method_not_allowed();
      json out = json::array();
      std::vector<std::string> ids;
      for (const auto& h : visible_households()) {
        json j = household_summary(h);
        auto hub = h.hub_id.empty()
                       ? std::nullopt
                       : db_.query_one("SELECT last_seen_at, status FROM hubs WHERE hub_id = ?",
                                       {h.hub_id});
        j["hub_last_seen_at"] = hub ? nullable(*hub, 0, true) : json(nullptr);
        j["hub_status"] = hub ? nullable(*hub, 1, false) : json(nullptr);
        out.push_back(j);
        ids.push_back(h.household_id);
      }
      store_.audit(now_, user_.username, "read", "households", ids);
      return json_response(200, out);
    }
    if (!valid_id(parts_[2])) return bad_request("户编号格式错误");
    auto h = visible_household(parts_[2]);
    if (!h) return not_found();
    if (parts_.size() == 3) {
      if (req_.method != "GET") return method_not_allowed();
      json j = household_summary(*h);
      j["address"] = h->address;
      json contacts = json::array();
      for (const auto& c : h->contacts) {
        contacts.push_back(
            {{"contact_id", c.contact_id}, {"role", c.role}, {"name", c.name}, {"phone", c.phone}});
      }
      j["contacts"] = contacts;
      if (!h->hub_id.empty()) {
        auto hub = db_.query_one(
            "SELECT last_seen_at, last_heartbeat_at, status FROM hubs WHERE hub_id = ?",
            {h->hub_id});
        if (hub) {
          j["hub"] = {{"hub_id", h->hub_id},
                      {"last_seen_at", nullable(*hub, 0, true)},
                      {"last_heartbeat_at", nullable(*hub, 1, true)},
                      {"status", nullable(*hub, 2, false)}};
        }
      }
      j["devices"] = household_devices(db_, h->household_id);
      json alerts = json::array();
      for (const auto& row : db_.query(std::string("SELECT ") + kAlertViewColumns +
                                           " FROM alerts a JOIN households o ON o.household_id = "
                                           "a.household_id WHERE a.household_id = ? ORDER BY "
                                           "a.opened_at DESC, a.alert_id LIMIT 100",
                                       {h->household_id})) {
        alerts.push_back(alert_view(db_, row));
      }
      j["alerts"] = std::move(alerts);
      store_.audit(now_, user_.username, "read", "household", {h->household_id});
      return json_response(200, j);
    }
    if (parts_.size() == 4 && parts_[3] == "daily") {
      if (req_.method != "GET") return method_not_allowed();
      int days = 30;
      if (query_.contains("days")) {
        const std::string& text = query_["days"];
        if (text.empty() || text.size() > 3 ||
            text.find_first_not_of("0123456789") != std::string::npos) {
          return bad_request("days 应为 1 到 366 的整数");
        }
        days = std::stoi(text);
        if (days < 1 || days > 366) return bad_request("days 应为 1 到 366 的整数");
      }
      // The last `days` full local days (today's summary comes after midnight).
      const std::string yesterday = add_days(local_date(now_, options_.utc_offset_minutes), -1);
      store_.audit(now_, user_.username, "read", "daily", {h->household_id});
      return json_response(200, daily_series(db_, h->household_id, yesterday, days));
    }
    if (parts_.size() == 4 && parts_[3] == "visits") {
      if (req_.method == "GET") return list_visits(*h);
      if (req_.method == "POST") return add_visit(*h);
      return method_not_allowed();
    }
    return not_found();
  }

  ApiResponse list_visits(const Household& h) {
    std::string sql =
        "SELECT visit_id, visit_type, visit_date, visited_at, visitor, health, economy, support, "
        "safety, needs, note, created_by FROM visits WHERE household_id = ?";
    std::vector<Value> params{h.household_id};
    if (query_.contains("month")) {
      auto month = parse_month(query_["month"]);
      if (!month) return bad_request("month 格式应为 YYYY-MM");
      sql += " AND visit_date >= ? AND visit_date <= ?";
      params.emplace_back(query_["month"] + "-01");
      params.emplace_back(query_["month"] + "-31");
    }
    sql += " ORDER BY visit_date DESC, visit_id";
    json out = json::array();
    for (const auto& r : db_.query(sql, params)) {
      out.push_back({{"visit_id", r.text(0)},
                     {"type", r.text(1)},
                     {"date", r.text(2)},
                     {"visited_at", r.integer(3)},
                     {"visitor", r.text(4)},
                     {"aspects",
                      {{"健康", r.text(5)},
                       {"经济", r.text(6)},
                       {"赡养扶养", r.text(7)},
                       {"居家安全隐患", r.text(8)},
                       {"服务需求", r.text(9)}}},
                     {"note", r.text(10)},
                     {"created_by", r.text(11)}});
    }
    store_.audit(now_, user_.username, "read", "visits", {h.household_id});
    return json_response(200, out);
  }

  ApiResponse add_visit(const Household& h) {
    auto body = body_object();
    if (!body) return bad_request("请求体必须是 JSON 对象");
    auto text = [&](const json& o, const char* key, std::string& out) -> bool {
      if (!o.contains(key)) return true;
      if (!o.at(key).is_string()) return false;
      out = o.at(key).get<std::string>();
      return out.size() <= 4000;
    };
    std::string type, date, visitor = user_.username, note;
    if (!text(*body, "type", type) ||
        (type != "上门入户" && type != "电话视频" && type != "远程监测")) {
      return bad_request("type 必须是 上门入户、电话视频 或 远程监测");
    }
    int y = 0, m = 0, d = 0;
    if (!text(*body, "date", date) || !parse_date(date, y, m, d)) {
      return bad_request("date 格式应为 YYYY-MM-DD");
    }
    if (date > local_date(now_, options_.utc_offset_minutes))
      return bad_request("探访日期不能晚于今天");
    if (!text(*body, "visitor", visitor) || visitor.empty()) return bad_request("visitor 格式错误");
    if (!text(*body, "note", note)) return bad_request("note 格式错误");
    // The five aspects, by their policy names (or English keys).
    static const std::pair<const char*, const char*> kAspects[] = {{"健康", "health"},
                                                                   {"经济", "economy"},
                                                                   {"赡养扶养", "support"},
                                                                   {"居家安全隐患", "safety"},
                                                                   {"服务需求", "needs"}};
    std::vector<std::string> aspects(5);
    if (body->contains("aspects")) {
      const json& a = (*body)["aspects"];
      if (!a.is_object()) return bad_request("aspects 必须是对象");
      for (const auto& [key, value] : a.items()) {
        bool known = false;
        for (std::size_t i = 0; i < 5; ++i) {
          if (key == kAspects[i].first || key == kAspects[i].second) {
            if (!value.is_string() || value.get<std::string>().size() > 4000) {
              return bad_request("aspects 的内容必须是文本");
            }
            aspects[i] = value.get<std::string>();
            known = true;
          }
        }
        if (!known) return bad_request("未知的探访内容：" + key);
      }
    }
    const std::string visit_id = "v-" + random_id();
    Transaction tx(db_);
    db_.exec(
        "INSERT INTO visits (visit_id, household_id, visit_type, visit_date, visited_at, visitor, "
        "health, economy, support, safety, needs, note, source_event_id, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
        {visit_id, h.household_id, type, date,
         local_midnight_ms(y, m, d, options_.utc_offset_minutes), visitor, aspects[0], aspects[1],
         aspects[2], aspects[3], aspects[4], note, user_.username, now_});
    store_.audit(now_, user_.username, "create", "visit", {h.household_id}, visit_id);
    tx.commit();
    return json_response(201, {{"visit_id", visit_id}});
  }

  // 抽查: county staff draw a random share of the residents new or re-assessed since a date.
  ApiResponse spot_checks() {
    if (user_.role != Role::kCountyStaff) return forbidden();
    auto draw_json = [](const Row& r) {
      const std::vector<std::string> population = json::parse(r.text(7));
      const std::vector<std::string> selected = json::parse(r.text(8));
      const int rate = static_cast<int>(r.integer(5));
      const std::uint64_t seed = std::stoull(r.text(6));
      return json{
          {"draw_id", r.text(0)},  {"drawn_at", r.integer(1)},
          {"drawn_by", r.text(2)}, {"scope", r.text(3)},
          {"since", r.text(4)},    {"rate_percent", rate},
          {"seed", r.text(6)},     {"population", population},
          {"selected", selected},  {"reproduced", draw_sample(population, rate, seed) == selected}};
    };
    constexpr const char* kColumns =
        "draw_id, drawn_at, drawn_by, scope, since_date, rate_percent, seed, population, selected";
    if (parts_.size() == 2 && req_.method == "GET") {
      json out = json::array();
      for (const auto& r : db_.query(std::string("SELECT ") + kColumns +
                                         " FROM spot_checks WHERE scope = ? ORDER BY drawn_at DESC",
                                     {user_.scope})) {
        out.push_back(draw_json(r));
      }
      store_.audit(now_, user_.username, "read", "spot_checks", {});
      return json_response(200, out);
    }
    if (parts_.size() == 3 && req_.method == "GET") {
      auto r = db_.query_one(
          std::string("SELECT ") + kColumns + " FROM spot_checks WHERE draw_id = ? AND scope = ?",
          {parts_[2], user_.scope});
      if (!r) return not_found();
      store_.audit(now_, user_.username, "read", "spot_check", {}, parts_[2]);
      return json_response(200, draw_json(*r));
    }
    if (parts_.size() != 2 || req_.method != "POST") return method_not_allowed();
    auto body = body_object();
    if (!body) return bad_request("请求体必须是 JSON 对象");
    int y = 0, m = 0, d = 0;
    if (!body->contains("since") || !(*body)["since"].is_string() ||
        !parse_date((*body)["since"].get<std::string>(), y, m, d)) {
      return bad_request("since 格式应为 YYYY-MM-DD");
    }
    const std::string since = (*body)["since"].get<std::string>();
    int rate = 30;
    if (body->contains("rate_percent")) {
      const json& r = (*body)["rate_percent"];
      if (!r.is_number_integer() || r.get<int>() < 1 || r.get<int>() > 100) {
        return bad_request("rate_percent 应为 1 到 100 的整数");
      }
      rate = r.get<int>();
    }
    const std::int64_t since_ms = local_midnight_ms(y, m, d, options_.utc_offset_minutes);
    std::vector<std::string> population;
    for (const auto& h : visible_households()) {
      auto row = db_.query_one("SELECT assessed_at FROM households WHERE household_id = ?",
                               {h.household_id});
      if (row && row->integer(0) >= since_ms) population.push_back(h.household_id);
    }
    const std::uint64_t seed = random_seed();
    const auto selected = draw_sample(population, rate, seed);
    std::sort(population.begin(), population.end());
    const std::string draw_id = "s-" + random_id();
    Transaction tx(db_);
    db_.exec(
        "INSERT INTO spot_checks (draw_id, drawn_at, drawn_by, scope, since_date, rate_percent, "
        "seed, population, selected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {draw_id, now_, user_.username, user_.scope, since, std::int64_t{rate},
         std::to_string(seed), json(population).dump(), json(selected).dump()});
    store_.audit(now_, user_.username, "create", "spot_check", selected, draw_id);
    tx.commit();
    return json_response(201, {{"draw_id", draw_id},
                               {"seed", std::to_string(seed)},
                               {"rate_percent", rate},
                               {"since", since},
                               {"population", population},
                               {"selected", selected}});
  }

  ApiResponse reports() {
    if (req_.method != "GET") return method_not_allowed();
    if (parts_.size() != 3) return not_found();
    const std::string format = query_.contains("format") ? query_["format"] : "json";
    if (format != "json" && format != "csv" && format != "xlsx") {
      return bad_request("format 只能是 json、csv 或 xlsx");
    }
    const auto households = visible_households();
    std::vector<std::string> ids;
    for (const auto& h : households) ids.push_back(h.household_id);
    if (parts_[2] == "visit-rate") {
      auto month = query_.contains("month") ? parse_month(query_["month"]) : std::nullopt;
      if (!month) return bad_request("month 格式应为 YYYY-MM");
      json report =
          visit_rate_report(store_, households, *month, now_, options_.utc_offset_minutes);
      store_.audit(now_, user_.username, "read", "report:visit-rate", ids, query_["month"]);
      if (format == "csv" || format == "xlsx") {
        ApiResponse r;
        const std::string file = "visit-rate-" + query_["month"] + "." + format;
        if (format == "csv") {
          r.content_type = "text/csv; charset=utf-8";
          r.body = visit_rate_csv(report);
        } else {
          r.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
          r.body = visit_rate_xlsx(report);
        }
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file + "\"");
        return r;
      }
      return json_response(200, report);
    }
    if (parts_[2] == "caregiver-response") {
      int y = 0, m = 0, d = 0;
      const std::string year = query_.contains("year") ? query_["year"] : "";
      if (year.size() != 4 || !parse_date(year + "-01-01", y, m, d)) {
        return bad_request("year 格式应为 YYYY");
      }
      json report = caregiver_response(store_, households,
                                       local_midnight_ms(y, 1, 1, options_.utc_offset_minutes),
                                       local_midnight_ms(y + 1, 1, 1, options_.utc_offset_minutes));
      report["year"] = y;
      store_.audit(now_, user_.username, "read", "report:caregiver-response", ids, year);
      return json_response(200, report);
    }
    return not_found();
  }

  Api::LoginFailures& failures_;
  const Ingest* ingest_;
  Store& store_;
  Db& db_;
  const Clock& clock_;
  const ApiOptions& options_;
  const ApiRequest& req_;
  std::int64_t now_;
  User user_;
  std::vector<std::string> parts_;
  std::map<std::string, std::string> query_;
  Changes changes_;
};

}  // namespace

bool url_decode(const std::string& in, std::string& out, bool plus_is_space) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      const char c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return false;
      out += c;
      i += 2;
    } else if (in[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return true;
}

std::map<std::string, std::string> parse_query(const std::string& query, bool& ok) {
  std::map<std::string, std::string> out;
  ok = true;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    const auto amp = query.find('&', pos);
    const std::string pair =
        query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      std::string key, value;
      if (!url_decode(pair.substr(0, eq), key, true)) ok = false;
      if (eq != std::string::npos && !url_decode(pair.substr(eq + 1), value, true)) ok = false;
      if (out.contains(key)) ok = false;  // a repeated parameter is ambiguous
      out[key] = value;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

Api::Api(Store& store, const Clock& clock, ApiOptions options)
    : store_(store), clock_(clock), options_(options) {}

std::optional<User> Api::session_user(const ApiRequest& request) {
  const std::string token = cookie_value(request.cookie, kSessionCookie);
  if (token.empty()) return std::nullopt;
  return find_session(store_, token, clock_.now_ms());
}

ApiResponse Api::handle(const ApiRequest& request) {
  try {
    return Handler(store_, clock_, options_, request, failures_, ingest_).run();
  } catch (const DbError& e) {
    log_error(fmt::format("database error on {} {}: {}", request.method,
                          request.target.substr(0, request.target.find('?')), e.what()));
    return error(500, "internal", "服务器内部错误");
  }
}

}  // namespace homesafe::township
