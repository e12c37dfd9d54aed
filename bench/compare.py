#!/usr/bin/env python3
"""`cflog analyze` next to the fastest honest scan and other tools, in one run (issue 13).

Usage: make compare  (or: python3 bench/compare.py [--lines 1000000] [--runs 5] [--goaccess-lines N])

On the same generated files (real-time: the 46-field layout; standard: 33 columns), each
tool single-threaded, files in the page cache, whole-process wall time (median of --runs)
and peak RSS:
  * cflog analyze --json --threads 1
  * cflog-scan scan: page-aligned 1 MiB reads, memchr per newline, memchr's TAB count per
    line (bench/src/bin/cflog-scan.rs): the least work any parser must do
  * DuckDB (pinned below, in a bench-only venv) computing the same report
    (bench/duckdb_report.py), SET threads = 1
  * GoAccess (Debian package `goaccess`) on the standard log, its CLOUDFRONT format
  * Node.js doing what the AWS real-time-logs recipe does per line (bench/naive.mjs)
Prints Markdown tables for bench/RESULTS.md. Every tool's record count is checked
against cflog's. Needs the release binaries (`make compare` builds them).
"""
import argparse, json, os, shutil, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/cflog/target"))
CFLOG = os.environ.get("CFLOG", os.path.join(TARGET, "release", "cflog"))
SCAN = os.path.join(TARGET, "release", "cflog-scan")
DATA = os.path.join(TARGET, "bench-data")
VENV = os.path.join(TARGET, "bench-venv")
DUCKDB_VERSION = "2.0.1"


