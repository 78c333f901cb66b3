//! Alert rules and silences, as the platform changes them. Only a user whose role manages the
//! platform may change them; every change is audited, and so is every refusal. A rule is checked
//! by lab 08's own parser before anything is written, recorded in SQL, and then given to the judge
//! through lab 08's console: the records are the truth, and [`Platform::push_rules`] makes the
//! judge's rules theirs again at every start. Silences are the alarm's own state, kept by the
//! console.

use monitor::judge::RuleSpec;
use monitor::judge::spec::LOWEST_PRIORITY;
use monitor::web::{self, Console, SilenceRecord};

use crate::platform::{Platform, Refusal};
use crate::records::{Millis, RuleRecord};

impl Platform {
    /// Lab 08's console, or [`Refusal::NoMonitoring`] when this platform runs no pipeline.
    ///
    /// # Errors
    ///
    /// [`Refusal::NoMonitoring`].
    pub fn console(&self) -> Result<&Console, Refusal> {
        todo!("stage 2: the monitoring console, or NoMonitoring")
    }

    /// Adds `rule`, or replaces the rule with its id, for `user`, who must manage the platform:
    /// checked, recorded, then given to the judge. Returns the rule as the judge reads it.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`] for a user who does not manage the platform, [`Refusal::Invalid`]
    /// naming the field (`id`, `expr`, `priority`, `note`), [`Refusal::NoMonitoring`].
    pub async fn put_rule(&self, user: &str, rule: &RuleRecord, now: Millis) -> Result<RuleSpec, Refusal> {
        todo!(
            "stage 2: admins only; check the rule with rule_spec before anything is written; record it; give it to the console (replacing one of its id); audit"
        )
    }

    /// Deletes the rule numbered `id`, for `user`, who must manage the platform: from the records,
    /// then from the judge, whose alerts of it leave the board.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`] for no such rule, [`Refusal::NoMonitoring`].
    pub async fn delete_rule(&self, user: &str, id: i64, now: Millis) -> Result<(), Refusal> {
        todo!("stage 2: admins only; delete it from the records, then from the console if it has it; audit")
    }

    /// Makes the judge's rules the records' (those the records have, no others): at a start, and
    /// whenever the two may differ. Returns how many rules the judge has then. A recorded rule
    /// that does not parse (written by hand into the database) is logged and left out.
    ///
    /// # Errors
    ///
    /// [`Refusal::NoMonitoring`], or the records' or the console's failure.
    pub async fn push_rules(&self) -> Result<usize, Refusal> {
        todo!(
            "stage 2: the console's rules become the records' (parsed with rule_spec): delete those the records lack, put the rest"
        )
    }

    /// Adds a silence (its id is given by the console), for `user`, who must manage the
    /// platform.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::Invalid`] for matchers that do not parse (`matchers`) or
    /// an end not after the start (`ends`), [`Refusal::NoMonitoring`].
    pub async fn add_silence(
        &self,
        user: &str,
        silence: SilenceRecord,
        now: Millis,
    ) -> Result<SilenceRecord, Refusal> {
        todo!("stage 2: admins only; the console numbers and checks it; audit")
    }

    /// Deletes the silence numbered `id`, for `user`, who must manage the platform.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`], [`Refusal::NoMonitoring`].
    pub async fn delete_silence(&self, user: &str, id: u64, now: Millis) -> Result<(), Refusal> {
        todo!("stage 2: admins only; delete it from the console; audit")
    }
}

/// `rule` as lab 08's judges take it, checked by lab 08's parser.
///
/// # Errors
///
/// [`Refusal::Invalid`] naming the field: `id` (negative), `priority` (not 0 to 5), `expr` (does
/// not parse), `note`.
pub fn rule_spec(rule: &RuleRecord) -> Result<RuleSpec, Refusal> {
    todo!(
        "stage 2: id not negative, priority 0 to LOWEST_PRIORITY, then lab 08's RuleSpec::to_rule, each refusal naming its field"
    )
}
