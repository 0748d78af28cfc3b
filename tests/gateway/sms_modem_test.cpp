// The SMS modem notifier: its UCS2 codec and AT parser on their own, then the real notifier
// against the real simulated modem (homesafe-sim modem) on a pseudo-terminal.
#include "homesafe/gateway/notify/sms_modem.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace homesafe::gateway::notify {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// UTF-8 / UTF-16 / UCS2 hex

TEST(SmsCodec, ConvertsBetweenUtf8AndUtf16) {
  EXPECT_EQ(utf8_to_utf16("A1"), u"A1");
  EXPECT_EQ(utf8_to_utf16("王奶奶家厨房"), u"王奶奶家厨房");
  EXPECT_EQ(utf8_to_utf16("é€"), u"é€");
  EXPECT_EQ(utf16_to_utf8(u"烟雾报警，回复1确认"), "烟雾报警，回复1确认");
  EXPECT_EQ(utf8_to_utf16(""), u"");
}

TEST(SmsCodec, EncodesCodePointsPastTheBmpAsSurrogatePairs) {
  const std::u16string units = utf8_to_utf16("😀𠀀");  // U+1F600, U+20000 (CJK extension B)
  EXPECT_EQ(units, (std::u16string{0xD83D, 0xDE00, 0xD840, 0xDC00}));
  EXPECT_EQ(utf16_to_utf8(units), "😀𠀀");
  EXPECT_EQ(utf8_to_ucs2_hex("😀"), "D83DDE00");
  // Unpaired surrogates (from a broken modem) become U+FFFD.
  EXPECT_EQ(utf16_to_utf8(std::u16string{0xD83D, u'A'}), "\uFFFDA");
  EXPECT_EQ(utf16_to_utf8(std::u16string{0xDE00}), "\uFFFD");
  EXPECT_EQ(utf16_to_utf8(std::u16string{u'A', 0xD83D}), "A\uFFFD");
}

TEST(SmsCodec, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(utf8_to_utf16("\xFF"
                          "A"),
            u"\uFFFDA");
  EXPECT_EQ(utf8_to_utf16("\xC0\xAF"), u"\uFFFD\uFFFD");            // overlong '/'
  EXPECT_EQ(utf8_to_utf16("\xED\xA0\x80"), u"\uFFFD\uFFFD\uFFFD");  // an encoded surrogate
  EXPECT_EQ(utf8_to_utf16("\xF4\x90\x80\x80"), u"\uFFFD\uFFFD\uFFFD\uFFFD");  // > U+10FFFF
  EXPECT_EQ(utf8_to_utf16("\xE5\x8E"), u"\uFFFD\uFFFD");  // truncated at the end
  EXPECT_EQ(utf8_to_utf16("\xE5"
                          "A"),
            u"\uFFFDA");  // truncated in the middle
}

TEST(SmsCodec, SurvivesRandomBytes) {
  std::mt19937 random(20261101);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 40);
  for (int i = 0; i < 20000; ++i) {
    std::string input(static_cast<std::size_t>(length(random)), '\0');
    for (char& c : input) c = static_cast<char>(byte(random));
    const std::string utf8 = utf16_to_utf8(utf8_to_utf16(input));
    // The output is valid UTF-8: converting it again changes nothing.
    ASSERT_EQ(utf16_to_utf8(utf8_to_utf16(utf8)), utf8);
    const auto truncated = truncate_for_sms(utf8_to_utf16(input), 7);
    ASSERT_LE(truncated.size(), 7u);
    ASSERT_EQ(from_ucs2_hex(to_ucs2_hex(truncated)), truncated);
    (void)decode_modem_text(input);
  }
}

TEST(SmsCodec, WritesAndReadsUcs2Hex) {
  EXPECT_EQ(utf8_to_ucs2_hex("+8613800000000"),
            "002B0038003600310033003800300030003000300030003000300030");
  EXPECT_EQ(utf8_to_ucs2_hex("厨房"), "53A8623F");
  EXPECT_EQ(from_ucs2_hex("53A8623F"), u"厨房");
  EXPECT_EQ(from_ucs2_hex("53a8623f"), u"厨房");
  EXPECT_EQ(from_ucs2_hex(""), u"");
  EXPECT_EQ(from_ucs2_hex("53A"), std::nullopt);
  EXPECT_EQ(from_ucs2_hex("53AX"), std::nullopt);
  EXPECT_EQ(decode_modem_text("00310032"), "12");
  EXPECT_EQ(decode_modem_text("+8613800000000"), "+8613800000000");  // not hex: as it is
  EXPECT_EQ(decode_modem_text("861380000000"), "861380000000");      // hex digits, but not UCS2
  EXPECT_EQ(decode_modem_text("bad \xFF"), "bad \uFFFD");
}

