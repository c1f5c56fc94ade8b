#!/usr/bin/env python3
"""Tabulate a log of run_all.sh: per network and thread count, each trainer's end-to-end env
steps/s round by round, their medians, and ours over each of the others, per round and between
the medians. A round is the i-th run of each trainer (run_all.sh runs every trainer once per
round, in whatever order).

    scripts/sb3/run_all.sh > bench.log 2>&1; scripts/sb3/summarize.py bench.log
"""
import re
import statistics
import sys

RUN = re.compile(r"^== (rust baseline|rust|python): (.*)$")


def runs(lines):
    """(trainer, net, threads, env steps/s, network hash or None) for every finished run."""
    head = None
    for line in lines:
        m = RUN.match(line)
        if m:
            kind, args = m.groups()
            words = args.split()
            if kind == "python":
                trainer = words[words.index("--impl") + 1]
                net = words[words.index("--net") + 1]
                threads = words[words.index("--threads") + 1]
            else:
                # speed -- NET STEPS THREADS KERNEL (the baseline: PATH -- NET ...)
                net, _, threads, kernel = words[words.index("--") + 1:][:4]
                trainer = ("ours" if kind == "rust" else "baseline") + (
                    "" if kernel == "best" else f" ({kernel})")
            head = [trainer, net, threads, None, None]
            continue
        if head is None:
            continue
        m = re.search(r"env steps/s \(end to end\): (\d+)", line)
        if m:
            head[3] = int(m.group(1))
        m = re.search(r"checkpoint hash (\w+)", line)
        if m:
            head[4] = m.group(1)
        if line.startswith("== ") and " s wall" in line and head[3] is not None:
            yield tuple(head)
            head = None


def main(path):
    with open(path) as f:
        table = {}
        hashes = {}
        for trainer, net, threads, rate, digest in runs(f.read().splitlines()):
            table.setdefault((net, threads), {}).setdefault(trainer, []).append(rate)
            if digest:
                hashes.setdefault((net, threads, trainer), set()).add(digest)
    if not table:
        sys.exit(f"{path}: no finished runs of run_all.sh found")
    for (net, threads), by in table.items():
        print(f"{net}, {threads} thread(s): end-to-end env steps/s")
        rounds = min(len(v) for v in by.values())
        for trainer, rates in by.items():
            h = hashes.get((net, threads, trainer))
            note = f"  networks: {', '.join(sorted(h))}" if h else ""
            print(f"  {trainer:16} {' '.join(f'{r:>7,}' for r in rates)}   median "
                  f"{statistics.median(rates):>9,.1f}{note}")
        ours = by.get("ours")
        if not ours:
            continue
        for other, rates in by.items():
            if other == "ours":
                continue
            per_round = [ours[i] / rates[i] for i in range(rounds)]
            print(f"  ours / {other:9} by round {' '.join(f'{r:.2f}x' for r in per_round)}; "
                  f"between the medians {statistics.median(ours) / statistics.median(rates):.2f}x")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py RUN_ALL_LOG")
    main(sys.argv[1])
