// QUIC Initial packets (RFC 9000 §17.2.2, RFC 9001 §5): the client's Initials
// are decrypted with keys from their Destination Connection ID, their CRYPTO
// frames reassembled by offset (the flow's stream, offset 0 fixed) until the
// ClientHello is whole, which DecideClientHello then decides. Coalesced
// packets are walked; a Retry or a new DCID restarts the hello; the client's
// later Initials to the server's chosen DCID use the first DCID's keys.
// QUIC is recognised by content (classifiers/quic.h LooksLikeQuicInitial: the
// QUIC bit may be cleared, RFC 9287; datagrams under 1200 bytes are not
// Initials a server reads, RFC 9000 §14.1), on any port; and the direction
// too: only the client's Initial decrypts with keys from its own DCID, so a
// flow first guessed the other way round (a client sending from port 443) is
// turned round when such an Initial comes from its "server".
//
// Thread safety: one per worker (InspectEnv); it owns the worker's OpenSSL
// contexts and the decryption buffer (allocated once).
#ifndef VIGIE_GATEWAY_INSPECT_QUIC_INSPECTOR_H_
#define VIGIE_GATEWAY_INSPECT_QUIC_INSPECTOR_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "classifiers/quic.h"
#include "gateway/inspect/inspector.h"

namespace vigie {

class QuicInspector {
 public:
  explicit QuicInspector(InspectEnv env) : env_(env), plain_(kMaxQuicDatagram) {}

  // A UDP datagram of a QUIC flow (either direction; the server's are skipped).
  void OnDatagram(const PacketContext& cx, PacketVerdict* v);

 private:
  InspectEnv env_;
  QuicInitialDecryptor quic_;   // OpenSSL contexts, one per worker
  std::vector<uint8_t> plain_;  // decrypted Initial packet
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_QUIC_INSPECTOR_H_
