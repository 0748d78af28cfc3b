// The simulated modem: its UCS2 codec, control commands, AT interpreter, and the server on a
// real pseudo-terminal.
#include "homesafe/sim/modem.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "homesafe/sim/time.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace homesafe::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 2026-11-01T07:00:00+08:00
constexpr std::int64_t kNow = 1793487600000;

// The service-centre time stamp of an SMS ("26/11/01,07:00:00+32": the offset in quarter hours),
// in the machine's time zone.
std::string scts(std::int64_t unix_ms) {
  const int offset = local_utc_offset_minutes(unix_ms);
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000 + offset * 60);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[96];
  std::snprintf(text, sizeof text, "%02d/%02d/%02d,%02d:%02d:%02d%c%02d", parts.tm_year % 100,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                offset < 0 ? '-' : '+', std::abs(offset) / 15);
  return text;
}

TEST(SimUcs2, EncodesUtf16BigEndianInUppercaseHex) {
  EXPECT_EQ(ucs2_hex_from_utf8("A1+"), "00410031002B");
  EXPECT_EQ(ucs2_hex_from_utf8("厨房"), "53A8623F");
  EXPECT_EQ(ucs2_hex_from_utf8("€"), "20AC");
  EXPECT_EQ(ucs2_hex_from_utf8("😀"), "D83DDE00");  // U+1F600: a surrogate pair
  EXPECT_EQ(ucs2_hex_from_utf8(""), "");
}

TEST(SimUcs2, DecodesEitherCaseAndRejectsWhatIsNotHex) {
  EXPECT_EQ(utf8_from_ucs2_hex("53A8623F"), "厨房");
  EXPECT_EQ(utf8_from_ucs2_hex("53a8623f"), "厨房");
  EXPECT_EQ(utf8_from_ucs2_hex("D83DDE000031"), "😀1");
  EXPECT_EQ(utf8_from_ucs2_hex(""), "");
  EXPECT_EQ(utf8_from_ucs2_hex("004"), std::nullopt);
  EXPECT_EQ(utf8_from_ucs2_hex("00G1"), std::nullopt);
  EXPECT_EQ(utf8_from_ucs2_hex("+861"), std::nullopt);
}

TEST(SimUcs2, BadInputBecomesReplacementCharacters) {
  EXPECT_EQ(utf8_from_ucs2_hex("D83D0041"),
            "\xEF\xBF\xBD"
            "A");                                         // unpaired high surrogate
  EXPECT_EQ(utf8_from_ucs2_hex("DE00"), "\xEF\xBF\xBD");  // lone low surrogate
  EXPECT_EQ(ucs2_hex_from_utf8("\xFF"
                               "A"),
            "FFFD0041");
  EXPECT_EQ(ucs2_hex_from_utf8("\xE5\x8E"), "FFFDFFFD");          // truncated sequence
  EXPECT_EQ(ucs2_hex_from_utf8("\xC0\xAF"), "FFFDFFFD");          // overlong '/'
  EXPECT_EQ(ucs2_hex_from_utf8("\xED\xA0\x80"), "FFFDFFFDFFFD");  // encoded surrogate
}

TEST(SimModemControl, ParsesTheFourCommands) {
  std::string error;
  auto command = parse_modem_control("reply +8613800000000 收到，马上 到", error);
  ASSERT_TRUE(command) << error;
  EXPECT_EQ(command->kind, ModemControl::Kind::reply);
  EXPECT_EQ(command->number, "+8613800000000");
  EXPECT_EQ(command->text, "收到，马上 到");

  command = parse_modem_control("fail 2 21\n", error);
  ASSERT_TRUE(command) << error;
  EXPECT_EQ(command->kind, ModemControl::Kind::fail);
  EXPECT_EQ(command->count, 2);
  EXPECT_EQ(command->code, 21);
  command = parse_modem_control("fail 3", error);
  ASSERT_TRUE(command) << error;
  EXPECT_EQ(command->code, 500);

  command = parse_modem_control("hang 1", error);
  ASSERT_TRUE(command) << error;
  EXPECT_EQ(command->kind, ModemControl::Kind::hang);
  EXPECT_EQ(command->count, 1);

  command = parse_modem_control("  reset ", error);
  ASSERT_TRUE(command) << error;
  EXPECT_EQ(command->kind, ModemControl::Kind::reset);
}

