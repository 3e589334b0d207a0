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
#include <string_view>
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

  // The server_name entries of a ClientHello whole in the client Initials of
  // `datagram` alone (CRYPTO from offset 0; keys from its own DCID, or the
  // flow's first), without touching the flow: for the other reading of a
  // datagram whose IP fragments conflicted (pipeline.h). kOk: *n names (views
  // into a buffer of this inspector, valid until the next call); kNeedMore:
  // the hello is not whole in it (it goes on in other datagrams); kMalformed:
  // no client Initial or no hello a server would read.
  ParseStatus ReadHelloNames(absl::Span<const uint8_t> datagram, const Flow& flow, std::string_view* names,
                             size_t* n);

 private:
  InspectEnv env_;
  QuicInitialDecryptor quic_;   // OpenSSL contexts, one per worker
  std::vector<uint8_t> plain_;  // decrypted Initial packet
  std::vector<uint8_t> alt_plain_;   // ReadHelloNames: its decrypted packet and CRYPTO
  std::vector<uint8_t> alt_crypto_;  // (allocated on first use)
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_QUIC_INSPECTOR_H_
