#!/usr/bin/env python3
"""`cflog analyze --json` throughput and peak memory against baselines, in one run.

Usage: python3 bench/analyze.py [--lines 1000000] [--runs 3] [--rss-lines 1000000,4000000]
Needs the release binaries: cargo build --release -p cflog-cli -p cflog-bench
Prints a Markdown table (medians of --runs) for bench/RESULTS.md.
"""
import argparse, os, statistics, subprocess, sys, time

target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/cflog/target"))
CFLOG = os.environ.get("CFLOG", os.path.join(target, "release", "cflog"))
SCAN = os.path.join(target, "release", "cflog-scan")
DATA = os.path.join(target, "bench-data")


def run(cmd):
    """Wall seconds and peak RSS (KiB) of one run, via /usr/bin/time when present."""
    timed = ["/usr/bin/time", "-f", "%M"] + cmd if os.path.exists("/usr/bin/time") else cmd
    t0 = time.perf_counter()
    p = subprocess.run(timed, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    rss = int(p.stderr.strip().splitlines()[-1]) if timed is not cmd else 0
    return dt, rss


def median_of(cmd, runs):
    results = [run(cmd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def ensure(path, fmt, lines, gzip=False):
    if not os.path.exists(path):
        args = [CFLOG, "gen", "--format", fmt, "--lines", str(lines), "--seed", "11", "-o", path]
        subprocess.run(args + (["--gzip"] if gzip else []), check=True)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rss-lines", default="1000000,4000000")
    a = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    rows = []
    for fmt in ["realtime", "standard"]:
        plain = ensure(os.path.join(DATA, f"{fmt}-{a.lines}.log"), fmt, a.lines)
        gz = ensure(os.path.join(DATA, f"{fmt}-{a.lines}.log.gz"), fmt, a.lines, gzip=True)
        size = os.path.getsize(plain) / 1e6
        scan, _ = median_of([SCAN, "scan", plain], a.runs)
        analyze, rss = median_of([CFLOG, "analyze", "--json", "--threads", "1", plain], a.runs)
        analyze_all, _ = median_of([CFLOG, "analyze", "--json", plain], a.runs)
        decode, _ = median_of([SCAN, "decode", gz], a.runs)
        analyze_gz, _ = median_of([CFLOG, "analyze", "--json", "--threads", "1", gz], a.runs)
        analyze_gz_all, _ = median_of([CFLOG, "analyze", "--json", gz], a.runs)
        rows.append((fmt, size, scan, analyze, analyze_all, decode, analyze_gz, analyze_gz_all, rss))
    print(f"| format | MB | memchr scan | analyze 1 thread | ratio | analyze all cores | gzip decode only | analyze .gz 1 thread | ratio | analyze .gz all cores | peak RSS 1 thread |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for fmt, mb, scan, an, an_all, dec, angz, angz_all, rss in rows:
        print(
            f"| {fmt} | {mb:.0f} | {mb/scan:.0f} MB/s | {mb/an:.0f} MB/s | **{scan/an*100:.0f} %** | {mb/an_all:.0f} MB/s "
            f"| {mb/dec:.0f} MB/s | {mb/angz:.0f} MB/s | **{dec/angz*100:.0f} %** | {mb/angz_all:.0f} MB/s | {rss/1024:.0f} MiB |"
        )
    print()
    print("| real-time lines | peak RSS, analyze --threads 1 | peak RSS, all cores |")
    print("|---|---|---|")
    for n in [int(x) for x in a.rss_lines.split(",")]:
        path = ensure(os.path.join(DATA, f"realtime-{n}.log.gz"), "realtime", n, gzip=True)
        _, rss1 = run([CFLOG, "analyze", "--json", "--threads", "1", path])
        _, rss_all = run([CFLOG, "analyze", "--json", path])
        print(f"| {n:,} | {rss1/1024:.0f} MiB | {rss_all/1024:.0f} MiB |")


if __name__ == "__main__":
    main()
