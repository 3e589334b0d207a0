#include "gateway/cli/progress.h"

#include <filesystem>

namespace vigie {

ReplayProgress::ReplayProgress(const std::vector<std::string>& files, FILE* out, bool enabled)
    : out_(out), enabled_(enabled) {
  for (const std::string& f : files) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(f, ec);
    sizes_.push_back(ec ? 0 : static_cast<uint64_t>(n));
    total_bytes_ += sizes_.back();
  }
  start_ = last_ = std::chrono::steady_clock::now();
}

void ReplayProgress::BeginFile(size_t index) {
  if (index_ < sizes_.size() && index != index_) {
    done_bytes_ += sizes_[index_];
    done_frames_ += file_frames_;
  }
  index_ = index;
  file_bytes_ = file_frames_ = 0;
}

void ReplayProgress::OnProgress(uint64_t frames, uint64_t offset) {
  file_frames_ = frames;
  file_bytes_ = offset;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(kProgressIntervalMs)) return;
  last_ = now;
  Print(false);
}

void ReplayProgress::Finish() {
  if (!enabled_) return;
  Print(true);
}

void ReplayProgress::Print(bool last) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const uint64_t bytes = done_bytes_ + file_bytes_;
  const uint64_t frames = done_frames_ + file_frames_;
  const double mbps = secs > 0 ? static_cast<double>(bytes) / 1e6 / secs : 0.0;
  const double pct = total_bytes_ ? 100.0 * static_cast<double>(bytes) / static_cast<double>(total_bytes_) : 100.0;
  // \r and "erase to end of line": the line is rewritten in place.
  std::fprintf(out_, "\r\033[Kvigie: replay file %zu/%zu, %llu packets, %.1f MB, %.1f MB/s, %.0f%%", index_ + 1,
               sizes_.size(), static_cast<unsigned long long>(frames), static_cast<double>(bytes) / 1e6, mbps,
               pct > 100.0 ? 100.0 : pct);
  if (last) {
    std::fprintf(out_, ", %.1f s\n", secs);
  } else if (mbps > 0 && bytes < total_bytes_) {
    const uint64_t eta = static_cast<uint64_t>(static_cast<double>(total_bytes_ - bytes) / 1e6 / mbps);
    std::fprintf(out_, ", ETA %llu:%02llu", static_cast<unsigned long long>(eta / 60),
                 static_cast<unsigned long long>(eta % 60));
  }
  std::fflush(out_);
}

}  // namespace vigie
