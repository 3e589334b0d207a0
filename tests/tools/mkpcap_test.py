#!/usr/bin/env python3
"""Self-test of mkpcap: re-parses every generated capture in plain Python (no tshark)
and checks the pcap framing, Ethernet/802.1Q, IPv4/IPv6 (+extension headers),
UDP/TCP checksums, DNS questions, TCP reassembly and ClientHello structure against
what mkpcap says it wrote (its Sent records).

Run: python3 tests/tools/mkpcap_test.py [-v]
"""
import ipaddress
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkpcap  # noqa: E402
from mkpcap import inet_checksum, pseudo_header  # noqa: E402


class ParseError(Exception):
    pass


def need(cond, what):
    if not cond:
        raise ParseError(what)


def parse_pcap(data):
    """[(ts_us, frame bytes)] from a classic microsecond pcap."""
    need(len(data) >= 24, "pcap header")
    magic, vmaj, vmin, _zone, _sig, snap, link = struct.unpack("<IHHiIII", data[:24])
    need(magic == 0xA1B2C3D4, "magic")
    need((vmaj, vmin) == (2, 4), "version")
    need(link == 1, "LINKTYPE_ETHERNET")
    out, off = [], 24
    while off < len(data):
        need(off + 16 <= len(data), "record header")
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        need(usec < 1_000_000, "usec range")
        need(incl == orig and incl <= snap, "lengths")
        off += 16
        need(off + incl <= len(data), "record body")
        out.append((sec * 1_000_000 + usec, data[off:off + incl]))
        off += incl
    return out


def parse_frame(frame):
    """dict with vlans, src, dst, proto, sport, dport, payload, tcp fields.
    Verifies every checksum and every length field on the way."""
    need(len(frame) >= 14, "ethernet")
    et = struct.unpack("!H", frame[12:14])[0]
    off, vlans = 14, []
    while et in (0x8100, 0x88A8):
        tci, et = struct.unpack("!HH", frame[off:off + 4])
        vlans.append(tci & 0x0FFF)
        off += 4
    ip = frame[off:]
    p = {"vlans": vlans}
    if et == 0x0800:
        need(ip[0] == 0x45, "IPv4 version/IHL")
        total = struct.unpack("!H", ip[2:4])[0]
        need(total <= len(ip), "IPv4 total length")
        need(len(ip) - total == 0 or len(frame) == 60, "only minimum-size padding")
        need(inet_checksum(ip[:20]) == 0, "IPv4 header checksum")
        p["src"] = str(ipaddress.IPv4Address(ip[12:16]))
        p["dst"] = str(ipaddress.IPv4Address(ip[16:20]))
        proto, l4 = ip[9], ip[20:total]
    elif et == 0x86DD:
        need(ip[0] >> 4 == 6, "IPv6 version")
        plen, nh = struct.unpack("!HB", ip[4:7])
        need(40 + plen <= len(ip), "IPv6 payload length")
        p["src"] = str(ipaddress.IPv6Address(ip[8:24]))
        p["dst"] = str(ipaddress.IPv6Address(ip[24:40]))
        l4, exts = ip[40:40 + plen], []
        while nh in (0, 60):
            exts.append(nh)
            nh, hlen = l4[0], (l4[1] + 1) * 8
            l4 = l4[hlen:]
        p["ext"] = exts
        proto = nh
    else:
        raise ParseError("ethertype %#x" % et)
    p["proto"] = proto
    need(inet_checksum(pseudo_header(p["src"], p["dst"], proto, len(l4)) + l4) == 0,
         "L4 checksum")
    if proto == 17:
        sport, dport, ulen, csum = struct.unpack("!HHHH", l4[:8])
        need(ulen == len(l4), "UDP length")
        need(csum != 0, "UDP checksum present")
        p.update(sport=sport, dport=dport, payload=l4[8:])
    elif proto == 6:
        sport, dport, seq, ack, offb, flags = struct.unpack("!HHIIBB", l4[:14])
        hl = (offb >> 4) * 4
        need(20 <= hl <= len(l4), "TCP data offset")
        p.update(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags,
                 payload=l4[hl:])
    else:
        raise ParseError("protocol %d" % proto)
    return p


