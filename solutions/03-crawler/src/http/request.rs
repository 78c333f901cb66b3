//! Writing an HTTP/1.1 request: the request line and the headers, as bytes to send.

use crate::url::Url;

/// The bytes of a `GET`-style request for `url` (no body): the request line with the path and
/// query as the target, a `Host` header (with the port when it is not 80), then `headers` in order,
/// each as `Name: value`, then the empty line.
///
/// # Examples
///
/// ```
/// let url = crawler::Url::parse("http://example.com:8080/a?b=1#frag")?;
/// let bytes = crawler::http::encode_request("GET", &url, &[("User-Agent", "me")]);
/// assert_eq!(bytes, b"GET /a?b=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: me\r\n\r\n");
/// # Ok::<(), crawler::UrlError>(())
/// ```
pub fn encode_request(method: &str, url: &Url, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("{method} {} HTTP/1.1\r\nHost: {}\r\n", url.request_target(), url.authority());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}
