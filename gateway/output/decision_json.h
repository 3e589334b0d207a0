// Stage output: the JSON writer (json.h), decision lines, the log queue,
// syslog, metrics (stats.h, metrics_server.h) and summaries (summary.h).
// May depend on: enforce, inspect, policy, base; Boost.Beast (metrics).
// Knows nothing of sources or the CLI.
//
// The decision log's line format (DESIGN.md "Decision event") and the sink
// that writes it to a file or standard output.
//
// FormatDecision turns one Decision into one JSON object through the one
// JsonWriter (output/json.h). JsonLineSink is the synchronous sink of
// `vigie replay`; `vigie run` formats on the workers and writes through
// LogQueue (output/log_queue.h).
//
// Thread safety: a JsonLineSink belongs to one thread.
#ifndef VIGIE_GATEWAY_OUTPUT_DECISION_JSON_H_
#define VIGIE_GATEWAY_OUTPUT_DECISION_JSON_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/inspect/decision.h"
#include "gateway/output/json.h"
#include "gateway/policy/policy.h"

namespace vigie {

// Appends the JSON object (no newline) for `d` to `out`. `policy` names apps
// and lists.
void FormatDecision(const Decision& d, const Policy& policy, std::string* out);

// "2026-11-23T14:53:57.146580Z" (RFC 3339, UTC, microseconds), with quotes.
void AppendJsonTimestamp(uint64_t us, std::string* out);

// The rule's provenance: "tiktok.list:42", the list file relative to the
// lists dir and its line (Rule::source()).
std::string RuleSource(const RuleMatch& m);

// Writes JSON lines to a FILE (a file or standard output).
class JsonLineSink : public DecisionSink {
 public:
  // `path` "-" is standard output. Fails if the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<JsonLineSink>> Open(const std::string& path);
  ~JsonLineSink() override;
  void Write(const Decision& d, const Policy& policy) override;
  void Flush() override;
  uint64_t written() const { return written_; }

 private:
  JsonLineSink(FILE* f, bool owned) : f_(f), owned_(owned) {}
  FILE* f_;
  bool owned_;
  std::string line_;
  uint64_t written_ = 0;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_DECISION_JSON_H_
