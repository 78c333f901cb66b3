//! URLs as RFC 3986 defines them: parsing ([`Url::parse`]), resolving a link against the page it is
//! on ([`Url::join`], section 5.2) and normalising, so that two spellings of one page compare equal
//! ([`Url::normalize`], section 6).
//!
//! The type keeps what a crawler needs: scheme, host, port, path, query and fragment. It accepts any
//! scheme (a link may be `mailto:`), but only `http` URLs can be fetched.

use std::fmt;

use crate::error::UrlError;

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
    scheme: String,
    /// `None` when the URL has no authority (`mailto:x`); `Some("")` for `file:///x`.
    host: Option<String>,
    port: Option<u16>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

/// A reference split into its five parts (RFC 3986 appendix B), before any validation.
struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

impl Url {
    /// Parses an absolute URL.
    ///
    /// # Errors
    ///
    /// [`UrlError::NoScheme`] for a relative reference, [`UrlError::BadPort`] and
    /// [`UrlError::UserInfo`] for an authority this type cannot hold.
    pub fn parse(input: &str) -> Result<Url, UrlError> {
        let text = clean(input);
        let parts = split(&text);
        let Some(scheme) = parts.scheme else {
            return Err(UrlError::NoScheme { input: input.to_owned() });
        };
        let (host, port) = match parts.authority {
            Some(authority) => {
                let (host, port) = parse_authority(authority, input)?;
                (Some(host), port)
            }
            None => (None, None),
        };
        Ok(Url {
            scheme: scheme.to_owned(),
            host,
            port,
            path: parts.path.to_owned(),
            query: parts.query.map(str::to_owned),
            fragment: parts.fragment.map(str::to_owned),
        })
    }

    /// Resolves `reference` (a link as written on this page: absolute, `//host/x`, `/x`, `x`,
    /// `../x`, `?q`, `#f` or empty) against this URL, by the strict algorithm of RFC 3986 section
    /// 5.2.2. The result is not normalised, except that dot segments are removed as 5.2 says.
    ///
    /// # Errors
    ///
    /// When `reference` has an invalid port or a user name.
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        // ANCHOR: join
        let text = clean(reference);
        let r = split(&text);
        let authority = match r.authority {
            Some(authority) => Some(parse_authority(authority, reference)?),
            None => None,
        };
        let owned = |s: Option<&str>| s.map(str::to_owned);
        if let Some(scheme) = r.scheme {
            let (host, port) = authority.map_or((None, None), |(h, p)| (Some(h), p));
            return Ok(Url {
                scheme: scheme.to_owned(),
                host,
                port,
                path: remove_dot_segments(r.path),
                query: owned(r.query),
                fragment: owned(r.fragment),
            });
        }
        let fragment = owned(r.fragment);
        let scheme = self.scheme.clone();
        if let Some((host, port)) = authority {
            let path = remove_dot_segments(r.path);
            return Ok(Url { scheme, host: Some(host), port, path, query: owned(r.query), fragment });
        }
        let (path, query) = if r.path.is_empty() {
            (self.path.clone(), owned(r.query).or_else(|| self.query.clone()))
        } else if r.path.starts_with('/') {
            (remove_dot_segments(r.path), owned(r.query))
        } else {
            (remove_dot_segments(&self.merge(r.path)), owned(r.query))
        };
        Ok(Url { scheme, host: self.host.clone(), port: self.port, path, query, fragment })
        // ANCHOR_END: join
    }

    /// The normal form: scheme and host in lowercase, the default port dropped, dot segments
    /// removed, an empty path (with a host) made `/`, the hex digits of percent-escapes in
    /// uppercase, no fragment. Two URLs for the same page have the same normal form; normalising
    /// twice changes nothing.
    pub fn normalize(&self) -> Url {
        // ANCHOR: normalize
        let scheme = self.scheme.to_ascii_lowercase();
        let port = self.port.filter(|&port| Some(port) != default_port(&scheme));
        let host = self.host.as_ref().map(|host| upper_escapes(&host.to_ascii_lowercase()));
        let mut path = upper_escapes(&remove_dot_segments(&self.path));
        if host.is_some() && path.is_empty() {
            path.push('/');
        }
        let query = self.query.as_deref().map(upper_escapes);
        Url { scheme, host, port, path, query, fragment: None }
        // ANCHOR_END: normalize
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

    /// RFC 3986 5.2.3: the base path up to its last `/`, then `reference`.
    fn merge(&self, reference: &str) -> String {
        if self.host.is_some() && self.path.is_empty() {
            return format!("/{reference}");
        }
        match self.path.rfind('/') {
            Some(slash) => format!("{}{reference}", &self.path[..=slash]),
            None => reference.to_owned(),
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
    // ANCHOR: remove_dot_segments
    let mut input = path;
    let mut out = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../").or_else(|| input.strip_prefix("./")) {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") {
            input = &input[3..];
            pop_segment(&mut out);
        } else if input == "/.." {
            input = "/";
            pop_segment(&mut out);
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    out
    // ANCHOR_END: remove_dot_segments
}

/// Removes the last segment and its `/` from the output buffer of [`remove_dot_segments`].
fn pop_segment(out: &mut String) {
    match out.rfind('/') {
        Some(slash) => out.truncate(slash),
        None => out.clear(),
    }
}

/// Trims surrounding whitespace and controls, drops tabs and newlines, and percent-encodes what
/// may not appear in a URL (what a browser does to an `href` before parsing it).
fn clean(input: &str) -> String {
    let trimmed = input.trim_matches(|c: char| c <= ' ');
    let bytes = trimmed.as_bytes();
    let mut out = String::with_capacity(trimmed.len());
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\t' | b'\n' | b'\r' => {}
            b'%' if bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                out.push('%')
            }
            b'%' | 0..=0x20 | b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' | 0x7f.. => {
                out.push_str(&format!("%{b:02X}"))
            }
            _ => out.push(char::from(b)),
        }
    }
    out
}

