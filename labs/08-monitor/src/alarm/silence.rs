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
        todo!("stage 7: from starts (included) until ends (not)")
    }

    /// Whether it covers `alert` (at any time).
    pub fn covers(&self, alert: &Alert) -> bool {
        todo!(
            "stage 7: every selector holds: host, metric and rule name those, any other name a tag (None when missing); equal or not as `equal` says"
        )
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
        todo!("stage 7: in force at now, and one of the hosts' patterns glob_matches the host")
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    todo!(
        "stage 7: split the pattern at each *: the text starts with the first part, ends with the last, and holds the middle ones in order between; no * at all: the text is the pattern"
    )
}
