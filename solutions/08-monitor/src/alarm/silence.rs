//! What keeps an alert from anyone's phone on purpose: a **silence** (alerts that match its
//! selectors, for a while: "I know, I am on it") and a **maintenance window** (every alert of some
//! hosts, for a while: "we are rebooting the rack").

use serde::{Deserialize, Serialize};

use crate::judge::{Alert, Selector};
use crate::point::Millis;

/// Alerts matching every selector, from `starts` until `ends`, are not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    /// Its number.
    pub id: u64,
    /// What an alert must have: `host`, `metric` and `rule` (the rule's number) name those; any
    /// other name is a tag of the series.
    pub selectors: Vec<Selector>,
    /// When it begins, in milliseconds since the epoch.
    pub starts: Millis,
    /// When it ends (not included).
    pub ends: Millis,
    /// Who made it, and why.
    pub comment: String,
}

impl Silence {
    /// Whether it is in force at `now`.
    pub fn is_active(&self, now: Millis) -> bool {
        self.starts <= now && now < self.ends
    }

    /// Whether it covers `alert` (at any time).
    pub fn covers(&self, alert: &Alert) -> bool {
        self.selectors.iter().all(|selector| {
            let actual = match selector.name.as_str() {
                "host" => Some(alert.series.host.clone()),
                "metric" => Some(alert.series.metric.clone()),
                "rule" => Some(alert.rule.to_string()),
                tag => alert.series.tags.get(tag).cloned(),
            };
            (actual.as_deref() == Some(selector.value.as_str())) == selector.equal
        })
    }
}

/// Every alert of the hosts named, from `starts` until `ends`, is not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    /// Its number.
    pub id: u64,
    /// The hosts: names, or patterns where `*` stands for any run of characters (`web-*`).
    pub hosts: Vec<String>,
    /// When it begins, in milliseconds since the epoch.
    pub starts: Millis,
    /// When it ends (not included).
    pub ends: Millis,
    /// Why.
    pub comment: String,
}

impl Maintenance {
    /// Whether `host` is under maintenance at `now`.
    pub fn covers(&self, host: &str, now: Millis) -> bool {
        self.starts <= now && now < self.ends && self.hosts.iter().any(|pattern| glob_matches(pattern, host))
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}
