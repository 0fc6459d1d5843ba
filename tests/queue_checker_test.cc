// The queue checker on small hand-made histories: each anomaly it names is planted once, and a
// clean history of the same shape passes. The simulator's planted bugs test it end to end; these
// pin each check's reading (which of two offsets it reports, what excuses a finding).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/checkers/queue_checker.h"

namespace samsa::sim {
namespace {

Instant at_s(int s) { return Instant{static_cast<int64_t>(s) * 1'000'000'000}; }

SendRecord ok_send(int producer, int32_t partition, std::vector<std::string> values, std::vector<int64_t> offsets, int s) {
  SendRecord r;
  r.producer = producer;
  r.partition = partition;
  r.values = std::move(values);
  r.offsets = std::move(offsets);
  r.invoked = at_s(s);
  r.completed = at_s(s);
  r.outcome = SendRecord::Outcome::ok;
  return r;
}

PollRecord poll(int consumer, std::vector<Observation> records, int s) {
  PollRecord p;
  p.consumer = consumer;
  p.records = std::move(records);
  p.invoked = at_s(s);
  p.at = at_s(s);
  return p;
}

// Three values sent to partition 0 at offsets 0-2, read in order, and read again at the end.
QueueHistory clean() {
  QueueHistory h;
  h.partitions = 1;
  h.sends.push_back(ok_send(1, 0, {"a", "b"}, {0, 1}, 1));
  h.sends.back().atomic = true;
  h.sends.push_back(ok_send(1, 0, {"c"}, {2}, 2));
  h.polls.push_back(poll(1, {{0, 0, "a"}, {0, 1, "b"}}, 3));
  h.polls.push_back(poll(1, {{0, 2, "c"}}, 4));
  h.final_read = {{0, 0, "a"}, {0, 1, "b"}, {0, 2, "c"}};
  return h;
}

const CheckResult& find(const std::vector<CheckResult>& results, const std::string& name) {
  for (const CheckResult& c : results) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no check named " << name;
  return results.front();
}

std::string first_example(const std::vector<CheckResult>& results, const std::string& name) {
  const CheckResult& c = find(results, name);
  return c.examples.empty() ? std::string() : c.examples.front();
}

// Whether the check's first example contains `text`; the failure message shows the example.
::testing::AssertionResult example_has(const std::vector<CheckResult>& results, const std::string& name,
                                       const std::string& text) {
  const std::string example = first_example(results, name);
  if (example.find(text) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << name << "'s first example is '" << example << "', not containing '" << text << "'";
}

// The names of the checks that found an anomaly.
std::vector<std::string> failed(const std::vector<CheckResult>& results) {
  std::vector<std::string> out;
  for (const CheckResult& c : results) {
    if (c.anomalies > 0) out.push_back(c.name);
  }
  return out;
}

TEST(QueueChecker, ACleanHistoryPassesEveryCheck) {
  const std::vector<CheckResult> r = check_queue(clean());
  EXPECT_TRUE(failed(r).empty()) << ::testing::PrintToString(failed(r));
  EXPECT_EQ(find(r, "lost-write").examined, 3u);
  EXPECT_EQ(find(r, "inconsistent-offsets").examined, 3u);
  EXPECT_EQ(find(r, "duplicate").examined, 3u);
  EXPECT_EQ(find(r, "int-send-skip").examined, 1u);
  EXPECT_EQ(find(r, "poll-skip").examined, 2u);
}

TEST(QueueChecker, AnAcknowledgedValueNeverReadIsLostWhenLaterOffsetsWereReadElseUnseen) {
  QueueHistory h = clean();
  h.polls.clear();
  h.final_read = {{0, 0, "a"}, {0, 2, "c"}};  // b is gone, c after it was read
  std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"lost-write"});
  EXPECT_TRUE(example_has(r, "lost-write", "'b' acknowledged at 0-1"));

  h.final_read = {{0, 0, "a"}, {0, 1, "b"}};  // c, the last, was never read: unseen
  r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"unseen"});
}

TEST(QueueChecker, TwoValuesAtOneOffsetAreInconsistentAndNameBothInOrder) {
  QueueHistory h = clean();
  h.polls.push_back(poll(2, {{0, 1, "z"}}, 5));
  h.polls.back().ordered = false;
  const std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"inconsistent-offsets"});
  EXPECT_TRUE(example_has(r, "inconsistent-offsets", "0-1 holds 'b' and 'z' (first seen at 1.000 s)"));
}

TEST(QueueChecker, AValueReadAtTwoOffsetsIsADuplicateUnlessItsSendWasRetried) {
  QueueHistory h = clean();
  h.final_read.push_back({0, 3, "a"});
  std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"duplicate"});
  EXPECT_TRUE(example_has(r, "duplicate", "'a' at 0-0 and 0-3"));

  h.sends[0].retried_after_ambiguous = true;
  r = check_queue(h);
  EXPECT_TRUE(failed(r).empty());
  EXPECT_EQ(find(r, "duplicate").excused, 1u);
}