TEST(SimModemControl, RejectsBadCommandsWithAMessage) {
  for (const char* line : {"", "explode", "reply", "reply +86138", "reply abc hello", "fail",
                           "fail x", "fail 1 2 3", "fail 1 1000", "hang", "hang -1", "reset 1"}) {
    std::string error;
    EXPECT_FALSE(parse_modem_control(line, error)) << line;
    EXPECT_FALSE(error.empty()) << line;
  }
}

// An engine that records what it sends.
struct Engine {
  std::vector<SentSms> sent;
  ModemEngine engine{[this](const SentSms& sms) { sent.push_back(sms); }, [] { return kNow; }};

  std::string at(const std::string& command) { return engine.receive(command + "\r"); }
  // The setup the gateway's notifier uses.
  void configure() {
    at("ATE0");
    at("AT+CMEE=1");
    at("AT+CMGF=1");
    at("AT+CSCS=\"UCS2\"");
    at("AT+CSMP=17,167,0,8");
    at("AT+CNMI=2,1,0,0,0");
  }
  std::string send(const std::string& number, const std::string& text) {
    const auto prompt = at("AT+CMGS=\"" + ucs2_hex_from_utf8(number) + "\"");
    if (prompt != "\r\n> ") return prompt;
    return engine.receive(ucs2_hex_from_utf8(text) + "\x1A");
  }
};

TEST(SimModemEngine, EchoesUntilAte0AndAnswersBasicCommands) {
  Engine modem;
  EXPECT_EQ(modem.at("AT"), "AT\r\r\nOK\r\n");
  EXPECT_EQ(modem.at("ATE0"), "ATE0\r\r\nOK\r\n");
  EXPECT_FALSE(modem.engine.echo());
  EXPECT_EQ(modem.at("at"), "\r\nOK\r\n");
  EXPECT_EQ(modem.at("AT+FLY=1"), "\r\nERROR\r\n");
  EXPECT_EQ(modem.at("ATX9"), "\r\nERROR\r\n");
  EXPECT_EQ(modem.at("hello"), "");  // not a command: ignored like line noise
  EXPECT_EQ(modem.at("AT+CMGF?"), "\r\n+CMGF: 0\r\n\r\nOK\r\n");
  EXPECT_EQ(modem.at("ATE1"), "\r\nOK\r\n");
  EXPECT_EQ(modem.engine.receive("A"), "A");  // echoed as typed
  EXPECT_EQ(modem.engine.receive("T\r"), "T\r\r\nOK\r\n");
}

TEST(SimModemEngine, SendsInTextModeWithUcs2) {
  Engine modem;
  modem.configure();
  EXPECT_TRUE(modem.engine.text_mode());
  EXPECT_EQ(modem.engine.charset(), "UCS2");
  EXPECT_EQ(modem.send("+8613800000000", "【平安】王奶奶家厨房烟雾报警😀"),
            "\r\n+CMGS: 1\r\n\r\nOK\r\n");
  ASSERT_EQ(modem.sent.size(), 1u);
  EXPECT_EQ(modem.sent[0].to, "+8613800000000");
  EXPECT_EQ(modem.sent[0].text, "【平安】王奶奶家厨房烟雾报警😀");
  EXPECT_EQ(modem.send("+8613800000000", "2"), "\r\n+CMGS: 2\r\n\r\nOK\r\n");
}

