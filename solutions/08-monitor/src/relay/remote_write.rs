//! Prometheus remote write 1.0: how the relay forwards every point to an existing scalable store
//! (VictoriaMetrics, Mimir, Thanos, Prometheus itself), as Open-Falcon's transfer forwards to
//! OpenTSDB.
//!
//! A request's body is a protobuf [`WriteRequest`] compressed with snappy's *block* format (not
//! its framed stream format), POSTed with `Content-Encoding: snappy`, `Content-Type:
//! application/x-protobuf` and `X-Prometheus-Remote-Write-Version: 0.1.0`. The messages are
//! written here as `prost` structs with the field numbers of Prometheus's `remote.proto` and
//! `types.proto`: no build script and no `protoc`.
//!
//! A point becomes a sample of a series whose labels follow Prometheus's naming rules:
//!
//! - `__name__` is the metric, every character outside `[a-zA-Z0-9_:]` made `_` (`cpu.busy`
//!   becomes `cpu_busy`), with a `_` before a leading digit;
//! - `host` is the host, as is;
//! - each tag is a label: its name with every character outside `[a-zA-Z0-9_]` made `_` (label
//!   names allow no colon) and a `_` before a leading digit, its value as is.
//!
//! A tag whose label name comes out as `__name__` or `host` is renamed `exported_<name>`, as
//! Prometheus renames a scraped label that clashes with a target's; of two tags whose names come
//! out alike (`a.b` and `a_b`), the first in name order is kept. Labels are sorted by name, and the
//! points of one series in a request are one time series, in order.
//!
//! An answer of 2xx means done; 5xx (and 429, too many requests) means try again later; any other
//! 4xx means the request will never be taken, and it is dropped and counted: Prometheus's rule.

use std::collections::HashMap;
use std::time::Duration;

use prost::Message as _;

use super::forward::{Link, Outcome};
use super::http::HttpClient;
use crate::point::{Point, Tags};