TEST(QueueChecker, AValueOfAFailedSendThatWasReadIsG1a) {
  QueueHistory h = clean();
  SendRecord f;
  f.producer = 2;
  f.values = {"x", "y"};
  f.invoked = at_s(2);
  f.outcome = SendRecord::Outcome::failed;
  h.sends.push_back(f);
  h.final_read.push_back({0, 3, "y"});
  const std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"G1a"});
  EXPECT_TRUE(example_has(r, "G1a", "'y' from a send that failed is at 0-3"));
}

TEST(QueueChecker, AnAtomicSendFoundApartIsAnIntSendSkip) {
  QueueHistory h = clean();
  h.sends[0].offsets = {0, 2};
  h.sends[1].offsets = {1};
  h.sends[1].producer = 2;  // another producer's record between them
  h.polls.clear();
  h.final_read = {{0, 0, "a"}, {0, 1, "c"}, {0, 2, "b"}};
  const std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"int-send-skip"});
  EXPECT_TRUE(example_has(r, "int-send-skip", "'a' at 0-0 but 'b' at 0-2"));
}

TEST(QueueChecker, AConsumerPassingAnOffsetThatExistsSkippedItUnlessAFaultPutItAtRisk) {
  QueueHistory h = clean();
  h.polls = {poll(1, {{0, 0, "a"}, {0, 2, "c"}}, 3)};
  std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"poll-skip"});
  EXPECT_TRUE(example_has(r, "poll-skip", "consumer 1: read 0-2 after 0-0"));

  h.risks.push_back(RiskWindow{.fault = "power loss", .at = at_s(10), .partition = 0, .from_offset = 1, .to_offset = 1});
  r = check_queue(h);
  EXPECT_TRUE(failed(r).empty());
  EXPECT_EQ(find(r, "poll-skip").excused, 1u);
}

TEST(QueueChecker, AConsumerGoingBackIsNonmonotonicPoll) {
  QueueHistory h = clean();
  h.polls.push_back(poll(1, {{0, 1, "b"}}, 5));
  const std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"nonmonotonic-poll"});
}

TEST(QueueChecker, AnOffsetAcknowledgedBelowAnEarlierOneIsNonmonotonicSend) {
  QueueHistory h = clean();
  h.sends[1].offsets = {1};
  h.polls.clear();
  h.final_read = {{0, 0, "a"}, {0, 1, "b"}};
  // Offset 1 was acknowledged twice: the first acknowledgement ('b') is the one kept, so 'c'
  // is neither unseen nor inconsistent with what the final read found there.
  const std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(failed(r), std::vector<std::string>{"nonmonotonic-send"});
}

TEST(QueueChecker, AValueReadOnlyAtAnotherOffsetThanItsAcknowledgementIsNeitherLostNorUnseen) {
  QueueHistory h = clean();
  h.polls.clear();
  h.final_read = {{0, 0, "a"}, {0, 2, "c"}, {0, 5, "b"}};
  const std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(find(r, "lost-write").anomalies, 0u);
  EXPECT_EQ(find(r, "unseen").anomalies, 0u);
}

TEST(QueueChecker, ADuplicateIsExcusedByTheLastSendOfItsValue) {
  QueueHistory h = clean();
  h.final_read.push_back({0, 3, "c"});
  h.sends.push_back(ok_send(1, 0, {"c"}, {3}, 3));  // 'c' sent again: its last send decides
  h.sends.back().retried_after_ambiguous = true;
  std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(find(r, "duplicate").anomalies, 0u);
  EXPECT_EQ(find(r, "duplicate").excused, 1u);

  std::swap(h.sends[1].retried_after_ambiguous, h.sends[2].retried_after_ambiguous);
  r = check_queue(h);
  EXPECT_EQ(find(r, "duplicate").anomalies, 1u);
}

TEST(QueueChecker, ADuplicateNamesItsLowestAndHighestOffsets) {
  QueueHistory h = clean();
  h.final_read.push_back({0, 9, "a"});
  h.final_read.push_back({0, 4, "a"});
  const std::vector<CheckResult> r = check_queue(h);
  EXPECT_TRUE(example_has(r, "duplicate", "'a' at 0-0 and 0-9"));
}

TEST(QueueChecker, TheFinalReadsFirstValueAtAnOffsetIsTheOneReadsAreJudgedAgainst) {
  // A consumer that read 0-1 as 'x' and went on: 0-1 holds 'b' in the final log (its first
  // answer there), so the consumer's reads after 0-0 disagree with it and it skipped 0-1.
  QueueHistory h = clean();
  h.final_read.push_back({0, 1, "x"});
  h.polls = {poll(1, {{0, 0, "a"}}, 3), poll(1, {{0, 1, "x"}, {0, 2, "c"}}, 4)};
  std::vector<CheckResult> r = check_queue(h);
  EXPECT_EQ(find(r, "poll-skip").anomalies, 1u) << first_example(r, "poll-skip");

  h.final_read = {{0, 0, "a"}, {0, 1, "x"}, {0, 1, "b"}, {0, 2, "c"}};  // 'x' first: the reads agree
  r = check_queue(h);
  EXPECT_EQ(find(r, "poll-skip").anomalies, 0u) << first_example(r, "poll-skip");
}

}  // namespace
}  // namespace samsa::sim
