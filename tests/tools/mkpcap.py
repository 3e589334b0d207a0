#!/usr/bin/env python3
"""mkpcap: write small, exact pcap captures for Vigie's tests (stdlib only).

Library + CLI. Every byte written is built here by hand, field by field, so that a
test knows exactly which frame carries which query or ClientHello:

  * pcap: classic libpcap format (magic 0xa1b2c3d4, v2.4), LINKTYPE_ETHERNET,
    microsecond timestamps.
  * Ethernet II, optional 802.1Q / QinQ tags, optional padding to 60 bytes.
  * IPv4 (header checksum) and IPv6 (optional hop-by-hop / destination-options
    extension headers); UDP and TCP checksums over the right pseudo-header.
  * DNS queries (RFC 1035 4.1), optional EDNS(0) OPT record (RFC 6891).
  * TCP connections: SYN, SYN-ACK, ACK, client data segments with correct sequence
    numbers (any segmentation / order / retransmission / overlap), server ACK, FIN.
  * TLS 1.3 ClientHellos (RFC 8446 4.1.2) with SNI, ALPN, supported_versions,
    supported_groups, key_share (optional X25519MLKEM768 hybrid share), optional
    GREASE (RFC 8701) and optional ECH outer extension
    (draft-ietf-tls-esni, type 0xfe0d).

The Capture class numbers frames exactly as tshark does (1-based) and records a
`Sent` for every DNS query / ClientHello it writes: what was sent and in which
frame the receiver has it whole. Tests compare Vigie's decisions to those records.

CLI:
  mkpcap.py list                              names of the scenarios
  mkpcap.py scenario NAME OUT.pcap [--manifest FILE.json]
  mkpcap.py sample OUT.pcap [--manifest FILE.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import json
import struct
import sys
from typing import Callable, Iterable, Optional, Sequence

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

LINKTYPE_ETHERNET = 1
PCAP_MAGIC_USEC = 0xA1B2C3D4
PCAP_SNAPLEN = 262144

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
TPID_8021Q = 0x8100
TPID_8021AD = 0x88A8          # QinQ outer tag

IPPROTO_HOPOPTS = 0
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_DSTOPTS = 60

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
TCP_URG = 0x20

# 2025-06-02T09:00:00Z, in microseconds: the default start of every capture.
DEFAULT_START_US = 1748854800 * 1_000_000

# GREASE values (RFC 8701 2): 0x0a0a, 0x1a1a, ... 0xfafa.
GREASE = [0x0A0A + 0x1010 * i for i in range(16)]

# TLS numbers used below.
TLS_GROUP_X25519 = 0x001D
TLS_GROUP_SECP256R1 = 0x0017
TLS_GROUP_SECP384R1 = 0x0018
TLS_GROUP_X25519MLKEM768 = 0x11EC
EXT_SERVER_NAME = 0x0000
EXT_STATUS_REQUEST = 0x0005
EXT_SUPPORTED_GROUPS = 0x000A
EXT_EC_POINT_FORMATS = 0x000B
EXT_SIGNATURE_ALGORITHMS = 0x000D
EXT_ALPN = 0x0010
EXT_SCT = 0x0012
EXT_PADDING = 0x0015
EXT_EXTENDED_MASTER_SECRET = 0x0017
EXT_COMPRESS_CERTIFICATE = 0x001B
EXT_APPLICATION_SETTINGS = 0x44CD
EXT_SESSION_TICKET = 0x0023
EXT_SUPPORTED_VERSIONS = 0x002B
EXT_PSK_KEY_EXCHANGE_MODES = 0x002D
EXT_KEY_SHARE = 0x0033
EXT_ECH = 0xFE0D
EXT_RENEGOTIATION_INFO = 0xFF01

MLKEM768_PUBLIC_KEY_LEN = 1184
X25519_SHARE_LEN = 32


# ---------------------------------------------------------------------------
# Checksums and small helpers
# ---------------------------------------------------------------------------

def inet_checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum (one's complement of the one's complement sum)."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def pseudo_header(src: str, dst: str, proto: int, length: int) -> bytes:
    """Pseudo-header for the UDP/TCP checksum: RFC 768 (IPv4) or RFC 8200 8.1 (IPv6)."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        return s.packed + d.packed + struct.pack("!BBH", 0, proto, length)
    return s.packed + d.packed + struct.pack("!IxxxB", length, proto)


def deterministic_bytes(n: int, seed: int) -> bytes:
    """n pseudo-random but reproducible bytes (an LCG; captures must be stable)."""
    out = bytearray()
    x = (seed * 2654435761 + 12345) & 0xFFFFFFFF
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


def u8(v: int) -> bytes:
    return struct.pack("!B", v)


def u16(v: int) -> bytes:
    return struct.pack("!H", v)


def u24(v: int) -> bytes:
    return struct.pack("!I", v)[1:]


def vec8(b: bytes) -> bytes:
    """TLS opaque vector with a 1-byte length prefix."""
    return u8(len(b)) + b


def vec16(b: bytes) -> bytes:
    """TLS opaque vector with a 2-byte length prefix."""
    return u16(len(b)) + b


def mac_for(ip: str) -> bytes:
    """A stable, locally administered MAC derived from an IP address."""
    p = ipaddress.ip_address(ip).packed
    return bytes([0x02, 0x00]) + p[-4:]


# ---------------------------------------------------------------------------
# Layer 2 / 3 / 4 builders
# ---------------------------------------------------------------------------

def ethernet(dst_mac: bytes, src_mac: bytes, ethertype: int, payload: bytes,
             vlans: Sequence = (), pad: bool = False) -> bytes:
    """Ethernet II frame (no FCS). vlans: VLAN ids, outermost first; an int gets a
    802.1Q tag, a (tpid, vid) pair gets that TPID (0x88a8 for a QinQ outer tag)."""
    hdr = dst_mac + src_mac                                   # destination, source MAC
    for v in vlans:
        tpid, vid = (v if isinstance(v, tuple) else (TPID_8021Q, v))
        hdr += u16(tpid)                                      # tag protocol identifier
        hdr += u16((0 << 13) | (0 << 12) | (vid & 0x0FFF))    # PCP 0, DEI 0, VLAN id
    frame = hdr + u16(ethertype) + payload                    # EtherType of the payload
    if pad and len(frame) < 60:
        frame += b"\x00" * (60 - len(frame))                  # minimum frame size padding
    return frame


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 0,
         ttl: int = 64, df: bool = True) -> bytes:
    """IPv4 header (RFC 791), no options, with its header checksum."""
    total = 20 + len(payload)
    hdr = struct.pack(
        "!BBHHHBBH4s4s",
        (4 << 4) | 5,                     # version 4, IHL 5 words
        0,                                # DSCP / ECN
        total,                            # total length
        ident & 0xFFFF,                   # identification
        0x4000 if df else 0,              # flags (DF) / fragment offset 0
        ttl,                              # time to live
        proto,                            # protocol
        0,                                # header checksum (filled below)
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed)
    csum = inet_checksum(hdr)
    return hdr[:10] + u16(csum) + hdr[12:] + payload