TEST(SmsCodec, TruncatesLongTextsWithAnEllipsisNeverSplittingAPair) {
  const std::u16string seventy(70, u'警');
  EXPECT_EQ(truncate_for_sms(seventy), seventy);
  const auto cut = truncate_for_sms(std::u16string(71, u'警'));
  EXPECT_EQ(cut.size(), 70u);
  EXPECT_EQ(cut, std::u16string(69, u'警') + u"…");
  // A surrogate pair across position 69/70 is dropped whole.
  std::u16string text(68, u'a');
  text += u"😀😀";
  const auto no_half = truncate_for_sms(text);
  EXPECT_EQ(no_half, std::u16string(68, u'a') + u"…");
  EXPECT_EQ(utf16_to_utf8(no_half).find("\uFFFD"), std::string::npos);
  EXPECT_EQ(truncate_for_sms(u"abc", 0), u"");
  EXPECT_EQ(truncate_for_sms(u"abc", 1), u"…");
}

TEST(SmsCodec, NormalisesSenderNumbersToE164) {
  EXPECT_EQ(to_e164("+8613800000000", "86"), "+8613800000000");
  EXPECT_EQ(to_e164("8613800000000", "86"), "+8613800000000");
  EXPECT_EQ(to_e164("13800000000", "86"), "+8613800000000");
  EXPECT_EQ(to_e164("008613800000000", "86"), "+8613800000000");
  EXPECT_EQ(to_e164("01012345678", "86"), "+861012345678");
  EXPECT_EQ(to_e164("10086", "86"), "10086");  // a short code stays as it is
  EXPECT_EQ(to_e164("China Mobile", "86"), "China Mobile");
  EXPECT_TRUE(is_dialable_number("+8613800000000"));
  EXPECT_TRUE(is_dialable_number("10086"));
  EXPECT_FALSE(is_dialable_number("+86 138"));
  EXPECT_FALSE(is_dialable_number("https://example.invalid/"));
  EXPECT_FALSE(is_dialable_number(""));
}

TEST(SmsCodec, OnlyErrorsAboutTheNumberOrMessageArePermanent) {
  for (int code : {1, 21, 28, 30, 96, 304, 305}) EXPECT_TRUE(cms_error_is_permanent(code)) << code;
  for (int code : {27, 38, 41, 42, 47, 314, 322, 331, 332, 500}) {
    EXPECT_FALSE(cms_error_is_permanent(code)) << code;
  }
}

// ---------------------------------------------------------------------------------------------
// The AT line reader and response classifier

std::vector<AtLineReader::Event> drain(AtLineReader& reader) {
  std::vector<AtLineReader::Event> events;
  while (auto event = reader.next()) events.push_back(*event);
  return events;
}

TEST(AtLineReader, SplitsLinesAcrossChunksAndFindsThePrompt) {
  AtLineReader reader;
  reader.feed("\r\nO");
  EXPECT_TRUE(drain(reader).empty());
  reader.feed("K\r\n\r\n+CMTI: \"SM\",3\r");
  auto events = drain(reader);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].text, "OK");
  EXPECT_EQ(events[1].text, "+CMTI: \"SM\",3");
  reader.feed("\n\r\n>");
  EXPECT_TRUE(drain(reader).empty());  // ">" alone might still become a line
  reader.feed(" ");
  events = drain(reader);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AtLineReader::Event::Kind::prompt);
  reader.feed("\r\n+CMGS: 7\r\n\r\nOK\r\n");
  events = drain(reader);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].text, "+CMGS: 7");
  // Garbage without line ends cannot grow without bound.
  reader.feed(std::string(AtLineReader::kMaxLine + 10, 'x'));
  events = drain(reader);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text.size(), AtLineReader::kMaxLine);
}

