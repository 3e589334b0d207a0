// Plain HTTP/1.x (RFC 9112): the request's Host, or its absolute-form target,
// names the flow. A request without any name is decided by the ip: rules and
// [inspect] no_sni; a duplicate Host (a smuggling attempt) is flagged.
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
  InspectEnv env_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_HTTP_INSPECTOR_H_
