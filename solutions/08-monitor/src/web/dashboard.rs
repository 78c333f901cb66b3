//! The dashboard: one page, drawn on the server, with nothing fetched from elsewhere (no CDN, no
//! framework): the hosts with their firing alerts, the graphs of the chosen host's series over the
//! chosen range, the firing alerts, and a form that adds a rule through the API. A small script
//! replaces each graph and the alerts every few seconds, so the page follows the data.
//!
//! | route | |
//! |---|---|
//! | `GET /?host=H&range=1h` | the page (`range`: `5m`, `15m`, `1h`, `6h` or `1d`) |
//! | `GET /ui/graph.svg?host=H&metric=M&tag.NAME=V&range=1h` | one series' graph |
//! | `GET /ui/alerts` | the firing alerts' table |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::console::Console;
use super::svg::render_graph;
use crate::judge::Alert;
use crate::point::{Millis, SeriesKey, now_millis};
use crate::store::{Aggregate, RangeQuery};

/// Points a graph is drawn with, at most: the range's step is chosen for it.
pub const GRAPH_POINTS: i64 = 300;

/// Series drawn for one host, at most.
pub const MAX_GRAPHS: usize = 60;

/// The ranges offered, and their length.
pub const RANGES: [(&str, Millis); 5] =
    [("5m", 300_000), ("15m", 900_000), ("1h", 3_600_000), ("6h", 21_600_000), ("1d", 86_400_000)];

/// The dashboard's routes over `console`.
pub fn dashboard_router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/ui/graph.svg", get(graph))
        .route("/ui/alerts", get(alerts))
        .with_state(console)
}

/// The length of the range named `name` (`1h` when it is not one of [`RANGES`]).
pub fn range_of(name: Option<&str>) -> (&'static str, Millis) {
    RANGES.iter().copied().find(|(n, _)| Some(*n) == name).unwrap_or(RANGES[2])
}

/// The series a graph's query string names: `host`, `metric` and each `tag.NAME`.
pub fn series_of(params: &BTreeMap<String, String>) -> Option<SeriesKey> {
    let host = params.get("host")?.clone();
    let metric = params.get("metric")?.clone();
    let tags = params
        .iter()
        .filter_map(|(name, value)| name.strip_prefix("tag.").map(|tag| (tag.to_owned(), value.clone())))
        .collect();
    Some(SeriesKey { host, metric, tags })
}

/// The points of `series` over the `range` before `now`, one (the mean) a step.
pub fn graph_points(
    console: &Console,
    series: &SeriesKey,
    range: Millis,
    now: Millis,
) -> (Millis, Millis, Vec<(Millis, f64)>) {
    let step = (range / GRAPH_POINTS).max(1000);
    let from = now - range;
    let query =
        RangeQuery::every(series.clone(), from, now, Duration::from_millis(step as u64), Aggregate::Avg);
    (from, now, console.source().query(&query))
}

async fn graph(
    State(console): State<Arc<Console>>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(series) = series_of(&params) else {
        return (axum::http::StatusCode::BAD_REQUEST, "host and metric are needed").into_response();
    };
    let (_, range) = range_of(params.get("range").map(String::as_str));
    let (from, to, points) = graph_points(&console, &series, range, now_millis());
    ([(header::CONTENT_TYPE, "image/svg+xml")], render_graph(&points, from, to)).into_response()
}

async fn alerts(State(console): State<Arc<Console>>) -> Html<String> {
    Html(alerts_table(&console.firing()))
}

