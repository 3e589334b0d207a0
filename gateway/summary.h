// The human summary printed at the end of a replay (and on demand by the
// daemon): packets, flows, decisions by app and action, anomalies by reason.
#ifndef VIGIE_GATEWAY_SUMMARY_H_
#define VIGIE_GATEWAY_SUMMARY_H_

#include <cstdio>
#include <string>

#include "gateway/pipeline.h"

namespace vigie {

void PrintSummary(const Pipeline& p, double seconds, FILE* out);
// The same figures as one JSON object (for scripts and tests).
std::string SummaryJson(const Pipeline& p);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SUMMARY_H_
