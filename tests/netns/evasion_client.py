#!/usr/bin/env python3
"""Clients (and one listener) of evasion_inline_test.sh: the tricks a determined
client plays, sent through the gateway. Each client prints one word saying what
came back, then details:

  hello SRC DST PORT SNI N       a ClientHello for SNI in N send() calls
                                 (TCP_NODELAY, a pause between them)
  http SRC DST PORT HOST1 HOST2  one keep-alive connection: GET for HOST1 (in
                                 HTTP_FIRST_SEGMENTS segments), read the answer,
                                 then GET for HOST2
  bytes SRC DST PORT             connect, send a DNS-over-TCP query (DoT stand-in)
  listen ADDR PORT LOG           accept forever; append "accept" and "bytes N" to LOG
  trick TRICK SRC DST PORT SNI DECOY SPORT
                                 a raw-socket TCP connection (IPv4) from SPORT, its
                                 own handshake, whose ClientHello for SNI is sent
                                 with TRICK (mkpcap.trick_segments; the decoy hello
                                 names DECOY). The caller drops the client kernel's
                                 RSTs from SPORT (it has no socket for it). LOW_TTL
                                 (environment) sets the low-TTL decoys' TTL.
  frags SRC DST FIRST LAST SPORT a DNS query (UDP, IPv4) sent as conflicting IP
                                 fragments (mkpcap.conflicting_fragments): FIRST
                                 in the first-received copy, LAST in the other;
                                 prints "answer NAME RCODE" or timeout

Words: reset (connection reset / refused), response (bytes came back),
closed (orderly close, nothing back), timeout (nothing within TIMEOUT_S).
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import mkpcap  # noqa: E402

# How long a client waits for an answer (or a reset) after its last send:
# Vigie decides within milliseconds; the gateway is one hop away.
TIMEOUT_S = 3.0
# Pause between segments: long enough for each send() to leave as its own
# segment (Nagle off), short enough for 30 segments to take under a second.
SEGMENT_PAUSE_S = 0.02
CONNECT_TIMEOUT_S = 3.0
# trick: after the server's first bytes, how long to wait for a reset.
RESET_AFTER_RESPONSE_S = 0.5
# The first (allowed) request of the keep-alive connection is sent in this
# many segments, so the second request comes after the 10th packet of the
# connection: past what a packet-count rule (connbytes 0:10) would queue.
HTTP_FIRST_SEGMENTS = 12


def connect(src, dst, port):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((src, 0))
    s.settimeout(CONNECT_TIMEOUT_S)
    s.connect((dst, port))
    return s


def wait_answer(s):
    """reset | closed | timeout | response N first-byte-hex"""
    s.settimeout(TIMEOUT_S)
    try:
        data = s.recv(65536)
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "timeout"
    if not data:
        return "closed"
    return f"response {len(data)} {data[:1].hex()}"


def run(fn):
    try:
        print(fn())
    except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError) as e:
        print(f"reset ({e.__class__.__name__})")
    except socket.timeout:
        print("timeout (connect)")


def hello(src, dst, port, sni, n):
    record = mkpcap.client_hello(mkpcap.HelloOptions(sni=sni))
    pieces = mkpcap.split_n(len(record), int(n))
    s = connect(src, dst, int(port))
    for off, ln in pieces:
        s.send(record[off:off + ln])
        time.sleep(SEGMENT_PAUSE_S)
    return f"{wait_answer(s)} (hello {len(record)} bytes in {len(pieces)} sends)"


def read_http_response(s):
    """Reads one response with a Content-Length; returns (status line, rest)."""
    s.settimeout(TIMEOUT_S)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed before the response head")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head.split(b"\r\n")[0].decode(), body


def http(src, dst, port, host1, host2):
    s = connect(src, dst, int(port))
    first = f"GET / HTTP/1.1\r\nHost: {host1}\r\nConnection: keep-alive\r\n\r\n".encode()
    for off, ln in mkpcap.split_n(len(first), HTTP_FIRST_SEGMENTS):
        s.send(first[off:off + ln])
        time.sleep(SEGMENT_PAUSE_S)
    try:
        status, _ = read_http_response(s)
    except (ConnectionResetError, socket.timeout) as e:
        return f"first-failed ({e})"
    s.sendall(f"GET / HTTP/1.1\r\nHost: {host2}\r\nConnection: keep-alive\r\n\r\n".encode())
    return f"{wait_answer(s)} (first: {status})"


def bytes_(src, dst, port):
    s = connect(src, dst, int(port))
    s.sendall(mkpcap.dns_tcp_frame(mkpcap.dns_query("example.org")))
    return wait_answer(s)


def listen(addr, port, log):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(16)
    with open(log, "a", buffering=1) as f:
        f.write("listening\n")
        while True:
            c, peer = srv.accept()
            f.write(f"accept {peer[0]}\n")
            c.settimeout(TIMEOUT_S)
            try:
                data = c.recv(65536)
                f.write(f"bytes {len(data)} {peer[0]}\n")
                if data:
                    c.sendall(b"\x00\x02ok")
            except OSError as e:
                f.write(f"error {e.__class__.__name__} {peer[0]}\n")
            c.close()


def trick(name, src, dst, port, sni, decoy, sport):
    import random
    import struct
    port, sport = int(port), int(sport)
    real = mkpcap.client_hello(mkpcap.HelloOptions(sni=sni))
    fake = mkpcap.client_hello(mkpcap.HelloOptions(sni=decoy))
    segs = mkpcap.trick_segments(name, real, fake,
                                 low_ttl=int(os.environ.get("LOW_TTL", mkpcap.LOW_TTL)))
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    ident = random.randrange(1, 0xFFFF)

    def send(seq, ack, flags, payload=b"", options=b"", ttl=64, urgent=0):
        nonlocal ident
        ident += 1
        seg = mkpcap.tcp(src, dst, sport, port, seq, ack, flags, payload, options=options,
                         urgent=urgent)
        tx.sendto(mkpcap.ipv4(src, dst, mkpcap.IPPROTO_TCP, seg, ident=ident, ttl=ttl),
                  (dst, 0))

    def receive(deadline):
        """(flags, seq, payload length) of the next segment from the server, or None."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            rx.settimeout(left)
            try:
                pkt = rx.recv(65535)
            except socket.timeout:
                return None
            ihl = (pkt[0] & 0x0F) * 4
            if socket.inet_ntoa(pkt[12:16]) != dst:
                continue
            sp, dp, seq = struct.unpack("!HHI", pkt[ihl:ihl + 8])
            if sp != port or dp != sport:
                continue
            off = (pkt[ihl + 12] >> 4) * 4
            return pkt[ihl + 13], seq, len(pkt) - ihl - off

    isn = random.randrange(1 << 32)
    send(isn, 0, mkpcap.TCP_SYN, options=mkpcap.SYN_OPTIONS)
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        got = receive(deadline)
        if got is None:
            return "timeout (connect)"
        flags, sseq, _ = got
        if flags & mkpcap.TCP_RST:
            return "reset (connect)"
        if flags & mkpcap.TCP_SYN and flags & mkpcap.TCP_ACK:
            break
    send(isn + 1, sseq + 1, mkpcap.TCP_ACK)
    for g in segs:
        fl = mkpcap.TCP_PSH | mkpcap.TCP_ACK | (mkpcap.TCP_URG if g.urgent else 0)
        send(isn + 1 + g.off, sseq + 1, fl, g.data,
             options=mkpcap.MD5_OPTION if g.md5 else b"", ttl=g.ttl, urgent=g.urgent)
        time.sleep(SEGMENT_PAUSE_S)
    # Until a reset or the timeout; after the server's first bytes, a little
    # longer for a reset (a decoy the server read and answered before Vigie
    # blocked the real hello, e.g. a low-TTL decoy that reached the server).
    deadline = time.monotonic() + TIMEOUT_S
    answered = 0
    what = f"({name}, {len(segs)} segments)"
    while True:
        got = receive(deadline)
        if got is None:
            return f"response {answered} {what}" if answered else f"timeout {what}"
        flags, _, n = got
        if flags & mkpcap.TCP_RST:
            return f"reset {what}" + (f" after a response of {answered} bytes" if answered else "")
        if n > 0 and not answered:
            answered = n
            deadline = min(deadline, time.monotonic() + RESET_AFTER_RESPONSE_S)


