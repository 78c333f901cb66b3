#!/usr/bin/env bash
# Measures the reference `crawler` against `wget --recursive`, side by side in one run, on a
# generated site served by a real nginx on loopback; then the crawler alone against the fixture
# server (`serve-site --serve`), which counts the requests in flight exactly.
#
#   bash solutions/03-crawler/compare.sh                 # 10,000 pages, depth 5, per-host 8, 3 rounds
#   PAGES=1000 ROUNDS=1 bash solutions/03-crawler/compare.sh
#   DEPTH=3 PER_HOST=4 bash solutions/03-crawler/compare.sh
#
# Checks that both fetched the same set of HTML pages (exit 1 if not: that is a correctness bug);
# prints the median wall time, the ratio, the peak memory (RSS), the connections nginx saw, and the
# most requests the fixture server was answering at once. Timing never fails the script.
# Needs nginx (run as the current user on a loopback port, from a temporary config), wget, GNU time
# (/usr/bin/time) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

pages=${PAGES:-10000}
depth=${DEPTH:-5}
per_host=${PER_HOST:-8}
rounds=${ROUNDS:-3}
nginx=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
work=$(mktemp -d)
nginx_pid=
serve_pid=
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for tool in "$nginx" wget /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool is needed" >&2; exit 2; }
done

target=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin crawler-ref --bin serve-site
crawler=$target/release/crawler-ref
serve_site=$target/release/serve-site

echo "generating a site of $pages pages…" >&2
"$serve_site" --pages "$pages" --write "$work/site" 2>/dev/null
# nginx started by root serves as an unprivileged user, which must be able to read the site.
chmod -R a+rX "$work"

# A free loopback port: bind port 0, read the number, let it go.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    types { text/html html; image/png png; text/css css; application/javascript js; text/plain txt; }
    default_type application/octet-stream;
    # When each request ended (ms), how long it took (ms resolution), and on which connection.
    log_format timing '\$msec \$request_time \$connection \$status \$request_uri';
    access_log $work/nginx/access.log timing;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port;
        root $work/site;
        index index.html;
    }
}
CONF
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 100); do
  curl_ok=$(python3 -c "import urllib.request,sys
try: urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1); print(1)
except Exception: print(0)")
  [ "$curl_ok" = 1 ] && break
  sleep 0.1
done
[ "${curl_ok:-0}" = 1 ] || { echo "compare.sh: nginx did not start:" >&2; cat "$work/nginx/error.log" >&2; exit 2; }
url="http://127.0.0.1:$port/"

# measure NAME COMMAND…: runs it, appends "NAME seconds max-rss-KiB" to the results.
measure() {
  local name=$1 start end
  shift
  # Both tools save about 10,000 small files: start each run with no earlier run's files still being
  # written back, or the disk's backlog, not the tool, decides the time.
  sync
  start=$EPOCHREALTIME
  # wget exits 8 when any link was a 404; that is not a failure of the measurement.
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >"$work/$name.out" 2>"$work/$name.err" || true
  end=$EPOCHREALTIME
  echo "$name $(python3 -c "print(f'{$end - $start:.4f}')") $(tail -n 1 "$work/rss")" >>"$work/results"
}

html_set() { (cd "$1" && find . -name '*.html' | sort); }

for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  rm -rf "$work/wget" "$work/crawler"
  : >"$work/nginx/access.log"
  measure wget wget --recursive --level="$depth" -q -P "$work/wget" "$url"
  cp "$work/nginx/access.log" "$work/access-wget.log"
  : >"$work/nginx/access.log"
  measure crawler "$crawler" "$url" --depth "$depth" --per-host "$per_host" --concurrency 16 \
    --max-pages 1000000 --save "$work/crawler" --out "$work/crawler.jsonl" -q
  cp "$work/nginx/access.log" "$work/access-crawler.log"
  # The same crawl without writing 10,000 files: what the disk costs.
  measure crawler-no-save "$crawler" "$url" --depth "$depth" --per-host "$per_host" --concurrency 16 \
    --max-pages 1000000 --out /dev/null -q
  measure crawler-per-host-1 "$crawler" "$url" --depth "$depth" --per-host 1 --concurrency 16 \
    --max-pages 1000000 --save "$work/crawler-1" --out /dev/null -q
  rm -rf "$work/crawler-1"
done