TEST(AtExchange, QueuesAnUnsolicitedLineInTheMiddleOfAResponse) {
  AtExchange exchange("AT+CMGL=\"REC UNREAD\"", /*body_follows_info=*/true);
  std::vector<std::string> urcs;
  for (const std::string line :
       {"AT+CMGL=\"REC UNREAD\"", "+CMGL: 1,\"REC UNREAD\",\"002B\",,\"26/11/01,07:00:00+32\"",
        "0031", "+CMTI: \"SM\",3", "RING", "+CMGL: 2,\"REC UNREAD\",\"002B\",,\"x\"", "+CMTI: x",
        "OK"}) {
    switch (exchange.accept(line)) {
      case AtExchange::Accepted::urc:
        urcs.push_back(line);
        break;
      case AtExchange::Accepted::final:
        EXPECT_EQ(line, "OK");
        break;
      default:
        break;
    }
  }
  EXPECT_TRUE(exchange.done());
  EXPECT_TRUE(exchange.ok());
  EXPECT_THAT(urcs, ElementsAre("+CMTI: \"SM\",3", "RING"));
  // The line after a header is the SMS text, whatever it looks like.
  EXPECT_THAT(exchange.info(),
              ElementsAre(StartsWith("+CMGL: 1,"), "0031", StartsWith("+CMGL: 2,"), "+CMTI: x"));
}

TEST(AtExchange, SendResponseWithAUrcBeforeTheResult) {
  AtExchange exchange("AT+CMGS=\"002B\"");
  EXPECT_EQ(exchange.accept("+CMTI: \"SM\",1"), AtExchange::Accepted::urc);
  EXPECT_EQ(exchange.accept("+CREG: 1"), AtExchange::Accepted::urc);
  EXPECT_EQ(exchange.accept("+CMGS: 12"), AtExchange::Accepted::info);
  EXPECT_FALSE(exchange.done());
  EXPECT_EQ(exchange.accept("OK"), AtExchange::Accepted::final);
  EXPECT_THAT(exchange.info(), ElementsAre("+CMGS: 12"));
}

TEST(AtExchange, DropsTheEchoAndParsesErrors) {
  AtExchange plain("ATE0");
  EXPECT_EQ(plain.accept("ATE0"), AtExchange::Accepted::echo);
  EXPECT_EQ(plain.accept("ERROR"), AtExchange::Accepted::final);
  ASSERT_TRUE(plain.final());
  EXPECT_EQ(plain.final()->kind, AtFinal::Kind::error);
  EXPECT_FALSE(plain.ok());

  AtExchange send("AT+CMGS=\"002B\"");
  EXPECT_EQ(send.accept("+CMS ERROR: 500"), AtExchange::Accepted::final);
  EXPECT_EQ(send.final()->kind, AtFinal::Kind::cms_error);
  EXPECT_EQ(send.final()->code, 500);

  auto verbose = parse_final("+CME ERROR: SIM not inserted");
  ASSERT_TRUE(verbose);
  EXPECT_EQ(verbose->kind, AtFinal::Kind::cme_error);
  EXPECT_EQ(verbose->code, -1);
  EXPECT_FALSE(parse_final("+CMGS: 3"));
  EXPECT_FALSE(parse_final("OKAY"));

  AtExchange query("AT+CMGF?");
  EXPECT_EQ(query.accept("+CMGF: 1"), AtExchange::Accepted::info);
  EXPECT_EQ(query.accept("RDY"), AtExchange::Accepted::urc);
  EXPECT_EQ(query.accept("OK"), AtExchange::Accepted::final);
}

TEST(AtParse, IndicationsHeadersAndCommandNames) {
  auto cmti = parse_cmti("+CMTI: \"SM\", 12");
  ASSERT_TRUE(cmti);
  EXPECT_EQ(cmti->storage, "SM");
  EXPECT_EQ(cmti->index, 12);
  EXPECT_FALSE(parse_cmti("+CMTI: \"SM\""));
  EXPECT_FALSE(parse_cmti("+CMTI: \"SM\",x"));

  auto header = parse_sms_header("+CMGR: \"REC UNREAD\",\"002B0031\",,\"26/11/01,07:00:00+32\"");
  ASSERT_TRUE(header);
  EXPECT_EQ(header->status, "REC UNREAD");
  EXPECT_EQ(header->sender, "002B0031");
  EXPECT_EQ(header->index, -1);
  header = parse_sms_header("+CMGL: 4,\"REC UNREAD\",\"+8613800000000\",\"\",\"26/11/01,07:00\"");
  ASSERT_TRUE(header);
  EXPECT_EQ(header->index, 4);
  EXPECT_EQ(header->sender, "+8613800000000");
  EXPECT_FALSE(parse_sms_header("+CMGL: x,\"REC UNREAD\",\"1\""));
  EXPECT_FALSE(parse_sms_header("+CMGR: \"REC UNREAD\""));

  EXPECT_EQ(command_name("AT+CMGS=\"002B0038\""), "AT+CMGS");  // never log the number
  EXPECT_EQ(command_name("ATE0"), "ATE0");
}

