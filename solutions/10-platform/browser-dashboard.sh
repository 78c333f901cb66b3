#!/usr/bin/env bash
# The platform's dashboard in a real browser: `platform demo` with HOSTS simulated hosts, and
# headless Chromium (Debian's chromium and chromium-driver, driven by python3-selenium) doing what a
# person would:
#
#   1. open the dashboard, be sent to the login page, and log in as admin with the password the
#      demo printed (a wrong password first: its error must show on the page);
#   2. see every host listed, open one host's page, and see its graphs drawn (a graph a metric the
#      simulated hosts send, each with points) and the same latest value the API gives;
#   3. run a command on a tag through the page's form, follow the run's page until it has ended,
#      and check that every host with the tag shows its result, as the API reports it;
#   4. upload a monitoring script through the scripts page (a broken one first: the rule it breaks
#      must show on the page), see its version listed, make it active, roll it out to the demo's
#      real host through the script page's form, see the host's install on the run's page, and
#      then the script's metric drawn on the host's page;
#   5. roll the demo's release hello 1.0 out to every host through a release's form (a canary, then
#      batches of half the hosts, each baked 5 s), kill the leading server with SIGKILL once the
#      canary is done, see the page's bar name the other server (and a greater fencing token) when
#      it has taken over, and follow the rollout's page until every host is done; then
#      hello 1.1, whose errors rise on the hosts that take it, with a health rule over a bake: its
#      canary is put back, the other hosts are skipped and the rollout fails;
#   6. save screenshots (SCREENSHOT=FILE of the run's page, HOST_SCREENSHOT=FILE of the host's
#      graphs, RELEASE_SCREENSHOT=FILE of the failed rollout, FAILOVER_SCREENSHOT=FILE of the
#      rollout that went on across the failover; the chapter's are book/src/images/10-dashboard.png,
#      10-host.png, 10-rollout.png and 10-failover.png).
#
#   bash solutions/10-platform/browser-dashboard.sh
#
# Exits 1 when a check fails, never because of a time. The first render's time is printed.
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
cargo build --quiet --release --bin platform-ref
platform=$CARGO_TARGET_DIR/release/platform-ref

# The shell helpers (work_dir, free_port, wait_http, wait_lines) are lab 08's.
. solutions/08-monitor/compare-lib.sh
script=browser-dashboard.sh
work_dir platform-dashboard

hosts=${HOSTS:-40}
port=$(free_port)
"$platform" demo --hosts "$hosts" --http "127.0.0.1:$port" --dir "$work/demo" >"$work/demo.out" 2>"$work/demo.log" &
pids+=($!)
wait_lines "$work/demo.out" 5
wait_http "http://127.0.0.1:$port/login"
password=$(awk '/password/ { for (i = 1; i <= NF; i++) if ($i == "password") print $(i + 1) }' "$work/demo.out")
[ -n "$password" ] || fail "the demo printed no password"

"$python" - "$chromium" "$chromedriver" "http://127.0.0.1:$port" "$password" "$hosts" "${SCREENSHOT:-$work/dashboard.png}" \
  "${HOST_SCREENSHOT:-$work/host.png}" "${RELEASE_SCREENSHOT:-$work/rollout.png}" \
  "${FAILOVER_SCREENSHOT:-$work/failover.png}" "$work/demo.out" <<'PY'
import json, os, re, signal, sys, time, urllib.request
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

(chromium, chromedriver, base, password, hosts, screenshot, host_screenshot, release_screenshot,
 failover_screenshot, demo_out) = sys.argv[1:]
simulated = int(hosts)
hosts = simulated + 1  # and the demo's real host, real-01