TEST(SimModemEngine, IsStrictAboutWhatARealModemWouldGetWrong) {
  Engine modem;
  modem.at("ATE0");
  modem.at("AT+CMEE=1");
  // PDU mode (the default) is not simulated: a notifier must switch to text mode.
  EXPECT_EQ(modem.at("AT+CMGS=\"+8613800000000\""), "\r\n+CMS ERROR: 303\r\n");
  modem.at("AT+CMGF=1");
  modem.at("AT+CSCS=\"UCS2\"");
  // With AT+CSCS="UCS2" the number must be UCS2 hex too.
  EXPECT_EQ(modem.at("AT+CMGS=\"+8613800000000\""), "\r\n+CMS ERROR: 305\r\n");
  // Without data coding 8 a Chinese text arrives as question marks.
  EXPECT_EQ(modem.send("+8613800000000", "烟雾 smoke"), "\r\n+CMGS: 1\r\n\r\nOK\r\n");
  ASSERT_EQ(modem.sent.size(), 1u);
  EXPECT_EQ(modem.sent[0].text, "?? smoke");
  // More than 70 UCS2 characters do not fit one SMS.
  modem.at("AT+CSMP=17,167,0,8");
  EXPECT_EQ(modem.send("+8613800000000", std::string(71, 'x')), "\r\n+CMS ERROR: 305\r\n");
  EXPECT_EQ(modem.send("+8613800000000", std::string(70, 'x')), "\r\n+CMGS: 2\r\n\r\nOK\r\n");
  // The UCS2 text must be hex.
  modem.at("AT+CMGS=\"" + ucs2_hex_from_utf8("+8613800000000") + "\"");
  EXPECT_EQ(modem.engine.receive("hello\x1A"), "\r\n+CMS ERROR: 305\r\n");
}

TEST(SimModemEngine, FailAndHangAffectTheNextSends) {
  Engine modem;
  modem.configure();
  modem.engine.control({ModemControl::Kind::fail, {}, {}, 2, 21});
  EXPECT_EQ(modem.send("+8613800000000", "a"), "\r\n+CMS ERROR: 21\r\n");
  EXPECT_EQ(modem.send("+8613800000000", "b"), "\r\n+CMS ERROR: 21\r\n");
  EXPECT_EQ(modem.send("+8613800000000", "c"), "\r\n+CMGS: 1\r\n\r\nOK\r\n");
  modem.engine.control({ModemControl::Kind::hang, {}, {}, 1, 500});
  EXPECT_EQ(modem.send("+8613800000000", "d"), "");               // never answered ...
  EXPECT_EQ(modem.at("AT+CMGF?"), "\r\n+CMGF: 1\r\n\r\nOK\r\n");  // ... but still alive
  EXPECT_EQ(modem.send("+8613800000000", "e"), "\r\n+CMGS: 2\r\n\r\nOK\r\n");
  ASSERT_EQ(modem.sent.size(), 2u);
  EXPECT_EQ(modem.sent[0].text, "c");
  EXPECT_EQ(modem.sent[1].text, "e");
  // With AT+CMEE=0 a failure is a plain ERROR.
  modem.at("AT+CMEE=0");
  modem.engine.control({ModemControl::Kind::fail, {}, {}, 1, 500});
  EXPECT_EQ(modem.send("+8613800000000", "f"), "\r\nERROR\r\n");
  // reset forgets pending failures.
  modem.engine.control({ModemControl::Kind::fail, {}, {}, 5, 500});
  modem.engine.control({ModemControl::Kind::reset, {}, {}, 0, 500});
  EXPECT_EQ(modem.engine.pending_failures(), 0);
  EXPECT_EQ(modem.send("+8613800000000", "g"), "\r\n+CMGS: 3\r\n\r\nOK\r\n");
}

TEST(SimModemEngine, EscapeCancelsTheTextBeingTyped) {
  Engine modem;
  modem.configure();
  EXPECT_EQ(modem.at("AT+CMGS=\"" + ucs2_hex_from_utf8("+8613800000000") + "\""), "\r\n> ");
  EXPECT_EQ(modem.engine.receive("0041\x1B"), "\r\nOK\r\n");
  EXPECT_TRUE(modem.sent.empty());
  EXPECT_EQ(modem.at("AT"), "\r\nOK\r\n");
}