def parse_frame_fragment(frame):
    """(offset, more_fragments, payload) of an untagged IPv4 fragment."""
    ip = frame[14:]
    need(inet_checksum(ip[:20]) == 0, "IPv4 header checksum")
    total, fl = struct.unpack("!H", ip[2:4])[0], struct.unpack("!H", ip[6:8])[0]
    return (fl & 0x1FFF) * 8, bool(fl & 0x2000), ip[20:total]


def parse_dns_qname(msg):
    """(qname, qtype) of a one-question query; checks the header counts."""
    txid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    need(flags & 0x8000 == 0 and qd == 1 and an == 0 and ns == 0, "query header")
    off, labels = 12, []
    while msg[off]:
        ln = msg[off]
        need(ln <= 63, "label length")
        labels.append(msg[off + 1:off + 1 + ln].decode("ascii"))
        off += 1 + ln
    off += 1
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    need(qclass == 1, "QCLASS IN")
    off += 4
    if ar:
        need(msg[off] == 0 and struct.unpack("!H", msg[off + 1:off + 3])[0] == 41, "OPT")
        off += 11
    need(off == len(msg), "no trailing bytes")
    return ".".join(labels), qtype


def is_fragment(frame):
    if frame[12:14] == b"\x86\xdd":
        return frame[14 + 6] == 44                 # IPv6 next header: Fragment
    if frame[12:14] != b"\x08\x00":
        return False
    return struct.unpack("!H", frame[20:22])[0] & 0x3FFF != 0


def reassemble_ipv6(frames):
    """(src, dst, proto, payload) from IPv6 fragment frames (any order)."""
    parts, src, dst, proto = [], None, None, None
    for fr in frames:
        ip = fr[14:]
        need(ip[0] >> 4 == 6 and ip[6] == 44, "IPv6 fragment header")
        plen = struct.unpack("!H", ip[4:6])[0]
        need(40 + plen == len(ip), "IPv6 payload length")
        fh = ip[40:48]
        proto = fh[0]
        offm = struct.unpack("!H", fh[2:4])[0]
        parts.append(((offm >> 3) * 8, bool(offm & 1), ip[48:]))
        src = str(ipaddress.IPv6Address(ip[8:24]))
        dst = str(ipaddress.IPv6Address(ip[24:40]))
    parts.sort(key=lambda x: x[0])
    data = b""
    for off, _more, chunk in parts:
        need(off == len(data), "contiguous fragments")
        data += chunk
    need(all(m for _o, m, _c in parts[:-1]) and not parts[-1][1], "M flags")
    return src, dst, proto, data


class R:
    """Tiny bounded reader for the ClientHello check."""

    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        need(self.o + n <= len(self.b), "short read")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u(self, n):
        return int.from_bytes(self.take(n), "big")

    def vec(self, n):
        return R(self.take(self.u(n)))

    def done(self):
        return self.o == len(self.b)


