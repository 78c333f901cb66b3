#!/usr/bin/env bash
# The dashboard in a real browser: `monitor demo` with 100 simulated hosts, and headless Chromium
# (Debian's chromium and chromium-driver, driven by python3-selenium) doing what a person would:
#
#   1. open the dashboard of sim-01 and time its first render (first contentful paint, printed; the
#      goal is under 1 s);
#   2. check that the cpu.busy graph draws exactly the points the query API returns for the same
#      range and step;
#   3. add a rule through the page's form that breaches at once (`load.1min max(#1) >= 0`), and wait
#      for its alert to appear in the firing table, refreshed by the page's script; a bad rule's
#      error must name the field;
#   4. save a screenshot (SCREENSHOT=FILE; the chapter's is book/src/images/08-dashboard.png).
#
#   bash solutions/08-monitor/browser-dashboard.sh
#
# Exits 1 when a check fails, never because of a time.
set -euo pipefail
cd "$(dirname "$0")/../.."

chromium=${CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}
chromedriver=${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}
[ -x "$chromium" ] && [ -x "$chromedriver" ] || { echo "browser-dashboard.sh: chromium and chromium-driver are needed" >&2; exit 2; }
# Debian's python3-selenium is for Debian's python3, which another python3 on the PATH may hide.
python=${PYTHON:-python3}
for candidate in "$python" /usr/bin/python3; do
  if "$candidate" -c 'import selenium' 2>/dev/null; then python=$candidate; break; fi
done
"$python" -c 'import selenium' 2>/dev/null || { echo "browser-dashboard.sh: python3-selenium is needed" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin monitor-ref
monitor=$CARGO_TARGET_DIR/release/monitor-ref

. solutions/08-monitor/compare-lib.sh
work_dir monitor-dashboard

port=$(free_port)
"$monitor" demo --agents "${AGENTS:-100}" --step 1 --http "127.0.0.1:$port" --dir "$work/demo" >"$work/demo.out" 2>"$work/demo.log" &
pids+=($!)
wait_http "http://127.0.0.1:$port/api/v1/hosts"

"$python" - "$chromium" "$chromedriver" "http://127.0.0.1:$port" "${SCREENSHOT:-$work/dashboard.png}" <<'PY'
import json, os, sys, time, urllib.error, urllib.request
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

chromium, chromedriver, base, screenshot = sys.argv[1:]

def api(path):
    try:
        with urllib.request.urlopen(base + path, timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as err:
        sys.exit(f"browser-dashboard.sh: {path}: {err.code} {err.read().decode()}")

def until(what, check, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    sys.exit(f"browser-dashboard.sh: timed out waiting for {what}")

# Enough points on sim-01's graphs to be worth drawing (WAIT seconds more of them: 120 for the
# chapter's screenshot).
until("sim-01's points", lambda: len(api("/api/v1/series?host=sim-01")["data"]) >= 5)
time.sleep(float(os.environ.get("WAIT", "5")))

options = webdriver.ChromeOptions()
options.binary_location = chromium
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service(chromedriver), options=options)
try:
    driver.get(base + "/?host=sim-01&range=5m")
    paint = until("the first paint", lambda: driver.execute_script(
        "const p = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');"
        " return p ? p.startTime : null"), 10)
    timing = driver.execute_script("const n = performance.getEntriesByType('navigation')[0]; return [n.responseEnd, n.domContentLoadedEventEnd]")
    hosts = len(driver.find_elements(By.CSS_SELECTOR, "#hosts li"))
    print(f"dashboard of sim-01 with {hosts} hosts: first contentful paint {paint:.0f} ms, page received in {timing[0]:.0f} ms, DOM ready in {timing[1]:.0f} ms (goal: first render under 1 s)")
    if hosts < 100:
        sys.exit(f"browser-dashboard.sh: {hosts} hosts listed, expected at least 100")

    # The cpu.busy graph (no tags) against the query API over the same range and step. The
    # graph's range ends at the moment the page asked, so a sample taken just before it may reach
    # the store just after: a difference is only a disagreement if it outlives the page's next
    # refreshes (every 5 s), each compared again over its own range.
    def graph():
        figure = next(f for f in driver.find_elements(By.CSS_SELECTOR, "figure.graph")
                      if f.find_element(By.TAG_NAME, "figcaption").text.strip() == "cpu.busy")
        svg = figure.find_element(By.TAG_NAME, "svg")
        drawn = int(svg.find_element(By.TAG_NAME, "polyline").get_attribute("data-points"))
        return drawn, int(svg.get_attribute("data-from")), int(svg.get_attribute("data-to"))

    def refreshed_since(end):
        try:
            return graph()[2] != end
        except Exception:
            return False

    for attempt in range(4):
        try:
            drawn, start, end = graph()
        except Exception:  # the page re-rendered between two reads: read it again
            time.sleep(0.25)
            continue
        answer = api(f"/api/v1/query_range?host=sim-01&metric=cpu.busy&start={start / 1000}&end={end / 1000}&step=1s&aggregate=avg")
        points = len(answer["data"]["points"])
        print(f"the cpu.busy graph draws {drawn} points; the query API returns {points} for its range and step")
        if drawn == points and drawn > 0:
            break
        until("the page's next refresh", lambda: refreshed_since(end), 15)
    else:
        sys.exit("browser-dashboard.sh: the graph and the API disagree on every refresh")

    # A bad rule: its error names the field.
    form = driver.find_element(By.ID, "rule-form")
    form.find_element(By.NAME, "id").send_keys("98")
    form.find_element(By.NAME, "expr").send_keys("load.1min sum(#1) > 0")
    form.find_element(By.TAG_NAME, "button").click()
    error = until("the rule's error", lambda: driver.find_element(By.ID, "rule-error").text, 10)
    print(f"a bad rule through the form: {error}")
    if not error.startswith("expr: column 11"):
        sys.exit("browser-dashboard.sh: the error does not name the field and column")

    # A breach injected through the form: a rule every host breaks at its next sample.
    form.find_element(By.NAME, "id").clear()
    form.find_element(By.NAME, "id").send_keys("99")
    form.find_element(By.NAME, "expr").clear()
    form.find_element(By.NAME, "expr").send_keys("load.1min max(#1) >= 0")
    form.find_element(By.NAME, "priority").clear()
    form.find_element(By.NAME, "priority").send_keys("0")
    added = time.time()
    form.find_element(By.TAG_NAME, "button").click()
    until("the rule added", lambda: driver.find_element(By.ID, "rule-done").text, 10)
    until("its alert on the page", lambda: "load.1min max(#1) &gt;= 0" in driver.find_element(By.ID, "alerts").get_attribute("innerHTML"), 30)
    print(f"the injected breach's alert is on the page {time.time() - added:.1f} s after the form was sent (the page refreshes every 5 s)")
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(screenshot)
    print(f"screenshot: {screenshot}")
finally:
    driver.quit()
PY
