// DNS queries (RFC 1035): one message per UDP datagram, or length-prefixed
// messages over TCP (RFC 1035 §4.2.2, RFC 7766), several per connection and
// split across segments. Every question of a query is decided; responses and
// non-QUERY opcodes are not.
//
// Thread safety: one per worker (InspectEnv).
#ifndef VIGIE_GATEWAY_INSPECT_DNS_INSPECTOR_H_
#define VIGIE_GATEWAY_INSPECT_DNS_INSPECTOR_H_

#include "absl/types/span.h"
#include "gateway/inspect/inspector.h"

namespace vigie {

class DnsInspector {
 public:
  explicit DnsInspector(InspectEnv env) : env_(env) {}

  // One whole DNS message (a UDP payload, or one TCP-framed message).
  void OnMessage(absl::Span<const uint8_t> msg, const PacketContext& cx, PacketVerdict* v);
  // Client stream bytes of a DNS-over-TCP flow (`in_place`: a view of the
  // segment itself, to be retained if a message is still incomplete).
  void OnTcpStream(absl::Span<const uint8_t> data, bool in_place, const PacketContext& cx, PacketVerdict* v);

 private:
  InspectEnv env_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_DNS_INSPECTOR_H_
