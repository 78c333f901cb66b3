//! URLs as RFC 3986 defines them: parsing ([`Url::parse`]), resolving a link against the page it is
//! on ([`Url::join`], section 5.2) and normalising, so that two spellings of one page compare equal
//! ([`Url::normalize`], section 6).
//!
//! The type keeps what a crawler needs: scheme, host, port, path, query and fragment. It accepts any
//! scheme (a link may be `mailto:`), but only `http` URLs can be fetched.

use std::fmt;

use crate::error::UrlError;

// TODO(stage 2): one private split of a reference into its five parts (split at '#', then '?',
// then a scheme before the first ':' that comes before any '/', then `//authority`) serves both
// parse and join. Clean the input first, percent-encoding what may not appear in a URL, so
// nothing later has to. join is section 5.2.2 transcribed; its merge step is section 5.2.3.
// Stage 1's client tests already call parse, join and normalize.

/// An absolute URL: `scheme:[//host[:port]]path[?query][#fragment]`.
///
/// Parsing percent-encodes the bytes that may not appear in a URL (spaces, quotes, non-ASCII,
/// a `%` not followed by two hex digits), as browsers do, so what comes out is always valid to send.
///
/// # Examples
///
/// ```
/// use crawler::Url;
/// let page = Url::parse("http://Example.com:80/a/b/c.html?x#top")?;
/// let link = page.join("../d/./e.html")?;
/// assert_eq!(link.to_string(), "http://Example.com:80/a/d/e.html");
/// assert_eq!(link.normalize().to_string(), "http://example.com/a/d/e.html");
/// # Ok::<(), crawler::UrlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Url {
    // These fields are a suggestion: the tests use only the methods. Parsing fills them as written;
    // normalize() returns a Url with each in its normal form.
    scheme: String,
    /// `None` when the URL has no authority (`mailto:x`); `Some("")` for `file:///x`.
    host: Option<String>,
    port: Option<u16>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

impl Url {
    /// Parses an absolute URL.
    ///
    /// # Errors
    ///
    /// [`UrlError::NoScheme`] for a relative reference, [`UrlError::BadPort`] and
    /// [`UrlError::UserInfo`] for an authority this type cannot hold.
    pub fn parse(input: &str) -> Result<Url, UrlError> {
        todo!(
            "stage 2: split the input into scheme, authority, path, query and fragment (RFC 3986 appendix B)"
        )
    }

    /// Resolves `reference` (a link as written on this page: absolute, `//host/x`, `/x`, `x`,
    /// `../x`, `?q`, `#f` or empty) against this URL, by the strict algorithm of RFC 3986 section
    /// 5.2.2. The result is not normalised, except that dot segments are removed as 5.2 says.
    ///
    /// # Errors
    ///
    /// When `reference` has an invalid port or a user name.
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        todo!("stage 2: resolve `reference` against this URL by RFC 3986 section 5.2.2")
    }

    /// The normal form: scheme and host in lowercase, the default port dropped, dot segments
    /// removed, an empty path (with a host) made `/`, the hex digits of percent-escapes in
    /// uppercase, no fragment. Two URLs for the same page have the same normal form; normalising
    /// twice changes nothing.
    pub fn normalize(&self) -> Url {
        todo!(
            "stage 2: lowercase scheme and host, drop the default port and the fragment, remove dot segments, uppercase escapes"
        )
    }

    /// The scheme as written (`http`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host as written, `None` when the URL has no authority. IPv6 hosts keep their brackets.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The port, if the URL gives one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port to connect to: the URL's, or the scheme's default (80 for http, 443 for https).
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or_else(|| default_port(&self.scheme.to_ascii_lowercase()))
    }

    /// The path, possibly empty.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query, without its `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The fragment, without its `#`.
    pub fn fragment(&self) -> Option<&str> {
        self.fragment.as_deref()
    }

    /// What goes in a request line: the path (`/` when empty) and the query, never the fragment.
    pub fn request_target(&self) -> String {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        match &self.query {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        }
    }

    /// `host` or `host:port` as a `Host` header gives it: the port only when it is not the default.
    pub fn authority(&self) -> String {
        let host = self.host.as_deref().unwrap_or("");
        match self.port.filter(|&p| Some(p) != default_port(&self.scheme.to_ascii_lowercase())) {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }
}

impl fmt::Display for Url {
    /// RFC 3986 5.3: the parts put back together.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if let Some(host) = &self.host {
            write!(f, "//{host}")?;
            if let Some(port) = self.port {
                write!(f, ":{port}")?;
            }
        }
        f.write_str(&self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        if let Some(fragment) = &self.fragment {
            write!(f, "#{fragment}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Url {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Url, UrlError> {
        Url::parse(s)
    }
}

/// The default port of a (lowercase) scheme.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// RFC 3986 5.2.4: removes `.` and `..` segments from a path.
pub fn remove_dot_segments(path: &str) -> String {
    todo!(
        "stage 2: RFC 3986 section 5.2.4: move the path over segment by segment, dropping `.` and undoing a segment at `..`"
    )
}
