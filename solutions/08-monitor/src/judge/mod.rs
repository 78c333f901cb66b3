//! The judge (stage 6): Open-Falcon's *judge*. Rules such as `cpu.busy{host=web1} all(#3) > 90`
//! are evaluated as samples arrive, on the judge shard the relay routes each series to, and
//! every change of an alert's state is an event for the alarm.
//!
//! ```text
//! relay ─batch─▶ JudgeService ─▶ Judge ─┬─ History of each series (aligned, unbroken runs)
//!       ◀─ack──   (on nbnet)            ├─ evaluate(function, op, threshold)
//!                                       ├─ AlertState: OK ▶ PROBLEM ▶ OK, reminders, NODATA
//!                                       └─▶ EventLog (synced) ─▶ events to the alarm
//! ```
//!
//! A batch is acknowledged once its events are in the log, so that a judge that crashes is sent
//! the batch again and reports what it caused, once: at a start the log's last event of each
//! alert is its state, and the series' recent values are read back from the store.
//!
//! # Layout
//!
//! - [`rule`]: rules and their expressions ([`Rule`], [`Expr`], [`Function`], [`Op`]); [`parse`]:
//!   reading an expression ([`ParseError`]).
//! - [`function`]: a function over a series' newest values ([`function::evaluate`]).
//! - [`history`]: a series' newest values ([`History`]).
//! - [`alert`]: one rule on one series over time ([`AlertState`]).
//! - [`event`]: what the judge reports ([`Event`], [`Alert`], [`Status`]).
//! - [`engine`]: every rule over every series ([`Judge`], [`JudgeConfig`]).
//! - [`log`]: the events, kept across restarts ([`EventLog`]).
//! - [`spec`]: rules as a user writes them, in a rules file or the API ([`RuleSpec`],
//!   [`load_rules`]).
//! - [`service`]: a judge shard on nbnet ([`serve_judge`], [`JudgeShard`]), its events handed to
//!   an [`EventSink`].

pub mod alert;
pub mod engine;
pub mod event;
pub mod function;
pub mod history;
pub mod log;
pub mod parse;
pub mod rule;
pub mod service;
pub mod spec;

pub use alert::AlertState;
pub use engine::{Judge, JudgeConfig};
pub use event::{Alert, Event, Status};
pub use function::Verdict;
pub use history::History;
pub use log::EventLog;
pub use parse::{ParseError, parse_selectors};
pub use rule::{Expr, Function, Op, Rule, RuleId, Selector};
pub use service::{EventSink, JudgeHandle, JudgeServer, JudgeService, JudgeShard, serve_judge};
pub use spec::{FieldError, RuleSpec, load_rules, parse_rules};
