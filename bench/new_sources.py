#!/usr/bin/env python3
"""A flood of new source addresses: each datagram from a fresh socket (a new source port).

    python3 bench/new_sources.py PORT [COUNT] [RATE]

Sends COUNT one-byte datagrams (default 36,000) to 127.0.0.1:PORT, each from a new socket
closed right after, at most RATE a second (default 18,000). Loopback only; at most 60 s.
"""
import socket
import sys
import time

port = int(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 36_000
rate = int(sys.argv[3]) if len(sys.argv) > 3 else 18_000
start = time.monotonic()
for i in range(count):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x01", ("127.0.0.1", port))
    if i % 100 == 99:
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    if time.monotonic() - start > 60:
        break
print(f"sent {i + 1} datagrams from {i + 1} new source ports in {time.monotonic() - start:.1f} s")