/// Splits a reference into scheme, authority, path, query and fragment (RFC 3986 appendix B).
fn split(text: &str) -> Parts<'_> {
    let (rest, fragment) = match text.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (text, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.find([':', '/']) {
        Some(colon) if rest.as_bytes()[colon] == b':' && is_scheme(&rest[..colon]) => {
            (Some(&rest[..colon]), &rest[colon + 1..])
        }
        _ => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            (Some(&after[..end]), &after[end..])
        }
        None => (None, rest),
    };
    Parts { scheme, authority, path, query, fragment }
}

/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
fn is_scheme(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Splits `host[:port]`, rejecting user info and bad ports.
fn parse_authority(authority: &str, input: &str) -> Result<(String, Option<u16>), UrlError> {
    if authority.contains('@') {
        return Err(UrlError::UserInfo { input: input.to_owned() });
    }
    // An IPv6 literal has colons of its own: the port's colon comes after the `]`.
    let port_colon = match authority.rfind(']') {
        Some(bracket) => authority[bracket..].find(':').map(|i| i + bracket),
        None => authority.rfind(':'),
    };
    let Some(colon) = port_colon else {
        return Ok((authority.to_owned(), None));
    };
    let (host, port) = (&authority[..colon], &authority[colon + 1..]);
    if port.is_empty() {
        return Ok((host.to_owned(), None));
    }
    match port.parse::<u16>() {
        Ok(number) if port.bytes().all(|b| b.is_ascii_digit()) => Ok((host.to_owned(), Some(number))),
        _ => Err(UrlError::BadPort { input: input.to_owned(), port: port.to_owned() }),
    }
}

/// Uppercases the two hex digits of every `%XX` escape.
fn upper_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() && is_hex_pair(&bytes[i + 1..i + 3]) {
            out.push('%');
            out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
            out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            i += 3;
        } else {
            // Escapes are ASCII, so slicing at the next byte keeps multi-byte characters whole.
            let next = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[i..i + next]);
            i += next;
        }
    }
    out
}

fn is_hex_pair(pair: &[u8]) -> bool {
    pair.iter().all(u8::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_dot_segments_as_the_rfc_examples_do() {
        assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
        assert_eq!(remove_dot_segments("mid/content=5/../6"), "mid/6");
    }

    #[test]
    fn uppercases_escapes_only() {
        assert_eq!(upper_escapes("/a%2fb%zz%e2"), "/a%2Fb%zz%E2");
    }
}
