// RuleState's change tracking: what a commit takes, and what it leaves for the next one.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace homesafe::rules
