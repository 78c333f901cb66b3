//! The errors of the crawler, each naming the input it is about: [`UrlError`] for text that is not a
//! URL we can use, [`HttpError`] for one exchange with a server, [`Error`] for a whole run.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why a string is not a usable URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// No `scheme:` at the start: a relative reference cannot stand alone (join it to a base).
    #[error("{input:?} is not an absolute URL: it has no scheme (like http:)")]
    NoScheme {
        /// The text as given.
        input: String,
    },
    /// The port is not a number from 0 to 65535.
    #[error("{input:?} has an invalid port {port:?}")]
    BadPort {
        /// The text as given.
        input: String,
        /// The port as written.
        port: String,
    },
    /// User names and passwords in URLs (`http://user:pass@host/`) are not supported.
    #[error("{input:?} has a user name or password, which this crawler does not support")]
    UserInfo {
        /// The text as given.
        input: String,
    },
    /// An `http:` URL without a host (`http:g`, `http:///x`): there is nothing to connect to.
    #[error("{input:?} has no host")]
    NoHost {
        /// The URL.
        input: String,
    },
}

/// What went wrong in one HTTP exchange. The messages name the URL or the bytes at fault.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL's scheme is not `http`. In particular `https` needs TLS, which this lab leaves out.
    #[error("{url}: only http:// URLs are supported (https needs TLS, which this client does not speak)")]
    UnsupportedScheme {
        /// The URL.
        url: String,
    },
    /// The URL cannot be requested (no host).
    #[error(transparent)]
    BadUrl(#[from] UrlError),
    /// The TCP connection could not be made.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The TCP connection was not made in time.
    #[error("cannot connect to {addr}: timed out after {after:?}")]
    ConnectTimeout {
        /// `host:port`.
        addr: String,
        /// The connect timeout.
        after: Duration,
    },
    /// The response head (status line and headers) was not complete in time.
    #[error("{url}: no complete response head after {after:?}")]
    HeaderTimeout {
        /// The URL requested.
        url: String,
        /// The header timeout.
        after: Duration,
    },
    /// The body was not complete in time.
    #[error("{url}: body not complete after {after:?}")]
    BodyTimeout {
        /// The URL requested.
        url: String,
        /// The body timeout.
        after: Duration,
    },
    /// Reading or writing the connection failed (a reset, for example).
    #[error("{url}: {source}")]
    Io {
        /// The URL requested.
        url: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The server closed the connection before a complete response head.
    #[error("{url}: connection closed before a complete response head")]
    Closed {
        /// The URL requested.
        url: String,
    },
    /// The connection ended in the middle of a body whose end is known (a length or chunked).
    #[error("{url}: connection closed in the middle of the body")]
    Truncated {
        /// The URL requested.
        url: String,
    },
    /// The status line is not `HTTP/1.x NNN reason`.
    #[error("invalid status line {line:?}")]
    BadStatusLine {
        /// The line, lossily decoded.
        line: String,
    },
    /// A header line is not `name: value`.
    #[error("invalid header line {line:?}")]
    BadHeader {
        /// The line, lossily decoded.
        line: String,
    },
    /// The head is larger than [`crate::http::MAX_HEAD_BYTES`].
    #[error("response head larger than {limit} bytes")]
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// `Content-Length` is not a number, or two of them disagree.
    #[error("invalid Content-Length {value:?}")]
    BadContentLength {
        /// The value(s) as sent.
        value: String,
    },
    /// The chunked framing is broken.
    #[error("invalid chunked body: {reason}")]
    BadChunk {
        /// What was wrong.
        reason: String,
    },
    /// The body is larger than the configured cap. The response is an error, not truncated.
    #[error("{url}: body larger than the {limit}-byte limit")]
    BodyTooLarge {
        /// The URL requested.
        url: String,
        /// The cap.
        limit: u64,
    },
    /// More redirects than allowed.
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects {
        /// The URL first requested.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// A redirect leads back to a URL already visited in this chain.
    #[error("{url}: redirect loop back to {again}")]
    RedirectLoop {
        /// The URL first requested.
        url: String,
        /// The URL seen twice.
        again: String,
    },
    /// A redirect without a usable `Location`.
    #[error("{url}: redirect {status} with a missing or invalid Location {location:?}")]
    BadLocation {
        /// The URL that answered the redirect.
        url: String,
        /// The redirect status.
        status: u16,
        /// The `Location` header as sent (empty when missing).
        location: String,
    },
}

impl HttpError {
    /// Whether trying again later might work: a reset or a closed connection, a timeout. Errors in
    /// what the server sent (a bad head, too many redirects) will be the same next time.
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Io { source, .. } | HttpError::Connect { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionRefused
            ),
            HttpError::Closed { .. }
            | HttpError::Truncated { .. }
            | HttpError::ConnectTimeout { .. }
            | HttpError::HeaderTimeout { .. }
            | HttpError::BodyTimeout { .. } => true,
            _ => false,
        }
    }
}

/// What can stop a whole run of `crawler` (a page that fails is a result, not an `Error`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The start URL is not an absolute `http://` URL. A usage error: exit 2.
    #[error("invalid start URL {input:?}: {reason}")]
    BadStartUrl {
        /// The text as given.
        input: String,
        /// Why.
        reason: String,
    },
    /// An option is out of range (a concurrency of 0). A usage error: exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
    /// The start page could not be fetched at all (an unreachable host, for instance).
    #[error("cannot fetch {url}: {reason}")]
    Start {
        /// The start URL.
        url: String,
        /// Why, as in the page's `error` field.
        reason: String,
    },
    /// A file (the output) could not be created or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A call other than on a named file failed (starting the async runtime).
    #[error("{call}: {source}")]
    Sys {
        /// The call, as `start the tokio runtime`.
        call: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The results could not be written (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
}

impl Error {
    /// An [`Error::File`] for `path`, for `map_err`: `.map_err(Error::file(&path))?`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }

    /// An [`Error::Sys`] for the call `call`, for `map_err`: `.map_err(Error::sys("bind"))?`.
    pub fn sys(call: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let call = call.into();
        move |source| Error::Sys { call, source }
    }

    /// The exit code for this error: 2 for usage errors, 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::BadStartUrl { .. } | Error::BadOption(_) => 2,
            _ => 1,
        }
    }

    /// Whether this is a write to a pipe whose reader has gone (`crawler … | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}
