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
        match self {
            OnFailure::Stop => "stop",
            OnFailure::RollBackAll => "rollback_all",
        }
    }

    /// The one named `name`.
    pub fn parse(name: &str) -> Option<OnFailure> {
        match name {
            "stop" => Some(OnFailure::Stop),
            "rollback_all" => Some(OnFailure::RollBackAll),
            _ => None,
        }
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
        serde_json::json!({
            "canary": self.canary,
            "batch": self.batch.to_string(),
            "failure_budget": self.failure_budget.to_string(),
            "bake_ms": u64::try_from(self.bake.as_millis()).unwrap_or(u64::MAX),
            "on_failure": self.on_failure.as_str(),
            "health": self.health.as_ref().map(|rule| serde_json::json!({ "metric": rule.metric, "max": rule.max })),
        })
        .to_string()
    }

    /// The strategy [`Strategy::to_json`] wrote, if `text` is one.
    pub fn from_json(text: &str) -> Option<Strategy> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        Some(Strategy {
            canary: usize::try_from(value["canary"].as_u64()?).ok()?,
            batch: value["batch"].as_str()?.parse().ok()?,
            failure_budget: value["failure_budget"].as_str()?.parse().ok()?,
            bake: Duration::from_millis(value["bake_ms"].as_u64()?),
            on_failure: OnFailure::parse(value["on_failure"].as_str()?)?,
            health: match &value["health"] {
                serde_json::Value::Null => None,
                rule => Some(HealthRule {
                    metric: rule["metric"].as_str()?.to_string(),
                    max: rule["max"].as_f64()?,
                }),
            },
        })
    }
}

/// The batches `hosts` are rolled out in, in order: the first `canary` of them (in the order
/// given) alone, then the rest in batches of `batch` of all the hosts (at least one; a share
/// rounds up); every host once, none left out.
pub fn plan_batches(hosts: &[String], canary: usize, batch: Portion) -> Vec<Vec<String>> {
    let canary = canary.min(hosts.len());
    let size = batch.of(hosts.len()).max(1);
    let mut batches = Vec::new();
    if canary > 0 {
        batches.push(hosts[..canary].to_vec());
    }
    batches.extend(hosts[canary..].chunks(size).map(<[String]>::to_vec));
    batches
}
