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
#include "gateway/output/community_id.h"
#include "gateway/output/dedup.h"
#include "gateway/output/json.h"
#include "gateway/output/line_writer.h"
#include "gateway/policy/policy.h"

namespace vigie {

// How decision lines are written ([log] format, community_id_seed,
// dedup_seconds; --log-format).
struct LogOptions {
  LogFormat format = LogFormat::kVigie;
  uint16_t community_id_seed = 0;
  // Whether a block decision drops the packet: `vigie run` inline. EVE then
  // writes event_type "drop" (Suricata's drop event, with alert.action
  // "blocked"); replay only records and monitor mode resets without dropping,
  // so their blocks are event_type "alert" with alert.action "blocked".
  bool drops = false;
  uint32_t dedup_seconds = 0;  // 0: every decision is written
};
// The options a config asks for (drops: inline mode).
LogOptions LogOptionsFrom(const Config& c);

// The Community ID v1 of the decision's 5-tuple (src/dst, ports, transport:
// the innermost header, client -> server; the value is the same both ways).
// Empty when the decision has no address family.
std::string_view DecisionCommunityId(const Decision& d, const CommunityIdHasher& h, CommunityIdBuffer* buf);

// Appends the JSON object (no newline) for `d` to `out`. `policy` names apps
// and lists. `community_id` (may be empty: left out) follows flow_id.
void FormatDecision(const Decision& d, const Policy& policy, std::string_view community_id, std::string* out);
// Same, with the Community ID for seed 0.
void FormatDecision(const Decision& d, const Policy& policy, std::string* out);

// Appends one EVE line for `d` (output/eve.h, ending in '\n'): the mapping
// documented in README "EVE output". `*metadata_end`: as AppendEve.
void FormatDecisionEve(const Decision& d, const Policy& policy, std::string_view community_id, bool drops,
                       std::string* out, size_t* metadata_end);

// One line per decision in the configured format, with its Community ID:
// what JsonLineSink and LogQueue's producers use. Thread safety: const, safe
// from any thread (one output string per thread). Allocation: none beyond
// growing `out` (and FormatDecision's rule_source string).
class DecisionFormatter {
 public:
  explicit DecisionFormatter(const LogOptions& o) : opts_(o), hasher_(o.community_id_seed) {}
  // Appends the line (ending in '\n') to `out`; `*summary_at` (optional): the
  // offset where a dedup summary's members go (DedupTable).
  void AppendLine(const Decision& d, const Policy& policy, std::string* out, size_t* summary_at = nullptr) const;
  const LogOptions& options() const { return opts_; }

 private:
  LogOptions opts_;
  CommunityIdHasher hasher_;
};

// The key a decision is deduplicated on: the name as logged (normalised, or
// as on the wire when it did not normalise).
inline std::string_view DedupName(const Decision& d) { return d.domain.empty() ? d.domain_raw : d.domain; }

// "2026-11-23T14:53:57.146580Z" (RFC 3339, UTC, microseconds), with quotes.
void AppendJsonTimestamp(uint64_t us, std::string* out);

// The rule's provenance: "tiktok.list:42", the list file relative to the
// lists dir and its line (Rule::source()).
std::string RuleSource(const RuleMatch& m);

// Writes decision lines to a file or standard output, in the options'
// format, deduplicated when dedup_seconds > 0 (windows close by packet time,
// and all at Finish()), through a LineWriter (line_writer.h): a line the
// file did not take (full disk, closed pipe) is counted dropped, not written.
class JsonLineSink : public DecisionSink, private LineOutput {
 public:
  // `path` "-" is standard output. Fails if the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<JsonLineSink>> Open(const std::string& path,
                                                            const LogOptions& opts = LogOptions());
  ~JsonLineSink() override;
  void Write(const Decision& d, const Policy& policy) override;
  void Flush() override;
  // Closes every dedup window (writing its summary) and flushes; the end of
  // a replay. Called by the destructor too.
  void Finish();
  // Lines, summaries included; exact once Finish() (or Flush()) ran.
  uint64_t written() const { return out_.written(); }
  uint64_t dropped() const { return out_.dropped(); }
  const DedupTable* dedup() const { return dedup_.get(); }

 private:
  JsonLineSink(int fd, bool owned, const LogOptions& opts);
  void WriteLine(std::string_view line, Action action) override;
  bool owned_;
  LineWriter out_;
  DecisionFormatter fmt_;
  std::unique_ptr<DedupTable> dedup_;
  std::string line_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_DECISION_JSON_H_