/// The headers of every remote-write request.
pub const HEADERS: [(&str, &str); 3] = [
    ("Content-Encoding", "snappy"),
    ("Content-Type", "application/x-protobuf"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

/// Where and how the relay forwards every point over remote write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteWriteConfig {
    /// The endpoint: `http://host[:port]/path`, as VictoriaMetrics' `http://vm:8428/api/v1/write`.
    pub url: String,
    /// The most points waiting to be sent; past it the oldest are dropped.
    pub queue_points: usize,
    /// The most points in one request.
    pub max_batch_points: usize,
    /// How long a connection may take to open.
    pub connect_timeout: Duration,
    /// How long a request may take to be written and answered.
    pub timeout: Duration,
    /// The first wait before trying again after a failure.
    pub backoff_min: Duration,
    /// The longest wait.
    pub backoff_max: Duration,
}

impl RemoteWriteConfig {
    /// Forwarding to `url`: at most 100,000 points queued, 2,000 a request (Prometheus's
    /// `max_samples_per_send`), a 1 s connect timeout, 10 s a request, and waits from 30 ms up to
    /// 5 s between tries (Prometheus's `min_backoff` and `max_backoff`).
    pub fn new(url: impl Into<String>) -> RemoteWriteConfig {
        RemoteWriteConfig {
            url: url.into(),
            queue_points: 100_000,
            max_batch_points: 2000,
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(30),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// `prometheus.WriteRequest`: the body of a request, before compression.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series and their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: one series' labels and samples.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// The labels, sorted by name; `__name__` is the metric.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct Label {
    /// The name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `metric` as a Prometheus metric name: `cpu.busy` → `cpu_busy`.
///
/// # Examples
///
/// ```
/// use monitor::relay::remote_write::metric_name;
/// assert_eq!(metric_name("net.if.in.bytes"), "net_if_in_bytes");
/// assert_eq!(metric_name("nginx:requests-total"), "nginx:requests_total");
/// assert_eq!(metric_name("5xx.rate"), "_5xx_rate");
/// ```
pub fn metric_name(metric: &str) -> String {
    sanitize(metric, |c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `tag` as a Prometheus label name: `if.name` → `if_name`; a colon becomes `_` too.
pub fn label_name(tag: &str) -> String {
    sanitize(tag, |c| c.is_ascii_alphanumeric() || c == '_')
}

/// `name` with every character `allowed` refuses made `_`, and a `_` before a leading digit.
fn sanitize(name: &str, allowed: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(name.chars().map(|c| if allowed(c) { c } else { '_' }));
    out
}

/// The labels of `host metric{tags}`, sorted by name (see the module's table).
pub fn labels(host: &str, metric: &str, tags: &Tags) -> Vec<Label> {
    let mut labels = vec![
        Label { name: "__name__".to_owned(), value: metric_name(metric) },
        Label { name: "host".to_owned(), value: host.to_owned() },
    ];
    for (tag, value) in tags {
        let mut name = label_name(tag);
        if name == "__name__" || name == "host" {
            name = format!("exported_{name}");
        }
        if labels.iter().all(|label| label.name != name) {
            labels.push(Label { name, value: value.clone() });
        }
    }
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    labels
}

/// The request carrying `points`: one time series a series, its samples in the order given.
pub fn write_request(points: &[Point]) -> WriteRequest {
    let mut index: HashMap<(&str, &str, &Tags), usize> = HashMap::new();
    let mut timeseries: Vec<TimeSeries> = Vec::new();
    for point in points {
        let key = (point.host.as_str(), point.metric.as_str(), &point.tags);
        let at = *index.entry(key).or_insert_with(|| {
            let labels = labels(&point.host, &point.metric, &point.tags);
            timeseries.push(TimeSeries { labels, samples: Vec::new() });
            timeseries.len() - 1
        });
        timeseries[at].samples.push(Sample { value: point.value, timestamp: point.timestamp });
    }
    WriteRequest { timeseries }
}

/// The body of a request: `request` in protobuf, compressed in snappy's block format.
pub fn encode_body(request: &WriteRequest) -> Vec<u8> {
    let protobuf = request.encode_to_vec();
    // Compressing into a Vec cannot fail: only an input over snap's 4 GiB limit can, and a request
    // holds at most max_batch_points points.
    snap::raw::Encoder::new().compress_vec(&protobuf).unwrap_or_default()
}

/// The request in `body`, as a receiver reads it: snappy block format, then protobuf.
///
/// # Errors
///
/// A message saying which of the two failed.
pub fn decode_body(body: &[u8]) -> Result<WriteRequest, String> {
    let protobuf = snap::raw::Decoder::new().decompress_vec(body).map_err(|err| format!("snappy: {err}"))?;
    WriteRequest::decode(protobuf.as_slice()).map_err(|err| format!("protobuf: {err}"))
}

/// What an answer's status means for the request: done, try again, or drop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: taken.
    Done,
    /// 5xx or 429: the receiver cannot take it now; send it again later.
    Retry,
    /// Any other status (4xx): it will never be taken; drop it and count it.
    Drop,
}

/// Prometheus's rule for an answer of `status`.
pub fn verdict(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Done,
        429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Drop,
    }
}

/// The remote-write endpoint, as a forwarder's [`Link`].
#[derive(Debug)]
pub(crate) struct RemoteLink {
    /// The HTTP client, its connection kept between requests.
    client: HttpClient,
}

impl RemoteLink {
    /// A link POSTing with `client`.
    pub(crate) fn new(client: HttpClient) -> RemoteLink {
        RemoteLink { client }
    }
}

impl Link for RemoteLink {
    fn send(&mut self, points: &mut Vec<Point>, _timeout: Duration) -> Outcome {
        let body = encode_body(&write_request(points));
        match self.client.post(&HEADERS, &body) {
            Ok(response) => {
                let reason =
                    || format!("HTTP {}: {}", response.status, String::from_utf8_lossy(&response.body));
                match verdict(response.status) {
                    Verdict::Done => Outcome::Delivered { refused: 0 },
                    Verdict::Retry => Outcome::Failed(reason()),
                    Verdict::Drop => Outcome::Refused { reason: reason(), pause: false },
                }
            }
            Err(err) => Outcome::Failed(err.to_string()),
        }
    }
}