def parse_client_hello(rec):
    """dict: sni, alpn, versions, groups, shares {group: len}, ech, grease."""
    r = R(rec)
    need(r.u(1) == 22, "record type handshake")
    need(r.u(2) == 0x0301, "record version")
    hs = r.vec(2)
    need(r.done(), "one record, nothing after")
    need(hs.u(1) == 1, "handshake type client_hello")
    body = R(hs.take(hs.u(3)))
    need(hs.done(), "handshake length")
    need(body.u(2) == 0x0303, "legacy_version")
    body.take(32)
    need(len(body.vec(1).b) == 32, "session id")
    suites = body.vec(2)
    need(len(suites.b) % 2 == 0, "cipher suites even")
    need(body.vec(1).b == b"\x00", "compression null")
    exts = body.vec(2)
    need(body.done(), "extensions end the hello")
    out = {"sni": None, "alpn": [], "versions": [], "groups": [], "shares": {},
           "ech": False, "grease": False, "types": []}
    while not exts.done():
        t = exts.u(2)
        e = exts.vec(2)
        out["types"].append(t)
        if t in mkpcap.GREASE:
            out["grease"] = True
        elif t == 0:
            lst = e.vec(2)
            need(lst.u(1) == 0, "host_name")
            out["sni"] = lst.vec(2).b.decode("ascii")
            need(lst.done() and e.done(), "SNI lengths")
        elif t == 0x10:
            lst = e.vec(2)
            while not lst.done():
                out["alpn"].append(lst.vec(1).b.decode("ascii"))
            need(e.done(), "ALPN lengths")
        elif t == 0x2B:
            v = e.vec(1)
            while not v.done():
                out["versions"].append(v.u(2))
        elif t == 0x0A:
            v = e.vec(2)
            while not v.done():
                out["groups"].append(v.u(2))
        elif t == 0x33:
            v = e.vec(2)
            while not v.done():
                g = v.u(2)
                out["shares"][g] = len(v.vec(2).b)
            need(e.done(), "key_share lengths")
        elif t == 0xFE0D:
            need(e.u(1) == 0, "ECH outer")
            e.take(5)
            need(len(e.vec(2).b) == 32 and len(e.vec(2).b) > 0 and e.done(), "ECH body")
            out["ech"] = True
    need(len(set(t for t in out["types"] if t not in mkpcap.GREASE))
         == len([t for t in out["types"] if t not in mkpcap.GREASE]),
         "no duplicate extension")
    return out


def reassemble(packets, sent):
    """Feed the client->server segments of `sent`'s connection in capture order to a
    byte map; return (frame at which [0, len) is contiguous, bytes)."""
    isn, buf, total = None, {}, None
    for i, (_ts, fr) in enumerate(packets, 1):
        p = parse_frame(fr)
        if (p["proto"] != 6 or p["src"] != str(ipaddress.ip_address(sent.src_ip))
                or p["sport"] != sent.src_port or p["dport"] != sent.dest_port):
            continue
        if p["flags"] & 0x02:
            isn = p["seq"]
            continue
        base = (p["seq"] - isn - 1) & 0xFFFFFFFF
        for k, b in enumerate(p["payload"]):
            if base + k in buf:
                need(buf[base + k] == b, "overlap must be consistent")
            buf[base + k] = b
        n = 0
        while n in buf:
            n += 1
        if n >= 5 and total is None:
            total = 5 + struct.unpack("!H", bytes(buf[j] for j in (3, 4)))[0]
        if total is not None and n >= total:
            return i, bytes(buf[j] for j in range(total))
    return -1, b""


class ChecksumTest(unittest.TestCase):
    def test_rfc1071_example(self):
        # RFC 1071 section 3 example: the sum is 0xddf2, the checksum its complement.
        self.assertEqual(inet_checksum(bytes.fromhex("0001f203f4f5f6f7")), 0x220D)

    def test_odd_length_padded(self):
        self.assertEqual(inet_checksum(b"\x01"), inet_checksum(b"\x01\x00"))

    def test_ipv4_header_verifies(self):
        h = mkpcap.ipv4("10.0.0.1", "10.0.0.2", 17, b"x" * 9)
        self.assertEqual(inet_checksum(h[:20]), 0)
        self.assertEqual(struct.unpack("!H", h[2:4])[0], 29)


class CorruptionTest(unittest.TestCase):
    """The parser used by these tests must notice a flipped bit anywhere."""

    def test_flipped_bytes_detected(self):
        c = mkpcap.build("tls-pq")
        for idx in (5, 6, 20):                  # TCP/UDP segments, some with data
            fr = bytearray(c.packets[idx][1])
            for pos in (20, 30, 40, len(fr) - 1):   # IP header, TCP header, payload
                bad = bytearray(fr)
                bad[pos] ^= 0x10
                with self.assertRaises(ParseError):
                    parse_frame(bytes(bad))


