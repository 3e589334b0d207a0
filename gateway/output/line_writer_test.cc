#include "gateway/output/line_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace vigie {
namespace {

std::string Line(int i) { return "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'x') + "\"}\n"; }

TEST(LineWriterTest, EveryLineTakenCountsWritten) {
  auto path = std::filesystem::temp_directory_path() / ("line_writer_" + std::to_string(getpid()));
  bool owned = false;
  auto fd = OpenLogFile(path.string(), &owned);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_TRUE(owned);
  {
    LineWriter w(*fd);
    for (int i = 0; i < 1000; ++i) w.Append(Line(i));  // several batches
    w.Flush();
    EXPECT_EQ(w.written(), 1000u);
    EXPECT_EQ(w.dropped(), 0u);
  }
  ::close(*fd);
  std::ifstream in(path);
  int n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  EXPECT_EQ(n, 1000);
  std::filesystem::remove(path);
}

// A full disk: /dev/full fails every write with ENOSPC.
TEST(LineWriterTest, AFullDiskCountsEveryLineDropped) {
  int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /dev/full";
  LineWriter w(fd);
  for (int i = 0; i < 700; ++i) w.Append(Line(i));
  w.Flush();
  EXPECT_EQ(w.written(), 0u);
  EXPECT_EQ(w.dropped(), 700u);
  ::close(fd);
}

// A closed pipe (the reader exited): EPIPE, SIGPIPE ignored as the CLI does.
TEST(LineWriterTest, AClosedPipeCountsDroppedAfterWhatItTook) {
  signal(SIGPIPE, SIG_IGN);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  LineWriter w(p[1]);
  w.Append(Line(0));
  w.Flush();  // the pipe takes it
  ::close(p[0]);
  for (int i = 1; i < 500; ++i) w.Append(Line(i));
  w.Flush();
  EXPECT_EQ(w.written(), 1u);
  EXPECT_EQ(w.dropped(), 499u);
  ::close(p[1]);
}

TEST(LineWriterTest, OpenLogFileSaysWhy) {
  bool owned = true;
  auto fd = OpenLogFile("/nonexistent/dir/x.jsonl", &owned);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("/nonexistent/dir/x.jsonl"), std::string_view::npos);
  auto out = OpenLogFile("-", &owned);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, STDOUT_FILENO);
  EXPECT_FALSE(owned);
}

}  // namespace
}  // namespace vigie