def frags(src, dst, first, last, sport):
    import random
    sport = int(sport)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind((src, sport))
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    txid = random.randrange(1 << 16)
    q = lambda n: mkpcap.udp(src, dst, sport, 53, mkpcap.dns_query(n, txid=txid, edns=True))
    ident = random.randrange(1 << 16)
    for off, chunk, more in mkpcap.conflicting_fragments(q(first), q(last)):
        tx.sendto(mkpcap.ipv4_fragment(src, dst, mkpcap.IPPROTO_UDP, chunk, off, more, ident),
                  (dst, 0))
        time.sleep(SEGMENT_PAUSE_S)
    rx.settimeout(TIMEOUT_S)
    try:
        data = rx.recv(65535)
    except socket.timeout:
        return "timeout"
    labels, i = [], 12
    while i < len(data) and data[i]:
        labels.append(data[i + 1:i + 1 + data[i]].decode("ascii", "replace"))
        i += 1 + data[i]
    return f"answer {'.'.join(labels)} rcode {data[3] & 0x0F}"


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "listen":
        listen(*args)
    elif cmd == "hello":
        run(lambda: hello(*args))
    elif cmd == "http":
        run(lambda: http(*args))
    elif cmd == "bytes":
        run(lambda: bytes_(*args))
    elif cmd == "trick":
        run(lambda: trick(*args))
    elif cmd == "frags":
        run(lambda: frags(*args))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
