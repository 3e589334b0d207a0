// Runs a fuzz target without libFuzzer (GCC builds, ctest): over every file
// named on the command line (directories: every file inside), then over
// deterministic mutations of the built-in seeds: the seeds themselves, every
// truncation, and N seeded random byte flips / insertions / deletions.
//
//   fuzz_replay_<target> [--mutations N] [FILE|DIR...]
//   fuzz_replay_<target> --write-seeds DIR   writes each seed as DIR/seed-N
//                                            (the start of regressions/<t>/)
#include <algorithm>
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

// With VIGIE_FUZZ_LAST=FILE each input is written to FILE before it runs, so
// the one that broke a contract (the run aborts) is there to keep as a
// regression input.
void Run(const std::vector<uint8_t>& in) {
  static const char* last = std::getenv("VIGIE_FUZZ_LAST");
  if (last != nullptr) {
    std::ofstream(last, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(in.data()), static_cast<std::streamsize>(in.size()));
  }
  LLVMFuzzerTestOneInput(in.data(), in.size());
}

}  // namespace

int main(int argc, char** argv) {
  size_t mutations = 2000;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--write-seeds" && i + 1 < argc) {
      const std::filesystem::path dir = argv[++i];
      std::filesystem::create_directories(dir);
      size_t n = 0;
      for (const auto& seed : FuzzSeeds()) {
        const std::filesystem::path p = dir / ("seed-" + std::to_string(++n));
        std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(seed.data()),
                                                  static_cast<std::streamsize>(seed.size()));
        std::printf("%s\n", p.c_str());
      }
      return 0;
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a)) {
        if (e.is_regular_file() && e.path().filename() != ".keep") files.push_back(e.path());
      }
    } else {
      files.emplace_back(a);
    }
  }
  std::sort(files.begin(), files.end());
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
    // Truncations: every one for a small seed, ~kTruncations evenly spread
    // for a large one (a pipeline seed of many frames).
    constexpr size_t kTruncations = 512;
    const size_t step = seed.size() / kTruncations + 1;
    for (size_t k = 0; k < seed.size(); k += step) {
      Run(std::vector<uint8_t>(seed.begin(), seed.begin() + static_cast<long>(k)));
      ++runs;
    }
    ++runs;
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
  std::printf("%zu files and %zu inputs run, no contract broken\n", files.size(), runs);
  return 0;
}