// ---------------------------------------------------------------------------------------------
// The notifier against the simulated modem

const std::string kSim = HOMESAFE_SIM_BIN;
const std::string kNumber = "+8613800000000";

// Results and replies, from the notifier's thread.
class Recorder {
 public:
  std::function<void(const DeliveryResult&)> done_for(const std::string& id) {
    return [this, id](const DeliveryResult& result) {
      std::lock_guard lock(mutex_);
      results_[id].push_back(result);
    };
  }
  ReplyHandler reply_handler() {
    return [this](const std::string& from, const std::string& text) {
      std::lock_guard lock(mutex_);
      replies_.emplace_back(from, text);
    };
  }
  // The result of `id` once there is one.
  std::optional<DeliveryResult> wait_result(const std::string& id) {
    test::wait_until([&] {
      std::lock_guard lock(mutex_);
      return results_.contains(id);
    });
    std::lock_guard lock(mutex_);
    if (!results_.contains(id)) return std::nullopt;
    return results_[id].front();
  }
  std::size_t result_count(const std::string& id) {
    std::lock_guard lock(mutex_);
    return results_.contains(id) ? results_[id].size() : 0;
  }
  bool wait_replies(std::size_t count) {
    return test::wait_until([&] {
      std::lock_guard lock(mutex_);
      return replies_.size() >= count;
    });
  }
  std::vector<std::pair<std::string, std::string>> replies() {
    std::lock_guard lock(mutex_);
    return replies_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<DeliveryResult>> results_;
  std::vector<std::pair<std::string, std::string>> replies_;
};

Notification notification(const std::string& id, const std::string& text,
                          const std::string& number = kNumber) {
  Notification result;
  result.notification_id = id;
  result.alert_id = "h001-000001";
  result.household_id = "h001";
  result.contact_id = "li";
  result.role = "caregiver";
  result.channel = "sms";
  result.address = number;
  result.kind = "smoke";
  result.severity = "emergency";
  result.location = "厨房";
  result.text = text;
  return result;
}

class SmsModemTest : public ::testing::Test {
 protected:
  void SetUp() override { start_sim(); }

  void start_sim() {
    sim_ = std::make_unique<test::Process>(
        std::vector<std::string>{kSim, "modem", "--link", link_.string(), "--outbox",
                                 outbox_.string(), "--control", control_.string()});
    ASSERT_TRUE(test::wait_until([&] {
      return sim_->read_stdout().find("modem ready") != std::string::npos || !sim_->running();
    }));
    ASSERT_TRUE(sim_->running()) << sim_->describe();
  }

  // `homesafe-sim modem-ctl FIFO words...`
  void control(std::vector<std::string> words) {
    words.insert(words.begin(), {kSim, "modem-ctl", control_.string()});
    test::Process ctl(words);
    ASSERT_EQ(ctl.wait_for_exit(), 0) << ctl.describe();
  }

  // Waits until the simulator has printed `text` (it prints after acting on a command).
  bool sim_said(const std::string& text, std::size_t times = 1) {
    return test::wait_until([&] {
      const auto out = sim_->read_stdout();
      std::size_t count = 0;
      for (auto pos = out.find(text); pos != std::string::npos; pos = out.find(text, pos + 1)) {
        ++count;
      }
      return count >= times;
    });
  }

  std::vector<nlohmann::json> outbox() const {
    std::vector<nlohmann::json> lines;
    std::istringstream in(test::read_file(outbox_));
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  SmsModemOptions options() const {
    SmsModemOptions result;
    result.device = link_.string();
    result.command_timeout = 5s;
    result.send_timeout = 10s;
    result.max_attempts = 3;
    result.retry_backoff = 200ms;
    return result;
  }

  // True once this process has the simulated modem's pseudo-terminal open: the notifier's
  // thread is connecting (it opens the port, then initialises the modem).
  bool port_open() const {
    std::error_code error;
    const auto port = std::filesystem::canonical(link_, error);
    if (error) return false;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
      if (std::filesystem::read_symlink(entry.path(), error) == port) return true;
    }
    return false;
  }

