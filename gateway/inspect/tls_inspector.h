// TLS over TCP (RFC 8446 §4.1.2): the ClientHello, reassembled across TCP
// segments and TLS records, names the flow by its server_name (RFC 6066 §3);
// ALPN and ECH are recorded. A second ClientHello after a HelloRetryRequest
// (RFC 8446 §4.1.4) is decided too, up to kMaxClientHellosPerFlow.
//
// DecideClientHello is shared with QUIC, whose CRYPTO stream carries the same
// ClientHello (RFC 9001 §4.1).
//
// Thread safety: one per worker (InspectEnv). Allocation: the scratch buffer
// for record reassembly is allocated once, with the inspector.
#ifndef VIGIE_GATEWAY_INSPECT_TLS_INSPECTOR_H_
#define VIGIE_GATEWAY_INSPECT_TLS_INSPECTOR_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "classifiers/tls.h"
#include "gateway/inspect/inspector.h"

namespace vigie {

// ClientHellos inspected per TCP connection: the first, and the second one
// sent after a HelloRetryRequest (RFC 8446 §4.1.4).
inline constexpr uint8_t kMaxClientHellosPerFlow = 2;

// Decides a whole ClientHello (TLS or QUIC) and counts what it showed.
void DecideClientHello(const ClientHelloInfo& ch, Proto proto, const PacketContext& cx, const InspectEnv& env,
                       PacketVerdict* v);

class TlsInspector {
 public:
  explicit TlsInspector(InspectEnv env) : env_(env), scratch_(kMaxClientHelloBytes) {}

  // Client stream bytes of a TLS flow.
  void OnStream(absl::Span<const uint8_t> data, bool in_place, const PacketContext& cx, PacketVerdict* v);

 private:
  InspectEnv env_;
  std::vector<uint8_t> scratch_;  // a ClientHello fragmented over records, joined
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_TLS_INSPECTOR_H_
