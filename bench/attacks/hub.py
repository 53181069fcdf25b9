#!/usr/bin/env python3
"""Issue 18, row 7: what one source can cost the chat hub. Loopback only; every attack is
bounded in count and time and stops by itself.

    python3 bench/attacks/hub.py SERVER_BINARY replay|churn|ipv6

replay  240 members join from 15 addresses (127.0.0.2-16, 16 each: the default limits); an
        attacker joins as mallory and replays its valid HELLO 30,000 times at 10,000 a
        second (the default --reply-rate), while real users (127.0.1.x) try to join
        every 0.2 s. Prints the hub's CPU time per replayed HELLO and per PING, and
        how many of the real user's joins got in.
churn   one socket joins and leaves in a loop for 5 s; a watcher member counts the notices,
        and real users (127.0.1.x) try to join every 0.2 s.
ipv6    (run inside `unshare -rn`) 256 addresses of one /64 try to join: how many get in.
"""
import os, signal, socket, subprocess, sys, time

def start(binary, *args, host="127.0.0.1"):
    proc = subprocess.Popen([binary, "--host", host, "--port", "0", "--quiet", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()  # "Chat hub ready on ADDR; ..."
    addr = line.split("ready on ")[1].split(";")[0]
    h, port = addr.rsplit(":", 1)
    return proc, (h.strip("[]"), int(port))

def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill(); out, _ = proc.communicate()
    return out.strip().splitlines()[-1] if out.strip() else ""

def cpu_seconds(proc):
    fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def pad(text, n=16):
    return text.ljust(n).encode()

def hello_for(sock, addr, name):
    """JOIN, read the CHALLENGE; the HELLO datagram that answers it (or None)."""
    sock.sendto(pad(f"JOIN {name} ", 64), addr)
    sock.settimeout(1)
    try:
        while True:
            data, _ = sock.recvfrom(65536)
            if data.startswith(b"CHALLENGE "):
                return f"HELLO {data.split()[1].decode()} {name}".encode()
            if data.startswith(b"ERROR"):
                return None
    except OSError:
        return None

def join(sock, addr, name):
    """Whether `sock` joins as `name` within a second."""
    hello = hello_for(sock, addr, name)
    if hello is None:
        return False
    sock.sendto(hello, addr)
    try:
        while True:
            data, _ = sock.recvfrom(65536)
            if data.startswith(b"WELCOME"):
                return True
            if data.startswith(b"ERROR"):
                return False
    except OSError:
        return False

def member_socket(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    return s

def real_user_tries(addr, until, tries):
    """Real users, each from its own address (127.0.1.x), try to join until `until`."""
    got = 0
    i = 0
    while time.time() < until and i < tries:
        s = member_socket(f"127.0.1.{i + 1}")
        if join(s, addr, f"real{i}"):
            got += 1
            s.sendto(pad("LEAVE"), addr)
        s.close(); i += 1
        time.sleep(0.2)
    return got, i

def replay(binary):
    proc, addr = start(binary)
    members = []
    for a in range(15):
        for m in range(16):
            s = member_socket(f"127.0.0.{2 + a}")
            if join(s, addr, f"m{a}x{m}"):
                members.append(s)
    attacker = member_socket("127.0.0.1")
    hello = hello_for(attacker, addr, "mallory")
    attacker.sendto(hello, addr)
    def flood(datagram, sock, count=30_000, rate=10_000):
        before, t0 = cpu_seconds(proc), time.time()
        for i in range(count):
            sock.sendto(datagram, addr)
            if i % 50 == 0:
                ahead = i / rate - (time.time() - t0)
                if ahead > 0: time.sleep(ahead)
        time.sleep(0.3)
        return (cpu_seconds(proc) - before) / count * 1e6
    ping_us = flood(pad("PING"), members[0])
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.update(r=real_user_tries(addr, time.time() + 3, 15)))
    t.start()
    hello_us = flood(hello, attacker)
    t.join()
    got, tried = result["r"]
    print(f"replay: {len(members)} members; hub CPU per PING {ping_us:.1f} us, per replayed HELLO "
          f"{hello_us:.1f} us ({hello_us / max(ping_us, 0.01):.1f}x); real user during the replay: "
          f"{got} of {tried} joins got in")
    print("  hub:", stop(proc))

def churn(binary):
    proc, addr = start(binary)
    watcher = member_socket("127.0.0.2")
    join(watcher, addr, "watcher")
    watcher.setblocking(False)
    churner = member_socket("127.0.0.1")
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.update(r=real_user_tries(addr, time.time() + 5, 25)))
    t.start()
    joins, notices, t0 = 0, 0, time.time()
    while time.time() - t0 < 5:
        if join(churner, addr, "churn"):
            joins += 1
        churner.sendto(pad("LEAVE"), addr)
        try:
            while True:
                watcher.recv(65536); notices += 1
        except BlockingIOError:
            pass
    t.join()
    got, tried = result["r"]
    print(f"churn: one socket joined {joins} times in 5 s; the watcher got {notices} datagrams; "
          f"real user: {got} of {tried} joins got in")
    print("  hub:", stop(proc))

def ipv6(binary):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "-6", "route", "add", "local", "2001:db8:1:2::/64", "dev", "lo"], check=True)
    subprocess.run(["ip", "-6", "addr", "add", "2001:db8:1:2::1/128", "dev", "lo", "nodad"], check=True)
    proc, addr = start(binary, host="2001:db8:1:2::1")
    ok = 0
    for i in range(256):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND
        s.bind((f"2001:db8:1:2::{i + 2:x}", 0))
        ok += join(s, addr, f"v6n{i}")
    print(f"ipv6: {ok} of 256 addresses of one /64 joined (default --max-members-per-ip 16)")
    print("  hub:", stop(proc))

if __name__ == "__main__":
    {"replay": replay, "churn": churn, "ipv6": ipv6}[sys.argv[2]](sys.argv[1])