  std::unique_ptr<SmsModemNotifier> make_notifier(SmsModemOptions opts) {
    return std::make_unique<SmsModemNotifier>(std::move(opts), recorder_.reply_handler());
  }

  test::TempDir dir_{"homesafe-sms-modem"};
  std::filesystem::path link_ = dir_ / "ttyUSB2";
  std::filesystem::path outbox_ = dir_ / "outbox.jsonl";
  std::filesystem::path control_ = dir_ / "modem.ctl";
  std::unique_ptr<test::Process> sim_;
  Recorder recorder_;
};

TEST_F(SmsModemTest, ChineseTextArrivesIntact) {
  auto notifier = make_notifier(options());
  EXPECT_EQ(notifier->channel(), "sms");
  const std::string text = "【平安守护】3组王奶奶家厨房烟雾报警 07:01，回复1确认😀";
  notifier->send(notification("n1", text), recorder_.done_for("n1"));
  const auto result = recorder_.wait_result("n1");
  ASSERT_TRUE(result) << sim_->describe();
  EXPECT_TRUE(result->ok) << result->error;

  // A text longer than one SMS is cut at 70 characters with "…".
  const std::string long_text = std::string(80, '7') + "火";
  notifier->send(notification("n2", long_text), recorder_.done_for("n2"));
  ASSERT_TRUE(recorder_.wait_result("n2"));
  EXPECT_TRUE(notifier->connected());
  notifier.reset();

  const auto lines = outbox();
  ASSERT_EQ(lines.size(), 2u) << sim_->describe();
  EXPECT_EQ(lines[0].at("to"), kNumber);
  EXPECT_EQ(lines[0].at("text"), text);
  EXPECT_EQ(lines[1].at("text"), std::string(69, '7') + "…");
  EXPECT_THAT(sim_->read_stdout(), HasSubstr("SMS to " + kNumber + " : " + text + "\n"));
  EXPECT_EQ(recorder_.result_count("n1"), 1u);
  EXPECT_EQ(recorder_.result_count("n2"), 1u);
}

// A one-tap link that does not fit the alarm's SMS follows in a second one; the alarm text is
// never cut for it.
TEST_F(SmsModemTest, ALinkThatDoesNotFitFollowsInASecondSms) {
  auto notifier = make_notifier(options());
  const std::string alarm =
      "【平安守护】3组 王奶奶 厨房烟雾报警（11月1日07:01），请尽快查看。回复1确认";
  const std::string link = "https://hs.example.cn/c/h001-000001/li/AbCdEfGhIjKlMnOp";
  auto n = notification("n1", alarm + " " + link);
  n.link = link;
  notifier->send(n, recorder_.done_for("n1"));
  const auto result = recorder_.wait_result("n1");
  ASSERT_TRUE(result) << sim_->describe();
  EXPECT_TRUE(result->ok) << result->error;
  // A short one stays one SMS.
  auto short_one = notification("n2", "报警 " + link);
  short_one.link = link;
  notifier->send(short_one, recorder_.done_for("n2"));
  ASSERT_TRUE(recorder_.wait_result("n2"));
  notifier.reset();

  const auto lines = outbox();
  ASSERT_EQ(lines.size(), 3u) << sim_->describe();
  EXPECT_EQ(lines[0].at("text"), alarm);
  EXPECT_EQ(lines[1].at("text"), "一键回复：" + link);
  EXPECT_EQ(lines[2].at("text"), "报警 " + link);
  EXPECT_EQ(recorder_.result_count("n1"), 1u);
}

TEST_F(SmsModemTest, AMessageSentWhileTheModemIsBeingInitialisedGoesOut) {
  auto notifier = make_notifier(options());
  // Sent while the thread talks to the modem (ESC, AT, ATE0, ...): a command's wait takes the
  // wake-up, yet the thread must still find the message before it sleeps for a minute.
  ASSERT_TRUE(test::wait_until([&] { return port_open(); }, 5s, 1ms)) << sim_->describe();
  ASSERT_FALSE(notifier->connected());
  notifier->send(notification("n1", "卧室呼叫"), recorder_.done_for("n1"));
  const auto result = recorder_.wait_result("n1");
  ASSERT_TRUE(result) << sim_->describe();
  EXPECT_TRUE(result->ok) << result->error;
  notifier.reset();
  const auto lines = outbox();
  ASSERT_EQ(lines.size(), 1u) << sim_->describe();
  EXPECT_EQ(lines[0].at("text"), "卧室呼叫");
  EXPECT_EQ(recorder_.result_count("n1"), 1u);
}

TEST_F(SmsModemTest, RetriesAfterAFailedSend) {
  control({"fail", "1"});
  ASSERT_TRUE(sim_said("the next 1 send(s) fail"));
  auto notifier = make_notifier(options());
  notifier->send(notification("n1", "燃气报警"), recorder_.done_for("n1"));
  const auto result = recorder_.wait_result("n1");
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ok) << result->error;
  notifier.reset();
  const auto lines = outbox();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("text"), "燃气报警");
  EXPECT_EQ(recorder_.result_count("n1"), 1u);
}

