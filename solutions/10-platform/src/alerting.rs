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
        self.monitoring.as_deref().ok_or(Refusal::NoMonitoring)
    }

    /// Adds `rule`, or replaces the rule with its id, for `user`, who must manage the platform:
    /// checked, recorded, then given to the judge. Returns the rule as the judge reads it.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`] for a user who does not manage the platform, [`Refusal::Invalid`]
    /// naming the field (`id`, `expr`, `priority`, `note`), [`Refusal::NoMonitoring`].
    pub async fn put_rule(&self, user: &str, rule: &RuleRecord, now: Millis) -> Result<RuleSpec, Refusal> {
        let target = format!("rule {}", rule.id);
        self.require_admin(user, "rule", &target, now).await?;
        let console = self.console()?;
        let spec = rule_spec(rule)?;
        self.records.put_rule(rule).await?;
        let replace = console.rule(spec.id).is_some();
        let spec = console.put_rule(spec, replace).map_err(from_console)?;
        self.audit(now, user, "rule", &target, "allowed", &format!("put {}", rule.expr)).await;
        Ok(spec)
    }

    /// Deletes the rule numbered `id`, for `user`, who must manage the platform: from the records,
    /// then from the judge, whose alerts of it leave the board.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`] for no such rule, [`Refusal::NoMonitoring`].
    pub async fn delete_rule(&self, user: &str, id: i64, now: Millis) -> Result<(), Refusal> {
        let target = format!("rule {id}");
        self.require_admin(user, "rule", &target, now).await?;
        let console = self.console()?;
        self.records.delete_rule(id).await?;
        if let Ok(id) = u64::try_from(id)
            && console.rule(id).is_some()
        {
            console.delete_rule(id).map_err(from_console)?;
        }
        self.audit(now, user, "rule", &target, "allowed", "deleted").await;
        Ok(())
    }

    /// Makes the judge's rules the records' (those the records have, no others): at a start, and
    /// whenever the two may differ. Returns how many rules the judge has then. A recorded rule
    /// that does not parse (written by hand into the database) is logged and left out.
    ///
    /// # Errors
    ///
    /// [`Refusal::NoMonitoring`], or the records' or the console's failure.
    pub async fn push_rules(&self) -> Result<usize, Refusal> {
        let console = self.console()?;
        let mut wanted = Vec::new();
        for rule in self.records.rules().await? {
            match rule_spec(&rule) {
                Ok(spec) => wanted.push(spec),
                Err(refusal) => tracing::warn!(rule = rule.id, %refusal, "a recorded rule does not parse"),
            }
        }
        for old in console.rules() {
            if !wanted.iter().any(|spec| spec.id == old.id) {
                console.delete_rule(old.id).map_err(from_console)?;
            }
        }
        for spec in &wanted {
            if console.rule(spec.id).as_ref() != Some(spec) {
                let replace = console.rule(spec.id).is_some();
                console.put_rule(spec.clone(), replace).map_err(from_console)?;
            }
        }
        Ok(wanted.len())
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
        self.require_admin(user, "silence", &silence.matchers, now).await?;
        let added = self.console()?.add_silence(silence).map_err(from_console)?;
        let detail = format!("silence {} until {}: {}", added.id, added.ends, added.comment);
        self.audit(now, user, "silence", &added.matchers, "allowed", &detail).await;
        Ok(added)
    }

    /// Deletes the silence numbered `id`, for `user`, who must manage the platform.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`], [`Refusal::NoMonitoring`].
    pub async fn delete_silence(&self, user: &str, id: u64, now: Millis) -> Result<(), Refusal> {
        let target = format!("silence {id}");
        self.require_admin(user, "silence", &target, now).await?;
        self.console()?.delete_silence(id).map_err(from_console)?;
        self.audit(now, user, "silence", &target, "allowed", "deleted").await;
        Ok(())
    }
}

/// `rule` as lab 08's judges take it, checked by lab 08's parser.
///
/// # Errors
///
/// [`Refusal::Invalid`] naming the field: `id` (negative), `priority` (not 0 to 5), `expr` (does
/// not parse), `note`.
pub fn rule_spec(rule: &RuleRecord) -> Result<RuleSpec, Refusal> {
    let invalid = |field: &str, reason: String| Refusal::Invalid { field: field.into(), reason };
    let id = u64::try_from(rule.id).map_err(|_| invalid("id", "is negative".into()))?;
    let priority = u8::try_from(rule.priority)
        .ok()
        .filter(|priority| *priority <= LOWEST_PRIORITY)
        .ok_or_else(|| invalid("priority", format!("is not 0 to {LOWEST_PRIORITY}")))?;
    let spec = RuleSpec {
        id,
        expr: rule.expr.clone(),
        priority: Some(priority),
        max_alerts: None,
        min_interval: None,
        note: (!rule.note.is_empty()).then(|| rule.note.clone()),
    };
    let parsed = spec.to_rule().map_err(|err| invalid(err.field, err.message))?;
    Ok(RuleSpec::of(&parsed))
}

/// A refusal of lab 08's console, as the platform's.
fn from_console(refusal: web::Refusal) -> Refusal {
    match refusal {
        web::Refusal::Invalid { field, message } => Refusal::Invalid { field, reason: message },
        web::Refusal::NotFound(what) => Refusal::NotFound(what),
        web::Refusal::Exists(what) => Refusal::Conflict(what),
        web::Refusal::NotSaved(cause) => Refusal::Internal(cause),
    }
}
