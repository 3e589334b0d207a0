// Runs a fuzz target without libFuzzer (GCC builds, ctest): over every file
// named on the command line (directories: every file inside), then over
// deterministic mutations of the built-in seeds: the seeds themselves, every
// truncation, and N seeded random byte flips / insertions / deletions.
//
//   fuzz_replay_<target> [--mutations N] [FILE|DIR...]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Seeds for this target (fuzz_seeds.cc).
std::vector<std::vector<uint8_t>> FuzzSeeds();

namespace {

void Run(const std::vector<uint8_t>& in) { LLVMFuzzerTestOneInput(in.data(), in.size()); }

}  // namespace

int main(int argc, char** argv) {
  size_t mutations = 2000;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a)) files.push_back(e.path());
    } else {
      files.emplace_back(a);
    }
  }
  size_t runs = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Run(bytes);
    ++runs;
  }
  std::mt19937 rng(20261123);
  for (const auto& seed : FuzzSeeds()) {
    Run(seed);
    for (size_t k = 0; k < seed.size(); ++k) Run(std::vector<uint8_t>(seed.begin(), seed.begin() + k));
    runs += 1 + seed.size();
    for (size_t m = 0; m < mutations; ++m) {
      std::vector<uint8_t> x = seed;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !x.empty(); ++e) {
        size_t at = rng() % x.size();
        switch (rng() % 3) {
          case 0: x[at] = static_cast<uint8_t>(rng()); break;
          case 1: x.insert(x.begin() + static_cast<long>(at), static_cast<uint8_t>(rng())); break;
          default: x.erase(x.begin() + static_cast<long>(at)); break;
        }
      }
      Run(x);
      ++runs;
    }
  }
  std::printf("%zu inputs run, no crash\n", runs);
  return 0;
}
