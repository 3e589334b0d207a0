#!/usr/bin/env python3
"""UDP DNS relay that answers late: listens on ADDR:53, forwards each query
to ADDR:PORT and sends the answer back DELAY_MS later. Stands in for the
distance to a real server in the monitor test (no sch_netem in the kernel),
so that an injected answer has a fair head start. Standard library only.
usage: delay_relay.py ADDR PORT DELAY_MS"""
import socket
import sys
import threading
import time

addr, port, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000.0
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
srv = socket.socket(fam, socket.SOCK_DGRAM)
srv.bind((addr, 53))


def relay(data, client):
    up = socket.socket(fam, socket.SOCK_DGRAM)
    up.settimeout(2)
    try:
        up.sendto(data, (addr, port))
        answer, _ = up.recvfrom(65535)
        time.sleep(delay)
        srv.sendto(answer, client)
    except OSError:
        pass
    finally:
        up.close()


while True:
    data, client = srv.recvfrom(65535)
    threading.Thread(target=relay, args=(data, client), daemon=True).start()
