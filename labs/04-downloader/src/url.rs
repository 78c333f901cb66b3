//! A minimal `http://host[:port]/path` URL: all the downloader needs to open a connection and name
//! the file. Given code, identical in the lab and the reference.

use std::fmt;
use std::str::FromStr;

/// An `http` URL split into what a request needs. Only `http` is supported: `https` needs TLS,
/// which this lab leaves out (see the chapter).
///
/// # Examples
///
/// ```
/// let url: downloader::Url = "http://127.0.0.1:8080/files/big.iso?x=1".parse().unwrap();
/// assert_eq!(url.host(), "127.0.0.1");
/// assert_eq!(url.port(), 8080);
/// assert_eq!(url.target(), "/files/big.iso?x=1");
/// assert_eq!(url.file_name(), Some("big.iso"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    host: String,
    port: u16,
    target: String,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// `https://` and other schemes: this downloader speaks plain HTTP only.
    #[error("unsupported scheme in {0:?}: only http:// URLs are supported (no TLS in this lab)")]
    Scheme(String),
    /// No scheme, no host, a bad port.
    #[error("invalid URL {url:?}: {reason}")]
    Invalid {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Url {
    /// Parses `http://host[:port][/path][?query]`; a fragment (`#…`) is dropped.
    ///
    /// # Errors
    ///
    /// [`UrlError::Scheme`] for any scheme but `http`, [`UrlError::Invalid`] for a missing host or
    /// a bad port.
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        let invalid = |reason| UrlError::Invalid { url: text.to_owned(), reason };
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(invalid("expected http://host/path"));
        };
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(UrlError::Scheme(text.to_owned()));
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority, target) = match rest.find(['/', '?']) {
            Some(at) if rest[at..].starts_with('/') => (&rest[..at], rest[at..].to_owned()),
            Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
            None => (rest, "/".to_owned()),
        };
        if authority.contains('@') {
            return Err(invalid("user names and passwords in URLs are not supported"));
        }
        // `[::1]` is a host without a port; `[::1]:8080` and `host:8080` have one.
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !authority.ends_with(']') => {
                (host, port.parse().map_err(|_| invalid("the port is not a number from 0 to 65535"))?)
            }
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        Ok(Url { host: host.to_owned(), port, target })
    }

    /// The host name or address (an IPv6 address keeps its brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, 80 when the URL names none.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target: the path and query, always starting with `/`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// `host:port`, for connecting and for the `Host` header.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The last segment of the path, without the query, if it is not empty: the default name of
    /// the downloaded file.
    pub fn file_name(&self) -> Option<&str> {
        let path = self.target.split('?').next().unwrap_or_default();
        path.rsplit('/').next().filter(|name| !name.is_empty() && *name != "." && *name != "..")
    }
}

impl FromStr for Url {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<Url, UrlError> {
        Url::parse(text)
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.port == 80 {
            write!(f, "http://{}{}", self.host, self.target)
        } else {
            write!(f, "http://{}:{}{}", self.host, self.port, self.target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_and_target() {
        let url = Url::parse("http://example.com").unwrap();
        assert_eq!((url.host(), url.port(), url.target()), ("example.com", 80, "/"));
        let url = Url::parse("http://[::1]:9000/a/b.bin").unwrap();
        assert_eq!((url.host(), url.port(), url.target()), ("[::1]", 9000, "/a/b.bin"));
        let url = Url::parse("http://h?q=1#frag").unwrap();
        assert_eq!(url.target(), "/?q=1");
        assert_eq!(url.file_name(), None);
    }

    #[test]
    fn refuses_https_and_garbage() {
        assert!(matches!(Url::parse("https://example.com/x"), Err(UrlError::Scheme(_))));
        assert!(matches!(Url::parse("example.com/x"), Err(UrlError::Invalid { .. })));
        assert!(matches!(Url::parse("http://:80/x"), Err(UrlError::Invalid { .. })));
        assert!(matches!(Url::parse("http://h:99999/x"), Err(UrlError::Invalid { .. })));
    }
}