html_set "$work/wget" >"$work/wget.pages"
html_set "$work/crawler" >"$work/crawler.pages"
wget_pages=$(wc -l <"$work/wget.pages")
crawler_pages=$(wc -l <"$work/crawler.pages")
same=yes
cmp -s "$work/wget.pages" "$work/crawler.pages" || same=no
wget_requests=$(wc -l <"$work/access-wget.log")
crawler_requests=$(wc -l <"$work/access-crawler.log")
# nginx numbers its connections ($connection): a client that keeps them alive and opens a new one
# only when all of its others are busy uses at most as many as it has requests in flight.
wget_conns=$(awk '{print $3}' "$work/access-wget.log" | sort -u | wc -l)
crawler_conns=$(awk '{print $3}' "$work/access-crawler.log" | sort -u | wc -l)

# The fixture server counts requests in flight exactly (head read to answer written).
"$serve_site" --pages "$pages" --serve >"$work/serve.url" 2>"$work/serve.err" </dev/null &
serve_pid=$!
for _ in $(seq 100); do [ -s "$work/serve.url" ] && break; sleep 0.1; done
fixture_url=$(head -n 1 "$work/serve.url")
for round in $(seq "$rounds"); do
  rm -rf "$work/crawler-fixture"
  measure crawler-fixture "$crawler" "$fixture_url" --depth "$depth" --per-host "$per_host" \
    --concurrency 16 --max-pages 1000000 --save "$work/crawler-fixture" --out /dev/null -q
  measure crawler-fixture-no-save "$crawler" "$fixture_url" --depth "$depth" --per-host "$per_host" \
    --concurrency 16 --max-pages 1000000 --out /dev/null -q
  rm -rf "$work/wget-fixture"
  measure wget-fixture wget --recursive --level="$depth" -q -P "$work/wget-fixture" "$fixture_url"
done
kill -TERM "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=
fixture_stats=$(tail -n 1 "$work/serve.err")
fixture_pages=$(html_set "$work/crawler-fixture" | wc -l)

python3 - "$work/results" <<PY
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, seconds, rss = line.split()
    runs.setdefault(name, []).append((float(seconds), int(rss)))
med = {n: statistics.median(s for s, _ in r) for n, r in runs.items()}
rss = {n: max(m for _, m in r) for n, r in runs.items()}
print("site: $pages pages, depth $depth, per-host $per_host, $rounds round(s); medians")
print()
print("| server | run | wall time | ratio | peak RSS | HTML pages | requests | connections |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
print(f"| nginx | \`crawler-ref --per-host $per_host\` | {med['crawler']:.2f} s | 1.00 | {rss['crawler']/1024:.0f} MB | $crawler_pages | $crawler_requests | $crawler_conns |")
print(f"| nginx | \`crawler-ref --per-host 1\` | {med['crawler-per-host-1']:.2f} s | {med['crawler-per-host-1']/med['crawler']:.1f} | {rss['crawler-per-host-1']/1024:.0f} MB | | | |")
print(f"| nginx | \`crawler-ref --per-host $per_host\`, no \`--save\` | {med['crawler-no-save']:.2f} s | {med['crawler-no-save']/med['crawler']:.2f} | {rss['crawler-no-save']/1024:.0f} MB | | | |")
print(f"| nginx | \`wget --recursive\` | {med['wget']:.2f} s | {med['wget']/med['crawler']:.1f} | {rss['wget']/1024:.0f} MB | $wget_pages | $wget_requests | $wget_conns |")
print(f"| fixture | \`crawler-ref --per-host $per_host\` | {med['crawler-fixture']:.2f} s | 1.00 | {rss['crawler-fixture']/1024:.0f} MB | $fixture_pages | | |")
print(f"| fixture | \`crawler-ref --per-host $per_host\`, no \`--save\` | {med['crawler-fixture-no-save']:.2f} s | {med['crawler-fixture-no-save']/med['crawler-fixture']:.2f} | {rss['crawler-fixture-no-save']/1024:.0f} MB | | | |")
print(f"| fixture | \`wget --recursive\` | {med['wget-fixture']:.2f} s | {med['wget-fixture']/med['crawler-fixture']:.1f} | {rss['wget-fixture']/1024:.0f} MB | | | |")
PY
echo
echo "fixture server (crawler and wget runs together): $fixture_stats"
echo "same HTML page set as wget: $same ($crawler_pages and $wget_pages pages)"
if [ "$same" != yes ]; then
  echo "pages only one of them fetched:" >&2
  diff "$work/wget.pages" "$work/crawler.pages" | head -20 >&2
  exit 1
fi
