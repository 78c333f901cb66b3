//! The web console (stage 8): the HTTP API over the rules, the alerts, the silences and the host
//! records, driving the judges and the alarm as they change, and the dashboard over it all.
//!
//! ```text
//! browser, script ─HTTP─▶ console_router ─▶ Console ─┬─▶ judges' rules (JudgeHandle)
//!                                                     ├─▶ the alarm's silences (AlarmCore)
//! judges ─events─▶ Console (the board of alerts) ─────┴─▶ the alarm
//! ```
//!
//! # Layout
//!
//! - [`console`]: the state, kept in a JSON file ([`Console`], [`SilenceRecord`], [`HostRecord`]).
//! - [`api`]: the routes ([`console_router`]), and bodies read with the field at fault named.
//! - [`dashboard`]: the page, drawn on the server ([`dashboard_router`]); [`svg`]: a series'
//!   graph as SVG ([`render_graph`]).

pub mod api;
pub mod console;
pub mod dashboard;
pub mod svg;

pub use api::{Answer, console_router, parse_body};
pub use console::{Console, HostRecord, Refusal, SilenceRecord};
pub use dashboard::{dashboard_router, render_page};
pub use svg::render_graph;
