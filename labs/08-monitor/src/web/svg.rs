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
    todo!(
        "stage 8: a frame; then a polyline of the finite points scaled into it, data-points their count, the lowest and highest values and the range's ends as labels; or a frame that says no points"
    )
}

/// A value in a few characters: `12.5`, `3.2M`, `7.1G`.
pub fn short(value: f64) -> String {
    todo!("stage 8: scale by G, M or k above 1e9, 1e6, 1e4; two decimals without trailing zeros")
}

/// `HH:MM:SS` of `at`, in UTC.
pub fn clock(at: Millis) -> String {
    todo!("stage 8: the seconds of the day, as HH:MM:SS UTC")
}
