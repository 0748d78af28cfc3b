// RuleState's change tracking: what a commit takes, and what it leaves for the next one; and
// its ordered view of the keys.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {
namespace {

using Changes = RuleState::Changes;

TEST(RuleState, TakeChangesTakesEverySetAndEraseOnce) {
  RuleState state;
  state.load("b/x/old", "1");
  state.set("a/x/n", "1");
  state.set("a/x/n", "2");  // the latest value only
  state.erase("b/x/old");
  state.set("c/x/same", "v");
  EXPECT_TRUE(state.has_changes());
  EXPECT_EQ(state.take_changes(),
            (Changes{{"a/x/n", "2"}, {"b/x/old", std::nullopt}, {"c/x/same", "v"}}));
  EXPECT_FALSE(state.has_changes());
  EXPECT_TRUE(state.take_changes().empty());
  state.set("c/x/same", "v");  // unchanged value: no change
  EXPECT_FALSE(state.has_changes());
}

TEST(RuleState, ChangesSinceAMarkLeaveTheEarlierOnesPending) {
  RuleState state;
  state.set("meter/m1/last", "100");
  state.set("shared/h/activity", "100");
  const auto mark = state.mark();
  EXPECT_FALSE(state.has_changes_since(mark));
  state.set("hazard/s1/smoke", "1");
  state.set("shared/h/activity", "200");  // changed before and after the mark: taken, latest
  EXPECT_TRUE(state.has_changes_since(mark));

  EXPECT_EQ(state.take_changes_since(mark),
            (Changes{{"hazard/s1/smoke", "1"}, {"shared/h/activity", "200"}}));
  EXPECT_FALSE(state.has_changes_since(mark));
  EXPECT_TRUE(state.has_changes());
  EXPECT_EQ(state.take_changes(), (Changes{{"meter/m1/last", "100"}}));
}

TEST(RuleState, AnEraseAfterTheMarkIsTaken) {
  RuleState state;
  state.load("hazard/s1/smoke", "1");
  const auto mark = state.mark();
  state.erase("hazard/s1/smoke");
  EXPECT_EQ(state.take_changes_since(mark), (Changes{{"hazard/s1/smoke", std::nullopt}}));
  EXPECT_FALSE(state.has_changes());
}

TEST(RuleState, HasChangesSinceFollowsWhatIsStillPending) {
  RuleState state;
  const auto before = state.mark();
  state.set("a/x/n", "1");
  const auto middle = state.mark();
  state.set("b/x/n", "1");
  EXPECT_TRUE(state.has_changes_since(middle));
  (void)state.take_changes_since(middle);
  // What is left changed after `before`, not after `middle`.
  EXPECT_FALSE(state.has_changes_since(middle));
  EXPECT_TRUE(state.has_changes_since(before));
  (void)state.take_changes();
  EXPECT_FALSE(state.has_changes_since(before));
}

TEST(RuleState, WithPrefixListsInKeyOrderAfterSetsErasesAndLoads) {
  RuleState state;
  state.set("silence/d2/last", "2");
  state.load("silence/d1/last", "1");
  state.set("silence/d3/last", "3");
  state.set("silencer/x/n", "9");  // shares the text, not the "silence/" prefix
  state.set("hold/a/b", "0");
  state.erase("silence/d3/last");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(state.with_prefix("silence/"),
            (Pairs{{"silence/d1/last", "1"}, {"silence/d2/last", "2"}}));
  EXPECT_EQ(state.with_prefix("").size(), 4u);
}

TEST(RuleState, ACopyKeepsItsOwnKeysWhenTheOriginalChanges) {
  auto original = std::make_unique<RuleState>();
  original->set("a/x/n", "1");
  original->set("a/y/n", "2");
  RuleState copy(*original);
  original->erase("a/x/n");
  original.reset();  // the copy must not point into the original's keys
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(copy.with_prefix("a/"), (Pairs{{"a/x/n", "1"}, {"a/y/n", "2"}}));
  RuleState assigned;
  assigned.set("b/z/n", "3");
  assigned = copy;
  EXPECT_EQ(assigned.with_prefix(""), copy.with_prefix(""));
  EXPECT_EQ(assigned.get("b/z/n"), std::nullopt);
}

}  // namespace
}  // namespace homesafe::rules
