#!/usr/bin/env python3
"""Issue 18, row 6: what one host can hold of module3g's server. Loopback only; every
attack is bounded in count and time and stops by itself.

    python3 bench/attacks/module3g.py SERVER_BINARY places|drip|unread|ipv6

places  one address (127.0.0.2) opens 120 connections to a server with --max-clients 100
        and no --max-per-ip: how many are served.
drip    200 connections send one byte every 2 s (no newline) to a server with
        --idle-timeout 5 --line-timeout 5: how many are still open after 20 s.
unread  10 connections send as fast as they can and never read: bytes the kernels took for
        each before it blocked, and the growth of the kernel's TCP memory (/proc/net/sockstat).
ipv6    (run inside `unshare -rn`) 300 addresses of one /64 each open a connection to a
        server with --max-per-ip 1: how many are served.
"""
import os, select, signal, socket, subprocess, sys, time

def start(binary, *args, host="127.0.0.1"):
    proc = subprocess.Popen([binary, "--host", host, "--port", "0", "--quiet", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()  # "TCP echo server listening on ADDR; ..."
    addr = line.split("listening on ")[1].split(";")[0]
    host_part, port = addr.rsplit(":", 1)
    return proc, (host_part.strip("[]"), int(port))

def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill(); out, _ = proc.communicate()
    return out.strip().splitlines()[-1] if out.strip() else ""

def served(sock):
    """Whether the server echoes on this connection (not a refusal line, not closed)."""
    try:
        sock.settimeout(2)
        sock.sendall(b"hi\n")
        reply = sock.recv(200)
        return reply == b"hi\n"
    except OSError:
        return False

def places(binary):
    proc, addr = start(binary, "--max-clients", "100")
    socks, ok = [], 0
    for _ in range(120):
        s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(addr)
        socks.append(s)
        ok += served(s)
    other = socket.create_connection(addr)
    print(f"places: 127.0.0.2 was served on {ok} of 120 connections (--max-clients 100); "
          f"127.0.0.1 afterwards: {'served' if served(other) else 'refused'}")
    for s in socks + [other]: s.close()
    print("  server:", stop(proc))

def drip(binary, after):
    args = ["--max-clients", "1000", "--idle-timeout", "5"]
    if after:
        args += ["--line-timeout", "5"]
    proc, addr = start(binary, *args)
    socks = []
    for i in range(200):
        s = socket.socket(); s.bind((f"127.0.0.{2 + i % 10}", 0)); s.connect(addr)
        s.setblocking(False); socks.append(s)
    start_t = time.time()
    while time.time() - start_t < 20:
        for s in socks:
            try:
                s.send(b"x")
            except OSError:
                pass
        time.sleep(2)
        for s in socks:  # drain the echoes
            try:
                while s.recv(4096): pass
            except OSError:
                pass
    alive = 0
    for s in socks:
        try:
            s.send(b"x")
            time.sleep(0.001)
            r, _, _ = select.select([s], [], [], 0.2)
            data = s.recv(10) if r else b"x"
            alive += data != b""
        except OSError:
            pass
    print(f"drip: {alive} of 200 connections (10 addresses, a byte every 2 s) still open after 20 s "
          f"(--idle-timeout 5{', --line-timeout 5' if after else ''})")
    for s in socks: s.close()
    print("  server:", stop(proc))

def sockstat_pages():
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            f = line.split()
            return int(f[f.index("mem") + 1])
    return 0

def unread(binary):
    proc, addr = start(binary)
    before = sockstat_pages()
    socks, taken = [], []
    for _ in range(10):
        s = socket.create_connection(addr)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        total, last = 0, time.time()
        block = b"x" * 16384
        while time.time() - last < 0.5 and total < (64 << 20):
            try:
                total += s.send(block); last = time.time()
            except BlockingIOError:
                time.sleep(0.005)
            except OSError:
                break
        socks.append(s); taken.append(total)
    grown = (sockstat_pages() - before) * 4096
    print(f"unread: per connection the kernels took {min(taken)//1024}-{max(taken)//1024} KiB "
          f"before it blocked; TCP memory grew by {grown/1e6:.1f} MB for 10 connections")
    for s in socks: s.close()
    print("  server:", stop(proc))

def ipv6(binary):
    # Every address of 2001:db8:1:2::/64 is local here (an AnyIP route on lo).
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "-6", "route", "add", "local", "2001:db8:1:2::/64", "dev", "lo"], check=True)
    subprocess.run(["ip", "-6", "addr", "add", "2001:db8:1:2::1/128", "dev", "lo", "nodad"], check=True)
    proc, addr = start(binary, "--max-per-ip", "1", host="2001:db8:1:2::1")
    socks, ok = [], 0
    t0 = time.time()
    for i in range(300):
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND: any address of the /64
        s.bind((f"2001:db8:1:2::{i + 2:x}", 0)); s.connect(addr)
        socks.append(s); ok += served(s)
    print(f"ipv6: {ok} of 300 addresses of one /64 were served (--max-per-ip 1), {time.time()-t0:.1f} s")
    for s in socks: s.close()
    print("  server:", stop(proc))

if __name__ == "__main__":
    binary, what = sys.argv[1], sys.argv[2]
    after = "--after" in sys.argv
    {"places": places, "unread": unread, "ipv6": ipv6}.get(what, lambda b: drip(b, after))(binary)
