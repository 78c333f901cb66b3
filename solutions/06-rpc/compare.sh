#!/usr/bin/env bash
# Measures the reference RPC against its peers, side by side in one run, on loopback: echo calls
# of 16 bytes over our long connection, our short connections (a connection per call) and tarpc
# (bincode over TCP, with and without TCP_NODELAY), at 1 and at 64 concurrent callers. Prints a
# Markdown table of medians over the rounds: throughput, p50 and p99 latency, CPU time per call
# (client and server together, from getrusage: steadier than wall time on a shared machine), and
# the ratios the chapter quotes.
#
#   bash solutions/06-rpc/compare.sh            # 50,000 calls per run, 9 rounds
#   CALLS=20000 ROUNDS=3 bash solutions/06-rpc/compare.sh
#
# tarpc is built only here: the peer package solutions/06-rpc/peers is not a default member.
set -euo pipefail
cd "$(dirname "$0")/../.."

calls=${CALLS:-50000}
rounds=${ROUNDS:-9}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v python3 >/dev/null || { echo "compare.sh: python3 is needed" >&2; exit 2; }

cargo build --quiet --release -p rpc-peers --example compare
target=${CARGO_TARGET_DIR:-target}
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  "$target/release/examples/compare" "$calls" >>"$work/results"
done

python3 - "$work/results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    peer, callers, calls, secs, rate, p50, p99, cpu = line.split()
    runs.setdefault((peer, int(callers)), []).append((float(rate), float(p50), float(p99), float(cpu)))
med = lambda key, i: statistics.median(r[i] for r in runs[key])
print("| peer | callers | calls/s | p50 (µs) | p99 (µs) | CPU per call (µs) | calls/s vs the faster tarpc | runs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for callers in (1, 64):
    best = max(med(("tarpc", callers), 0), med(("tarpc-nodelay", callers), 0))
    for peer in ("ours-long", "ours-short", "tarpc", "tarpc-nodelay"):
        key = (peer, callers)
        ratio = med(key, 0) / best
        print(f"| {peer} | {callers} | {med(key, 0):,.0f} | {med(key, 1):.1f} | {med(key, 2):.1f} | {med(key, 3):.1f} | {ratio:.2f}x | {len(runs[key])} |")
print()
for callers in (1, 64):
    long, short, tarpc, nodelay = (med((p, callers), 0) for p in ("ours-long", "ours-short", "tarpc", "tarpc-nodelay"))
    print(f"{callers} caller(s): long / short = {long / short:.1f}x, long / tarpc = {long / tarpc:.2f}x, long / tarpc-nodelay = {long / nodelay:.2f}x")
PY
echo "machine: $(nproc) cores, $(uname -sr)"
