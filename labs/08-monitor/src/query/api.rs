//! The HTTP API the dashboard (the lab's second part) and scripts read: which hosts and series
//! there are, and one series over a range of time at a chosen step. Its JSON has the shapes of
//! Prometheus's HTTP API: `{"status":"success","data":…}`, and for a bad request a 400 with
//! `{"status":"error","errorType":"bad_data","error":"start: \"x\" is not a time in Unix seconds"}`,
//! the message naming the parameter.
//!
//! | route | answers `data` with |
//! |---|---|
//! | `GET /api/v1/hosts` | the host names, sorted |
//! | `GET /api/v1/series?host=H&metric=M` (both optional) | `[{"host","metric","tags":{…}}]` |
//! | `GET /api/v1/query_range?host=H&metric=M&tag.NAME=V&start=S&end=E&step=10s&aggregate=avg` | `{"series":{…},"step":10,"aggregate":"avg","points":[[ms, value], …]}` |
//!
//! The handlers are thin: they take the query string apart ([`crate::query::params`]), ask a
//! [`Source`] (the store, or a test's stand-in) and shape the answer.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::point::{Millis, SeriesKey};
use crate::query::exposition::LatestPoints;
use crate::query::params::{ParamError, parse_range};
use crate::store::{Aggregate, RangeQuery, Store};

/// Where the API's answers come from: the store, or a test's stand-in.
pub trait Source: Send + Sync + 'static {
    /// Every host that has a series, sorted.
    fn hosts(&self) -> Vec<String>;
    /// The series of `host` and of `metric`, each filter left out when `None`.
    fn series(&self, host: Option<&str>, metric: Option<&str>) -> Vec<SeriesKey>;
    /// The points of one series over a range, at the query's step.
    fn query(&self, query: &RangeQuery) -> Vec<(Millis, f64)>;
}

impl Source for Store {
    fn hosts(&self) -> Vec<String> {
        Store::hosts(self)
    }

    fn series(&self, host: Option<&str>, metric: Option<&str>) -> Vec<SeriesKey> {
        Store::series(self, host, metric)
    }

    fn query(&self, query: &RangeQuery) -> Vec<(Millis, f64)> {
        Store::query(self, query)
    }
}

/// The API's routes over `source`.
pub fn router(source: Arc<dyn Source>) -> Router {
    Router::new()
        .route("/api/v1/hosts", get(hosts))
        .route("/api/v1/series", get(series))
        .route("/api/v1/query_range", get(query_range))
        .fallback(not_found)
        .with_state(source)
}

/// The agent's page for Prometheus: `GET /metrics`, its latest points in the text format.
pub fn metrics_router(latest: Arc<LatestPoints>) -> Router {
    Router::new().route("/metrics", get(metrics)).fallback(not_found).with_state(latest)
}

/// Why a request gets no answer.
#[derive(Debug)]
pub enum ApiError {
    /// A parameter is missing or malformed: 400, naming it.
    BadParam(ParamError),
    /// The query string is not `name=value&…` at all: 400.
    BadQuery(String),
    /// No such route: 404.
    NotFound,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        todo!("stage 5: 400 or 404 with Prometheus's error shape")
    }
}

/// A successful answer.
fn success(data: Value) -> Response {
    axum::Json(json!({"status": "success", "data": data})).into_response()
}

/// The query string's pairs, in order; a string that is not pairs is a 400.
type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn pairs(query: Pairs) -> Result<Vec<(String, String)>, ApiError> {
    query.map(|Query(pairs)| pairs).map_err(|err| ApiError::BadQuery(err.body_text()))
}

async fn hosts(State(source): State<Arc<dyn Source>>) -> Response {
    todo!("stage 5: the source's hosts")
}

async fn series(State(source): State<Arc<dyn Source>>, query: Pairs) -> Result<Response, ApiError> {
    todo!("stage 5: the series, filtered by host and metric")
}

async fn query_range(State(source): State<Arc<dyn Source>>, query: Pairs) -> Result<Response, ApiError> {
    todo!("stage 5: parse the query, ask the source, shape the answer")
}

async fn metrics(State(latest): State<Arc<LatestPoints>>) -> Response {
    todo!("stage 5: the latest points in the text format, with Prometheus's content type")
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

fn series_json(series: &SeriesKey) -> Value {
    json!({"host": series.host, "metric": series.metric, "tags": series.tags})
}

fn aggregate_name(aggregate: Aggregate) -> &'static str {
    match aggregate {
        Aggregate::Avg => "avg",
        Aggregate::Min => "min",
        Aggregate::Max => "max",
        Aggregate::Sum => "sum",
        Aggregate::Count => "count",
        Aggregate::Last => "last",
    }
}