def until(what, check, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            result = check()
        except Exception:  # the page changed under the check: look again
            result = None
        if result:
            return result
        time.sleep(0.2)
    sys.exit(f"browser-dashboard.sh: timed out waiting for {what}")

options = webdriver.ChromeOptions()
options.binary_location = chromium
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,900"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service(chromedriver), options=options)
try:
    driver.get(base + "/hosts")
    until("the login page", lambda: driver.current_url.endswith("/login"), 10)
    form = driver.find_element(By.ID, "login")
    form.find_element(By.NAME, "user").send_keys("admin")
    form.find_element(By.NAME, "password").send_keys("not the password")
    form.find_element(By.TAG_NAME, "button").click()
    error = until("the wrong password's error", lambda: driver.find_element(By.ID, "error").text, 10)
    print(f"a wrong password: {error}")
    form.find_element(By.NAME, "password").clear()
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.TAG_NAME, "button").click()
    until("the hosts page", lambda: driver.current_url.endswith("/hosts"), 10)
    paint = until("the first paint", lambda: driver.execute_script(
        "const p = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');"
        " return p ? p.startTime : null"), 10)
    rows = until("every host listed", lambda: (lambda n: n if n == hosts else None)(
        len(driver.find_elements(By.CSS_SELECTOR, "#hosts tr")) - 1), 30)
    connected = until("every host connected", lambda: (lambda n: n if n == hosts else driver.refresh())(
        len(driver.find_elements(By.CSS_SELECTOR, "#hosts td.ok"))), 30)
    print(f"hosts page: {rows} hosts, {connected} connected; first contentful paint {paint:.0f} ms")

    driver.find_element(By.LINK_TEXT, "host-02").click()
    until("host-02's page", lambda: "dc=sh" in driver.find_element(By.TAG_NAME, "main").text, 10)
    # The simulated hosts send cpu.busy, mem.used and load.1min every 5 s: the page is drawn on the
    # server, so it is loaded again until each has a graph with points.
    wanted = {"cpu.busy", "load.1min", "mem.used"}
    def graphs():
        figures = driver.find_elements(By.CSS_SELECTOR, "#graphs figure")
        drawn = {f.get_attribute("data-metric") for f in figures
                 if f.find_elements(By.CSS_SELECTOR, "polyline") and f.find_element(By.TAG_NAME, "figcaption").text}
        if wanted <= drawn:
            return figures
        driver.refresh()
    figures = until("host-02's graphs", graphs, 30)
    caption = next(f.find_element(By.TAG_NAME, "figcaption").text for f in figures if f.get_attribute("data-metric") == "cpu.busy")
    cookie = driver.get_cookie("platform_session")["value"]
    request = urllib.request.Request(base + "/api/hosts/host-02/metrics", headers={"Cookie": f"platform_session={cookie}"})
    series = json.load(urllib.request.urlopen(request, timeout=5))["data"]["series"]
    print(f"host-02's page: {len(figures)} graphs; {caption}; the API's latest cpu.busy: "
          + ", ".join(f"{s['latest']['value']:.1f}" for s in series if s["metric"] == "cpu.busy"))
    driver.save_screenshot(host_screenshot)

    driver.get(base + "/runs")
    form = driver.find_element(By.ID, "run")
    form.find_element(By.NAME, "target").send_keys("tag:dc=bj")
    form.find_element(By.NAME, "program").send_keys("/bin/echo")
    form.find_element(By.NAME, "args").send_keys("hello from the dashboard")
    sent = time.time()
    form.find_element(By.TAG_NAME, "button").click()
    until("the run's page", lambda: "/runs/" in driver.current_url, 10)
    until("the run's end", lambda: driver.find_element(By.ID, "state").get_attribute("data-state") != "running", 30)
    state = driver.find_element(By.ID, "state").get_attribute("data-state")
    shown = [row.find_elements(By.TAG_NAME, "td") for row in driver.find_elements(By.CSS_SELECTOR, "#results tr")[1:]]
    done = [cells[0].text for cells in shown if cells[1].text == "done" and "hello from the dashboard" in cells[3].text]
    expected = (simulated + 1) // 2 + 1  # every other simulated host, and real-01
    print(f"a command on tag:dc=bj: run {state} {time.time() - sent:.1f} s after the form was sent, {len(done)} of {expected} hosts done on the page")
    if state != "complete" or len(done) != expected:
        sys.exit(f"browser-dashboard.sh: expected {expected} hosts done in a complete run, the page shows {len(done)} ({state})")
    driver.save_screenshot(screenshot)
    print(f"screenshot: {screenshot}")

    import os, tempfile
    def script_file(text):
        handle, path = tempfile.mkstemp(suffix=".sh")
        os.write(handle, text.encode())
        os.close(handle)
        return path
    manifest = 'name = "queue_depth"\nmetrics = ["queue.depth"]\ninterval_secs = 30\ntimeout_secs = 5\n'
    driver.get(base + "/scripts")
    form = driver.find_element(By.ID, "upload")
    form.find_element(By.NAME, "manifest").clear()
    form.find_element(By.NAME, "manifest").send_keys(manifest)
    form.find_element(By.NAME, "script").send_keys(script_file("#!/bin/sh\necho 'queue.length 3'\n"))
    form.find_element(By.TAG_NAME, "button").click()
    error = until("the broken script's rule", lambda: driver.find_element(By.ID, "error").text, 20)
    print(f"a script that prints an undeclared metric: {error}")
    if not error.startswith("run.undeclared"):
        sys.exit(f"browser-dashboard.sh: expected the rule run.undeclared, the page says {error!r}")
    form.find_element(By.NAME, "script").send_keys(script_file("#!/bin/sh\necho 'queue.depth 3'\n"))
    sent = time.time()
    form.find_element(By.TAG_NAME, "button").click()
    until("the script's page", lambda: driver.current_url.endswith("/scripts/queue_depth"), 20)
    print(f"a script uploaded: checked and stored, its page shown {time.time() - sent:.2f} s after the form was sent")
    driver.find_element(By.CSS_SELECTOR, "button.activate").click()
    until("version 1 active", lambda: driver.find_element(By.ID, "active").get_attribute("data-active") == "1", 10)
    print("version 1 made active from the page")
    # Rolled out to the real host through the control master: the run's page shows its install,
    # and the host's page then draws the script's metric, which the host's agent sends.
    form = driver.find_element(By.ID, "rollout")
    form.find_element(By.NAME, "target").clear()
    form.find_element(By.NAME, "target").send_keys("real-01")
    sent = time.time()
    form.find_element(By.TAG_NAME, "button").click()
    until("the rollout's run page", lambda: "/runs/" in driver.current_url, 10)
    until("the rollout's end", lambda: driver.find_element(By.ID, "state").get_attribute("data-state") != "running", 60)
    state = driver.find_element(By.ID, "state").get_attribute("data-state")
    shown = [[c.text for c in row.find_elements(By.TAG_NAME, "td")] for row in driver.find_elements(By.CSS_SELECTOR, "#results tr")[1:]]
    print(f"version 1 rolled out to real-01: run {state} {time.time() - sent:.1f} s after the form was sent; real-01: {shown[0][3].strip() if shown else 'no result'}")
    if state != "complete" or len(shown) != 1 or shown[0][1] != "done" or "queue_depth version 1 current" not in shown[0][3]:
        sys.exit(f"browser-dashboard.sh: expected real-01 to install version 1, the page shows {shown} ({state})")
    driver.get(base + "/hosts/real-01")
    def script_graph():
        figures = [f for f in driver.find_elements(By.CSS_SELECTOR, "#graphs figure")
                   if f.get_attribute("data-metric") == "queue.depth" and f.find_elements(By.CSS_SELECTOR, "polyline")]
        if figures:
            return figures[0]
        driver.refresh()
    figure = until("real-01's queue.depth graph", script_graph, 60)
    print(f"the script's metric on real-01's page {time.time() - sent:.1f} s after the rollout: {figure.find_element(By.TAG_NAME, 'figcaption').text}")

    # A release through the forms: the demo's hello 1.0 to every host (a canary, then batches of
    # 50 %), then 1.1, whose errors rise on the hosts that take it, with a health rule over a
    # 10-second bake: its canary is put back and the rollout fails.
    def roll_out(version, extra, during=None):
        driver.get(base + "/releases/hello/" + version)
        form = driver.find_element(By.ID, "deploy")
        for name, value in [("target", "*"), ("canary", "1"), ("batch", "50%")] + extra:
            field = form.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
        sent = time.time()
        form.find_element(By.TAG_NAME, "button").click()
        until(f"hello {version}'s rollout page", lambda: "/deployments/" in driver.current_url, 10)
        if during:
            during()
        def ended():
            state = driver.find_element(By.ID, "state").get_attribute("data-state")
            if state in ("running", "paused"):
                driver.refresh()
                return None
            return state
        state = until(f"hello {version}'s rollout to end", ended, 90)
        rows = [(r.get_attribute("data-host"), r.get_attribute("data-state"))
                for r in driver.find_elements(By.CSS_SELECTOR, "#deployment-hosts tr[data-host]")]
        return state, rows, time.time() - sent
    # The demo's two servers print `[NODE, pid PID] NODE leads, with the fencing token N`.
    def leader():
        with open(demo_out) as out:
            leads = re.findall(r"^\[(\w+), pid (\d+)\] \w+ leads, with the fencing token (\d+)$", out.read(), re.M)
        node, pid, token = leads[-1]
        return node, int(pid), int(token)
    def bar():
        return driver.find_element(By.ID, "leader").text
    failover = {}
    def kill_the_leader():
        node, pid, token = leader()
        shown = until("the bar naming the leader", bar, 10)
        if shown != f"{node} · token {token}":
            sys.exit(f"browser-dashboard.sh: the bar says {shown!r}, the demo says {node} leads with token {token}")
        until("the canary done", lambda: driver.refresh() or driver.find_elements(
            By.CSS_SELECTOR, "#deployment-hosts tr[data-host][data-state=done]"), 30)
        os.kill(pid, signal.SIGKILL)
        killed = time.time()
        def taken_over():
            driver.refresh()
            shown = bar()
            return shown if not shown.startswith(f"{node} ") else None
        shown = until("another server in the bar", taken_over, 30)
        new_node, new_pid, new_token = leader()
        if shown != f"{new_node} · token {new_token}" or new_token <= token:
            sys.exit(f"browser-dashboard.sh: after the kill the bar says {shown!r}; the demo: {new_node} with token {new_token}")
        failover.update(old=f"{node} · token {token}", new=shown, seconds=time.time() - killed)
    state, rows, took = roll_out("1.0", [("bake_secs", "5")], kill_the_leader)
    done = sum(1 for _, s in rows if s == "done")
    if failover_screenshot:
        driver.save_screenshot(failover_screenshot)
    print(f"hello 1.0 to {len(rows)} hosts across a failover ({failover['old']} killed, {failover['new']} "
          f"in the bar {failover['seconds']:.1f} s later): {state}, {done} done, {took:.1f} s after the form was sent")
    if state != "succeeded" or done != hosts:
        sys.exit(f"browser-dashboard.sh: hello 1.0: {state}, {done} of {hosts} hosts done")
    state, rows, took = roll_out("1.1", [("bake_secs", "10"), ("health_metric", "hello.errors"), ("health_max", "0.05")])
    if release_screenshot:
        driver.save_screenshot(release_screenshot)
    print(f"hello 1.1 with a health rule: {state}, the canary {rows[0][0]} {rows[0][1]}, {took:.1f} s after the form was sent")
    if state != "failed" or rows[0][1] != "rolled_back" or any(s not in ("skipped",) for _, s in rows[1:]):
        sys.exit(f"browser-dashboard.sh: hello 1.1: {state}, hosts {rows[:4]}")
finally:
    driver.quit()
PY