async fn page(
    State(console): State<Arc<Console>>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Html<String> {
    Html(render_page(
        &console,
        params.get("host").map(String::as_str),
        params.get("range").map(String::as_str),
        now_millis(),
    ))
}

/// The whole page for `host` (the first host when `None`) over `range`, at `now`.
pub fn render_page(console: &Console, host: Option<&str>, range: Option<&str>, now: Millis) -> String {
    let mut hosts = console.source().hosts();
    for record in console.hosts() {
        if !hosts.contains(&record.name) {
            hosts.push(record.name);
        }
    }
    hosts.sort();
    let firing = console.firing();
    let chosen = host.map(str::to_owned).or_else(|| hosts.first().cloned()).unwrap_or_default();
    let (range_name, range_length) = range_of(range);
    let mut html = String::with_capacity(64 * 1024);
    html.push_str(HEAD);
    let _ = write!(
        html,
        "<header><h1>monitor</h1><span>{} hosts, {} alerts firing</span></header><main>",
        hosts.len(),
        firing.len()
    );
    html.push_str(r#"<nav id="hosts"><h2>Hosts</h2><ul>"#);
    for name in &hosts {
        let count = firing.iter().filter(|alert| &alert.series.host == name).count();
        let badge = if count > 0 { format!(r#" <b class="badge">{count}</b>"#) } else { String::new() };
        let class = if *name == chosen { r#" class="chosen""# } else { "" };
        let _ = write!(
            html,
            r#"<li{class}><a href="/?host={}&amp;range={range_name}">{}</a>{badge}</li>"#,
            url_encode(name),
            escape(name)
        );
    }
    html.push_str("</ul></nav><section>");
    let _ = write!(html, r#"<h2>{}</h2><p class="ranges">"#, escape(&chosen));
    for (name, _) in RANGES {
        let class = if name == range_name { r#" class="chosen""# } else { "" };
        let _ =
            write!(html, r#"<a{class} href="/?host={}&amp;range={name}">{name}</a> "#, url_encode(&chosen));
    }
    html.push_str(r#"</p><div id="graphs">"#);
    let mut series = console.source().series(Some(&chosen), None);
    series.sort();
    for key in series.iter().take(MAX_GRAPHS) {
        let (from, to, points) = graph_points(console, key, range_length, now);
        let mut query =
            format!("host={}&metric={}&range={range_name}", url_encode(&key.host), url_encode(&key.metric));
        for (name, value) in &key.tags {
            let _ = write!(query, "&tag.{}={}", url_encode(name), url_encode(value));
        }
        let title =
            SeriesKey { host: String::new(), metric: key.metric.clone(), tags: key.tags.clone() }.to_string();
        let _ = write!(
            html,
            r#"<figure class="graph" data-src="/ui/graph.svg?{}"><figcaption>{}</figcaption>{}</figure>"#,
            escape(&query),
            escape(title.trim()),
            render_graph(&points, from, to)
        );
    }
    if series.is_empty() {
        html.push_str("<p>No series for this host yet.</p>");
    }
    html.push_str(r#"</div></section><aside><h2>Firing</h2><div id="alerts">"#);
    html.push_str(&alerts_table(&firing));
    html.push_str(RULE_FORM);
    html.push_str("</aside></main>");
    html.push_str(SCRIPT);
    html.push_str("</body></html>");
    html
}

/// The firing alerts as a table (or a line saying there are none).
pub fn alerts_table(firing: &[Alert]) -> String {
    if firing.is_empty() {
        return r#"<p class="calm">No alerts.</p>"#.to_owned();
    }
    let mut html = String::from(
        r#"<table class="alerts"><tr><th>P</th><th>status</th><th>series</th><th>rule</th><th>value</th></tr>"#,
    );
    for alert in firing {
        let _ = write!(
            html,
            r#"<tr class="p{}"><td>P{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            alert.priority,
            alert.priority,
            alert.status.as_str(),
            escape(&alert.series.to_string()),
            escape(&alert.expr),
            alert.value
        );
    }
    html.push_str("</table>");
    html
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` percent-encoded for a query string (everything but unreserved characters).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The page's head and its style.
const HEAD: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>monitor</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1f2430;background:#f3f4f7}
header{display:flex;gap:1em;align-items:baseline;padding:.6em 1em;background:#1f2430;color:#fff}
header h1{font-size:18px;margin:0}
main{display:grid;grid-template-columns:180px 1fr 420px;gap:1em;padding:1em}
nav ul{list-style:none;padding:0;margin:0;max-height:80vh;overflow:auto}
nav li{padding:2px 4px}nav li.chosen{background:#dbe4ff;border-radius:4px}
a{color:#1d4ed8;text-decoration:none}.ranges a{margin-right:.5em}.ranges a.chosen{font-weight:bold}
.badge{background:#dc2626;color:#fff;border-radius:8px;padding:0 6px;font-size:12px}
figure.graph{background:#fff;margin:0 0 1em;padding:.5em;border-radius:6px;box-shadow:0 1px 2px #0002}
figcaption{font-family:monospace;margin-bottom:.3em}
table.alerts{border-collapse:collapse;width:100%;background:#fff}
table.alerts td,table.alerts th{border-bottom:1px solid #e3e6ec;padding:3px 5px;text-align:left;font-size:13px}
tr.p0 td,tr.p1 td{color:#b91c1c}.calm{color:#15803d}
form{background:#fff;padding:.6em;border-radius:6px;margin-top:1em}form input{width:100%;box-sizing:border-box;margin:.2em 0}
#rule-error{color:#b91c1c}#rule-done{color:#15803d}
</style></head><body>"#;

/// The form that adds a rule through `POST /api/v1/rules`.
const RULE_FORM: &str = r#"</div><form id="rule-form"><h2>Add a rule</h2>
<label>id <input name="id" type="number" min="0" required></label>
<label>expression <input name="expr" placeholder="cpu.busy all(#3) &gt; 90" required></label>
<label>priority <input name="priority" type="number" min="0" max="5" value="2"></label>
<button type="submit">Add</button><p id="rule-error"></p><p id="rule-done"></p></form>"#;

/// Refreshes the graphs and the alerts every 5 s, and posts the rule form as JSON.
const SCRIPT: &str = r#"<script>
async function refresh() {
  for (const figure of document.querySelectorAll('figure.graph')) {
    const answer = await fetch(figure.dataset.src);
    if (answer.ok) { figure.querySelector('svg').outerHTML = await answer.text(); }
  }
  const alerts = await fetch('/ui/alerts');
  if (alerts.ok) { document.getElementById('alerts').innerHTML = await alerts.text(); }
}
setInterval(() => refresh().catch(() => {}), 5000);
document.getElementById('rule-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const rule = { id: Number(form.get('id')), expr: form.get('expr'), priority: Number(form.get('priority')) };
  const answer = await fetch('/api/v1/rules', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  const body = await answer.json();
  document.getElementById('rule-error').textContent = answer.ok ? '' : body.error;
  document.getElementById('rule-done').textContent = answer.ok ? 'rule ' + body.data.id + ' added: ' + body.data.expr : '';
  if (answer.ok) { refresh().catch(() => {}); }
});
</script>"#;
