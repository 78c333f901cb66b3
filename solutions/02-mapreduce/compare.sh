#!/usr/bin/env bash
# Measures the reference `mapreduce` on a generated nginx log: top-urls and wordcount, on 1 and 2
# workers, in threads and processes mode. Prints a Markdown table of wall times, throughput, the
# speedup of 2 workers over 1 and where the time went (the engine's --stats: map phase, spills,
# reduce phase), then checks the answers against lab 01's reference `logstat-ref`.
#
#   bash solutions/02-mapreduce/compare.sh            # 1 GB log, 1 round
#   SIZE=200M ROUNDS=3 bash solutions/02-mapreduce/compare.sh
#
# Exits 1 only when an answer differs from logstat's; needs python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

size=${SIZE:-1G}
rounds=${ROUNDS:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v python3 >/dev/null || { echo "compare.sh: python3 is needed" >&2; exit 2; }

target=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin mapreduce-ref --bin logstat-ref --bin gen
mapreduce=$target/release/mapreduce-ref
logstat=$target/release/logstat-ref
log=datasets/generated/nginx-$size-seed0.log
mkdir -p datasets/generated
[ -f "$log" ] || "$target/release/gen" nginx --size "$size" --seed 0 -o "$log" >/dev/null
bytes=$(stat -c %s "$log")
cat "$log" >/dev/null

# measure NAME ARGS...: runs mapreduce-ref with --stats, appends "NAME seconds stats-line".
measure() {
  local name=$1 start end
  shift
  start=$EPOCHREALTIME
  "$mapreduce" "$@" --stats "$log" >"$work/$name.out" 2>"$work/$name.err"
  end=$EPOCHREALTIME
  echo "$name $(python3 -c "print(f'{$end - $start:.3f}')") $(tail -n 1 "$work/$name.err")" >>"$work/results"
}

for round in $(seq "$rounds"); do
  for job in top-urls wordcount; do
    for mode in threads processes; do
      for workers in 1 2; do
        echo "round $round/$rounds: $job $mode $workers" >&2
        measure "$job-$mode-$workers" "$job" --mode "$mode" --workers "$workers"
      done
    done
  done
done

# Lab 01's answers: the top 20 words of the log as text, and the top 10 URLs.
"$logstat" words --text -n 20 --json -q "$log" >"$work/logstat-words.json"
"$logstat" top --by url -n 10 --json -q "$log" >"$work/logstat-urls.json"

python3 - "$work" "$bytes" <<'PY'
import json, re, statistics, sys
work, size = sys.argv[1], int(sys.argv[2])
runs = {}
for line in open(f"{work}/results"):
    name, wall, stats = line.split(" ", 2)
    runs.setdefault(name, []).append((float(wall), stats.strip()))
def phase(stats, label):
    m = re.search(label + r" ([0-9.]+)s", stats)
    return float(m.group(1)) if m else float("nan")
print(f"\nlog: {size / 1e9:.2f} GB\n")
print("| run | median wall (s) | throughput (MB/s) | speedup vs 1 worker | map phase (s) | spill (s) | reduce phase (s) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, samples in runs.items():
    wall = statistics.median(w for w, _ in samples)
    one = statistics.median(w for w, _ in runs[re.sub(r"-\d+$", "-1", name)])
    stats = samples[-1][1]
    print(f"| {name} | {wall:.2f} | {size / 1e6 / wall:.0f} | {one / wall:.2f}x | {phase(stats, 'map'):.2f} | {phase(stats, 'spill'):.2f} | {phase(stats, 'reduce'):.2f} |")
print()
for name, samples in runs.items():
    print(f"{name}: {samples[-1][1]}")

def ranked(path, n):
    pairs = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")]
    pairs = [(k, int(v)) for k, v in pairs]
    pairs.sort(key=lambda kv: (-kv[1], kv[0].encode()))
    return pairs[:n]
failed = False
expected_words = [(e["key"], e["count"]) for e in json.load(open(f"{work}/logstat-words.json"))["top"]]
expected_urls = [(e["key"], e["count"]) for e in json.load(open(f"{work}/logstat-urls.json"))["top"]]
for name in runs:
    got = ranked(f"{work}/{name}.out", 20) if name.startswith("wordcount") else ranked(f"{work}/{name}.out", 10)
    want = expected_words if name.startswith("wordcount") else expected_urls
    ok = got == want
    failed |= not ok
    print(f"{name}: {'same top list as logstat-ref' if ok else 'DIFFERS from logstat-ref'}")
if failed:
    print("logstat-ref words:", expected_words, "\nlogstat-ref urls:", expected_urls)
sys.exit(1 if failed else 0)
PY
echo "machine: $(nproc) cores, $(uname -sr)"
