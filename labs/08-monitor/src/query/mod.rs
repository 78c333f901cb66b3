//! The query side (stage 5): an HTTP JSON API over the store, and the agent's `/metrics` page in
//! Prometheus's text format.
//!
//! # Layout
//!
//! - [`params`]: a query string to a checked [`RangeQuery`](crate::store::RangeQuery)
//!   ([`parse_range`], [`ParamError`]).
//! - [`api`]: the routes and their handlers ([`router`], [`metrics_router`], [`Source`]).
//! - [`exposition`]: the text format ([`render`], [`LatestPoints`]).
//! - [`server`]: serving a router on a thread until a shutdown ([`serve_http`], [`HttpServer`]).

pub mod api;
pub mod exposition;
pub mod params;
pub mod server;

pub use api::{ApiError, Source, metrics_router, router};
pub use exposition::{LatestPoints, render};
pub use params::{MAX_POINTS, ParamError, parse_range};
pub use server::{HttpServer, serve_http};
