// A full or failing disk: the store keeps going without what it cannot write, the hub still
// notifies alarms and raises `storage_full`, and once writes work again nothing is left stale.
// The disk is "full" through RLIMIT_FSIZE (writes past the limit fail as on a full disk; no root
// needed), set on this process only for the part of a test that needs it.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "gateway_test_support.hpp"
#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/storage_monitor.hpp"
#include "homesafe/gateway/store.hpp"

namespace homesafe::gateway {
namespace {

using Action = StorageMonitor::Decision::Action;
constexpr std::uint64_t kMiB = 1024 * 1024;

// ---- StorageMonitor: when to raise and clear ------------------------------------------------

TEST(StorageMonitor, AFailedCommitRaisesAtOnceWithSqlitesMessage) {
  StorageMonitor monitor({50 * kMiB, 600'000});
  EXPECT_EQ(monitor.update(0, "", 900 * kMiB, 1'000).action, Action::none);
  const auto decision = monitor.update(1, "database or disk is full", std::nullopt, 2'000);
  EXPECT_EQ(decision.action, Action::raise);
  EXPECT_EQ(decision.detail, "writes failing: database or disk is full");
  EXPECT_EQ(monitor.update(5, "database or disk is full", std::nullopt, 3'000).action, Action::none)
      << "raised once, not per failure";
  EXPECT_EQ(monitor.failures(), 5u);
}

TEST(StorageMonitor, ClearsOnlyAfterWritesWorkedForTheRecoveryTime) {
  StorageMonitor monitor({50 * kMiB, 600'000});
  ASSERT_EQ(monitor.update(1, "disk I/O error", 900 * kMiB, 0).action, Action::raise);
  EXPECT_EQ(monitor.update(1, "", 900 * kMiB, 599'999).action, Action::none);
  EXPECT_EQ(monitor.update(2, "disk I/O error", 900 * kMiB, 600'000).action, Action::none);
  EXPECT_EQ(monitor.update(2, "", 900 * kMiB, 1'199'999).action, Action::none);
  EXPECT_EQ(monitor.update(2, "", 900 * kMiB, 1'200'000).action, Action::clear);
  EXPECT_FALSE(monitor.raised());
}

TEST(StorageMonitor, LowFreeSpaceWarnsBeforeWritesFailAndClearsWithAMargin) {
  StorageMonitor monitor({50 * kMiB, 600'000});
  EXPECT_EQ(monitor.update(0, "", 60 * kMiB, 0).action, Action::none);
  const auto decision = monitor.update(0, "", 12 * kMiB, 60'000);
  EXPECT_EQ(decision.action, Action::raise);
  EXPECT_EQ(decision.detail, "free space 12 MB, below 50 MB");
  // Free space is not read every time: the last figure stands.
  EXPECT_EQ(monitor.update(0, "", std::nullopt, 70'000).action, Action::none);
  EXPECT_EQ(monitor.update(0, "", 55 * kMiB, 120'000).action, Action::none) << "no flapping";
  EXPECT_EQ(monitor.update(0, "", 80 * kMiB, 180'000).action, Action::clear);
}

TEST(StorageMonitor, NoFreeSpaceCheckWhenTheLimitIsZero) {
  StorageMonitor monitor({0, 600'000});
  EXPECT_EQ(monitor.update(0, "", 1, 0).action, Action::none);
}

TEST(StorageMonitor, AnAlertFoundAtStartClearsWhenStorageIsFine) {
  StorageMonitor monitor({50 * kMiB, 600'000});
  monitor.assume_raised();
  EXPECT_EQ(monitor.update(0, "", 900 * kMiB, 0).action, Action::clear);
}

TEST(StorageMonitor, FreeSpaceOfTheStoresFolderIsReadable) {
  const auto free = free_bytes_at(std::filesystem::temp_directory_path() / "hub.db");
  ASSERT_TRUE(free.has_value());
  EXPECT_GT(*free, 0u);
}

// ---- The store and the hub with a full disk ------------------------------------------------

// Writes past `bytes` fail (EFBIG) for every file this process writes, as on a full disk;
// SIGXFSZ is ignored meanwhile so the failing write returns instead of killing the process.
class FullDisk {
 public:
  explicit FullDisk(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) throw std::runtime_error("setrlimit failed");
  }
  ~FullDisk() { lift(); }
  FullDisk(const FullDisk&) = delete;
  FullDisk& operator=(const FullDisk&) = delete;
  void lift() {
    if (lifted_) return;
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
    lifted_ = true;
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
  bool lifted_ = false;
};

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("homesafe-storage-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "hub.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A little above what the store's files hold now: the next few hundred rows do not fit.
  rlim_t just_above_current_size() const {
    std::uintmax_t largest = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      largest = std::max(largest, entry.file_size());
    }
    return static_cast<rlim_t>(largest + 64 * 1024);
  }

  static std::vector<TelemetryRow> rows(int from, int count) {
    std::vector<TelemetryRow> out;
    for (int i = from; i < from + count; ++i) {
      out.push_back({1'000 + i, "water-meter", "water_total_l", 1000.0 + i,
                     "padding padding padding padding padding padding padding padding"});
    }
    return out;
  }

  std::string integrity_check() const {
    sqlite3* db = nullptr;
    std::string result = "cannot open";
    if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
          sqlite3_step(st) == SQLITE_ROW) {
        result = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      }
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return result;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(FullDiskTest, WithoutToleranceAFullDiskIsAnError) {
  Store store(path_);
  FullDisk full(just_above_current_size());
  EXPECT_THROW(
      {
        for (int batch = 0; batch < 200; ++batch) {
          Store::Transaction tx(store, Durability::normal);
          store.add_telemetry(rows(batch * 100, 100));
          tx.commit();
        }
      },
      StoreError);
}

TEST_F(FullDiskTest, TheStoreDropsWhatItCannotWriteAndWorksAgainAfterwards) {
  Store store(path_);
  store.tolerate_write_failures(true);
  std::int64_t last_sequence = 0;
  {
    FullDisk full(just_above_current_size());
    int batch = 0;
    for (; batch < 400 && store.failed_commits() == 0; ++batch) {
      Store::Transaction tx(store, Durability::normal);
      store.add_telemetry(rows(batch * 100, 100));
      last_sequence = store.next_sequence("alert");
      tx.commit();
    }
    ASSERT_GT(store.failed_commits(), 0u) << "the limit was never reached";
    EXPECT_TRUE(store.last_commit_failed());
    EXPECT_FALSE(store.last_write_error().empty());
    // Still failing: no exception, counted, and the lost number is not handed out again.
    {
      Store::Transaction tx(store, Durability::full);
      store.add_telemetry(rows(1'000'000, 100));
      EXPECT_EQ(store.next_sequence("alert"), last_sequence + 1);
      tx.commit();
    }
    EXPECT_TRUE(store.last_commit_failed());
  }
  // Space again: the next commit works and sequences go on past every number handed out.
  const auto failed = store.failed_commits();
  {
    Store::Transaction tx(store, Durability::full);
    store.add_telemetry(rows(2'000'000, 1));
    EXPECT_EQ(store.next_sequence("alert"), last_sequence + 2);
    tx.commit();
  }
  EXPECT_FALSE(store.last_commit_failed());
  EXPECT_EQ(store.failed_commits(), failed);
  EXPECT_EQ(integrity_check(), "ok");
}

TEST_F(FullDiskTest, TheHubNotifiesAnAlarmItCannotStoreAndRaisesStorageFull) {
  HubConfig config = test::small_config();
  config.storage.path = path_;
  Store store(path_);
  test::RecordingOutput output;
  ManualClock clock{1'793'487'600'000, 5'000};
  Hub hub(config, store, output, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600));
  hub.start(clock.now());
  store.tolerate_write_failures(true);
  {
    FullDisk full(just_above_current_size());
    // Meter readings fill the disk; their telemetry is dropped and counted, nothing throws.
    for (int i = 0; i < 20'000 && hub.telemetry_rows_dropped() == 0; ++i) {
      clock.advance_ms(10);
      hub.on_message("homesafe/h001/dev/water-meter/state",
                     R"({"water_total_l":)" + std::to_string(1000 + i) + "}", clock.now());
      if (i % 100 == 0) hub.flush_telemetry();
    }
    ASSERT_GT(store.failed_commits(), 0u) << "the disk never filled";
    EXPECT_GT(hub.telemetry_rows_dropped(), 0u);

    clock.advance_ms(1000);
    hub.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke":true})", clock.now());
    ASSERT_TRUE(store.last_commit_failed()) << "the alarm's commit was expected to fail";
    std::vector<std::string> opened;
    for (const auto& change : output.changes) {
      if (change.event == "opened")
        opened.push_back(std::string(rules::to_string(change.alert.kind)));
    }
    EXPECT_NE(std::find(opened.begin(), opened.end(), "smoke"), opened.end());
    EXPECT_NE(std::find(opened.begin(), opened.end(), "storage_full"), opened.end());
    bool smoke_notified = false;
    for (const auto& n : output.notifications) {
      smoke_notified |= n.kind == "smoke" && n.contact_id == "li";
    }
    EXPECT_TRUE(smoke_notified) << "the caregiver must hear of the smoke alarm";
    EXPECT_TRUE(hub.storage().raised());
  }
  // Space again: the next check writes the smoke alert kept in memory.
  clock.advance_ms(10'000);
  hub.check_storage(900 * kMiB, clock.now());
  bool smoke_stored = false;
  for (const auto& alert : store.active_alerts()) {
    smoke_stored |= alert.kind == rules::AlertKind::smoke;
  }
  EXPECT_TRUE(smoke_stored);
  EXPECT_TRUE(hub.storage().raised()) << "cleared only after the recovery time";
  clock.advance_ms(11 * 60'000);
  hub.check_storage(900 * kMiB, clock.now());
  EXPECT_FALSE(hub.storage().raised());
  EXPECT_EQ(output.changes.back().alert.kind, rules::AlertKind::storage_full);
  EXPECT_EQ(to_string(output.changes.back().alert.state), "resolved");
  EXPECT_EQ(integrity_check(), "ok");
}

}  // namespace
}  // namespace homesafe::gateway
