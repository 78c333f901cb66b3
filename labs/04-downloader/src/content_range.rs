//! The `Content-Range` header of a `206 Partial Content` answer: which bytes of which length came.

/// A parsed `Content-Range: bytes FIRST-LAST/COMPLETE` (`COMPLETE` may be `*`, unknown).
///
/// # Examples
///
/// ```
/// use downloader::ContentRange;
/// let range = ContentRange::parse("bytes 0-499/1234").unwrap();
/// assert_eq!(range, ContentRange { first: 0, last: 499, complete: Some(1234) });
/// assert_eq!(range.len(), 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// The first byte sent.
    pub first: u64,
    /// The last byte sent, inclusive.
    pub last: u64,
    /// The length of the whole file, `None` when the server wrote `*`.
    pub complete: Option<u64>,
}

impl ContentRange {
    /// Parses the header's value. The unit is `bytes` (in any case); `first <= last`, and when the
    /// complete length is known, `last < complete`. Anything else, including the `bytes */LENGTH`
    /// form of a `416` answer, is `None`: a range the client cannot trust.
    pub fn parse(value: &str) -> Option<ContentRange> {
        todo!("stage 1: parse `bytes FIRST-LAST/COMPLETE` strictly, refusing anything inconsistent")
    }

    /// How many bytes the range holds.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never true: a range holds at least one byte. (Here for clippy's `len_without_is_empty`.)
    pub fn is_empty(&self) -> bool {
        false
    }
}
