#include "homesafe/township/registry.hpp"

#include <gtest/gtest.h>

#include "backend.hpp"
#include "homesafe/township/csv.hpp"
#include "support/temp_dir.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace test;

TEST(Csv, ParsesQuotedFieldsEscapesAndLineBreaks) {
  auto records = parse_csv(
      "\xEF\xBB\xBF"
      "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\r\nx,\"two\nlines\",\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"x", "two\nlines", ""}));
  EXPECT_EQ(records[1].line, 3);
  EXPECT_THROW(parse_csv("a,\"open\n"), std::runtime_error);
  EXPECT_THROW(parse_csv("a,b\"c\n"), std::runtime_error);
}

class RegistryTest : public ::testing::Test {
 protected:
  homesafe::test::TempDir dir_{"township-registry"};
  Store store_{dir_ / "t.db"};
};

TEST_F(RegistryTest, ImportThenExportRoundTrips) {
  EXPECT_EQ(import_households(store_, registry_csv(), kT0), 4);
  const std::string exported = export_households(store_);
  // Import the export into a fresh database: the same export comes out.
  homesafe::test::TempDir other("township-registry2");
  Store copy(other / "t.db");
  EXPECT_EQ(import_households(copy, exported, kT0), 4);
  EXPECT_EQ(export_households(copy), exported);
  auto h1 = copy.household("h001");
  ASSERT_TRUE(h1);
  EXPECT_EQ(h1->address, "一村3组, 12号");
  EXPECT_EQ(h1->risk_class, "高风险");
  ASSERT_EQ(h1->contacts.size(), 2u);
  EXPECT_EQ(h1->contacts[0].role, "caregiver");
  EXPECT_EQ(h1->contacts[0].name, "李阿姨");
  EXPECT_EQ(h1->contacts[1].contact_id, "son1");
  EXPECT_TRUE(exported.starts_with("\"household_id\",\"resident_id\""));
}

TEST_F(RegistryTest, ReimportUpdatesInPlace) {
  import_households(store_, registry_csv(), kT0);
  std::string changed = registry_csv();
  changed.replace(changed.find("二村,一般"), std::string("二村,一般").size(), "二村,重点");
  import_households(store_, changed, kT0 + 1);
  EXPECT_EQ(store_.household("h002")->risk_class, "重点");
  EXPECT_EQ(store_.households().size(), 4u);
}

TEST_F(RegistryTest, BadRowsAreListedWithLineNumbersAndNothingIsImported) {
  std::string csv = registry_csv();
  csv += "h005,r-0005,孙奶奶,南县,东乡,一村,很高,h005,地址,,,,,,\n";  // line 6: risk class
  csv += "H 6,r-0006,周爷爷,南县,东乡,一村,一般,,地址,,,,,,\n";       // line 7: id
  csv += "h007,r-0001,吴奶奶,南县,东乡,一村,一般,h001,地址,,,,,,\n";  // line 8: dup resident, hub
  csv += "h008,r-0008,郑爷爷,南县,东乡\n";                            // line 9: too few fields
  try {
    import_households(store_, csv, kT0);
    FAIL() << "expected ImportError";
  } catch (const ImportError& e) {
    const std::string all = e.what();
    EXPECT_NE(all.find("line 6: risk_class"), std::string::npos) << all;
    EXPECT_NE(all.find("line 7: household_id"), std::string::npos) << all;
    EXPECT_NE(all.find("line 8: resident_id appears twice"), std::string::npos) << all;
    EXPECT_NE(all.find("line 8: hub_id appears twice"), std::string::npos) << all;
    EXPECT_NE(all.find("line 9: 5 fields, expected 15"), std::string::npos) << all;
  }
  EXPECT_TRUE(store_.households().empty());
}

TEST_F(RegistryTest, WrongHeaderOrConflictsWithTheDatabaseAreRefused) {
  EXPECT_THROW(import_households(store_, "id,name\nh1,x\n", kT0), ImportError);
  import_households(store_, registry_csv(), kT0);
  // A new household claiming h001's hub: refused as a whole, the good row too.
  std::string csv = registry_csv().substr(0, registry_csv().find('\n') + 1);
  csv += "h009,r-0009,新户,南县,东乡,一村,一般,,地址,,,,,,\n";
  csv += "h010,r-0010,新户二,南县,东乡,一村,一般,h001,地址,,,,,,\n";
  EXPECT_THROW(import_households(store_, csv, kT0), ImportError);
  EXPECT_FALSE(store_.household("h009"));
}

}  // namespace
}  // namespace homesafe::township

namespace homesafe::township {
namespace {

TEST(StoreSchema, MigratesToTheLatestVersionOnceAndKeepsData) {
  homesafe::test::TempDir dir("township-schema");
  {
    Store store(dir / "t.db");
    EXPECT_EQ(store.schema_version(), 5);
    import_households(store, test::registry_csv(), test::kT0);
  }
  Store again(dir / "t.db");
  EXPECT_EQ(again.schema_version(), 5);
  EXPECT_EQ(again.households().size(), 4u);
  EXPECT_EQ(again.db().query_one("SELECT COUNT(*) FROM schema_version")->integer(0), 5);
  if (!test::on_postgresql()) {  // SQLite's own journal: write-ahead log
    EXPECT_EQ(again.db().query_one("SELECT journal_mode FROM pragma_journal_mode")->text(0), "wal");
  }
}

TEST(StoreSchema, AStatementWithTheWrongNumberOfParametersIsAnError) {
  homesafe::test::TempDir dir("township-schema");
  Store store(dir / "t.db");
  EXPECT_THROW(store.db().exec("SELECT ?, ?", {std::int64_t{1}}), DbError);
}

}  // namespace
}  // namespace homesafe::township
