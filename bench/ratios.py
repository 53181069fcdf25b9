#!/usr/bin/env python3
"""Summarises the output of bench/server-vs-before.sh or bench/udp-threaded.sh (one file or
several runs of the same script): per client count and program, the median requests/s over
the rounds, then each program against the bare loop (and the server before, if there is
one) two ways: the ratio of the medians, and the median of the ratios within each round.

    bash bench/server-vs-before.sh udp-uppercase udp_uppercase_bare_loop 2 10 > run.txt
    python3 bench/ratios.py run.txt [more-runs.txt ...]
"""
import re
import statistics
import sys

LINE = re.compile(r"^round (\d+)\s+(.*?)\s+(\d+) clients(?: \([^)]*\))?, .*?(\d+) requests/s")

rates = {}  # (clients, program) -> {(file, round): requests/s}
for number, name in enumerate(sys.argv[1:]):
    with open(name) as lines:
        for line in lines:
            found = LINE.match(line)
            if found:
                round_, program, clients, rate = found.groups()
                rates.setdefault((int(clients), program), {})[(number, int(round_))] = int(rate)

for clients in sorted({clients for clients, _ in rates}):
    programs = [program for c, program in rates if c == clients]
    bare = next((p for p in programs if p.startswith("bare")), None)
    print(f"{clients} clients")
    for program in programs:
        runs = rates[(clients, program)]
        if program == bare:
            print(f"  {program:<34} {len(runs):>3} rounds, median {statistics.median(runs.values()):>9,.0f}/s")
            continue
        line = f"  {program:<34} {len(runs):>3} rounds, median {statistics.median(runs.values()):>9,.0f}/s"
        for base in [bare, "before"]:
            if base is None or base == program or (clients, base) not in rates:
                continue
            other = rates[(clients, base)]
            both = [key for key in runs if key in other]
            if not both:
                continue
            of_medians = statistics.median(runs[k] for k in both) / statistics.median(other[k] for k in both)
            of_rounds = statistics.median(runs[k] / other[k] for k in both)
            line += f" | vs {base}: {of_medians:.1%} (rounds: {of_rounds:.1%})"
        print(line)