class SegmentTest(unittest.TestCase):
    def test_split(self):
        self.assertEqual(mkpcap.split_mss(10, 4), [(0, 4), (4, 4), (8, 2)])
        self.assertEqual(mkpcap.split_n(10, 3), [(0, 4), (4, 3), (7, 3)])

    def test_completion(self):
        segs = mkpcap.reorder(mkpcap.split_n(9, 3), [2, 0, 1])
        self.assertEqual(mkpcap.completion_index(segs, 9), 2)
        self.assertEqual(mkpcap.completion_index([(0, 5), (0, 5), (4, 5)], 9), 2)
        self.assertEqual(mkpcap.completion_index([(0, 5)], 9), -1)


class DnsTest(unittest.TestCase):
    def test_query_bytes(self):
        q = mkpcap.dns_query("www.tiktok.com", "A", txid=0xBEEF)
        self.assertEqual(q.hex(), "beef01000001000000000000"
                         "03777777067469 6b746f6b03636f6d00 0001 0001".replace(" ", ""))

    def test_trailing_dot_same_wire(self):
        self.assertEqual(mkpcap.dns_name("a.b."), mkpcap.dns_name("a.b"))


class HelloTest(unittest.TestCase):
    def test_pq_hello(self):
        rec = mkpcap.client_hello(mkpcap.HelloOptions(sni="www.tiktok.com", pq=True,
                                                      grease=True, ech=True))
        h = parse_client_hello(rec)
        self.assertEqual(h["sni"], "www.tiktok.com")
        self.assertEqual(h["alpn"], ["h2", "http/1.1"])
        self.assertEqual(h["shares"][0x11EC], 1216)
        self.assertEqual(h["shares"][0x001D], 32)
        self.assertIn(0x0304, h["versions"])
        self.assertIn(0x0303, h["versions"])
        self.assertIn(0x11EC, h["groups"])
        self.assertTrue(h["ech"] and h["grease"])
        self.assertGreater(len(rec), 1700)
        self.assertLess(len(rec), 1900)

    def test_plain_hello(self):
        h = parse_client_hello(mkpcap.client_hello(
            mkpcap.HelloOptions(sni="x.com", alpn=())))
        self.assertEqual((h["sni"], h["alpn"], h["ech"], h["grease"]),
                         ("x.com", [], False, False))
        self.assertEqual(list(h["shares"]), [0x001D])

    def test_padding(self):
        rec = mkpcap.client_hello(mkpcap.HelloOptions(sni="a.example", padding_to=512))
        self.assertEqual(len(rec) - 5, 512)
        parse_client_hello(rec)


