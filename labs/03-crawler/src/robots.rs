//! `robots.txt`: which paths of a host a crawler may fetch, and how slowly (RFC 9309, with the
//! `Crawl-delay` extension and the error handling Google documents).

use std::time::Duration;

/// The rules of one host's `robots.txt` for one crawler.
///
/// # Examples
///
/// ```
/// use crawler::Robots;
/// let robots = Robots::parse("User-agent: *\nDisallow: /private\nAllow: /private/ok$\n", "crawler-lab");
/// assert!(robots.is_allowed("/public"));
/// assert!(!robots.is_allowed("/private/x"));
/// assert!(robots.is_allowed("/private/ok"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Robots {
    /// `(allow, pattern)`; an empty list allows everything.
    rules: Vec<(bool, String)>,
    crawl_delay: Option<Duration>,
}

impl Robots {
    /// Rules that allow everything: what a `robots.txt` that is missing (`4xx`) means.
    pub fn allow_all() -> Robots {
        Robots { rules: Vec::new(), crawl_delay: None }
    }

    /// Rules that allow nothing: what a `robots.txt` that fails (`5xx`, unreachable) means.
    pub fn disallow_all() -> Robots {
        Robots { rules: vec![(false, "/".to_owned())], crawl_delay: None }
    }

    /// Parses `text` and keeps the rules of the group that applies to `user_agent`.
    ///
    /// A group is one or more `User-agent:` lines followed by rules. The group that applies is the
    /// one whose user-agent value is the longest that matches the product token of `user_agent`
    /// (its part before the first `/` or space), compared case-insensitively as a prefix; `*`
    /// matches any crawler but is the least specific. Several groups with the winning value are
    /// merged. Field names are case-insensitive, `#` starts a comment, unknown lines are ignored.
    /// `Crawl-delay: SECONDS` (fractions allowed) in the group is kept.
    pub fn parse(text: &str, user_agent: &str) -> Robots {
        todo!("stage 3: read the groups, keep the most specific one for the crawler's product token")
    }

    /// Whether `target` (a path with its query, as in a request line) may be fetched: the rule
    /// with the longest pattern that matches decides, `Allow` winning a tie; no matching rule
    /// allows. In a pattern `*` matches any run of characters and a final `$` anchors it at the
    /// end; otherwise a pattern matches any target that starts with it. `/robots.txt` itself is
    /// always allowed.
    pub fn is_allowed(&self, target: &str) -> bool {
        todo!("stage 3: the longest matching pattern decides, Allow wins a tie")
    }

    /// The group's `Crawl-delay`, if it gave one.
    pub fn crawl_delay(&self) -> Option<Duration> {
        self.crawl_delay
    }
}
