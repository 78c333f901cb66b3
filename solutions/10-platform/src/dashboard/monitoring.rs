//! The dashboard's monitoring pieces, drawn with lab 08's own parts: a host's graphs (SVG made on
//! the server by lab 08's renderer, no script and no chart library) and firing alerts, and the
//! alerts page (the board, the rules as recorded, the silences).

use std::fmt::Write as _;

use monitor::judge::Alert;
use monitor::web::dashboard::{MAX_GRAPHS, RANGES, alerts_table, graph_points, range_of, url_encode};
use monitor::web::render_graph;

use super::page::escape;
use crate::now_millis;
use crate::platform::Platform;

/// The monitoring part of `host`'s page over the range named `range` (`1h` when not one of
/// lab 08's): its firing alerts, then a graph of each of its series.
pub fn host_section(platform: &Platform, host: &str, range: Option<&str>) -> String {
    let Ok(console) = platform.console() else {
        return "<p>This platform runs no monitoring.</p>".to_string();
    };
    let (range_name, length) = range_of(range);
    let mut html = String::from("<h3>Alerts</h3>");
    let firing: Vec<Alert> = console.firing().into_iter().filter(|alert| alert.series.host == host).collect();
    html.push_str(&alerts_table(&firing));
    html.push_str("<h3>Metrics</h3><p class=\"ranges\">");
    for (name, _) in RANGES {
        let chosen = if name == range_name { " class=\"chosen\"" } else { "" };
        let _ = write!(html, "<a{chosen} href=\"/hosts/{}?range={name}\">{name}</a>", url_encode(host));
    }
    html.push_str("</p><div class=\"graphs\" id=\"graphs\">");
    let series = console.source().series(Some(host), None);
    if series.is_empty() {
        html.push_str("<p>No metrics from this host yet.</p>");
    }
    let now = now_millis();
    for series in series.iter().take(MAX_GRAPHS) {
        let (from, to, points) = graph_points(console, series, length, now);
        let latest = points.last().map(|(_, value)| format!(" {}", monitor::web::svg::short(*value)));
        let _ = write!(
            html,
            "<figure data-metric=\"{metric}\"><figcaption>{name}{latest}</figcaption>{graph}</figure>",
            metric = escape(&series.metric),
            name = escape(&series.to_string()),
            latest = latest.unwrap_or_default(),
            graph = render_graph(&points, from, to),
        );
    }
    html.push_str("</div>");
    if series.len() > MAX_GRAPHS {
        let _ = write!(html, "<p>The first {MAX_GRAPHS} of {} series.</p>", series.len());
    }
    html
}

/// The alerts page: the alerts not OK, the rules as recorded, and the silences.
pub async fn alerts_section(platform: &Platform) -> String {
    let Ok(console) = platform.console() else {
        return "<p>This platform runs no monitoring.</p>".to_string();
    };
    let mut html = String::from("<h2>Alerts</h2><div id=\"alerts\">");
    html.push_str(&alerts_table(&console.firing()));
    html.push_str(
        "</div><h3>Rules</h3><table id=\"rules\"><tr><th>Id</th><th>Rule</th><th>P</th><th>Note</th></tr>",
    );
    match platform.records.rules().await {
        Ok(rules) => {
            for rule in rules {
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td><code>{}</code></td><td>P{}</td><td>{}</td></tr>",
                    rule.id,
                    escape(&rule.expr),
                    rule.priority,
                    escape(&rule.note)
                );
            }
        }
        Err(err) => {
            tracing::error!(cause = %err, "cannot read the rules");
            html.push_str("<tr><td colspan=\"4\" class=\"error\">The rules cannot be read now.</td></tr>");
        }
    }
    html.push_str("</table><h3>Silences</h3>");
    let silences = console.silences();
    if silences.is_empty() {
        html.push_str("<p>No silences.</p>");
    } else {
        html.push_str(
            "<table id=\"silences\"><tr><th>Id</th><th>Matchers</th><th>Until</th><th>Comment</th></tr>",
        );
        for silence in silences {
            let _ = write!(
                html,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                silence.id,
                escape(&silence.matchers),
                monitor::web::svg::clock(silence.ends),
                escape(&silence.comment)
            );
        }
        html.push_str("</table>");
    }
    html
}
