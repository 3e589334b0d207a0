#!/usr/bin/env python3
"""A syslog collector that reads slowly (tests/netns/flood_test.sh), on the
gateway namespace's loopback.

  slow_collector.py tcp|udp PORT OUT FAST_FLAG

TCP: accepts connections one after the other, reads 4 KiB then sleeps 20 ms
while FAST_FLAG does not exist, then reads freely; counts RFC 6587
octet-counted frames. UDP: a 64 KiB receive buffer, one datagram per 1 ms
while slow (the kernel drops the rest: UDP syslog's loss is the receiver's),
then drains. Once FAST_FLAG exists and nothing arrived for 1 s, writes the
count of messages to OUT and exits.
"""

import os
import select
import socket
import sys
import time


def tcp(port, fast):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    ls.bind(("127.0.0.1", port))
    ls.listen(4)
    frames, buf, conns, quiet = 0, b"", [], time.monotonic()
    while True:
        r, _, _ = select.select([ls] + conns, [], [], 0.1)
        if not r and os.path.exists(fast) and time.monotonic() - quiet > 1.0:
            return frames
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                conns.append(c)
                continue
            data = s.recv(4096 if not os.path.exists(fast) else 1 << 20)
            if not data:
                conns.remove(s)
                s.close()
                continue
            quiet = time.monotonic()
            buf += data
            while True:  # "LEN SP MSG"
                sp = buf.find(b" ")
                if sp < 0:
                    break
                n = int(buf[:sp])
                if len(buf) < sp + 1 + n:
                    break
                buf = buf[sp + 1 + n:]
                frames += 1
            if not os.path.exists(fast):
                time.sleep(0.02)


def udp(port, fast):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.1)
    n, quiet = 0, time.monotonic()
    while True:
        try:
            s.recv(65536)
            n += 1
            quiet = time.monotonic()
            if not os.path.exists(fast):
                time.sleep(0.001)
        except socket.timeout:
            if os.path.exists(fast) and time.monotonic() - quiet > 1.0:
                return n


if __name__ == "__main__":
    kind, port, out, fast = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    count = tcp(port, fast) if kind == "tcp" else udp(port, fast)
    with open(out + ".tmp", "w") as f:
        f.write(f"{count}\n")
    os.rename(out + ".tmp", out)
