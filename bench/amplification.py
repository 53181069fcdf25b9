#!/usr/bin/env python3
"""How many bytes a UDP server sends one host for the bytes it receives from it.

    python3 bench/amplification.py PORT [COUNT] [SOCKETS] [PAYLOAD_HEX] [RATE]

Sends COUNT datagrams (default 20,000) of PAYLOAD (default one byte, 01) to 127.0.0.1:PORT,
spread round-robin over SOCKETS source ports of this host (default 2,000: a forger spreads
over a victim's ports), at most RATE a second (default 20,000), and counts the bytes that
come back on all of them. Loopback only; stops after COUNT datagrams and a second of
silence (and in any case after 60 s).
"""
import selectors
import socket
import sys
import time

port = int(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
n_sockets = int(sys.argv[3]) if len(sys.argv) > 3 else 2_000
payload = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else b"\x01"
rate = int(sys.argv[5]) if len(sys.argv) > 5 else 20_000

socks = []
for _ in range(n_sockets):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    socks.append(s)
received = replies = 0
selector = selectors.DefaultSelector()
for s in socks:
    selector.register(s, selectors.EVENT_READ)


def drain(timeout):
    global received, replies
    for key, _ in selector.select(timeout):
        s = key.fileobj
        while True:
            try:
                received += len(s.recv(65536))
                replies += 1
            except BlockingIOError:
                break


start = time.monotonic()
for i in range(count):
    socks[i % n_sockets].sendto(payload, ("127.0.0.1", port))
    if i % 100 == 99:
        drain(0)
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    if time.monotonic() - start > 60:
        break
quiet_since = time.monotonic()
while time.monotonic() - quiet_since < 1 and time.monotonic() - start < 60:
    before = received
    drain(0.1)
    if received != before:
        quiet_since = time.monotonic()
sent = count * len(payload)
print(f"sent {count} datagrams, {sent} bytes, from {n_sockets} ports; "
      f"{replies} replies, {received} bytes back: {received / sent:.2f}x")
