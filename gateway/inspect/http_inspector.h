// Plain HTTP/1.x (RFC 9112): every request of a connection is decided, as
// the server reads them: keep-alive and pipelined requests one after the
// other, each body skipped by its framing (Content-Length, chunked). A
// request names its host by Host or by its absolute-form target; when a
// server could read more than one host (two Host lines, a target naming
// another), each is decided and the strictest kept (reason conflict). A
// request without any name is decided by the ip: rules and [inspect] no_sni.
// Framing a server would read differently (conflicting Content-Length /
// Transfer-Encoding) or a duplicate Host ends the inspection: what follows
// is uninspectable ([inspect] uninspected).
//
// Thread safety: one per worker (InspectEnv).
#ifndef VIGIE_GATEWAY_INSPECT_HTTP_INSPECTOR_H_
#define VIGIE_GATEWAY_INSPECT_HTTP_INSPECTOR_H_

#include "absl/types/span.h"
#include "gateway/inspect/inspector.h"

namespace vigie {

class HttpInspector {
 public:
  explicit HttpInspector(InspectEnv env) : env_(env) {}

  // Client stream bytes of an HTTP flow.
  void OnStream(absl::Span<const uint8_t> data, bool in_place, const PacketContext& cx, PacketVerdict* v);

 private:
  // Ends the inspection after a decided request: what follows is read
  // differently by different servers (uninspected, `why`).
  void GiveUpAfter(const PacketContext& cx, std::string_view why, PacketVerdict* v);
  InspectEnv env_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_HTTP_INSPECTOR_H_
