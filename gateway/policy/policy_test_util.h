// Shared by the policy tests: a temporary config and lists directory.
#ifndef VIGIE_GATEWAY_POLICY_POLICY_TEST_UTIL_H_
#define VIGIE_GATEWAY_POLICY_POLICY_TEST_UTIL_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace vigie {

// A temporary directory with a config file and a lists/ directory.
class TempSetup {
 public:
  explicit TempSetup(const std::string& name) {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("vigie_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "lists");
  }
  ~TempSetup() { std::filesystem::remove_all(dir_); }
  void List(const std::string& app, const std::string& text) const {
    std::ofstream(dir_ / "lists" / (app + ".list")) << text;
  }
  std::string Config(const std::string& text) const {
    std::filesystem::path p = dir_ / "vigie.toml";
    std::ofstream(p) << text;
    return p.string();
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_POLICY_POLICY_TEST_UTIL_H_