class EvasionBuilderTest(unittest.TestCase):
    def test_ipv6_fragments(self):
        l4 = mkpcap.udp("fd00::10", "2620:fe::fe", 4000, 53, mkpcap.dns_query("a.example"))
        pk = mkpcap.ipv6_fragments("fd00::10", "2620:fe::fe", 17, l4, 16, 0xABCDEF)
        frames = [mkpcap.ethernet(b"\0" * 6, b"\0" * 6, mkpcap.ETH_IPV6, p) for p in pk]
        src, dst, proto, data = reassemble_ipv6(frames[::-1])
        self.assertEqual((proto, data), (17, l4))
        self.assertEqual(inet_checksum(pseudo_header(src, dst, 17, len(data)) + data), 0)

    def test_ipv4_fragment_offsets(self):
        f = mkpcap.ipv4_fragment("10.0.0.1", "10.0.0.2", 17, b"x" * 8, 65528, False, 9)
        self.assertEqual(struct.unpack("!H", f[6:8])[0], 65528 // 8)
        self.assertEqual(inet_checksum(f[:20]), 0)

    def test_tls_split_records(self):
        rec = mkpcap.client_hello(mkpcap.HelloOptions(sni="www.tiktok.com"))
        split = mkpcap.tls_split_records(rec, [1, 3, 40])
        self.assertEqual(mkpcap.tls_record_count(split), 4)
        hs, off = b"", 0
        while off < len(split):
            self.assertEqual(split[off:off + 3], b"\x16\x03\x01")
            ln = struct.unpack("!H", split[off + 3:off + 5])[0]
            hs += split[off + 5:off + 5 + ln]
            off += 5 + ln
        self.assertEqual(hs, rec[5:])
        self.assertEqual(mkpcap.tls_record_count(mkpcap.tls_records_even(rec, 5)), 5)

    def test_http_request(self):
        r = mkpcap.http_request("a.example", target="/x")
        self.assertTrue(r.startswith(b"GET /x HTTP/1.1\r\nHost: a.example\r\n"))
        self.assertEqual(mkpcap.http_head_end(r), len(r))
        self.assertEqual(mkpcap.http_second_host_end(r), -1)
        d = mkpcap.http_request(hosts=["a.example", "b.example"])
        self.assertEqual(d[:mkpcap.http_second_host_end(d)][-7:], b"\r\nHost:")
        self.assertNotIn(b"Host", mkpcap.http_request(None))

    def test_dns_tcp_and_opaque(self):
        q = mkpcap.dns_query("a.example")
        self.assertEqual(mkpcap.dns_tcp_frame(q), struct.pack("!H", len(q)) + q)
        for seed in range(50):
            b = mkpcap.opaque_bytes(64, seed)
            self.assertTrue(0x80 <= b[0] < 0xC0 and b[0] != 0xEF)

    def test_tcp_conn_completion_frames(self):
        c = mkpcap.Capture()
        sents = c.dns_tcp("10.0.0.1", [("a.example", "A"), ("b.example", "A")],
                          segments=lambda n: mkpcap.split_mss(n, 1)[::-1])
        self.assertEqual(sents[0].frame, sents[1].frame)     # both done by byte 0
        s = c.opaque_tcp("10.0.0.1", "149.154.167.50", mss=1)
        # One byte per segment: decided at the byte that rules out DNS over TCP.
        end = mkpcap.dns_tcp_sniff_end(mkpcap.opaque_bytes(64, 1))
        self.assertGreaterEqual(end, 2)
        self.assertEqual(s.frame, s.frames[end - 1])
        s = c.tls_conn("10.0.0.1", None, dport=853)
        self.assertEqual(s.meta["syn_frame"], s.frames[0] - 3)


class ScenarioTest(unittest.TestCase):
    """Every scenario: all frames parse and verify, every Sent is where it says."""

    def check_scenario(self, name):
        c = mkpcap.build(name)
        packets = parse_pcap(c.to_bytes())
        self.assertEqual(len(packets), len(c.packets))
        parsed = [None if is_fragment(fr) else parse_frame(fr) for _ts, fr in packets]
        self.assertTrue(c.sent)
        for s in c.sent:
            if s.label.startswith("malformed"):
                continue                  # broken on purpose: checked by the e2e test
            with self.subTest(scenario=name, sent=s.label):
                self.assertGreaterEqual(s.frame, 1)
                self.assertEqual(packets[s.frame - 1][0], s.ts_us)
                p = parsed[s.frame - 1]
                if p is None:
                    continue              # IPv4 fragment: see test_fragments
                self.assertEqual(p["src"], str(ipaddress.ip_address(s.src_ip)))
                self.assertEqual(p["dst"], str(ipaddress.ip_address(s.dest_ip)))
                self.assertEqual((p["sport"], p["dport"]), (s.src_port, s.dest_port))
                if s.proto == "dns":
                    self.assertEqual(p["proto"], 17)
                    qname, _ = parse_dns_qname(p["payload"])
                    self.assertEqual(qname, s.wire_name.rstrip("."))
                    self.assertEqual(mkpcap.normalise(s.wire_name), s.domain)
                else:
                    frame, data = reassemble(packets, s)
                    self.assertEqual(frame, s.frame)
                    h = parse_client_hello(data)
                    self.assertEqual(h["sni"], s.wire_name)
                    self.assertEqual(h["alpn"], s.alpn)
                    self.assertEqual(h["ech"], s.ech)
        return c, parsed

    def test_all_scenarios(self):
        for name in mkpcap.SCENARIOS:
            with self.subTest(scenario=name):
                self.check_scenario(name)

    def test_out_of_order_completes_on_middle_segment(self):
        c, _ = self.check_scenario("tls-out-of-order")
        s = c.sent[0]
        self.assertEqual(len(s.frames), 3)
        self.assertEqual(s.frame, s.frames[2])   # emitted [2, 0, 1]: segment 1 is last

    def test_one_byte(self):
        c, parsed = self.check_scenario("tls-one-byte")
        s = c.sent[0]
        self.assertTrue(all(len(parsed[f - 1]["payload"]) == 1 for f in s.frames))
        self.assertEqual(s.frame, s.frames[-1])

    def test_retransmission_after_completion(self):
        c, _ = self.check_scenario("tls-retrans-overlap")
        s = c.sent[0]
        self.assertEqual(s.frame, s.frames[3])   # the 5th segment is a late duplicate

    def test_vlan_and_ipv6_ext(self):
        c, parsed = self.check_scenario("vlan")
        self.assertEqual(parsed[c.sent[0].frame - 1]["vlans"], [100])
        self.assertEqual(parsed[c.sent[2].frame - 1]["vlans"], [200, 100])
        c, parsed = self.check_scenario("ipv6")
        self.assertEqual(parsed[c.sent[2].frame - 1]["ext"], [0])
        self.assertEqual(parsed[c.sent[3].frame - 1]["ext"], [0, 60])

    def test_fragments(self):
        c = mkpcap.build("ipv4-fragments")
        for s in c.sent:
            frags = [parse_frame_fragment(c.packets[f - 1][1]) for f in s.frames]
            frags.sort(key=lambda x: x[0])
            data = b"".join(x[2] for x in frags)
            self.assertTrue(all(x[1] for x in frags[:-1]) and not frags[-1][1])
            self.assertEqual(s.frame, s.frames[-1])
            ip = mkpcap.ipaddress
            src, dst = s.src_ip, s.dest_ip
            self.assertEqual(inet_checksum(pseudo_header(src, dst, 17, len(data)) + data), 0)
            self.assertEqual(parse_dns_qname(data[8:])[0], s.wire_name)

    def test_evasion_scenarios_parse(self):
        """Every whole frame of the evasion scenarios verifies; every Sent points at a
        frame of the capture with its timestamp."""
        for name in mkpcap.EVASION_SCENARIOS:
            with self.subTest(scenario=name):
                c = mkpcap.build(name)
                packets = parse_pcap(c.to_bytes())
                for _ts, fr in packets:
                    if not is_fragment(fr):
                        parse_frame(fr)
                for s in c.sent:
                    self.assertGreaterEqual(s.frame, 1)
                    self.assertEqual(packets[s.frame - 1][0], s.ts_us)

    def test_padding_scenario(self):
        c = mkpcap.build("eth-padding")
        self.assertTrue(all(len(fr) >= 60 for _ts, fr in c.packets))

    def test_cli_writes_files(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            out, man = os.path.join(d, "s.pcap"), os.path.join(d, "s.json")
            self.assertEqual(mkpcap.main(["sample", out, "--manifest", man]), 0)
            with open(out, "rb") as f:
                self.assertEqual(len(parse_pcap(f.read())),
                                 len(mkpcap.build("sample").packets))
            self.assertTrue(os.path.getsize(man) > 0)


if __name__ == "__main__":
    unittest.main()