def run(cmd, capture=False):
    """(wall seconds, peak RSS KiB, stdout) of one run; /usr/bin/time measures the RSS."""
    timed = ["/usr/bin/time", "-f", "%M"] + cmd if os.path.exists("/usr/bin/time") else cmd
    t0 = time.perf_counter()
    p = subprocess.run(timed, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode not in (0, 3):  # 3: cflog finished with bad lines
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    rss = int(p.stderr.strip().splitlines()[-1]) if timed is not cmd else 0
    return dt, rss, p.stdout


def measure(cmd, runs):
    """Median seconds, max peak RSS (KiB), stdout of the last run."""
    results = [run(cmd, capture=True) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results), results[-1][2]


def generate(fmt, lines):
    path = os.path.join(DATA, f"{fmt}-{lines}.log")
    if not os.path.exists(path):
        subprocess.run([CFLOG, "gen", "--format", fmt, "--lines", str(lines), "--seed", "11", "-o", path + ".tmp"], check=True)
        os.rename(path + ".tmp", path)
    return path


def head_lines(path, lines, out):
    if not os.path.exists(out):
        with open(path, "rb") as src, open(out + ".tmp", "wb") as dst:
            for i, line in enumerate(src):
                if i >= lines + 2:  # the two header lines of a standard log
                    break
                dst.write(line)
        os.rename(out + ".tmp", out)
    return out


def field_names(fmt, path):
    if fmt == "standard":
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(b"#Fields:"):
                    return line[8:].decode().split()
        sys.exit(f"{path}: no #Fields: line")
    first = subprocess.run([CFLOG, "parse", path], capture_output=True, text=True).stdout.split("\n", 1)[0]
    return list(json.loads(first))


def duckdb_python():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    have = subprocess.run([py, "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True).stdout.strip()
    if have != DUCKDB_VERSION:
        print(f"installing duckdb=={DUCKDB_VERSION} into {VENV}", file=sys.stderr)
        subprocess.run([py, "-m", "pip", "install", "-q", f"duckdb=={DUCKDB_VERSION}"], check=True)
    return py


def goaccess():
    if shutil.which("goaccess"):
        return "goaccess"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing the Debian package goaccess", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", "goaccess"], env=env, stdout=subprocess.DEVNULL)
    if shutil.which("goaccess"):
        return "goaccess"
    print("SKIPPED GoAccess: `goaccess` is not installed and could not be (apt-get install goaccess as root)", file=sys.stderr)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--goaccess-lines", type=int, default=200_000, help="GoAccess is slow; it reads the first N lines (ratio per line)")
    ap.add_argument("--formats", default="realtime,standard")
    ap.add_argument("--cflog-before", help="another cflog binary (e.g. a copy built from main) timed in the same run, for before/after rows")
    a = ap.parse_args()
    for exe in (CFLOG, SCAN):
        if not os.path.exists(exe):
            sys.exit(f"missing {exe}: run `make compare` (it builds the release binaries)")
    os.makedirs(DATA, exist_ok=True)
    py, ga, node = duckdb_python(), goaccess(), shutil.which("node")
    if not node:
        print("SKIPPED Node.js: `node` is not on PATH", file=sys.stderr)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {a.runs} runs each; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| format | tool | lines | median s | MB/s | lines/s | % of scan speed | cflog is N× faster | peak RSS |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for fmt in a.formats.split(","):
        path = generate(fmt, a.lines)
        mb = os.path.getsize(path) / 1e6
        names = field_names(fmt, path)
        rows = []
        scan_s, scan_rss, _ = measure([SCAN, "scan", path], a.runs)
        rows.append(("memchr scan (cflog-scan scan)", a.lines, mb, scan_s, scan_rss))
        cflog_s, cflog_rss, out = measure([CFLOG, "analyze", "--json", "--threads", "1", path], a.runs)
        records = json.loads(out)["records"]
        rows.append(("cflog analyze --json --threads 1", a.lines, mb, cflog_s, cflog_rss))
        if a.cflog_before:
            s, rss, out = measure([a.cflog_before, "analyze", "--json", "--threads", "1", path], a.runs)
            if json.loads(out)["records"] != records:
                print(f"WARNING {a.cflog_before}: a different record count", file=sys.stderr)
            rows.append((f"cflog analyze --json --threads 1, before ({os.path.basename(a.cflog_before)})", a.lines, mb, s, rss))
        tools = [(f"DuckDB {DUCKDB_VERSION}, same report, 1 thread", [py, os.path.join(HERE, "duckdb_report.py"), fmt, path, ",".join(names), "1"], path)]
        if node:
            tools.append((f"Node.js {subprocess.run([node, '--version'], capture_output=True, text=True).stdout.strip()} naive per-line (AWS recipe)", [node, os.path.join(HERE, "naive.mjs"), path, ",".join(names)], path))
        for name, cmd, p in tools:
            s, rss, out = measure(cmd, a.runs)
            got = json.loads(out)["records"]
            if got != records:
                print(f"WARNING {name}: {got} records, cflog {records}", file=sys.stderr)
            rows.append((name, a.lines, mb, s, rss))
        if fmt == "standard" and ga:
            small = head_lines(path, a.goaccess_lines, os.path.join(DATA, f"standard-{a.goaccess_lines}-head.log"))
            out_json = os.path.join(DATA, "goaccess-report.json")
            cmd = [ga, small, "--no-global-config", "--log-format=CLOUDFRONT", "--date-format=CLOUDFRONT", "--time-format=CLOUDFRONT", "-o", out_json]
            s, rss, _ = measure(cmd, a.runs)
            version = subprocess.run([ga, "--version"], capture_output=True, text=True).stdout.split("\n")[0].split()[-1].rstrip(".")
            rows.append((f"GoAccess {version} (CLOUDFRONT format), first lines only", a.goaccess_lines, os.path.getsize(small) / 1e6, s, rss))
        for name, lines, size, s, rss in rows:
            per_line = s / lines
            cflog_per_line = cflog_s / a.lines
            print(
                f"| {fmt} | {name} | {lines:,} | {s:.2f} | {size / s:.0f} | {lines / s / 1e6:.2f} M | {scan_s / a.lines / per_line * 100:.0f} % "
                f"| {per_line / cflog_per_line:.2f} | {rss / 1024:.0f} MiB |"
            )
    print("\n% of scan speed = scan time per line / tool time per line; cflog is N× faster = tool time per line / cflog's.")


if __name__ == "__main__":
    main()
