#include "gateway/output/log_file.h"

#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Lines(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string Line(int i) { return "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(80, 'x') + "\"}\n"; }

struct TmpDir {
  fs::path dir = fs::temp_directory_path() / ("vigie_logfile_" + std::to_string(getpid()));
  TmpDir() { fs::create_directories(dir); }
  ~TmpDir() { fs::remove_all(dir); }
};

// Size rotation: whole lines, no file over max_bytes, PATH.1..PATH.keep, the
// oldest removed, the newest lines all kept in order, every line counted.
TEST(LogFile, RotatesBySizeBetweenLines) {
  TmpDir t;
  const fs::path log = t.dir / "d.jsonl";
  constexpr int kLines = 1000;
  auto f = LogFile::Open(log.string(), LogRotation{4096, 3});
  ASSERT_TRUE(f.ok()) << f.status();
  for (int i = 0; i < kLines; ++i) {
    (*f)->Append(Line(i));
    if (i % 97 == 0) (*f)->Flush();  // batches of every size
  }
  (*f)->Flush();
  EXPECT_EQ((*f)->written(), static_cast<uint64_t>(kLines));
  EXPECT_EQ((*f)->dropped(), 0u);
  EXPECT_GT((*f)->rotations(), 3u);
  EXPECT_FALSE(fs::exists(log.string() + ".4"));
  std::vector<std::string> all;
  for (const char* suffix : {".3", ".2", ".1", ""}) {
    fs::path p = log.string() + suffix;
    ASSERT_TRUE(fs::exists(p)) << p;
    EXPECT_LE(fs::file_size(p), 4096u) << p;
    for (const std::string& l : Lines(p)) all.push_back(l);
  }
  ASSERT_FALSE(all.empty());
  const int first = kLines - static_cast<int>(all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i] + "\n", Line(first + static_cast<int>(i)));
}

// A line longer than max_bytes still goes out, alone in its file.
TEST(LogFile, LineLongerThanMaxBytesIsWrittenAlone) {
  TmpDir t;
  const fs::path log = t.dir / "d.jsonl";
  auto f = LogFile::Open(log.string(), LogRotation{4096, 2});
  ASSERT_TRUE(f.ok());
  (*f)->Append(Line(1));
  std::string big = std::string(5000, 'y') + "\n";
  (*f)->Append(big);
  (*f)->Append(Line(2));
  (*f)->Flush();
  EXPECT_EQ((*f)->written(), 3u);
  EXPECT_EQ(Lines(log.string() + ".2"), std::vector<std::string>{Line(1).substr(0, Line(1).size() - 1)});
  EXPECT_EQ(fs::file_size(log.string() + ".1"), big.size());
  EXPECT_EQ(Lines(log), std::vector<std::string>{Line(2).substr(0, Line(2).size() - 1)});
}

// Rotation counts the bytes already in the file it appends to, and a reopen
// (logrotate moved the file) starts a new one.
TEST(LogFile, ExistingSizeAndReopen) {
  TmpDir t;
  const fs::path log = t.dir / "d.jsonl";
  { std::ofstream(log) << std::string(4000, 'z') << "\n"; }
  auto f = LogFile::Open(log.string(), LogRotation{4096, 1});
  ASSERT_TRUE(f.ok());
  (*f)->Append(Line(1));
  (*f)->Flush();
  EXPECT_EQ((*f)->rotations(), 1u);
  EXPECT_EQ(fs::file_size(log.string() + ".1"), 4001u);
  fs::rename(log, t.dir / "moved");
  (*f)->Reopen();
  (*f)->Append(Line(2));
  (*f)->Flush();
  EXPECT_EQ((*f)->reopens(), 1u);
  EXPECT_EQ(Lines(log).size(), 1u);
  EXPECT_EQ(Lines(t.dir / "moved").size(), 1u);
}

// A full disk: /dev/full fails every write with ENOSPC; every line counts dropped.
TEST(LogFile, AFullDiskCountsEveryLineDropped) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto f = LogFile::Open("/dev/full", LogRotation{});
  ASSERT_TRUE(f.ok()) << f.status();
  for (int i = 0; i < 700; ++i) (*f)->Append(Line(i));
  (*f)->Flush();
  EXPECT_EQ((*f)->written(), 0u);
  EXPECT_EQ((*f)->dropped(), 700u);
}

// A closed pipe (the reader exited): EPIPE, SIGPIPE ignored as the CLI does;
// what the pipe took counts written, the rest dropped.
TEST(LogFile, AClosedPipeCountsDroppedAfterWhatItTook) {
  signal(SIGPIPE, SIG_IGN);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  auto f = LogFile::Open("/proc/self/fd/" + std::to_string(p[1]), LogRotation{});
  ::close(p[1]);
  ASSERT_TRUE(f.ok()) << f.status();
  (*f)->Append(Line(0));
  (*f)->Flush();  // the pipe takes it
  ::close(p[0]);
  for (int i = 1; i < 500; ++i) (*f)->Append(Line(i));
  (*f)->Flush();
  EXPECT_EQ((*f)->written(), 1u);
  EXPECT_EQ((*f)->dropped(), 499u);
}

TEST(LogFile, OpenSaysWhy) {
  auto f = LogFile::Open("/nonexistent/dir/x.jsonl", LogRotation{});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("/nonexistent/dir/x.jsonl"), std::string_view::npos);
}

}  // namespace
}  // namespace vigie
