//! A graph of one series as SVG, drawn on the server: no chart library, no script, nothing fetched
//! from elsewhere. The browser shows it inline, and the page's script replaces it with a fresh one
//! every step.

use std::fmt::Write as _;

use crate::point::Millis;

/// The graph's size, in SVG units.
pub const WIDTH: f64 = 600.0;
/// The graph's height.
pub const HEIGHT: f64 = 160.0;
/// Room on the left for the value labels, and below for the time labels.
const MARGIN_LEFT: f64 = 56.0;
const MARGIN_BOTTOM: f64 = 18.0;

/// `points` between `from` and `to` as an SVG graph (its `data-from` and `data-to` the range): a
/// polyline (its `data-points` the number of points drawn), the lowest and highest values on the
/// left, and the range's ends below. With no points, a frame that says so.
pub fn render_graph(points: &[(Millis, f64)], from: Millis, to: Millis) -> String {
    let mut svg = format!(
        r#"<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" data-from="{from}" data-to="{to}">"#
    );
    let plot_width = WIDTH - MARGIN_LEFT;
    let plot_height = HEIGHT - MARGIN_BOTTOM;
    let _ = write!(
        svg,
        r##"<rect x="{MARGIN_LEFT}" y="0" width="{plot_width}" height="{plot_height}" fill="#fbfbfd" stroke="#d0d4dc"/>"##
    );
    let finite: Vec<(Millis, f64)> = points.iter().copied().filter(|(_, value)| value.is_finite()).collect();
    if finite.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#888">no points in this range</text>"##,
            MARGIN_LEFT + plot_width / 2.0,
            plot_height / 2.0
        );
    } else {
        let (low, high) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| (lo.min(*v), hi.max(*v)));
        let span_value = if high > low { high - low } else { 1.0 };
        let span_time = (to - from).max(1) as f64;
        let x = |at: Millis| MARGIN_LEFT + (at - from) as f64 / span_time * plot_width;
        let y = |value: f64| plot_height - 4.0 - (value - low) / span_value * (plot_height - 8.0);
        let coordinates: Vec<String> =
            finite.iter().map(|&(at, value)| format!("{:.1},{:.1}", x(at), y(value))).collect();
        let _ = write!(
            svg,
            r##"<polyline data-points="{}" fill="none" stroke="#2563eb" stroke-width="1.5" points="{}"/>"##,
            finite.len(),
            coordinates.join(" ")
        );
        let _ = write!(
            svg,
            r##"<text x="{}" y="12" text-anchor="end" font-size="11" fill="#444">{}</text><text x="{}" y="{}" text-anchor="end" font-size="11" fill="#444">{}</text>"##,
            MARGIN_LEFT - 4.0,
            short(high),
            MARGIN_LEFT - 4.0,
            plot_height - 2.0,
            short(low)
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{MARGIN_LEFT}" y="{}" font-size="11" fill="#444">{}</text><text x="{WIDTH}" y="{}" text-anchor="end" font-size="11" fill="#444">{}</text></svg>"##,
        HEIGHT - 4.0,
        clock(from),
        HEIGHT - 4.0,
        clock(to)
    );
    svg
}

/// A value in a few characters: `12.5`, `3.2M`, `7.1G`.
pub fn short(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, unit) = if magnitude >= 1e9 {
        (value / 1e9, "G")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = format!("{scaled:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{unit}")
}

/// `HH:MM:SS` of `at`, in UTC.
pub fn clock(at: Millis) -> String {
    let seconds = at.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02} UTC", seconds / 3600, seconds % 3600 / 60, seconds % 60)
}