TEST_F(SmsModemTest, GivesUpAfterMaxAttemptsAndAtOnceOnAPermanentError) {
  control({"fail", "5"});
  ASSERT_TRUE(sim_said("the next 5 send(s) fail"));
  auto notifier = make_notifier(options());
  notifier->send(notification("n1", "呼叫"), recorder_.done_for("n1"));
  auto result = recorder_.wait_result("n1");
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ok);
  EXPECT_TRUE(result->retryable);
  EXPECT_EQ(result->error, "+CMS ERROR: 500");

  // Two failures are left; then "unassigned number" is not worth a retry.
  control({"reset"});
  control({"fail", "1", "1"});
  ASSERT_TRUE(sim_said("the next 1 send(s) fail with +CMS ERROR: 1"));
  notifier->send(notification("n2", "呼叫"), recorder_.done_for("n2"));
  result = recorder_.wait_result("n2");
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ok);
  EXPECT_FALSE(result->retryable);
  EXPECT_EQ(result->error, "+CMS ERROR: 1");

  // A number that is not one never reaches the modem.
  notifier->send(notification("n3", "呼叫", "李阿姨"), recorder_.done_for("n3"));
  result = recorder_.wait_result("n3");
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ok);
  EXPECT_FALSE(result->retryable);

  notifier->send(notification("n4", "第四条"), recorder_.done_for("n4"));
  result = recorder_.wait_result("n4");
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ok) << result->error;
  notifier.reset();
  const auto lines = outbox();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("text"), "第四条");
}

TEST_F(SmsModemTest, AHungSendTimesOutAndTheNextMessageStillGoesOut) {
  control({"hang", "1"});
  ASSERT_TRUE(sim_said("never answered"));
  auto opts = options();
  opts.send_timeout = 1500ms;
  opts.max_attempts = 1;
  auto notifier = make_notifier(opts);
  notifier->send(notification("n1", "第一条"), recorder_.done_for("n1"));
  notifier->send(notification("n2", "第二条"), recorder_.done_for("n2"));
  auto result = recorder_.wait_result("n1");
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ok);
  EXPECT_TRUE(result->retryable);
  EXPECT_THAT(result->error, HasSubstr("timeout"));
  result = recorder_.wait_result("n2");
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ok) << result->error;
  EXPECT_TRUE(notifier->connected());
  notifier.reset();
  const auto lines = outbox();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("text"), "第二条");
}

TEST_F(SmsModemTest, RepliesReachOnReplyAndAreDeleted) {
  auto opts = options();
  opts.send_timeout = 2s;
  auto notifier = make_notifier(opts);
  ASSERT_TRUE(test::wait_until([&] { return notifier->connected(); })) << sim_->describe();
  control({"reply", kNumber, "1"});
  ASSERT_TRUE(recorder_.wait_replies(1)) << sim_->describe();
  ASSERT_TRUE(sim_said("SM 1 deleted"));
  control({"reply", "13900000000", "收到，马上到😀"});
  ASSERT_TRUE(recorder_.wait_replies(2)) << sim_->describe();
  ASSERT_TRUE(sim_said("SM 1 deleted", 2));  // the same slot: the first one was deleted
  EXPECT_THAT(recorder_.replies(),
              ElementsAre(Pair(kNumber, "1"), Pair("+8613900000000", "收到，马上到😀")));

  // A reply that arrives while the notifier waits for a send's answer is not lost.
  control({"hang", "1"});
  ASSERT_TRUE(sim_said("never answered"));
  notifier->send(notification("n1", "第一条"), recorder_.done_for("n1"));
  ASSERT_TRUE(sim_said("not answered (hang)"));
  control({"reply", kNumber, "2"});
  ASSERT_TRUE(recorder_.wait_replies(3)) << sim_->describe();
  EXPECT_EQ(recorder_.replies().back(), std::make_pair(kNumber, std::string("2")));
  const auto result = recorder_.wait_result("n1");  // retried after the timeout
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ok) << result->error;
  EXPECT_TRUE(sim_said("SM 1 deleted", 3));
  notifier.reset();
  EXPECT_EQ(recorder_.replies().size(), 3u);
}

