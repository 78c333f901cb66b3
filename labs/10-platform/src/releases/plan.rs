//! How a release goes out: its strategy ([`Strategy`]: a canary batch first, then batches of a
//! count or a share of the hosts, a failure budget, a bake time, what a failure undoes) and the
//! batches it makes of the hosts ([`plan_batches`]).

use std::time::Duration;

use control::master::Portion;

/// What undoes a failed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// The failed batch's hosts go back to the version they had; the rollout stops there, the
    /// batches before it kept (the default: the rest of the fleet is left as the rollout found it).
    Stop,
    /// Every host the rollout changed goes back: the fleet is as the rollout found it.
    RollBackAll,
}

impl OnFailure {
    /// Its name in the API and the records: `stop` or `rollback_all`.
    pub fn as_str(self) -> &'static str {
        todo!("stage 4: `stop` or `rollback_all`")
    }

    /// The one named `name`.
    pub fn parse(name: &str) -> Option<OnFailure> {
        todo!("stage 4: the OnFailure named `stop` or `rollback_all`")
    }
}

/// What monitoring must say of a batch's hosts over its bake: no point of `metric` (an error rate,
/// a latency) from any of them above `max`. A host that sends none is not held against.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRule {
    /// The metric, as lab 08's agents send it (a series of it per host).
    pub metric: String,
    /// The most it may reach.
    pub max: f64,
}

/// How a release is rolled out.
#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    /// How many hosts the first batch, the canary, holds (0: no canary).
    pub canary: usize,
    /// How many hosts each batch after it holds: a count, or a share of all the hosts.
    pub batch: Portion,
    /// How many hosts may fail in all before the rollout stops: a count, or a share of all the
    /// hosts (0: none may).
    pub failure_budget: Portion,
    /// How long a batch runs on the new version, watched, before the next starts.
    pub bake: Duration,
    /// What a failure undoes.
    pub on_failure: OnFailure,
    /// What monitoring must say of each batch over its bake (`None`: only the hosts' own status
    /// hooks count).
    pub health: Option<HealthRule>,
}

impl Default for Strategy {
    /// A canary of one host, then batches of 25 %, no failure allowed, a minute's bake, and a
    /// failed batch rolled back.
    fn default() -> Strategy {
        Strategy {
            canary: 1,
            batch: Portion::Percent(25),
            failure_budget: Portion::Count(0),
            bake: Duration::from_secs(60),
            on_failure: OnFailure::Stop,
            health: None,
        }
    }
}

impl Strategy {
    /// The strategy as the records keep it: JSON, as
    /// `{"canary":1,"batch":"25%","failure_budget":"0","bake_ms":60000,"on_failure":"stop",
    /// "health":{"metric":"hello.errors","max":0.05}}` (`"health":null` without a rule).
    pub fn to_json(&self) -> String {
        todo!(
            "stage 4: a JSON object of canary, batch and failure_budget (their Display), bake_ms, on_failure, and health (metric and max, or null)"
        )
    }

    /// The strategy [`Strategy::to_json`] wrote, if `text` is one.
    pub fn from_json(text: &str) -> Option<Strategy> {
        todo!("stage 4: what to_json wrote, None for anything else")
    }
}

/// The batches `hosts` are rolled out in, in order: the first `canary` of them (in the order
/// given) alone, then the rest in batches of `batch` of all the hosts (at least one; a share
/// rounds up); every host once, none left out.
pub fn plan_batches(hosts: &[String], canary: usize, batch: Portion) -> Vec<Vec<String>> {
    todo!(
        "stage 4: the first min(canary, len) hosts alone (when any), then chunks of batch.of(len), at least 1"
    )
}
