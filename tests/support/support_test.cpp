// Tests of the integration-test harness itself, against a real Mosquitto.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/publisher.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace homesafe::test {
namespace {

using namespace std::chrono_literals;

TEST(SupportTempDir, CreatesAndRemovesItsDirectory) {
  std::filesystem::path path;
  {
    TempDir dir("homesafe-tempdir-test");
    path = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(path));
    write_file(dir / "file.txt", "hello");
    EXPECT_EQ(read_file(dir / "file.txt"), "hello");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SupportWaitUntil, ReturnsTrueOnceThePredicateHoldsAndFalseOnTimeout) {
  int calls = 0;
  EXPECT_TRUE(wait_until([&] { return ++calls >= 3; }, 10s, 1ms));
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(wait_until([] { return false; }, 50ms, 5ms));
}

TEST(SupportProcess, CapturesOutputEnvironmentAndExitCode) {
  Process process({"/bin/sh", "-c", "echo out $HOMESAFE_PROBE; echo err >&2; exit 3"},
                  {.env = {{"HOMESAFE_PROBE", "42"}}});
  EXPECT_GT(process.pid(), 0);
  EXPECT_EQ(process.wait_for_exit(), 3);
  EXPECT_FALSE(process.running());
  EXPECT_EQ(process.read_stdout(), "out 42\n");
  EXPECT_EQ(process.read_stderr(), "err\n");
}

TEST(SupportProcess, KillBySignalAndTimeout) {
  Process process({"sleep", "60"});
  EXPECT_TRUE(process.running());
  EXPECT_EQ(process.wait_for_exit(50ms), std::nullopt);
  process.kill(SIGTERM);
  EXPECT_EQ(process.wait_for_exit(), 128 + SIGTERM);
}

TEST(SupportProcess, DestructorKillsARunningChild) {
  pid_t pid = -1;
  {
    Process process({"sleep", "60"});
    pid = process.pid();
  }
  // Reaped: the PID no longer names our child.
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST(SupportProcess, MissingProgramThrows) {
  EXPECT_THROW(Process({"/nonexistent/homesafe-no-such-program"}), std::system_error);
}

TEST(SupportMosquitto, RetainedMessageSurvivesRestart) {
  Mosquitto broker;
  EXPECT_TRUE(broker.url().starts_with("tcp://127.0.0.1:"));
  EXPECT_TRUE(tcp_port_accepts(broker.port()));

  {
    Subscriber live(broker.url(), "harness/#");
    Publisher publisher(broker.url());
    publisher.publish("harness/retained", "kept", 1, /*retained=*/true);
    publisher.publish("harness/live", "once", 0, /*retained=*/false);
    ASSERT_TRUE(live.wait_for_count(2)) << ::testing::PrintToString(live.messages());
    EXPECT_EQ(live.messages()[0], (ReceivedMessage{"harness/retained", "kept", false, 1}));
    EXPECT_EQ(live.messages()[1], (ReceivedMessage{"harness/live", "once", false, 0}));
  }

  const int port = broker.port();
  broker.restart();
  EXPECT_EQ(broker.port(), port);
  EXPECT_TRUE(broker.running());

  Subscriber late(broker.url(), "harness/#");
  ASSERT_TRUE(late.wait_for_topic("harness/retained")) << broker.log();
  EXPECT_EQ(late.messages().front(), (ReceivedMessage{"harness/retained", "kept", true, 1}));
  // Only the retained message comes back.
  EXPECT_FALSE(late.wait_for_count(2, 300ms));
}

TEST(SupportMosquitto, PersistentSessionKeepsQueuedMessagesAcrossRestart) {
  Mosquitto broker;
  const std::string client_id = unique_client_id("homesafe-persistent");
  SubscriberOptions options{.qos = 1, .client_id = client_id, .clean_session = false};
  {
    Subscriber subscriber(broker.url(), "queued/#", options);
  }  // offline now; the broker queues QoS 1 messages for it
  {
    Publisher publisher(broker.url());
    publisher.publish("queued/a", "1");
    publisher.publish("queued/b", "2");
  }
  broker.restart();

  Subscriber back(broker.url(), "queued/#", options);
  ASSERT_TRUE(back.wait_for_count(2)) << broker.log();
  EXPECT_EQ(back.messages()[0].payload, "1");
  EXPECT_EQ(back.messages()[1].payload, "2");
}

TEST(SupportMosquitto, SubscriberReconnectsAfterRestart) {
  Mosquitto broker;
  Subscriber subscriber(broker.url(), "again/#");
  broker.restart();
  ASSERT_TRUE(wait_until([&] { return subscriber.connected(); })) << broker.log();
  Publisher publisher(broker.url());
  // The resubscription may lag the reconnect by a moment: publish until one arrives.
  ASSERT_TRUE(wait_until(
      [&] {
        publisher.publish("again/x", "y");
        return subscriber.wait_for_count(1, 200ms);
      },
      kDefaultTimeout, 0ms));
  EXPECT_EQ(subscriber.messages().front().topic, "again/x");
}

TEST(SupportMosquitto, StopEndsTheBrokerAndLogsIt) {
  Mosquitto broker;
  broker.stop();
  EXPECT_FALSE(broker.running());
  // Not "nothing accepts on the port": under `ctest -j` another test's broker may take the freed
  // port at once. (The test failed once in a -j2 run and passed again; that check is the one that
  // depends on other processes.) A broker that still listened would still be running.
  EXPECT_NE(broker.log().find("terminating"), std::string::npos) << broker.log();
}

}  // namespace
}  // namespace homesafe::test