TEST_F(SmsModemTest, ReadsRepliesStoredWhileTheGatewayWasDown) {
  control({"reply", kNumber, "1"});
  control({"reply", "+8613900000000", "好的"});
  ASSERT_TRUE(sim_said("stored at SM 2"));
  auto notifier = make_notifier(options());
  ASSERT_TRUE(recorder_.wait_replies(2)) << sim_->describe();
  EXPECT_THAT(recorder_.replies(), ElementsAre(Pair(kNumber, "1"), Pair("+8613900000000", "好的")));
}

TEST_F(SmsModemTest, ReconnectsWhenTheModemComesBack) {
  auto opts = options();
  opts.max_attempts = 8;
  opts.retry_backoff = 300ms;
  auto notifier = make_notifier(opts);
  notifier->send(notification("n1", "第一条"), recorder_.done_for("n1"));
  auto result = recorder_.wait_result("n1");
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ok) << result->error;

  // Unplugged: the process dies, its stale link stays.
  sim_->kill(SIGKILL);
  ASSERT_TRUE(sim_->wait_for_exit());
  ASSERT_TRUE(test::wait_until([&] { return !notifier->connected(); }));
  notifier->send(notification("n2", "第二条"), recorder_.done_for("n2"));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(recorder_.result_count("n2"), 0u);

  // Plugged in again on the same path.
  start_sim();
  result = recorder_.wait_result("n2");
  ASSERT_TRUE(result) << sim_->describe();
  EXPECT_TRUE(result->ok) << result->error;
  notifier->send(notification("n3", "第三条"), recorder_.done_for("n3"));
  result = recorder_.wait_result("n3");
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ok) << result->error;
  notifier.reset();

  const auto lines = outbox();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].at("text"), "第二条");
  EXPECT_EQ(lines[2].at("text"), "第三条");
}

TEST(SmsModemNotifier, WithoutAModemNotificationsFailAndStoppingCompletesTheRest) {
  test::TempDir dir("homesafe-sms-modem");
  Recorder recorder;
  SmsModemOptions options;
  options.device = (dir / "ttyUSB9").string();
  options.max_attempts = 2;
  options.retry_backoff = 100ms;
  auto notifier = std::make_unique<SmsModemNotifier>(options, recorder.reply_handler());
  notifier->send(notification("n1", "x"), recorder.done_for("n1"));
  const auto result = recorder.wait_result("n1");
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ok);
  EXPECT_TRUE(result->retryable);
  EXPECT_THAT(result->error, StartsWith("modem unavailable"));
  EXPECT_FALSE(notifier->connected());

  options.retry_backoff = 60s;
  notifier = std::make_unique<SmsModemNotifier>(options, recorder.reply_handler());
  notifier->send(notification("n2", "x"), recorder.done_for("n2"));
  notifier->send(notification("n3", "x"), recorder.done_for("n3"));
  std::this_thread::sleep_for(300ms);  // both tried once, now waiting a minute to retry
  notifier.reset();
  ASSERT_EQ(recorder.result_count("n2"), 1u);
  ASSERT_EQ(recorder.result_count("n3"), 1u);
  EXPECT_EQ(recorder.wait_result("n3")->error, "notifier stopped");
}

TEST(SmsModemNotifier, RejectsABadConfiguration) {
  SmsModemOptions options;
  EXPECT_THROW({ SmsModemNotifier notifier(options, {}); }, std::invalid_argument);
  options.device = "/dev/ttyUSB2";
  options.baud = 12345;
  EXPECT_THROW({ SmsModemNotifier notifier(options, {}); }, std::invalid_argument);
}

}  // namespace
}  // namespace homesafe::gateway::notify
