#!/usr/bin/env python3
"""The course notebooks' UDP servers, as they are (no reply rule), for measuring loops.

    python3 bench/seed_servers.py echo|upper|threaded [PORT]

echo: module 3h's echo server; upper: the textbook's uppercase server; threaded: the
threading lesson's server ("Message received"). Each binds 127.0.0.1:PORT (0: any free
port), prints one ready line with its address, and answers every datagram for ever, as the
notebooks do. It exits after an hour at most, so a forgotten one stops by itself.
"""
import signal
import socket
import sys

mode = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
signal.alarm(3600)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
print(f"seed {mode} server ready on 127.0.0.1:{s.getsockname()[1]}", flush=True)
while True:
    data, addr = s.recvfrom(2048)
    if mode == "echo":
        s.sendto(data, addr)
    elif mode == "upper":
        s.sendto(data.decode(errors="replace").upper().encode(), addr)
    else:
        s.sendto("Message received".encode(), addr)
