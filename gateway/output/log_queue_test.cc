#include "gateway/output/log_queue.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;

class LogQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigie_logq_" + std::to_string(getpid()));
    auto p = testing::WritePolicy(dir_, testing::kTiktokOnlyConfig, testing::TiktokOnlyLists());
    ASSERT_TRUE(p.ok()) << p.status();
    policy_ = *p;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Decision D() const {
    Decision d;
    d.ts_us = 1'700'000'000'000'000;
    d.src = *IpAddress::Parse("10.1.2.3");
    d.dst = *IpAddress::Parse("192.0.2.1");
    d.src_port = 40000;
    d.dst_port = 53;
    d.domain = "www.tiktok.com";
    d.domain_raw = "www.tiktok.com";
    d.verdict = policy_->DecideName("www.tiktok.com");
    return d;
  }
  size_t Lines(const fs::path& p) const {
    std::ifstream in(p);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      EXPECT_EQ(line.front(), '{');
      EXPECT_EQ(line.back(), '}');
      ++n;
    }
    return n;
  }

  fs::path dir_;
  std::shared_ptr<const Policy> policy_;
};

TEST_F(LogQueueTest, EveryLineFromEveryWorkerIsWrittenOnStop) {
  fs::path out = dir_ / "decisions.jsonl";
  auto q = LogQueue::Open(out.string(), 2, 100000);
  ASSERT_TRUE(q.ok()) << q.status();
  (*q)->Start();
  Decision d = D();
  std::thread a([&] { for (int i = 0; i < 5000; ++i) (*q)->producer(0)->Write(d, *policy_); });
  std::thread b([&] { for (int i = 0; i < 5000; ++i) (*q)->producer(1)->Write(d, *policy_); });
  a.join();
  b.join();
  (*q)->Stop();
  EXPECT_EQ((*q)->written(), 10000u);
  EXPECT_EQ((*q)->dropped(), 0u);
  EXPECT_EQ(Lines(out), 10000u);
}

TEST_F(LogQueueTest, FullQueueDropsAndCounts) {
  fs::path out = dir_ / "full.jsonl";
  auto q = LogQueue::Open(out.string(), 1, 10);
  ASSERT_TRUE(q.ok());
  Decision d = D();
  // Writer not started: the ring fills up after 10 lines.
  for (int i = 0; i < 25; ++i) (*q)->producer(0)->Write(d, *policy_);
  EXPECT_EQ((*q)->dropped(), 15u);
  (*q)->Stop();
  EXPECT_EQ((*q)->written(), 10u);
  EXPECT_EQ(Lines(out), 10u);
}

// dedup_seconds in `vigie run`: the writer folds the lines of every worker;
// EVE lines, the count in alert.metadata, the summary written at Stop().
TEST_F(LogQueueTest, DedupAcrossWorkersInEve) {
  fs::path out = dir_ / "dedup.jsonl";
  LogOptions o;
  o.format = LogFormat::kEve;
  o.dedup_seconds = 3600;
  auto q = LogQueue::Open(out.string(), 2, o, 100000);
  ASSERT_TRUE(q.ok()) << q.status();
  (*q)->Start();
  Decision d = D();
  d.ts_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::thread a([&] { for (int i = 0; i < 5000; ++i) (*q)->producer(0)->Write(d, *policy_); });
  std::thread b([&] { for (int i = 0; i < 5000; ++i) (*q)->producer(1)->Write(d, *policy_); });
  a.join();
  b.join();
  (*q)->Stop();
  EXPECT_EQ((*q)->dropped(), 0u);
  EXPECT_EQ((*q)->written(), 2u);
  EXPECT_EQ((*q)->dedup_suppressed(), 9999u);
  std::ifstream in(out);
  std::string first, summary, extra;
  ASSERT_TRUE(std::getline(in, first));
  ASSERT_TRUE(std::getline(in, summary));
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(first.find("\"count\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"event_type\":\"alert\""), std::string::npos) << first;
  EXPECT_NE(summary.find("\"count\":[\"9999\"]"), std::string::npos) << summary;
}

TEST(LogQueueOpen, UnwritablePathFails) {
  auto q = LogQueue::Open("/nonexistent-dir/x.jsonl", 1);
  EXPECT_FALSE(q.ok());
}

// /dev/full takes no byte (ENOSPC): every line is dropped, none written.
TEST_F(LogQueueTest, WriteErrorsOnAFullDiskAreDroppedNotWritten) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto q = LogQueue::Open("/dev/full", 1, 1000);
  ASSERT_TRUE(q.ok()) << q.status();
  (*q)->Start();
  Decision d = D();
  for (int i = 0; i < 300; ++i) (*q)->producer(0)->Write(d, *policy_);
  (*q)->Stop();
  EXPECT_EQ((*q)->written(), 0u);
  EXPECT_EQ((*q)->dropped(), 300u);
  EXPECT_EQ((*q)->write_errors(), 300u);
}

// A pipe whose reader went away: EPIPE (SIGPIPE ignored, as `vigie run` does).
TEST_F(LogQueueTest, WritesToAClosedPipeAreDroppedNotWritten) {
  struct sigaction old {};
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &old);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  auto q = LogQueue::Open("/dev/fd/" + std::to_string(p[1]), 1, 1000);
  ASSERT_TRUE(q.ok()) << q.status();
  close(p[1]);  // the queue holds its own descriptor
  // Some lines go through while the reader is there.
  Decision d = D();
  for (int i = 0; i < 10; ++i) (*q)->producer(0)->Write(d, *policy_);
  (*q)->Start();
  for (int i = 0; i < 200 && (*q)->written() < 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ((*q)->written(), 10u);
  close(p[0]);
  for (int i = 0; i < 50; ++i) (*q)->producer(0)->Write(d, *policy_);
  (*q)->Stop();
  EXPECT_EQ((*q)->written(), 10u);
  EXPECT_EQ((*q)->dropped(), 50u);
  sigaction(SIGPIPE, &old, nullptr);
}

// mv + RequestReopen: older lines stay in the moved file, newer ones go to
// a new file at the path; none lost.
TEST_F(LogQueueTest, ReopenAfterMoveWritesANewFileAtThePath) {
  fs::path out = dir_ / "rot.jsonl";
  fs::path moved = dir_ / "rot.jsonl.1";
  auto q = LogQueue::Open(out.string(), 1, 1000);
  ASSERT_TRUE(q.ok()) << q.status();
  (*q)->Start();
  Decision d = D();
  for (int i = 0; i < 7; ++i) (*q)->producer(0)->Write(d, *policy_);
  for (int i = 0; i < 200 && (*q)->written() < 7; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  fs::rename(out, moved);
  (*q)->RequestReopen();
  for (int i = 0; i < 200 && (*q)->reopens() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ((*q)->reopens(), 1u);
  for (int i = 0; i < 5; ++i) (*q)->producer(0)->Write(d, *policy_);
  (*q)->Stop();
  EXPECT_EQ(Lines(moved), 7u);
  EXPECT_EQ(Lines(out), 5u);
  EXPECT_EQ((*q)->written(), 12u);
  EXPECT_EQ((*q)->dropped(), 0u);
}

}  // namespace
}  // namespace vigie
