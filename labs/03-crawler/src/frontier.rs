//! The frontier: the URLs found but not yet fetched, shallowest first, each URL once.

use crate::url::Url;

/// URLs waiting to be fetched, by depth (breadth-first), with the set of every URL ever offered so
/// that none is fetched twice. URLs are compared as given: offer normalised ones.
#[derive(Debug, Default)]
pub struct Frontier {
    // TODO(stage 3): a queue per depth, and what is known of every URL offered so far.
}

impl Frontier {
    /// An empty frontier.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Offers `url`, found at `depth`. Returns whether it was queued: a URL already taken is not,
    /// and a URL already waiting is moved to `depth` if that is shallower.
    pub fn offer(&mut self, url: Url, depth: usize) -> bool {
        todo!("stage 3: queue `url` at `depth` unless taken or already queued at least as shallow")
    }

    /// The depth of the next URL [`Frontier::pop`] would give.
    pub fn next_depth(&mut self) -> Option<usize> {
        todo!("stage 3: the shallowest depth with a URL still waiting")
    }

    /// Takes the next URL, among the shallowest, in the order they were offered.
    pub fn pop(&mut self) -> Option<(Url, usize)> {
        todo!("stage 3: take the first URL of the shallowest queue")
    }

    /// Records `url` as fetched without it having been queued (the target of a redirect).
    pub fn mark_taken(&mut self, url: Url) {
        todo!("stage 3: remember `url` as fetched")
    }
}