def ipv4_fragment(src: str, dst: str, proto: int, chunk: bytes, offset: int,
                  more: bool, ident: int, ttl: int = 64) -> bytes:
    """One IPv4 fragment (RFC 791 2.3): `chunk` at byte `offset` (a multiple of 8)
    of the fragmented payload, MF set when `more`; its own header checksum."""
    assert offset % 8 == 0 and offset // 8 <= 0x1FFF
    hdr = struct.pack(
        "!BBHHHBBH4s4s",
        (4 << 4) | 5,                          # version 4, IHL 5 words
        0,                                     # DSCP / ECN
        20 + len(chunk),                       # total length of this fragment
        ident & 0xFFFF,                        # identification: same for all
        (0x2000 if more else 0) | (offset // 8),   # MF flag, offset in 8-byte units
        ttl, proto, 0,                         # TTL, protocol, checksum (below)
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed)
    return hdr[:10] + u16(inet_checksum(hdr)) + hdr[12:] + chunk


def ipv4_fragments(src: str, dst: str, proto: int, l4: bytes, frag_size: int,
                   ident: int, ttl: int = 64) -> list:
    """The IPv4 packets (RFC 791 2.3) carrying `l4` in fragments of frag_size bytes
    (a multiple of 8), in offset order; each header has its own checksum."""
    assert frag_size % 8 == 0
    return [ipv4_fragment(src, dst, proto, l4[off:off + frag_size], off,
                          off + frag_size < len(l4), ident, ttl)
            for off in range(0, len(l4), frag_size)]


IPPROTO_FRAGMENT = 44


def ipv6_fragment(src: str, dst: str, proto: int, chunk: bytes, offset: int,
                  more: bool, ident: int, hop_limit: int = 64) -> bytes:
    """One IPv6 packet carrying a Fragment header (RFC 8200 4.5): `chunk` at byte
    `offset` (a multiple of 8) of the fragmentable part (here: the L4 packet)."""
    assert offset % 8 == 0 and offset // 8 <= 0x1FFF
    frag_hdr = (u8(proto)                      # next header: the L4 protocol
                + u8(0)                        # reserved
                + u16((offset // 8) << 3 | (1 if more else 0))  # offset, res, M flag
                + struct.pack("!I", ident & 0xFFFFFFFF))        # identification
    body = frag_hdr + chunk
    hdr = struct.pack(
        "!IHBB16s16s",
        6 << 28,                               # version 6, traffic class, flow label
        len(body),                             # payload length (fragment header incl.)
        IPPROTO_FRAGMENT,                      # next header: Fragment
        hop_limit,
        ipaddress.IPv6Address(src).packed,
        ipaddress.IPv6Address(dst).packed)
    return hdr + body


def ipv6_fragments(src: str, dst: str, proto: int, l4: bytes, frag_size: int,
                   ident: int, hop_limit: int = 64) -> list:
    """The IPv6 packets (RFC 8200 4.5) carrying `l4` in fragments of frag_size bytes
    (a multiple of 8), in offset order."""
    assert frag_size % 8 == 0
    return [ipv6_fragment(src, dst, proto, l4[off:off + frag_size], off,
                          off + frag_size < len(l4), ident, hop_limit)
            for off in range(0, len(l4), frag_size)]


def ip_fragments(src: str, dst: str, proto: int, l4: bytes, frag_size: int,
                 ident: int) -> list:
    """IPv4 or IPv6 fragments of `l4`, by the address family of `src`."""
    if ipaddress.ip_address(src).version == 4:
        return ipv4_fragments(src, dst, proto, l4, frag_size, ident)
    return ipv6_fragments(src, dst, proto, l4, frag_size, ident)


def ipv6_ext_header(next_header: int) -> bytes:
    """An 8-byte hop-by-hop or destination-options header holding one PadN option."""
    return (u8(next_header)               # next header
            + u8(0)                       # hdr ext len: (0 + 1) * 8 bytes
            + u8(1) + u8(4)               # option PadN (type 1), 4 bytes of data
            + b"\x00" * 4)                # PadN data


def ipv6(src: str, dst: str, proto: int, payload: bytes, hop_limit: int = 64,
         ext_headers: Sequence[int] = ()) -> bytes:
    """IPv6 header (RFC 8200 3). ext_headers: extension header types to insert
    (IPPROTO_HOPOPTS / IPPROTO_DSTOPTS), in order; each carries one PadN option."""
    chain = list(ext_headers) + [proto]
    ext = b"".join(ipv6_ext_header(chain[i + 1]) for i in range(len(ext_headers)))
    body = ext + payload
    hdr = struct.pack(
        "!IHBB16s16s",
        6 << 28,                          # version 6, traffic class 0, flow label 0
        len(body),                        # payload length (extension headers included)
        chain[0],                         # next header
        hop_limit,                        # hop limit
        ipaddress.IPv6Address(src).packed,
        ipaddress.IPv6Address(dst).packed)
    return hdr + body


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """UDP datagram (RFC 768) with its checksum over the pseudo-header."""
    length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)       # ports, length, csum 0
    csum = inet_checksum(pseudo_header(src, dst, IPPROTO_UDP, length) + hdr + payload)
    if csum == 0:
        csum = 0xFFFF                                         # 0 means "no checksum"
    return hdr[:6] + u16(csum) + payload


def tcp(src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int,
        payload: bytes = b"", window: int = 64240, options: bytes = b"",
        urgent: int = 0) -> bytes:
    """TCP segment (RFC 9293 3.1) with its checksum over the pseudo-header.
    urgent: the urgent pointer (set TCP_URG in flags for it to count)."""
    if len(options) % 4:
        options += b"\x01" * (4 - len(options) % 4)           # pad options with NOPs
    offset_words = (20 + len(options)) // 4
    hdr = struct.pack(
        "!HHIIBBHHH",
        sport, dport,                     # ports
        seq & 0xFFFFFFFF,                 # sequence number
        ack & 0xFFFFFFFF if flags & TCP_ACK else 0,   # acknowledgment number
        offset_words << 4,                # data offset, reserved
        flags,                            # flags
        window,                           # window
        0,                                # checksum (filled below)
        urgent) + options                 # urgent pointer, options
    seg = hdr + payload
    csum = inet_checksum(pseudo_header(src, dst, IPPROTO_TCP, len(seg)) + seg)
    return seg[:16] + u16(csum) + seg[18:]


SYN_OPTIONS = (b"\x02\x04\x05\xb4"        # MSS 1460
               + b"\x04\x02"              # SACK permitted
               + b"\x01"                  # NOP
               + b"\x03\x03\x07")         # window scale 7


# ---------------------------------------------------------------------------
# DNS
# ---------------------------------------------------------------------------

QTYPE = {"A": 1, "NS": 2, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "SVCB": 64, "HTTPS": 65}


def dns_name(name: str) -> bytes:
    """Domain name in wire format (RFC 1035 3.1): length-prefixed labels, root 0."""
    out = b""
    for label in name.rstrip(".").split(".") if name.strip(".") else []:
        raw = label.encode("ascii")
        assert 0 < len(raw) <= 63, "label length"
        out += u8(len(raw)) + raw                              # label length, label
    return out + b"\x00"                                      # root label


def dns_query(name: str, qtype: int | str = "A", txid: int = 0x1234,
              edns: bool = False, rd: bool = True) -> bytes:
    """A DNS query message (RFC 1035 4.1) with one question."""
    if isinstance(qtype, str):
        qtype = QTYPE[qtype]
    flags = (0 << 15)            # QR = 0: query
    flags |= (0 << 11)           # OPCODE = 0: standard query
    flags |= (int(rd) << 8)      # RD: recursion desired
    msg = struct.pack("!HHHHHH",
                      txid,      # ID
                      flags,     # QR|OPCODE|AA|TC|RD|RA|Z|AD|CD|RCODE
                      1,         # QDCOUNT: one question
                      0,         # ANCOUNT
                      0,         # NSCOUNT
                      1 if edns else 0)   # ARCOUNT: the OPT record, if any
    msg += dns_name(name)        # QNAME
    msg += u16(qtype)            # QTYPE
    msg += u16(1)                # QCLASS IN
    if edns:                     # OPT pseudo-RR (RFC 6891 6.1.2)
        msg += b"\x00"           # NAME: root
        msg += u16(41)           # TYPE: OPT
        msg += u16(1232)         # CLASS: requestor's UDP payload size
        msg += u8(0)             # extended RCODE
        msg += u8(0)             # EDNS version 0
        msg += u16(0)            # flags (DO = 0)
        msg += u16(0)            # RDLENGTH: no options
    return msg


def dns_response(query: bytes, answer_ip: str) -> bytes:
    """A minimal answer to `query` (no EDNS): one A/AAAA record, compressed name."""
    txid, _flags, _qd, _an, _ns, _ar = struct.unpack("!HHHHHH", query[:12])
    q_end = query.index(b"\x00", 12) + 5                      # qname + qtype + qclass
    ip = ipaddress.ip_address(answer_ip)
    msg = struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0)    # QR, RD, RA; 1 q, 1 an
    msg += query[12:q_end]                                    # the question again
    msg += u16(0xC00C)                                        # NAME: pointer to qname
    msg += u16(1 if ip.version == 4 else 28)                  # TYPE A / AAAA
    msg += u16(1)                                             # CLASS IN
    msg += struct.pack("!I", 300)                             # TTL
    msg += vec16(ip.packed)                                   # RDLENGTH, RDATA
    return msg


# ---------------------------------------------------------------------------
# TLS ClientHello
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class HelloOptions:
    sni: Optional[str | bytes] = None         # server_name; None: no extension
    alpn: Sequence[str] = ("h2", "http/1.1")  # () : no ALPN extension
    grease: bool = False                      # GREASE cipher/extension/group/version
    pq: bool = False                          # X25519MLKEM768 key share (~1.2 KB)
    ech: bool = False                         # ECH outer extension (0xfe0d)
    padding_to: int = 0                       # pad the handshake message to this
    seed: int = 1                             # for random / session id / key bytes


def _ext(ext_type: int, body: bytes) -> bytes:
    """One extension: type (2 bytes), length (2 bytes), body."""
    return u16(ext_type) + vec16(body)


def client_hello(o: HelloOptions, one_record: bool = True) -> bytes:
    """A TLS record holding one ClientHello handshake message (RFC 8446 4.1.2)."""
    g = GREASE[o.seed % 16]                     # one GREASE value, reused like Chrome
    g2 = GREASE[(o.seed + 5) % 16]
    rnd = deterministic_bytes(32 + 32 + 32, o.seed)

    cipher_suites = ([g] if o.grease else []) + [
        0x1301,   # TLS_AES_128_GCM_SHA256
        0x1302,   # TLS_AES_256_GCM_SHA384
        0x1303,   # TLS_CHACHA20_POLY1305_SHA256
        0xC02B,   # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        0xC02F,   # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        0xC02C,   # TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        0xC030,   # TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        0xCCA9,   # TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        0xCCA8,   # TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        0x009C,   # TLS_RSA_WITH_AES_128_GCM_SHA256
        0x002F,   # TLS_RSA_WITH_AES_128_CBC_SHA
    ]

    exts = b""
    if o.grease:
        exts += _ext(g, b"")                                  # GREASE extension, empty
    if o.sni is not None:
        # bytes: written as given (hostile-name tests); str: an ASCII name
        host = o.sni if isinstance(o.sni, bytes) else o.sni.encode("ascii")
        server_name_list = (u8(0)                             # name_type: host_name
                            + vec16(host))                    # HostName
        exts += _ext(EXT_SERVER_NAME, vec16(server_name_list))  # ServerNameList
    exts += _ext(EXT_EXTENDED_MASTER_SECRET, b"")             # extended_master_secret
    exts += _ext(EXT_RENEGOTIATION_INFO, vec8(b""))           # renegotiated_connection: empty
    groups = (([g] if o.grease else [])
              + ([TLS_GROUP_X25519MLKEM768] if o.pq else [])
              + [TLS_GROUP_X25519, TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1])
    exts += _ext(EXT_SUPPORTED_GROUPS,                        # NamedGroupList
                 vec16(b"".join(u16(x) for x in groups)))
    exts += _ext(EXT_EC_POINT_FORMATS, vec8(u8(0)))           # uncompressed only
    exts += _ext(EXT_SESSION_TICKET, b"")                     # no ticket to offer
    if o.alpn:
        protos = b"".join(vec8(p.encode("ascii")) for p in o.alpn)
        exts += _ext(EXT_ALPN, vec16(protos))                 # ProtocolNameList
    exts += _ext(EXT_STATUS_REQUEST,
                 u8(1)                                        # status_type: ocsp
                 + vec16(b"")                                 # responder_id_list
                 + vec16(b""))                                # request_extensions
    sig_algs = [0x0403,   # ecdsa_secp256r1_sha256
                0x0804,   # rsa_pss_rsae_sha256
                0x0401,   # rsa_pkcs1_sha256
                0x0503,   # ecdsa_secp384r1_sha384
                0x0805,   # rsa_pss_rsae_sha384
                0x0501,   # rsa_pkcs1_sha384
                0x0806,   # rsa_pss_rsae_sha512
                0x0601]   # rsa_pkcs1_sha512
    exts += _ext(EXT_SIGNATURE_ALGORITHMS,
                 vec16(b"".join(u16(x) for x in sig_algs)))   # SignatureSchemeList
    exts += _ext(EXT_SCT, b"")                                # signed_certificate_timestamp
    exts += _ext(EXT_COMPRESS_CERTIFICATE,
                 vec8(u16(0x0002)))                           # algorithms: brotli (RFC 8879)
    if "h2" in o.alpn:
        exts += _ext(EXT_APPLICATION_SETTINGS,                # ALPS (Chrome), for h2
                     vec16(vec8(b"h2")))                      # supported ALPN list

    shares = b""
    if o.grease:
        shares += u16(g) + vec16(b"\x00")                     # GREASE share, 1 byte
    if o.pq:
        # X25519MLKEM768 (draft-kwiatkowski-tls-ecdhe-mlkem): ML-KEM-768
        # encapsulation key (1184 bytes) followed by the X25519 share (32 bytes).
        key = deterministic_bytes(MLKEM768_PUBLIC_KEY_LEN + X25519_SHARE_LEN, o.seed + 7)
        shares += u16(TLS_GROUP_X25519MLKEM768) + vec16(key)  # group, key_exchange
    shares += u16(TLS_GROUP_X25519) + vec16(rnd[64:96])       # group, 32-byte share
    exts += _ext(EXT_KEY_SHARE, vec16(shares))                # client_shares
    exts += _ext(EXT_PSK_KEY_EXCHANGE_MODES, vec8(u8(1)))     # psk_dhe_ke
    versions = (([g2] if o.grease else [])
                + [0x0304,                                    # TLS 1.3
                   0x0303])                                   # TLS 1.2
    exts += _ext(EXT_SUPPORTED_VERSIONS,
                 vec8(b"".join(u16(v) for v in versions)))
    if o.ech:
        ech = (u8(0)                                          # ECHClientHelloType: outer
               + u16(0x0001)                                  # HPKE KDF: HKDF-SHA256
               + u16(0x0001)                                  # HPKE AEAD: AES-128-GCM
               + u8(deterministic_bytes(1, o.seed + 3)[0])    # config_id
               + vec16(deterministic_bytes(32, o.seed + 4))   # enc: X25519 HPKE key
               + vec16(deterministic_bytes(176, o.seed + 5))) # payload: sealed inner CH
        exts += _ext(EXT_ECH, ech)
    if o.grease:
        exts += _ext(g2, u8(0))                               # second GREASE ext, 1 byte

    body = (u16(0x0303)                                       # legacy_version TLS 1.2
            + rnd[:32]                                        # random
            + vec8(rnd[32:64])                                # legacy_session_id (32)
            + vec16(b"".join(u16(c) for c in cipher_suites))  # cipher_suites
            + vec8(u8(0)))                                    # compression: null only
    if o.padding_to:
        # padding extension (RFC 7685) so that the handshake message (4-byte header
        # included) is padding_to bytes long; the extension header takes 4 bytes.
        need = o.padding_to - 4 - (len(body) + 2 + len(exts)) - 4
        if need >= 0:
            exts += _ext(EXT_PADDING, b"\x00" * need)
    body += vec16(exts)                                       # extensions

    handshake = (u8(1)                                        # msg_type: client_hello
                 + u24(len(body))                             # length
                 + body)
    record = (u8(22)                                          # ContentType handshake
              + u16(0x0301)                                   # legacy_record_version
              + vec16(handshake))                             # length, fragment
    # A larger hello must be split over records (tls_split_records).
    assert not one_record or len(handshake) <= 16384, "one record only"
    return record


def dns_tcp_sniff_end(data: bytes) -> int:
    """How many stream bytes Vigie reads before it knows `data` is not a DNS
    query over TCP (classifiers/dns.cc SniffDnsTcpQuery, header checks only):
    the 2-byte length (at least 17), QR/opcode, 1..16 questions, no answers or
    authority records, at most one additional record."""
    def verdict(b):
        if len(b) < 2:
            return None
        ln = (b[0] << 8) | b[1]
        if ln < 17:
            return False
        m = b[2:2 + ln]
        if len(m) >= 3 and (m[2] & 0xF8) != 0:
            return False
        checks = ((6, lambda v: 1 <= v <= 16), (8, lambda v: v == 0), (10, lambda v: v == 0),
                  (12, lambda v: v <= 1))
        for end, ok in checks:
            if len(m) < end:
                return None
            if not ok((m[end - 2] << 8) | m[end - 1]):
                return False
        return True
    for k in range(1, len(data) + 1):
        v = verdict(data[:k])
        if v is not None:
            return k if v is False else len(data)
    return len(data)


def tls_split_records(record: bytes, sizes: Sequence[int]) -> bytes:
    """Re-frame the handshake carried by the TLS record `record` as several
    handshake records (record-layer fragmentation, RFC 8446 5.1): record i carries
    sizes[i] bytes of the handshake message. Each
    record keeps the original legacy_record_version. Bytes left after the given
    sizes go in one more record."""
    assert record[0] == 22
    version, handshake = record[1:3], record[5:]
    out, off = b"", 0
    for n in sizes:
        if off >= len(handshake):
            break
        chunk = handshake[off:off + n]
        out += u8(22) + version + vec16(chunk)     # ContentType handshake, version, fragment
        off += len(chunk)
    if off < len(handshake):
        out += u8(22) + version + vec16(handshake[off:])
    return out


def tls_record_count(stream: bytes) -> int:
    """Number of TLS records in `stream` (whole records only)."""
    n, off = 0, 0
    while off + 5 <= len(stream):
        off += 5 + struct.unpack("!H", stream[off + 3:off + 5])[0]
        n += 1
    return n


def tls_records_even(record: bytes, n: int) -> bytes:
    """The ClientHello record re-framed as n records of nearly equal size."""
    hs = len(record) - 5
    return tls_split_records(record, [ln for _o, ln in split_n(hs, n)])


# ---------------------------------------------------------------------------
# HTTP/1.x requests, DNS over TCP, opaque (MTProto-like) payloads
# ---------------------------------------------------------------------------

def http_request(host: Optional[str] = None, target: str = "/", method: str = "GET",
                 version: str = "HTTP/1.1", hosts: Optional[Sequence[str]] = None,
                 host_field: str = "Host",
                 headers: Sequence = (("User-Agent", "mkpcap/1.0"), ("Accept", "*/*"))
                 ) -> bytes:
    """An HTTP/1.x request head (RFC 9112 3, 5): request-line, a Host field per
    entry of `hosts` (or one for `host`; none when both are None), other fields,
    the empty line. `host_field` spells the field name (case is free)."""
    lines = [f"{method} {target} {version}"]                # request-line
    hs = list(hosts) if hosts is not None else ([host] if host is not None else [])
    first = True
    for h in hs:
        lines.append(f"{host_field if first else 'Host'}: {h}")   # field-name: value
        first = False
    for k, v in headers:
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def http_head_end(req: bytes) -> int:
    """Bytes up to and including the empty line that ends the head."""
    return req.index(b"\r\n\r\n") + 4


def http_second_host_end(req: bytes) -> int:
    """Offset just past the colon of the second Host field (where a parser knows
    the field is a duplicate), or -1."""
    low = req.lower()
    first = low.find(b"\r\nhost:")
    second = low.find(b"\r\nhost:", first + 1) if first >= 0 else -1
    return second + len(b"\r\nhost:") if second >= 0 else -1


def dns_tcp_frame(msg: bytes) -> bytes:
    """A DNS message over TCP (RFC 1035 4.2.2, RFC 7766): 2-byte length prefix."""
    return u16(len(msg)) + msg


def opaque_bytes(n: int, seed: int) -> bytes:
    """n reproducible bytes that are none of TLS, HTTP, DNS or QUIC from the first
    byte on: like Telegram's obfuscated MTProto init (64 random bytes, RFC-less),
    the first byte is forced to a value above 0x80 that is no token character, no
    TLS content type and not 0xef (MTProto's abridged marker)."""
    b = bytearray(deterministic_bytes(n, seed))
    b[0] = 0x80 | (b[0] & 0x3F)            # 0x80..0xbf: not tchar, not 0x16, not long-header QUIC
    if b[0] == 0xEF:
        b[0] = 0x8F
    return bytes(b)


# ---------------------------------------------------------------------------
# Segmentation helpers (offsets / lengths into the client's byte stream)
# ---------------------------------------------------------------------------

Segment = tuple  # (offset, length)


def split_mss(total: int, mss: int) -> list:
    """[(offset, length)] covering [0, total) in chunks of at most mss bytes."""
    return [(off, min(mss, total - off)) for off in range(0, total, mss)]


def split_n(total: int, n: int) -> list:
    """[(offset, length)] covering [0, total) in n nearly equal chunks."""
    base, extra = divmod(total, n)
    out, off = [], 0
    for i in range(n):
        ln = base + (1 if i < extra else 0)
        out.append((off, ln))
        off += ln
    return out


def reorder(segs: Sequence[Segment], order: Sequence[int]) -> list:
    """Segments in emission order: order lists indices into segs (may repeat an
    index for a retransmission)."""
    return [segs[i] for i in order]


def completion_index(segs: Sequence[Segment], total: int) -> int:
    """Index in segs (emission order) of the segment after which [0, total) has
    been received contiguously; -1 if never."""
    have = [False] * total
    contiguous = 0
    for i, (off, ln) in enumerate(segs):
        for b in range(max(off, 0), min(off + ln, total)):
            have[b] = True
        while contiguous < total and have[contiguous]:
            contiguous += 1
        if contiguous == total:
            return i
    return -1


# ---------------------------------------------------------------------------
# Evasion tricks on a TCP stream (issue 9), shared by the replay captures
# (tests/e2e/evasion_test.py) and the inline raw-socket client
# (tests/netns/evasion_client.py)
# ---------------------------------------------------------------------------

# A TCP MD5 signature option (RFC 2385: kind 19, length 18, 16 digest bytes)
# for which the server holds no key: Linux drops the segment (TCPMD5Unexpected).
MD5_OPTION = b"\x13\x12" + bytes(range(16))
# The TTL of a decoy meant to expire before the server (below the SYN's 64).
LOW_TTL = 2


@dataclasses.dataclass
class TrickSegment:
    """One client data segment of a trick: `data` at sequence offset `off`
    (from ISN + 1)."""
    off: int
    data: bytes
    ttl: int = 64
    md5: bool = False
    urgent: int = 0          # urgent pointer (URG set when non-zero)


TRICKS = ("overlap-decoy-first", "overlap-decoy-last", "urgent", "md5-decoy-first",
          "md5-real-first", "ttl-decoy-first", "ttl-real-first")


def trick_segments(trick: str, real: bytes, decoy: bytes, low_ttl: int = LOW_TTL) -> list:
    """The segments of client stream `real` delivered with `trick`; `decoy` is the
    same length, differing in the name. What a Linux server reads:
      overlap-decoy-first  decoy tail (every differing byte) queued out of
                           order, then the real bytes from a lower offset over
                           it, then the head: the real stream (the segment
                           starting lower wins; a first-wins receiver reads
                           the decoy)
      overlap-decoy-last   the same with real and decoy swapped: the decoy
                           (a first-wins receiver reads the real stream)
      urgent               the stream with one junk byte sent as urgent data in
                           the middle (URG, pointer 1): the real stream (the
                           urgent byte is out of band)
      md5-decoy-first      the decoy whole with an MD5 option, then the real
                           stream: the real stream (MD5 segments dropped)
      md5-real-first       the real stream with an MD5 option, then the decoy:
                           the decoy (Vigie: the strictest of both)
      ttl-decoy-first      the decoy with a low TTL, then the real stream: the
                           real stream where the decoy expires on the way
      ttl-real-first       the real stream with a low TTL, then the decoy: the
                           decoy where the low-TTL one expires, else the real one
                           (Vigie: the strictest of both)"""
    n = len(real)
    assert len(decoy) == n
    if trick.startswith("overlap"):
        # The tail holds every differing byte (a receiver keeping the first
        # bytes reads the first stream whole); the cover starts lower (Linux
        # reads the second whole).
        d0 = next((i for i in range(n) if real[i] != decoy[i]), n // 2)
        assert d0 >= 5, "the streams must share a prefix"
        cover, tail = d0 - 5, d0 - 1
        first, second = (decoy, real) if trick == "overlap-decoy-first" else (real, decoy)
        segs = [TrickSegment(tail, first[tail:]), TrickSegment(cover, second[cover:])]
        if cover > 0:
            segs.append(TrickSegment(0, second[:cover]))
        return segs
    if trick == "urgent":
        u = n // 2
        return [TrickSegment(0, real[:u]), TrickSegment(u, b"!" + real[u:], urgent=1)]
    if trick == "md5-decoy-first":
        return [TrickSegment(0, decoy, md5=True), TrickSegment(0, real)]
    if trick == "md5-real-first":
        return [TrickSegment(0, real, md5=True), TrickSegment(0, decoy)]
    if trick == "ttl-decoy-first":
        return [TrickSegment(0, decoy, ttl=low_ttl), TrickSegment(0, real)]
    if trick == "ttl-real-first":
        return [TrickSegment(0, real, ttl=low_ttl), TrickSegment(0, decoy)]
    raise ValueError(f"unknown trick {trick}")


def same_length_decoy(name: str, domain: str = "olvid.io") -> str:
    """A name of len(name) under `domain` (an approved app's by default),
    for a decoy that overlaps the real name byte for byte."""
    k = len(name) - len(domain) - 1
    assert k >= 1, name
    return "w" * k + "." + domain


def conflicting_fragments(first: bytes, last: bytes) -> list:
    """Pieces (offset, bytes, more) of one L4 datagram read two ways: `first`
    over [0, hi) then `last` over the same range (its checksum and the
    differing bytes included), then the common rest (at least 8 bytes, so the
    datagram completes only after both copies). A receiver keeping the
    first bytes reads `first`, one keeping the last reads `last`; Linux
    (the second piece lies inside the first) reads `first`."""
    assert len(first) == len(last)
    n = len(first)
    d1 = max((i for i in range(n) if first[i] != last[i]), default=0) + 1
    hi = (d1 + 7) // 8 * 8
    assert hi < n, "the datagram needs 8 common bytes after its last difference"
    return [(0, first[:hi], True), (0, last[:hi], True), (hi, first[hi:], False)]


# ---------------------------------------------------------------------------
# Capture
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class Sent:
    """One DNS query or ClientHello written to the capture."""
    label: str                   # what the scenario meant by it
    proto: str                   # dns | tls
    transport: str               # udp | tcp
    src_ip: str
    src_port: int
    dest_ip: str
    dest_port: int
    domain: str                  # the name a correct parser reports (normalised)
    wire_name: str               # the name as written on the wire
    frame: int                   # 1-based frame where the receiver has it whole
    ts_us: int                   # that frame's timestamp (microseconds since epoch)
    alpn: list = dataclasses.field(default_factory=list)
    ech: bool = False
    frames: list = dataclasses.field(default_factory=list)   # all frames carrying it
    qtype: int = 0               # DNS: the question's type
    records: int = 1             # TLS: records the ClientHello spans
    meta: dict = dataclasses.field(default_factory=dict)     # hints for the tests

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


class Capture:
    """Packets in frame order plus the Sent records of what they carry."""

    def __init__(self, start_us: int = DEFAULT_START_US, step_us: int = 1000,
                 pad: bool = False):
        self.packets: list = []       # (ts_us, frame bytes)
        self.sent: list = []
        self.now_us = start_us
        self.step_us = step_us
        self.pad = pad
        self._ident = 1
        self._port = 40000

    # -- low level ---------------------------------------------------------
    def next_port(self) -> int:
        self._port += 1
        return self._port

    def add_frame(self, frame: bytes, gap_us: Optional[int] = None) -> int:
        """Append one Ethernet frame; returns its 1-based frame number."""
        self.now_us += self.step_us if gap_us is None else gap_us
        self.packets.append((self.now_us, frame))
        return len(self.packets)

    def add_ip(self, src: str, dst: str, proto: int, l4: bytes, vlans=(),
               ext_headers: Sequence[int] = (), ttl: int = 64) -> int:
        """Wrap an L4 payload in IPv4/IPv6 + Ethernet and append it."""
        if ipaddress.ip_address(src).version == 4:
            self._ident += 1
            pkt, et = ipv4(src, dst, proto, l4, ident=self._ident, ttl=ttl), ETH_IPV4
        else:
            pkt, et = ipv6(src, dst, proto, l4, hop_limit=ttl, ext_headers=ext_headers), ETH_IPV6
        return self.add_frame(ethernet(mac_for(dst), mac_for(src), et, pkt,
                                       vlans=vlans, pad=self.pad))

    def ts_of(self, frame: int) -> int:
        return self.packets[frame - 1][0]

    # -- DNS -----------------------------------------------------------------
    def dns(self, src: str, name: str, dst: Optional[str] = None, qtype="A",
            sport: Optional[int] = None, label: str = "", vlans=(), edns=False,
            answer: Optional[str] = None, ext_headers: Sequence[int] = (),
            fragments: Optional[tuple] = None, raw: Optional[bytes] = None) -> Sent:
        """One UDP DNS query (and optionally its answer, after it).

        fragments: (frag_size, order) sends the IPv4/IPv6 datagram as fragments in
        that order (see add_l4); raw: DNS message bytes
        to send instead of a well-formed query for `name`."""
        v6 = ipaddress.ip_address(src).version == 6
        dst = dst or ("2620:fe::fe" if v6 else "9.9.9.9")
        sport = sport or self.next_port()
        txid = (len(self.packets) * 7919 + 0x2A) & 0xFFFF
        q = raw if raw is not None else dns_query(name, qtype, txid=txid, edns=edns)
        dgram = udp(src, dst, sport, 53, q)
        if fragments:
            f, frames = self.add_l4(src, dst, IPPROTO_UDP, dgram, fragments, vlans)
        else:
            f = self.add_ip(src, dst, IPPROTO_UDP, dgram, vlans, ext_headers)
            frames = [f]
        s = Sent(label or f"dns {name}", "dns", "udp", src, sport, dst, 53,
                 normalise(name), name, f, self.ts_of(f), frames=frames,
                 qtype=QTYPE[qtype] if isinstance(qtype, str) else qtype)
        self.sent.append(s)
        if answer:
            r = dns_response(q, answer)
            self.add_ip(dst, src, IPPROTO_UDP, udp(dst, src, 53, sport, r), vlans)
        return s

    # -- TCP / TLS ------------------------------------------------------------
    def tls(self, src: str, sni: Optional[str], dst: str = "203.0.113.10",
            dport: int = 443, hello: Optional[HelloOptions] = None,
            segments: Optional[Callable[[int], list]] = None, mss: int = 1460,
            label: str = "", vlans=(), sport: Optional[int] = None,
            ext_headers: Sequence[int] = (), payload: Optional[bytes] = None,
            close: bool = True) -> Sent:
        """A whole TCP connection carrying one ClientHello.

        segments: function total_len -> [(offset, length)] in emission order
        (use split_mss / split_n / reorder); default: split_mss(total, mss)."""
        o = hello or HelloOptions()
        o = dataclasses.replace(o, sni=sni if hello is None or hello.sni is None
                                else hello.sni)
        data = payload if payload is not None else client_hello(o)
        sport = sport or self.next_port()
        cisn = (0x10000000 + len(self.packets) * 104729) & 0xFFFFFFFF
        sisn = (0x80000000 + len(self.packets) * 130363) & 0xFFFFFFFF
        c = lambda seq, ack, fl, pl=b"", opt=b"": self.add_ip(
            src, dst, IPPROTO_TCP, tcp(src, dst, sport, dport, seq, ack, fl, pl,
                                       options=opt), vlans, ext_headers)
        s_ = lambda seq, ack, fl, opt=b"": self.add_ip(
            dst, src, IPPROTO_TCP, tcp(dst, src, dport, sport, seq, ack, fl,
                                       options=opt), vlans, ext_headers)
        c(cisn, 0, TCP_SYN, opt=SYN_OPTIONS)                          # SYN
        s_(sisn, cisn + 1, TCP_SYN | TCP_ACK, opt=SYN_OPTIONS)        # SYN-ACK
        c(cisn + 1, sisn + 1, TCP_ACK)                                # ACK
        segs = segments(len(data)) if segments else split_mss(len(data), mss)
        frames = []
        for off, ln in segs:                                          # client data
            frames.append(c(cisn + 1 + off, sisn + 1, TCP_PSH | TCP_ACK,
                            data[off:off + ln]))
        done = completion_index(segs, len(data))
        end = cisn + 1 + len(data)
        if close:
            s_(sisn + 1, end, TCP_ACK)                                # server ACK
            s_(sisn + 1, end, TCP_FIN | TCP_ACK)                      # server FIN
            c(end, sisn + 2, TCP_FIN | TCP_ACK)                       # client FIN
            s_(sisn + 2, end + 1, TCP_ACK)                            # last ACK
        frame = frames[done] if done >= 0 else -1
        s = Sent(label or f"tls {sni}", "tls", "tcp", src, sport, dst, dport,
                 normalise(sni) if sni else "", sni or "", frame,
                 self.ts_of(frame) if frame > 0 else 0, list(o.alpn), o.ech, frames)
        self.sent.append(s)
        return s

    # -- IP fragments, generic TCP / UDP flows -----------------------------------
    def add_l4(self, src: str, dst: str, proto: int, l4: bytes,
               fragments: Optional[tuple] = None, vlans=()) -> tuple:
        """Append one L4 packet, whole or as IPv4/IPv6 fragments.

        fragments: (frag_size, order); order is a list of indices into the
        offset-ordered fragments (an index may repeat: a duplicate), "reverse",
        or a function n -> list. Returns (frame at which the receiver has the
        packet whole, [frames written])."""
        if not fragments:
            f = self.add_ip(src, dst, proto, l4, vlans)
            return f, [f]
        size, order = fragments
        self._ident += 1
        pk = ip_fragments(src, dst, proto, l4, size, self._ident)
        if order is None:
            order = list(range(len(pk)))
        elif order == "reverse":
            order = list(range(len(pk)))[::-1]
        elif callable(order):
            order = order(len(pk))
        et = ETH_IPV4 if ipaddress.ip_address(src).version == 4 else ETH_IPV6
        frames = [self.add_frame(ethernet(mac_for(dst), mac_for(src), et, pk[i],
                                          vlans=vlans, pad=self.pad)) for i in order]
        got, done = set(), -1
        for i, fr in zip(order, frames):           # whole when every fragment is in
            got.add(i)
            if len(got) == len(pk):
                done = fr
                break
        assert done > 0, "fragment order must include every fragment"
        return done, frames

    def tcp_conn(self, src: str, dst: str, dport: int, data: bytes, msgs: Sequence[dict],
                 segments: Optional[Callable[[int], list]] = None, mss: int = 1460,
                 sport: Optional[int] = None, close: bool = True,
                 ip_frag: Optional[tuple] = None, vlans=(), handshake: bool = True) -> list:
        """A TCP connection whose client sends the byte stream `data`, cut by
        `segments` (total -> [(offset, length)] in emission order; default MSS
        chunks), each data segment optionally sent as IP fragments (ip_frag, see
        add_l4). msgs: what the stream carries, one dict per thing a receiver
        decides on: proto, domain (normalised, "" for none), wire_name, end (the
        stream prefix length at which it is decided; 0 = at the SYN), label and
        optional alpn, ech, qtype, records, meta. Returns one Sent per msg, its
        frame the one at which the receiver holds [0, end) contiguously."""
        sport = sport or self.next_port()
        cisn = (0x10000000 + len(self.packets) * 104729) & 0xFFFFFFFF
        sisn = (0x80000000 + len(self.packets) * 130363) & 0xFFFFFFFF

        def c(seq, ack, fl, pl=b"", opt=b"", frag=None):
            return self.add_l4(src, dst, IPPROTO_TCP,
                               tcp(src, dst, sport, dport, seq, ack, fl, pl, options=opt),
                               frag, vlans)

        def s_(seq, ack, fl, opt=b""):
            return self.add_ip(dst, src, IPPROTO_TCP,
                               tcp(dst, src, dport, sport, seq, ack, fl, options=opt),
                               vlans)
        syn_frame = c(cisn, 0, TCP_SYN, opt=SYN_OPTIONS)[0]               # SYN
        if handshake:
            s_(sisn, cisn + 1, TCP_SYN | TCP_ACK, opt=SYN_OPTIONS)        # SYN-ACK
            c(cisn + 1, sisn + 1, TCP_ACK)                                # ACK
        segs = segments(len(data)) if segments else split_mss(len(data), mss)
        done_frames, all_frames = [], []
        for off, ln in segs:                                              # client data
            done, frs = c(cisn + 1 + off, sisn + 1, TCP_PSH | TCP_ACK,
                          data[off:off + ln], frag=ip_frag)
            done_frames.append(done)
            all_frames += frs
        end = cisn + 1 + len(data)
        if close:
            s_(sisn + 1, end, TCP_ACK)                                    # server ACK
            s_(sisn + 1, end, TCP_FIN | TCP_ACK)                          # server FIN
            c(end, sisn + 2, TCP_FIN | TCP_ACK)                           # client FIN
            s_(sisn + 2, end + 1, TCP_ACK)                                # last ACK
        out = []
        for m in msgs:
            if m["end"] == 0:
                frame = syn_frame
            else:
                i = completion_index(segs, m["end"])
                frame = done_frames[i] if i >= 0 else -1
            sent = Sent(m.get("label", ""), m["proto"], "tcp", src, sport, dst, dport,
                        m.get("domain", ""), m.get("wire_name", m.get("domain", "")),
                        frame, self.ts_of(frame) if frame > 0 else 0,
                        list(m.get("alpn", [])), m.get("ech", False), all_frames,
                        m.get("qtype", 0), m.get("records", 1),
                        dict(m.get("meta", {}), syn_frame=syn_frame))
            self.sent.append(sent)
            out.append(sent)
        return out

    def trick_conn(self, src: str, dst: str, dport: int, segs: Sequence[TrickSegment],
                   label: str = "", proto: str = "tls", domain: str = "",
                   sport: Optional[int] = None) -> Sent:
        """A TCP connection whose client data are the trick segments `segs`
        (trick_segments); decided at the last of them (for the tests that
        compare verdicts, not frames)."""
        sport = sport or self.next_port()
        cisn = (0x10000000 + len(self.packets) * 104729) & 0xFFFFFFFF
        sisn = (0x80000000 + len(self.packets) * 130363) & 0xFFFFFFFF
        c = lambda seq, ack, fl, pl=b"", opt=b"", ttl=64, urg=0: self.add_ip(
            src, dst, IPPROTO_TCP, tcp(src, dst, sport, dport, seq, ack, fl, pl, options=opt,
                                       urgent=urg), ttl=ttl)
        s_ = lambda seq, ack, fl, opt=b"": self.add_ip(
            dst, src, IPPROTO_TCP, tcp(dst, src, dport, sport, seq, ack, fl, options=opt))
        syn = c(cisn, 0, TCP_SYN, opt=SYN_OPTIONS)
        s_(sisn, cisn + 1, TCP_SYN | TCP_ACK, opt=SYN_OPTIONS)
        c(cisn + 1, sisn + 1, TCP_ACK)
        frames = []
        for g in segs:
            fl = TCP_PSH | TCP_ACK | (TCP_URG if g.urgent else 0)
            frames.append(c(cisn + 1 + g.off, sisn + 1, fl, g.data,
                            opt=MD5_OPTION if g.md5 else b"", ttl=g.ttl, urg=g.urgent))
        sent = Sent(label, proto, "tcp", src, sport, dst, dport, domain, domain, frames[-1],
                    self.ts_of(frames[-1]), frames=frames, meta={"syn_frame": syn})
        self.sent.append(sent)
        return sent

    def add_conflicting_fragments(self, src: str, dst: str, proto: int, first: bytes,
                                  last: bytes) -> list:
        """One L4 datagram as IP fragments read two ways (conflicting_fragments);
        returns the frames."""
        self._ident += 1
        v4 = ipaddress.ip_address(src).version == 4
        et = ETH_IPV4 if v4 else ETH_IPV6
        build = ipv4_fragment if v4 else ipv6_fragment
        return [self.add_frame(ethernet(mac_for(dst), mac_for(src), et,
                                        build(src, dst, proto, chunk, off, more, self._ident)))
                for off, chunk, more in conflicting_fragments(first, last)]

    def tls_conn(self, src: str, sni: Optional[str], dst: str = "203.0.113.10",
                 dport: int = 443, hello: Optional[HelloOptions] = None,
                 records: Optional[Sequence[int]] = None, n_records: int = 0,
                 label: str = "", meta: Optional[dict] = None, **kw) -> Sent:
        """A TCP connection carrying one ClientHello, optionally re-framed into
        several TLS records (records: handshake bytes per record; n_records:
        that many nearly equal records). Other keywords: see tcp_conn."""
        o = dataclasses.replace(hello or HelloOptions(), sni=sni)
        data = client_hello(o)
        if records:
            data = tls_split_records(data, records)
        elif n_records > 1:
            data = tls_records_even(data, n_records)
        return self.tcp_conn(src, dst, dport, data, [dict(
            proto="tls", domain=normalise(sni) if sni else "", wire_name=sni or "",
            end=len(data), label=label or f"tls {sni}", alpn=list(o.alpn), ech=o.ech,
            records=tls_record_count(data), meta=meta or {})], **kw)[0]

    def http(self, src: str, request: bytes, domain: str, dst: str = "203.0.113.80",
             dport: int = 80, label: str = "", meta: Optional[dict] = None, **kw) -> Sent:
        """A TCP connection carrying one HTTP request head. domain: the name a
        correct parser reports ("" for none). Decided at the end of the head, or
        at the second Host field's colon for a duplicate Host."""
        meta = dict(meta or {})
        end = http_head_end(request)
        dup = http_second_host_end(request)
        if dup > 0:
            end = dup
            meta.setdefault("malformed", "duplicate_host")
        return self.tcp_conn(src, dst, dport, request, [dict(
            proto="http", domain=domain, wire_name=domain, end=end,
            label=label or f"http {domain or '-'}", meta=meta)], **kw)[0]

    def dns_tcp(self, src: str, questions: Sequence, dst: str = "9.9.9.9",
                dport: int = 53, label: str = "", **kw) -> list:
        """A TCP connection carrying several length-prefixed DNS queries, one per
        (name, qtype) in `questions`; each is decided when its last byte is in."""
        data, msgs = b"", []
        for i, (name, qtype) in enumerate(questions):
            q = dns_query(name, qtype, txid=(0x4000 + i * 31 + len(self.packets)) & 0xFFFF)
            data += dns_tcp_frame(q)
            msgs.append(dict(proto="dns", domain=normalise(name), wire_name=name,
                             end=len(data), qtype=QTYPE[qtype] if isinstance(qtype, str)
                             else qtype, label=f"{label or 'dns/tcp'} #{i} {name}"))
        return self.tcp_conn(src, dst, dport, data, msgs, **kw)

    def opaque_tcp(self, src: str, dst: str, dport: int = 443, n: int = 64, seed: int = 1,
                   label: str = "", proto: str = "ip", **kw) -> Sent:
        """A TCP connection whose first client bytes are no known protocol
        (obfuscated-MTProto-like): decided once its first bytes rule out a DNS
        query over TCP (Vigie recognises DNS on any port by content)."""
        data = opaque_bytes(n, seed)
        return self.tcp_conn(src, dst, dport, data, [dict(
            proto=proto, domain="", end=dns_tcp_sniff_end(data),
            label=label or f"opaque tcp {dst}")], **kw)[0]

    def udp_flow(self, src: str, dst: str, dport: int, payloads: Sequence[bytes],
                 proto: str = "ip", domain: str = "", sport: Optional[int] = None,
                 label: str = "", fragments: Optional[tuple] = None, reply: bool = True
                 ) -> Sent:
        """A UDP flow: the client's datagrams (the first one optionally as IP
        fragments) and one server reply; decided on the first datagram."""
        sport = sport or self.next_port()
        first, frames = -1, []
        for i, pl in enumerate(payloads):
            done, frs = self.add_l4(src, dst, IPPROTO_UDP, udp(src, dst, sport, dport, pl),
                                    fragments if i == 0 else None)
            frames += frs
            if first < 0:
                first = done
            if i == 0 and reply:
                self.add_ip(dst, src, IPPROTO_UDP,
                            udp(dst, src, dport, sport, deterministic_bytes(40, sport)))
        s = Sent(label or f"udp {dst}:{dport}", proto, "udp", src, sport, dst, dport,
                 domain, domain, first, self.ts_of(first), frames=frames)
        self.sent.append(s)
        return s

    # -- output ----------------------------------------------------------------
    def to_bytes(self) -> bytes:
        out = struct.pack("<IHHiIII",
                          PCAP_MAGIC_USEC,    # magic: microsecond timestamps
                          2, 4,               # version 2.4
                          0,                  # thiszone: UTC
                          0,                  # sigfigs
                          PCAP_SNAPLEN,       # snaplen
                          LINKTYPE_ETHERNET)  # network
        for ts, frame in self.packets:
            out += struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000,
                               len(frame), len(frame))   # ts, incl_len, orig_len
            out += frame
        return out

    def write(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self.to_bytes())

    def manifest(self) -> list:
        return [s.to_json() for s in self.sent]


def normalise(name: str) -> str:
    """What Vigie reports as the domain: ASCII lower case, one trailing dot removed."""
    return name[:-1].lower() if name.endswith(".") else name.lower()


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

MANAGED_V4 = "10.20.5.20"
MANAGED_V6 = "fd00::10"
UNMANAGED_V4 = "198.51.100.7"
EXCEPTION_V4 = "10.20.5.17"

# One representative domain per app (DNS and TLS), plus names that match nothing.
SEED_DOMAINS = {
    "tiktok": "www.tiktok.com",
    "twitter": "api.twitter.com",
    "instagram": "www.instagram.com",
    "netflix": "www.netflix.com",
    "candycrush": "king.com",
    "dating": "tinder.com",
    "whatsapp": "web.whatsapp.com",
    "telegram": "telegram.org",
    "signal": "signal.org",
    "snapchat": "www.snapchat.com",
    "facebook": "www.facebook.com",
    "olvid": "olvid.io",
    "tchap": "tchap.gouv.fr",
    "wimi": "www.wimi-teamwork.com",
}
NEUTRAL_DOMAINS = ["www.wikipedia.org", "www.service-public.fr"]


def sc_dns_seed(c: Capture) -> None:
    """A DNS A query from a managed client for each app's domain, then neutral ones."""
    for app, d in SEED_DOMAINS.items():
        c.dns(MANAGED_V4, d, label=f"dns {app}")
    c.dns(MANAGED_V4, "x.com", label="dns twitter x.com")
    for d in NEUTRAL_DOMAINS:
        c.dns(MANAGED_V4, d, label="dns neutral")


def sc_tls_seed(c: Capture) -> None:
    """A TLS connection (one segment) from a managed client for each app's domain."""
    for i, (app, d) in enumerate(SEED_DOMAINS.items()):
        c.tls(MANAGED_V4, d, dst=f"203.0.113.{10 + i}", label=f"tls {app}",
              hello=HelloOptions(seed=i + 1))
    c.tls(MANAGED_V4, "x.com", dst="203.0.113.99", label="tls twitter x.com")
    for d in NEUTRAL_DOMAINS:
        c.tls(MANAGED_V4, d, dst="192.0.2.80", label="tls neutral")


def sc_subdomain_trap(c: Capture) -> None:
    """Names that share a suffix string but not a label boundary with list entries."""
    c.dns(MANAGED_V4, "nottiktok.com", label="dns trap nottiktok.com")
    c.tls(MANAGED_V4, "nottiktok.com", label="tls trap nottiktok.com")
    c.dns(MANAGED_V4, "tiktok.com.evil.example", label="dns trap suffix-in-middle")
    c.dns(MANAGED_V4, "www.tiktok.com", label="dns control www.tiktok.com")


def sc_unmanaged(c: Capture) -> None:
    """The same blocked names from a source outside the managed subnets."""
    c.dns(UNMANAGED_V4, "www.tiktok.com", label="dns unmanaged tiktok")
    c.tls(UNMANAGED_V4, "www.tiktok.com", label="tls unmanaged tiktok")
    c.dns(MANAGED_V4, "www.tiktok.com", label="dns managed control")


def sc_ipv6(c: Capture) -> None:
    """IPv6 managed client: DNS AAAA + TLS, with and without extension headers."""
    c.dns(MANAGED_V6, "www.tiktok.com", qtype="AAAA", label="dns v6 tiktok")
    c.tls(MANAGED_V6, "www.tiktok.com", dst="2001:db8::443", label="tls v6 tiktok")
    c.dns(MANAGED_V6, "www.netflix.com", qtype="AAAA", label="dns v6 hbh netflix",
          ext_headers=[IPPROTO_HOPOPTS])
    c.tls(MANAGED_V6, "www.instagram.com", dst="2001:db8::444",
          ext_headers=[IPPROTO_HOPOPTS, IPPROTO_DSTOPTS], label="tls v6 ext instagram")
    c.dns(MANAGED_V6, "olvid.io", qtype="AAAA", label="dns v6 olvid")


def sc_tls_out_of_order(c: Capture) -> None:
    """A ClientHello in 3 segments sent in the order [2, 0, 1]."""
    c.tls(MANAGED_V4, "www.tiktok.com",
          segments=lambda n: reorder(split_n(n, 3), [2, 0, 1]),
          label="tls 3 segments out of order")


def sc_tls_pq(c: Capture) -> None:
    """Chrome-like ClientHello with X25519MLKEM768 + ECH (~1.8 KB): 2 segments at
    MSS 1460, 4 at MSS 536, and over IPv6."""
    h = HelloOptions(pq=True, grease=True, ech=True)
    c.tls(MANAGED_V4, "www.tiktok.com", hello=h, label="tls pq mss1460")
    c.tls(MANAGED_V4, "www.netflix.com", hello=h, mss=536, label="tls pq mss536")
    c.tls(MANAGED_V6, "www.snapchat.com", hello=h, dst="2001:db8::445",
          mss=1440, label="tls pq v6")


def sc_tls_one_byte(c: Capture) -> None:
    """A ClientHello sent one byte per segment."""
    c.tls(MANAGED_V4, "www.tiktok.com", mss=1, label="tls one-byte segments")


def sc_tls_retrans_overlap(c: Capture) -> None:
    """Retransmissions and overlapping (consistent) segments."""
    # [0,600) [0,600) again, [500,1200) overlaps, [1100,end) overlaps, then a
    # retransmission of the last one after completion (must not log twice).
    def plan(n):
        return [(0, 600), (0, 600), (500, 700), (1100, n - 1100), (1100, n - 1100)]
    c.tls(MANAGED_V4, "www.tiktok.com", hello=HelloOptions(pq=True), segments=plan,
          label="tls retransmit+overlap")
    # gap first: [2] then [0], [0] retransmitted, then [1] completes.
    c.tls(MANAGED_V4, "www.instagram.com", hello=HelloOptions(pq=True, seed=9),
          segments=lambda n: reorder(split_n(n, 3), [2, 0, 0, 1]),
          label="tls retransmit with gap")


def sc_vlan(c: Capture) -> None:
    """802.1Q-tagged DNS and TLS, and a QinQ (802.1ad + 802.1Q) DNS query."""
    c.dns(MANAGED_V4, "www.tiktok.com", vlans=[100], label="dns vlan100 tiktok")
    c.tls(MANAGED_V4, "www.instagram.com", vlans=[100], label="tls vlan100 instagram")
    c.dns(MANAGED_V4, "www.netflix.com", vlans=[(TPID_8021AD, 200), 100],
          label="dns qinq netflix")


def sc_exception(c: Capture) -> None:
    """Device 10.20.5.17 (exception for twitter) and a device without exception."""
    c.dns(EXCEPTION_V4, "api.twitter.com", label="dns exception twitter")
    c.tls(EXCEPTION_V4, "x.com", label="tls exception x.com")
    c.dns(EXCEPTION_V4, "www.tiktok.com", label="dns exception device tiktok")
    c.dns(MANAGED_V4, "api.twitter.com", label="dns other device twitter")


def sc_dns_variants(c: Capture) -> None:
    """Query types, EDNS(0), case and trailing-dot handling, an answer packet."""
    c.dns(MANAGED_V4, "WWW.TikTok.COM", label="dns mixed case")
    c.dns(MANAGED_V4, "www.tiktok.com.", label="dns trailing dot")
    c.dns(MANAGED_V4, "www.tiktok.com", qtype="HTTPS", edns=True, label="dns HTTPS+EDNS")
    c.dns(MANAGED_V4, "tiktok.com", qtype="AAAA", label="dns apex AAAA")
    c.dns(MANAGED_V4, "www.wikipedia.org", answer="198.35.26.96",
          label="dns neutral with answer")


def sc_tls_features(c: Capture) -> None:
    """ALPN variants, GREASE, ECH outer extension, padding."""
    c.tls(MANAGED_V4, "www.tiktok.com", hello=HelloOptions(alpn=("http/1.1",)),
          label="tls alpn http/1.1 only")
    c.tls(MANAGED_V4, "www.tiktok.com", hello=HelloOptions(alpn=()), label="tls no alpn")
    c.tls(MANAGED_V4, "www.tiktok.com", hello=HelloOptions(grease=True, padding_to=512),
          label="tls grease+padding")
    c.tls(MANAGED_V4, "cloudflare-ech.com", hello=HelloOptions(ech=True, grease=True),
          label="tls ech public name")
    c.tls(MANAGED_V4, "www.instagram.com", hello=HelloOptions(ech=True),
          label="tls ech listed outer sni")


def sc_eth_padding(c: Capture) -> None:
    """Frames padded to 60 bytes: small TCP packets and DNS carry trailing zeros."""
    c.pad = True
    c.dns(MANAGED_V4, "tiktok.com", label="dns padded frame")
    c.tls(MANAGED_V4, "www.tiktok.com", label="tls padded frames")


def sc_ipv4_fragments(c: Capture) -> None:
    """DNS queries (with a long EDNS-padded name) in IPv4 fragments, in order and
    reversed; the datagram is whole at the last fragment to arrive."""
    long_name = "a" * 60 + "." + "b" * 60 + ".www.tiktok.com"
    c.dns(MANAGED_V4, long_name, edns=True, fragments=(64, [0, 1, 2]),
          label="dns fragments in order")
    c.dns(MANAGED_V4, long_name, edns=True, fragments=(64, [2, 1, 0]),
          label="dns fragments reversed")
    c.dns(MANAGED_V4, "www.netflix.com", fragments=(16, [1, 0, 2]),
          label="dns fragments shuffled")


def sc_malformed(c: Capture) -> None:
    """Broken DNS and TLS, each followed by a well-formed one from the same client."""
    bad_dns = dns_query("www.tiktok.com")[:12] + b"\x3fwww\x06tiktok"   # label overruns
    c.dns(MANAGED_V4, "", raw=bad_dns, label="malformed dns label overrun")
    c.dns(MANAGED_V4, "www.tiktok.com", label="dns after malformed")
    hello = bytearray(client_hello(HelloOptions(sni="www.tiktok.com")))
    hello[5 + 4 + 2 + 32 + 1 + 32] = 0xFF                 # cipher_suites length: too big
    c.tls(MANAGED_V4, None, payload=bytes(hello), label="malformed tls lengths")
    c.tls(MANAGED_V4, "www.tiktok.com", label="tls after malformed")


def sc_sample(c: Capture) -> None:
    """The bundled-sample-style mix: managed v4/v6, unmanaged, an exception device,
    DNS + TLS for every seed app and neutral names, one 3-segment out-of-order CH."""
    clients_v4 = ["10.20.5.20", "10.20.5.21", "10.20.5.22"]
    clients_v6 = ["fd00::10", "fd00::11"]
    order = ["tiktok", "twitter", "instagram", "netflix", "candycrush", "dating",
             "whatsapp", "telegram", "signal", "snapchat", "olvid", "tchap", "wimi"]
    for i, app in enumerate(order):
        d = SEED_DOMAINS[app]
        src = clients_v4[i % 3] if i % 4 else clients_v6[i % 2]
        v6 = ":" in src
        c.dns(src, d, qtype="AAAA" if v6 else "A", label=f"sample dns {app}",
              answer=("2001:db8::%x" % (0x100 + i)) if v6 else f"203.0.113.{100 + i}")
        c.tls(src, d, dst=("2001:db8::%x" % (0x100 + i)) if v6 else f"203.0.113.{100 + i}",
              hello=HelloOptions(pq=(i % 2 == 0), grease=True, seed=i + 20),
              label=f"sample tls {app}")
    c.dns("10.20.5.21", "x.com", label="sample dns twitter x.com")
    c.tls("10.20.5.21", "x.com", dst="203.0.113.150",
          label="sample tls twitter x.com")
    for d in NEUTRAL_DOMAINS:
        c.dns("10.20.5.22", d, label="sample dns neutral")
        c.tls("10.20.5.22", d, dst="192.0.2.81", label="sample tls neutral")
    c.tls("10.20.5.20", "www.tiktok.com", dst="203.0.113.160",
          hello=HelloOptions(pq=True, grease=True, seed=77),
          segments=lambda n: reorder(split_n(n, 3), [2, 0, 1]),
          label="sample tls 3 segments out of order")
    c.dns(UNMANAGED_V4, "www.tiktok.com", label="sample dns unmanaged tiktok")
    c.tls(UNMANAGED_V4, "www.tiktok.com", label="sample tls unmanaged tiktok")
    c.dns(EXCEPTION_V4, "api.twitter.com", label="sample dns exception twitter")
    c.tls(EXCEPTION_V4, "api.twitter.com", dst="203.0.113.151",
          label="sample tls exception twitter")


SCENARIOS: dict = {
    "dns-seed": sc_dns_seed,
    "tls-seed": sc_tls_seed,
    "subdomain-trap": sc_subdomain_trap,
    "unmanaged": sc_unmanaged,
    "ipv6": sc_ipv6,
    "tls-out-of-order": sc_tls_out_of_order,
    "tls-pq": sc_tls_pq,
    "tls-one-byte": sc_tls_one_byte,
    "tls-retrans-overlap": sc_tls_retrans_overlap,
    "vlan": sc_vlan,
    "exception": sc_exception,
    "dns-variants": sc_dns_variants,
    "tls-features": sc_tls_features,
    "eth-padding": sc_eth_padding,
    "ipv4-fragments": sc_ipv4_fragments,
    "malformed": sc_malformed,
    "sample": sc_sample,
}


# ---------------------------------------------------------------------------
# Evasion scenarios (issue 4): HTTP Host, DNS over TCP, TLS record fragmentation,
# IP fragments, ECH, HTTPS/SVCB, DoH/DoT/DoQ, ip: rules, nameless handshakes.
# Kept apart from SCENARIOS: their Sent records use protos http / ip too.
# ---------------------------------------------------------------------------

TELEGRAM_V4 = "149.154.167.50"        # ip:149.154.160.0/20
TELEGRAM_V4_B = "91.108.4.10"         # ip:91.108.4.0/22
TELEGRAM_V4_C = "91.108.8.3"          # ip:91.108.8.0/22
TELEGRAM_V6 = "2001:b28:f23d::a"      # ip:2001:b28:f23d::/48
TELEGRAM_V6_B = "2001:67c:4e8::5"     # ip:2001:67c:4e8::/48
UNLISTED_V4 = "203.0.113.200"
UNLISTED_V6 = "2001:db8::200"


def sc_http(c: Capture) -> None:
    """HTTP/1.1 requests: Host on port 80 and other ports, Host across segments,
    absolute-form target, case, duplicate Host, no Host, unmanaged, IPv6."""
    c.http(MANAGED_V4, http_request("www.tiktok.com"), "www.tiktok.com",
           label="http host tiktok port 80")
    c.http(MANAGED_V4, http_request("www.tiktok.com:8080"), "www.tiktok.com", dport=8080,
           label="http host with port, port 8080")
    c.http(MANAGED_V4, http_request("king.com"), "king.com", dport=8443,
           label="http any port 8443")
    req = http_request("www.instagram.com", target="/explore/")
    cut = req.index(b"instagram") + 3                        # inside the Host value
    c.http(MANAGED_V4, req, "www.instagram.com",
           segments=lambda n: [(0, 10), (10, cut - 10), (cut, n - cut)],
           label="http host across 3 segments")
    # Absolute-form target and Host disagree: a server may take either (RFC
    # 9112 §3.2.2 says the target, some servers and proxies the Host): both are
    # decided and the strictest wins (reason conflict).
    c.http(MANAGED_V4, http_request("www.wikipedia.org",
                                    target="http://www.netflix.com/browse"),
           "www.netflix.com", label="http absolute-form target listed, host neutral",
           meta={"expect": {"reason": "conflict"}})
    c.http(MANAGED_V4, http_request("www.tiktok.com",
                                    target="http://www.wikipedia.org/"),
           "www.tiktok.com", label="http absolute-form target neutral, host listed",
           meta={"expect": {"reason": "conflict"}})
    c.http(MANAGED_V4, http_request("WWW.TikTok.COM", host_field="host"),
           "www.tiktok.com", label="http lower-case field, mixed-case host")
    c.http(MANAGED_V4, http_request("olvid.io"), "olvid.io", label="http allow-list olvid")
    c.http(MANAGED_V4, http_request("www.facebook.com"), "www.facebook.com",
           label="http log app facebook")
    c.http(MANAGED_V4, http_request(hosts=["www.tiktok.com", "www.wikipedia.org"]),
           "www.tiktok.com", label="http duplicate host, listed first")
    # Servers differ on two Hosts (400, the first, the last): blocked when a
    # Host read is listed, else uninspectable ([inspect] uninspected).
    c.http(MANAGED_V4, http_request(hosts=["www.wikipedia.org", "www.tiktok.com"]),
           "", label="http duplicate host, listed second",
           meta={"malformed": "http_duplicate_host",
                 "expect": {"reason": "uninspected", "action": "block", "domain": None}})
    c.http(MANAGED_V4, http_request(None), "", dst="203.0.113.81",
           label="http/1.1 no host, unlisted address")
    c.http(MANAGED_V4, http_request(None), "", dst=TELEGRAM_V4,
           label="http/1.1 no host, telegram address")
    c.http(MANAGED_V4, http_request("dns.google", target="/dns-query?dns=AAAB"),
           "dns.google", label="http doh name")
    c.http(UNMANAGED_V4, http_request("www.tiktok.com"), "www.tiktok.com",
           label="http unmanaged tiktok")
    c.http(MANAGED_V6, http_request("www.netflix.com"), "www.netflix.com",
           dst="2001:db8::80", label="http v6 netflix")


def sc_dns_tcp(c: Capture) -> None:
    """DNS over TCP: several messages in one segment, one message across segments,
    a cut inside a length prefix, IPv6, an HTTPS query."""
    c.dns_tcp(MANAGED_V4, [("www.tiktok.com", "A"), ("www.wikipedia.org", "A"),
                           ("www.netflix.com", "AAAA")],
              segments=lambda n: [(0, n)], label="dns/tcp 3 msgs 1 segment")
    c.dns_tcp(MANAGED_V4, [("web.whatsapp.com", "A")],
              segments=lambda n: split_n(n, 3), label="dns/tcp 1 msg 3 segments")
    def cut_in_prefix(n):
        first = 2 + len(dns_query("www.instagram.com"))      # end of message 0
        return [(0, first + 1), (first + 1, n - first - 1)]  # cut inside prefix 1
    c.dns_tcp(MANAGED_V4, [("www.instagram.com", "A"), ("tinder.com", "A")],
              segments=cut_in_prefix, label="dns/tcp cut inside length prefix")
    c.dns_tcp(MANAGED_V6, [("www.snapchat.com", "AAAA"), ("olvid.io", "AAAA")],
              dst="2620:fe::fe", label="dns/tcp v6")
    c.dns_tcp(MANAGED_V4, [("www.service-public.fr", "HTTPS"), ("dns.google", "A")],
              label="dns/tcp https + doh")


def sc_tls_records(c: Capture) -> None:
    """ClientHellos split over several TLS records, with TCP segmentation."""
    c.tls_conn(MANAGED_V4, "www.tiktok.com", n_records=2, label="tls 2 records 1 segment",
               segments=lambda n: [(0, n)])
    c.tls_conn(MANAGED_V4, "www.netflix.com", n_records=5, mss=100,
               label="tls 5 records mss 100")
    c.tls_conn(MANAGED_V4, "www.instagram.com", records=[1, 3, 40],
               segments=lambda n: reorder(split_n(n, 4), [3, 1, 0, 2]),
               label="tls records 1,3,40,rest; 4 segments out of order")
    c.tls_conn(MANAGED_V4, "www.snapchat.com", hello=HelloOptions(pq=True, grease=True),
               n_records=3, mss=536, label="tls pq 3 records mss 536")
    c.tls_conn(MANAGED_V6, "signal.org", n_records=4, dst="2001:db8::443", mss=200,
               label="tls v6 4 records")
    c.tls_conn(MANAGED_V4, "www.wikipedia.org", n_records=3, label="tls neutral 3 records")


def sc_ip_fragments(c: Capture) -> None:
    """IPv4 and IPv6 fragments of UDP datagrams and of TCP segments (DNS, TLS, HTTP,
    DNS over TCP), in order, reversed and shuffled; with TCP segmentation too."""
    long_name = "a" * 60 + "." + "b" * 60 + ".www.tiktok.com"
    c.dns(MANAGED_V6, long_name, qtype="AAAA", edns=True, fragments=(64, None),
          label="dns v6 fragments in order")
    c.dns(MANAGED_V6, "www.netflix.com", qtype="AAAA", fragments=(16, "reverse"),
          label="dns v6 fragments reversed")
    c.dns(MANAGED_V4, "www.instagram.com", fragments=(8, lambda n: [2, 0, 3, 1] + list(range(4, n))),
          label="dns v4 8-byte fragments shuffled")
    c.tls_conn(MANAGED_V4, "www.tiktok.com", segments=lambda n: [(0, n)],
               ip_frag=(256, "reverse"), label="tls v4 one segment in fragments reversed")
    c.tls_conn(MANAGED_V6, "www.instagram.com", dst="2001:db8::444",
               segments=lambda n: [(0, n)], ip_frag=(128, None),
               label="tls v6 one segment in fragments")
    c.tls_conn(MANAGED_V4, "www.snapchat.com", hello=HelloOptions(pq=True), mss=600,
               ip_frag=(200, lambda n: list(range(n))[::-1]),
               label="tls v4 pq 600-byte segments each fragmented reversed")
    c.tls_conn(MANAGED_V6, "signal.org", n_records=3, mss=150, dst="2001:db8::445",
               ip_frag=(64, "reverse"), label="tls v6 records+segments+fragments")
    c.http(MANAGED_V4, http_request("www.tiktok.com"), "www.tiktok.com",
           segments=lambda n: [(0, n)], ip_frag=(24, lambda n: [1, 0] + list(range(2, n))),
           label="http v4 in fragments")
    c.dns_tcp(MANAGED_V6, [("king.com", "AAAA"), ("tinder.com", "AAAA")],
              dst="2620:fe::fe", ip_frag=(16, "reverse"), label="dns/tcp v6 fragments")
    c.udp_flow(MANAGED_V4, TELEGRAM_V4_C, 1400, [opaque_bytes(300, 5)],
               fragments=(64, "reverse"), label="udp telegram in fragments")


def sc_ech(c: Capture) -> None:
    """ClientHellos with encrypted_client_hello (outer SNI): neutral, listed,
    allow-listed and log-app outer names, an exception device, over IPv6."""
    e = HelloOptions(ech=True, grease=True)
    c.tls_conn(MANAGED_V4, "cloudflare-ech.com", hello=e, label="ech neutral outer")
    c.tls_conn(MANAGED_V4, "www.tiktok.com", hello=e, label="ech listed outer")
    c.tls_conn(MANAGED_V4, "olvid.io", hello=e, label="ech allow-listed outer")
    c.tls_conn(MANAGED_V4, "www.facebook.com", hello=e, label="ech log-app outer")
    c.tls_conn(EXCEPTION_V4, "api.twitter.com", hello=e, label="ech exception device twitter")
    c.tls_conn(MANAGED_V6, "public.example.net", hello=e, dst="2001:db8::443",
               label="ech v6 neutral outer")
    c.tls_conn(MANAGED_V4, "cloudflare-ech.com", hello=HelloOptions(ech=True, pq=True),
               n_records=3, mss=300, label="ech pq 3 records segmented")
    c.tls_conn(UNMANAGED_V4, "cloudflare-ech.com", hello=e, label="ech unmanaged")


def sc_svcb(c: Capture) -> None:
    """HTTPS (65) and SVCB (64) queries: neutral, listed, allow-listed, log app,
    exception device, unmanaged, IPv6; an A query as control."""
    c.dns(MANAGED_V4, "www.wikipedia.org", qtype="HTTPS", label="https neutral")
    c.dns(MANAGED_V4, "_dns.resolver.arpa", qtype="SVCB", label="svcb neutral")
    c.dns(MANAGED_V4, "www.tiktok.com", qtype="HTTPS", label="https listed")
    c.dns(MANAGED_V4, "olvid.io", qtype="HTTPS", label="https allow-listed")
    c.dns(MANAGED_V4, "www.facebook.com", qtype="HTTPS", label="https log app")
    c.dns(EXCEPTION_V4, "api.twitter.com", qtype="HTTPS", label="https exception device")
    c.dns(UNMANAGED_V4, "www.wikipedia.org", qtype="HTTPS", label="https unmanaged")
    c.dns(MANAGED_V6, "www.service-public.fr", qtype="HTTPS", edns=True, label="https v6")
    c.dns(MANAGED_V4, "www.wikipedia.org", qtype="A", label="a neutral control")


def sc_doh_canary(c: Capture) -> None:
    """Public resolver names (doh) and canary names, by DNS, TLS and HTTP;
    near-misses of the exact canary entries."""
    for d in ["dns.google", "mozilla.cloudflare-dns.com", "dns.quad9.net",
              "doh.opendns.com", "dns.nextdns.io"]:
        c.dns(MANAGED_V4, d, label=f"dns doh {d}")
    for d in ["use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com"]:
        c.dns(MANAGED_V4, d, label=f"dns canary {d}")
    c.dns(MANAGED_V6, "mask.icloud.com", qtype="AAAA", label="dns canary v6")
    for d in ["www.icloud.com", "x.use-application-dns.net", "google.com"]:
        c.dns(MANAGED_V4, d, label=f"dns near-miss {d}")
    c.tls_conn(MANAGED_V4, "dns.google", dst="8.8.8.8", label="tls doh dns.google")
    c.tls_conn(MANAGED_V4, "cloudflare-dns.com", dst="1.1.1.1",
               hello=HelloOptions(alpn=("h2",)), label="tls doh cloudflare-dns.com")
    c.tls_conn(MANAGED_V4, "mask-h2.icloud.com", dst="17.248.1.1", label="tls canary")


def sc_dot(c: Capture) -> None:
    """Port 853: DNS over TLS (TCP) and DNS over QUIC (UDP), IPv4 and IPv6,
    whatever the name; decided at the first client packet (the SYN for TCP)."""
    c.tls_conn(MANAGED_V4, "dns.google", dst="8.8.8.8", dport=853, label="dot tcp dns.google")
    c.tls_conn(MANAGED_V4, "www.wikipedia.org", dst="192.0.2.53", dport=853,
               label="dot tcp neutral name")
    c.tls_conn(MANAGED_V6, "dns.quad9.net", dst="2620:fe::fe", dport=853,
               label="dot tcp v6")
    c.tcp_conn(MANAGED_V4, "94.140.14.14", 853, opaque_bytes(80, 3),
               [dict(proto="tls", domain="", end=0, label="dot tcp opaque")])
    c.udp_flow(MANAGED_V4, "94.140.14.14", 853, [opaque_bytes(1200, 4), opaque_bytes(60, 8)],
               proto="quic", label="doq udp")
    c.udp_flow(MANAGED_V6, "2a10:50c0::ad1:ff", 853, [opaque_bytes(1200, 6)],
               proto="quic", label="doq udp v6")
    c.dns(MANAGED_V4, "www.tiktok.com", label="dns control after dot")


def sc_telegram_ip(c: Capture) -> None:
    """Nameless flows to Telegram's ip: ranges: MTProto-like TCP, plain UDP, a
    hello without SNI; the same to unlisted addresses; a named hello to a listed
    address (the name decides)."""
    c.opaque_tcp(MANAGED_V4, TELEGRAM_V4, 443, seed=11, label="mtproto tcp 443 v4")
    c.opaque_tcp(MANAGED_V4, TELEGRAM_V4_B, 80, seed=12, label="mtproto tcp 80 v4")
    c.opaque_tcp(MANAGED_V4, TELEGRAM_V4, 5222, seed=13, mss=7, label="mtproto tcp 5222 small segments")
    c.opaque_tcp(MANAGED_V6, TELEGRAM_V6, 443, seed=14, label="mtproto tcp v6")
    c.opaque_tcp(MANAGED_V4, UNLISTED_V4, 443, seed=15, label="opaque tcp unlisted")
    c.udp_flow(MANAGED_V4, TELEGRAM_V4_C, 1400, [opaque_bytes(120, 21), opaque_bytes(80, 22)],
               label="udp telegram v4")
    c.udp_flow(MANAGED_V6, TELEGRAM_V6_B, 1400, [opaque_bytes(120, 23)], label="udp telegram v6")
    c.udp_flow(MANAGED_V4, UNLISTED_V4, 1400, [opaque_bytes(120, 24)], label="udp unlisted")
    c.tls_conn(MANAGED_V4, None, dst=TELEGRAM_V4, label="tls no sni telegram")
    c.tls_conn(MANAGED_V6, None, dst=TELEGRAM_V6, label="tls no sni telegram v6")
    c.tls_conn(MANAGED_V4, "www.wikipedia.org", dst=TELEGRAM_V4,
               label="tls neutral sni to telegram address")
    c.tls_conn(MANAGED_V4, "telegram.org", dst=UNLISTED_V4, label="tls telegram name")


def sc_no_sni(c: Capture) -> None:
    """Handshakes and requests without a name to unlisted addresses."""
    c.tls_conn(MANAGED_V4, None, dst="203.0.113.90", label="tls no sni")
    c.tls_conn(MANAGED_V6, None, dst=UNLISTED_V6, hello=HelloOptions(pq=True),
               label="tls no sni v6 pq")
    c.tls_conn(MANAGED_V4, None, dst="203.0.113.91", hello=HelloOptions(alpn=()),
               n_records=2, label="tls no sni 2 records")
    c.http(MANAGED_V4, http_request(None, version="HTTP/1.1"), "", dst="203.0.113.92",
           label="http/1.1 no host")
    c.tls_conn(MANAGED_V4, "www.wikipedia.org", dst="203.0.113.93", label="tls neutral control")


EVASION_SCENARIOS: dict = {
    "http": sc_http,
    "dns-tcp": sc_dns_tcp,
    "tls-records": sc_tls_records,
    "ip-fragments-ext": sc_ip_fragments,
    "ech": sc_ech,
    "svcb": sc_svcb,
    "doh-canary": sc_doh_canary,
    "dot": sc_dot,
    "telegram-ip": sc_telegram_ip,
    "no-sni": sc_no_sni,
}


def build(name: str) -> Capture:
    c = Capture()
    (SCENARIOS.get(name) or EVASION_SCENARIOS[name])(c)
    return c


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="print the scenario names")
    p = sub.add_parser("scenario", help="write one named scenario")
    p.add_argument("name", choices=sorted(SCENARIOS) + sorted(EVASION_SCENARIOS))
    p.add_argument("out")
    p.add_argument("--manifest", help="also write the Sent records as JSON")
    p = sub.add_parser("sample", help="write the bundled-sample-style capture")
    p.add_argument("out")
    p.add_argument("--manifest", help="also write the Sent records as JSON")
    a = ap.parse_args(argv)
    if a.cmd == "list":
        for n, f in list(SCENARIOS.items()) + list(EVASION_SCENARIOS.items()):
            print(f"{n:22} {(f.__doc__ or '').splitlines()[0]}")
        return 0
    c = build("sample" if a.cmd == "sample" else a.name)
    c.write(a.out)
    if a.manifest:
        with open(a.manifest, "w") as f:
            json.dump(c.manifest(), f, indent=1)
    print(f"{a.out}: {len(c.packets)} frames, {len(c.sent)} queries/hellos",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
