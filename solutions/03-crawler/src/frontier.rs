//! The frontier: the URLs found but not yet fetched, shallowest first, each URL once.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::url::Url;

/// URLs waiting to be fetched, by depth (breadth-first), with the set of every URL ever offered so
/// that none is fetched twice. URLs are compared as given: offer normalised ones.
#[derive(Debug, Default)]
pub struct Frontier {
    /// Depth to the URLs waiting at that depth. A URL whose depth was lowered after it was queued
    /// is still in its old queue; [`Frontier::pop`] skips such stale entries.
    queues: BTreeMap<usize, VecDeque<Url>>,
    seen: HashMap<Url, Seen>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Queued(usize),
    Taken,
}

impl Frontier {
    /// An empty frontier.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Offers `url`, found at `depth`. Returns whether it was queued: a URL already taken is not,
    /// and a URL already waiting is moved to `depth` if that is shallower.
    pub fn offer(&mut self, url: Url, depth: usize) -> bool {
        match self.seen.get(&url) {
            Some(Seen::Taken) => return false,
            Some(&Seen::Queued(queued)) if queued <= depth => return false,
            _ => {}
        }
        self.seen.insert(url.clone(), Seen::Queued(depth));
        self.queues.entry(depth).or_default().push_back(url);
        true
    }

    /// The depth of the next URL [`Frontier::pop`] would give.
    pub fn next_depth(&mut self) -> Option<usize> {
        self.drop_stale();
        self.queues.keys().next().copied()
    }

    /// Takes the next URL, among the shallowest, in the order they were offered.
    pub fn pop(&mut self) -> Option<(Url, usize)> {
        self.drop_stale();
        let mut entry = self.queues.first_entry()?;
        let depth = *entry.key();
        let url = entry.get_mut().pop_front()?;
        if entry.get().is_empty() {
            entry.remove();
        }
        self.seen.insert(url.clone(), Seen::Taken);
        Some((url, depth))
    }

    /// Records `url` as fetched without it having been queued (the target of a redirect).
    pub fn mark_taken(&mut self, url: Url) {
        self.seen.insert(url, Seen::Taken);
    }

    /// Removes queue heads that were moved to a shallower depth or taken already.
    fn drop_stale(&mut self) {
        while let Some(mut entry) = self.queues.first_entry() {
            let depth = *entry.key();
            let queue = entry.get_mut();
            while let Some(url) = queue.front() {
                if self.seen.get(url) == Some(&Seen::Queued(depth)) {
                    return;
                }
                queue.pop_front();
            }
            entry.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(path: &str) -> Url {
        Url::parse(&format!("http://h.test{path}")).unwrap()
    }

    #[test]
    fn hands_out_the_shallowest_first_and_each_url_once() {
        let mut frontier = Frontier::new();
        assert!(frontier.offer(url("/deep"), 3));
        assert!(frontier.offer(url("/a"), 1));
        assert!(!frontier.offer(url("/a"), 2), "already waiting at a smaller depth");
        assert!(frontier.offer(url("/deep"), 2), "moved up a level");
        assert_eq!(frontier.next_depth(), Some(1));
        assert_eq!(frontier.pop(), Some((url("/a"), 1)));
        assert_eq!(frontier.pop(), Some((url("/deep"), 2)));
        assert_eq!(frontier.pop(), None, "the stale entry at depth 3 is skipped");
        assert!(!frontier.offer(url("/a"), 0), "taken URLs are never queued again");
        frontier.mark_taken(url("/redirected"));
        assert!(!frontier.offer(url("/redirected"), 1));
    }
}
