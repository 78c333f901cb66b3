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
        let token = user_agent.split(['/', ' ']).next().unwrap_or_default().to_ascii_lowercase();
        // The winning group's user-agent value and its lines so far.
        let mut best: Option<(usize, Robots)> = None;
        let mut agents: Vec<String> = Vec::new();
        let mut in_rules = false;
        let mut current = Robots::allow_all();
        let finish = |agents: &[String], group: Robots, best: &mut Option<(usize, Robots)>| {
            let specificity = agents
                .iter()
                .filter_map(|agent| match agent.as_str() {
                    "*" => Some(0),
                    agent if !agent.is_empty() && token.starts_with(agent) => Some(agent.len()),
                    _ => None,
                })
                .max();
            let Some(specificity) = specificity else { return };
            match best {
                Some((length, merged)) if *length == specificity => {
                    merged.rules.extend(group.rules);
                    merged.crawl_delay = merged.crawl_delay.or(group.crawl_delay);
                }
                Some((length, _)) if *length > specificity => {}
                _ => *best = Some((specificity, group)),
            }
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((field, value)) = line.split_once(':') else { continue };
            let (field, value) = (field.trim().to_ascii_lowercase(), value.trim());
            match field.as_str() {
                "user-agent" => {
                    if in_rules {
                        finish(&agents, std::mem::replace(&mut current, Robots::allow_all()), &mut best);
                        agents.clear();
                        in_rules = false;
                    }
                    agents.push(value.to_ascii_lowercase());
                }
                "allow" | "disallow" if !agents.is_empty() => {
                    in_rules = true;
                    if !value.is_empty() {
                        current.rules.push((field == "allow", value.to_owned()));
                    }
                }
                "crawl-delay" if !agents.is_empty() => {
                    in_rules = true;
                    let seconds = value.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
                    current.crawl_delay = seconds.map(Duration::from_secs_f64).or(current.crawl_delay);
                }
                _ => {}
            }
        }
        finish(&agents, current, &mut best);
        best.map_or_else(Robots::allow_all, |(_, robots)| robots)
    }

    /// Whether `target` (a path with its query, as in a request line) may be fetched: the rule
    /// with the longest pattern that matches decides, `Allow` winning a tie; no matching rule
    /// allows. In a pattern `*` matches any run of characters and a final `$` anchors it at the
    /// end; otherwise a pattern matches any target that starts with it. `/robots.txt` itself is
    /// always allowed.
    pub fn is_allowed(&self, target: &str) -> bool {
        // ANCHOR: is_allowed
        if target == "/robots.txt" {
            return true;
        }
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if !pattern_matches(pattern, target) {
                continue;
            }
            let length = pattern.len();
            match best {
                Some((l, a)) if l > length || (l == length && (a || !allow)) => {}
                _ => best = Some((length, *allow)),
            }
        }
        best.is_none_or(|(_, allow)| allow)
        // ANCHOR_END: is_allowed
    }

    /// The group's `Crawl-delay`, if it gave one.
    pub fn crawl_delay(&self) -> Option<Duration> {
        self.crawl_delay
    }
}

/// Whether `pattern` (with `*` wildcards and an optional final `$`) matches the start of `target`
/// (all of it, with `$`).
fn pattern_matches(pattern: &str, target: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = target.strip_prefix(first) else { return false };
    let pieces: Vec<&str> = pieces.collect();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        if last && anchored {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    !anchored || rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_anchors() {
        assert!(pattern_matches("/*.php$", "/a/b.php"));
        assert!(!pattern_matches("/*.php$", "/a/b.php?x"));
        assert!(pattern_matches("/a*b*c", "/a-x-b-y-c-z"));
        assert!(pattern_matches("/", "/anything"));
        assert!(!pattern_matches("/x$", "/xy"));
    }
}