TEST(SimModemEngine, StoresRepliesAnnouncesReadsAndDeletesThem) {
  Engine modem;
  modem.at("ATE0");
  modem.at("AT+CMGF=1");
  modem.at("AT+CSCS=\"UCS2\"");
  // Without AT+CNMI=2,1 a new SMS is stored silently.
  auto result = modem.engine.control({ModemControl::Kind::reply, "+8613800000000", "1", 0, 500});
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.to_host, "");
  EXPECT_THAT(result.message, HasSubstr("stored at SM 1"));
  modem.at("AT+CNMI=2,1,0,0,0");
  result = modem.engine.control({ModemControl::Kind::reply, "13900000000", "收到", 0, 500});
  EXPECT_EQ(result.to_host, "\r\n+CMTI: \"SM\",2\r\n");

  const std::string number1 = ucs2_hex_from_utf8("+8613800000000");
  const std::string number2 = ucs2_hex_from_utf8("13900000000");
  const std::string ts = scts(kNow);
  EXPECT_EQ(modem.at("AT+CMGR=2"), "\r\n+CMGR: \"REC UNREAD\",\"" + number2 + "\",,\"" + ts +
                                       "\"\r\n" + ucs2_hex_from_utf8("收到") + "\r\n\r\nOK\r\n");
  // Only SM 1 is still unread.
  EXPECT_EQ(modem.at("AT+CMGL=\"REC UNREAD\""), "\r\n+CMGL: 1,\"REC UNREAD\",\"" + number1 +
                                                    "\",,\"" + ts + "\"\r\n0031\r\n\r\nOK\r\n");
  EXPECT_EQ(modem.at("AT+CMGL=\"REC UNREAD\""), "\r\nOK\r\n");
  // The status may be given in UCS2 too.
  EXPECT_THAT(modem.at("AT+CMGL=\"" + ucs2_hex_from_utf8("ALL") + "\""),
              HasSubstr("+CMGL: 2,\"REC READ\""));
  EXPECT_EQ(modem.at("AT+CMGD=1"), "\r\nOK\r\n");
  EXPECT_EQ(modem.at("AT+CMGR=1"), "\r\nERROR\r\n");  // AT+CMEE=0
  modem.at("AT+CMEE=1");
  EXPECT_EQ(modem.at("AT+CMGR=1"), "\r\n+CMS ERROR: 321\r\n");
  ASSERT_EQ(modem.engine.stored().size(), 1u);
  // The freed index is used again.
  result = modem.engine.control({ModemControl::Kind::reply, "+8613800000000", "2", 0, 500});
  EXPECT_EQ(result.to_host, "\r\n+CMTI: \"SM\",1\r\n");
  EXPECT_EQ(modem.at("AT+CMGD=1,4"), "\r\nOK\r\n");
  EXPECT_TRUE(modem.engine.stored().empty());
}

TEST(SimModemEngine, HoldsIndicationsWhileTheHostTypesAnSms) {
  Engine modem;
  modem.configure();
  EXPECT_EQ(modem.at("AT+CMGS=\"" + ucs2_hex_from_utf8("+8613800000000") + "\""), "\r\n> ");
  const auto result =
      modem.engine.control({ModemControl::Kind::reply, "+8613800000000", "1", 0, 500});
  EXPECT_EQ(result.to_host, "");
  EXPECT_EQ(modem.engine.receive("0041\x1A"), "\r\n+CMGS: 1\r\n\r\nOK\r\n\r\n+CMTI: \"SM\",1\r\n");
}

TEST(SimModemEngine, StorageIsLimitedLikeASim) {
  Engine modem;
  for (int i = 0; i < ModemEngine::kStorageSlots; ++i) {
    EXPECT_TRUE(
        modem.engine.control({ModemControl::Kind::reply, "+8613800000000", "x", 0, 500}).ok);
  }
  const auto result =
      modem.engine.control({ModemControl::Kind::reply, "+8613800000000", "x", 0, 500});
  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.message, HasSubstr("full"));
}

// ---- The server on a real pseudo-terminal ----

class ModemServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.link = dir_ / "ttyUSB2";
    options_.outbox = dir_ / "outbox.jsonl";
    options_.control = dir_ / "control";
    server_ = std::make_unique<ModemServer>(options_, out_, err_);
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    stop();
    server_.reset();
  }
  void stop() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  void open_port() {
    fd_ = ::open(options_.link.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
    ASSERT_GE(fd_, 0) << std::strerror(errno);
    termios tio{};
    ASSERT_EQ(::tcgetattr(fd_, &tio), 0);
    ::cfmakeraw(&tio);
    ASSERT_EQ(::tcsetattr(fd_, TCSANOW, &tio), 0);
  }

  void write_port(const std::string& bytes) {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  // Reads until `expected` has arrived (or the timeout); returns everything read.
  std::string read_until(const std::string& expected) {
    std::string received;
    test::wait_until([&] {
      char buffer[512];
      ssize_t n;
      while ((n = ::read(fd_, buffer, sizeof buffer)) > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
      }
      return received.find(expected) != std::string::npos;
    });
    return received;
  }

  test::TempDir dir_{"homesafe-sim-modem"};
  ModemServerOptions options_;
  std::ostringstream out_;
  std::ostringstream err_;
  std::unique_ptr<ModemServer> server_;
  std::thread thread_;
  int fd_ = -1;
};

TEST_F(ModemServerTest, AnswersOnThePtyRecordsSmsAndTakesControlCommands) {
  ASSERT_TRUE(std::filesystem::is_symlink(options_.link));
  EXPECT_EQ(std::filesystem::read_symlink(options_.link), server_->device());
  ASSERT_NO_FATAL_FAILURE(open_port());

  write_port("AT\r");
  EXPECT_THAT(read_until("OK\r\n"), HasSubstr("AT\r\r\nOK\r\n"));
  for (const std::string command : {"ATE0", "AT+CMEE=1", "AT+CMGF=1", "AT+CSCS=\"UCS2\"",
                                    "AT+CSMP=17,167,0,8", "AT+CNMI=2,1,0,0,0"}) {
    write_port(command + "\r");
    EXPECT_THAT(read_until("OK\r\n"), HasSubstr("OK")) << command;
  }
  write_port("AT+CMGS=\"" + ucs2_hex_from_utf8("+8613800000000") + "\"\r");
  EXPECT_EQ(read_until("> "), "\r\n> ");
  write_port(ucs2_hex_from_utf8("厨房烟雾报警") + "\x1A");
  EXPECT_EQ(read_until("OK\r\n"), "\r\n+CMGS: 1\r\n\r\nOK\r\n");

  const auto outbox = test::read_file(options_.outbox);
  const auto line = nlohmann::json::parse(outbox);
  EXPECT_EQ(line.at("to"), "+8613800000000");
  EXPECT_EQ(line.at("text"), "厨房烟雾报警");
  EXPECT_TRUE(line.at("ts").get<std::string>().starts_with("20"));
  EXPECT_EQ(outbox.find("\"ts\""), 1u);  // keys in the documented order

  std::ostringstream errors;
  EXPECT_EQ(send_modem_control(options_.control, "reply +8613800000000 1", errors), 0);
  EXPECT_EQ(read_until("\r\n+CMTI: \"SM\",1\r\n"), "\r\n+CMTI: \"SM\",1\r\n");
  EXPECT_EQ(send_modem_control(options_.control, "explode", errors), 2);
  EXPECT_THAT(errors.str(), HasSubstr("unknown control command"));

  stop();  // the server's thread writes out_: read it once that thread has finished
  EXPECT_THAT(out_.str(), HasSubstr("SMS to +8613800000000 : 厨房烟雾报警\n"));
  EXPECT_THAT(out_.str(), HasSubstr("SMS from +8613800000000 stored at SM 1\n"));
  EXPECT_EQ(err_.str(), "");
}

TEST(ModemServer, ReplacesAStaleLinkButNothingElseAndRemovesItsLink) {
  test::TempDir dir("homesafe-sim-modem");
  std::ostringstream out;
  std::ostringstream err;
  ModemServerOptions options;
  options.link = dir / "ttyUSB2";
  options.outbox = dir / "outbox.jsonl";
  options.quiet = true;
  std::filesystem::create_symlink("/dev/pts/does-not-exist", options.link);
  {
    ModemServer server(options, out, err);
    EXPECT_EQ(std::filesystem::read_symlink(options.link), server.device());
  }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(options.link)));
  EXPECT_EQ(out.str(), "");  // --quiet

  test::write_file(options.link, "not a link");
  EXPECT_THROW({ ModemServer server(options, out, err); }, std::runtime_error);
  EXPECT_EQ(test::read_file(options.link), "not a link");

  EXPECT_EQ(send_modem_control(dir / "nobody", "reset", err), 1);
}

}  // namespace
}  // namespace homesafe::sim
