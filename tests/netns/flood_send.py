#!/usr/bin/env python3
"""Bounded floods from the client namespace of tests/netns/flood_test.sh,
with ordinary sockets only (no raw socket): every packet goes to the test's
own server namespace through the gateway namespace.

  flood_send.py flows SRC4 SRC6 DST4 DST6 COUNT PPS
      COUNT new flows, in turn a TCP SYN (non-blocking connect, closed at
      once) and a UDP datagram, over IPv4 and IPv6, each to a new port.
  flood_send.py dns SRC SERVER NAME COUNT PPS
      COUNT DNS queries (A) for NAME, each a new connection (source port
      1024 + i % 64000, then DNS ports 53, 5353, 5355).

At most PPS packets a second; stops after COUNT. Prints what it sent.
"""

import errno
import socket
import struct
import sys
import time


def pace(i, start, pps):
    if i % 500 == 0:
        ahead = i / pps - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)


def flows(src4, src6, dst4, dst6, count, pps):
    udp = {socket.AF_INET: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
           socket.AF_INET6: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)}
    udp[socket.AF_INET].bind((src4, 0))
    udp[socket.AF_INET6].bind((src6, 0))
    start = time.monotonic()
    sent = 0
    for i in range(count):
        pace(i, start, pps)
        fam = socket.AF_INET6 if (i >> 1) & 1 else socket.AF_INET
        src, dst = (src6, dst6) if fam == socket.AF_INET6 else (src4, dst4)
        port = 1024 + (i // 4) % 60000
        if i & 1:
            try:
                udp[fam].sendto(b"\xab" * 16, (dst, port))
            except OSError as e:  # an ICMP error of an earlier datagram
                if e.errno not in (errno.ECONNREFUSED, errno.EHOSTUNREACH):
                    raise
        else:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((src, 0))
            s.connect_ex((dst, port))  # the SYN leaves now
            s.close()
        sent += 1
    print(f"flood_send: {sent} new flows in {time.monotonic() - start:.1f} s")


def dns_query(qid, name):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 1, 1)


def dns(src, server, name, count, pps):
    # One new connection per query (its own source port, then the next DNS
    # port): a blocked connection is marked and the kernel drops the rest of
    # it, so reusing one would end the burst at its first decision.
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    start = time.monotonic()
    sent = 0
    for i in range(count):
        pace(i, start, pps)
        port = 1024 + i % 64000
        dport = (53, 5353, 5355)[i // 64000 % 3]
        s = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            s.bind((src, port))
            s.sendto(dns_query(i & 0xFFFF, name), (server, dport))
            sent += 1
        except OSError as e:  # a port in use by another socket
            if e.errno not in (errno.EADDRINUSE, errno.ECONNREFUSED):
                raise
        finally:
            s.close()
    print(f"flood_send: {sent} DNS queries in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "flows" and len(a) == 7:
        flows(a[1], a[2], a[3], a[4], int(a[5]), int(a[6]))
    elif a and a[0] == "dns" and len(a) == 6:
        dns(a[1], a[2], a[3], int(a[4]), int(a[5]))
    else:
        sys.exit(__doc__)
