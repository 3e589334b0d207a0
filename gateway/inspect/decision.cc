#include "gateway/inspect/decision.h"

namespace vigie {

std::string_view ProtoName(Proto p) {
  switch (p) {
    case Proto::kDns: return "dns";
    case Proto::kTls: return "tls";
    case Proto::kQuic: return "quic";
    case Proto::kHttp: return "http";
    case Proto::kIp: return "ip";
  }
  return "?";
}

bool ShouldLog(const Decision& d, LogMode mode) {
  switch (mode) {
    case LogMode::kAll:
      return true;
    case LogMode::kBlocked:
      return d.verdict.action == Action::kBlock;
    case LogMode::kDecisions:
      // Everything but the silent cases: a name no list knows, an unmanaged source.
      return d.verdict.reason != Reason::kNoMatch && d.verdict.reason != Reason::kUnmanaged;
  }
  return true;
}

}  // namespace vigie
