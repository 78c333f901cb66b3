//! The platform's domain: logging in, what a user may do, running commands and managing users,
//! each decision made here and audited, whatever route asked for it. The HTTP handlers
//! ([`crate::api`]) only take requests apart and call these.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use monitor::web::Console;

use crate::auth::password::{check_new_password, hash_password, verify_nobody, verify_password};
use crate::auth::{Denial, Grant, LoginLimiter, Session, Sessions};
use crate::commands::{Commands, RunRequest, StartError, check_target};
use crate::directory::Directory;
use crate::records::{Millis, NewAudit, RecordError, Records, Role, User, check};
use crate::scripts::Distribution;

/// How long a session lasts from login: a working day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The window over which wrong passwords are counted, and how many it allows per user name and
/// per client address.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);
/// Wrong passwords allowed for one user name within [`LOGIN_WINDOW`].
pub const LOGINS_PER_USER: usize = 5;
/// Wrong passwords allowed from one address within [`LOGIN_WINDOW`].
pub const LOGINS_PER_ADDRESS: usize = 20;

/// The platform: its records, its sessions, and the control master it runs commands on.
#[derive(Debug)]
pub struct Platform {
    /// The records.
    pub records: Records,
    /// The sessions.
    pub sessions: Sessions,
    /// The limit on wrong passwords.
    pub limiter: LoginLimiter,
    /// The control master's side, when the platform has one.
    pub commands: Option<Commands>,
    /// What every request reads, kept for a moment.
    pub directory: Directory,
    /// Lab 08's console (rules, silences, the board of alerts, the points), when the platform
    /// runs the monitoring pipeline.
    pub monitoring: Option<Arc<Console>>,
    /// How monitoring scripts reach the hosts, when the platform sends them.
    pub distribution: Option<Distribution>,
}

/// What an admin changes of a user: each field left `None` stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    /// A new role.
    pub role: Option<String>,
    /// Disabled (logged out everywhere, and no login) or enabled again.
    pub disabled: Option<bool>,
    /// A new password (the user's sessions end).
    pub password: Option<String>,
}

/// Why a request was not done: each becomes an HTTP status in [`crate::api`].
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No session, or one that ended: log in.
    #[error("not logged in")]
    NotLoggedIn,
    /// The user name or the password is wrong (which one is not said).
    #[error("wrong user name or password")]
    WrongPassword,
    /// Too many wrong passwords: try again after this many milliseconds.
    #[error("too many failed logins: try again in {} s", (.0 + 999) / 1000)]
    TooManyLogins(Millis),
    /// The request changes something and did not carry the session's CSRF token.
    #[error("missing or wrong CSRF token")]
    Csrf,
    /// The user's role does not allow it.
    #[error("{0}")]
    Denied(#[from] Denial),
    /// A field of the request is wrong: which, and why.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, as `target`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// What was asked for conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// The platform has no control master to run commands on.
    #[error("this platform runs no commands: it has no control master")]
    NoControl,
    /// The platform runs no monitoring pipeline.
    #[error("this platform has no monitoring: it runs no judge and no store")]
    NoMonitoring,
    /// Something failed inside (the records, the master): logged, and not shown in detail.
    #[error("internal error")]
    Internal(String),
}

impl From<RecordError> for Refusal {
    fn from(err: RecordError) -> Refusal {
        match err {
            RecordError::Invalid { field, reason } => Refusal::Invalid { field, reason },
            RecordError::NotFound { .. } => Refusal::NotFound(err.to_string()),
            RecordError::Conflict { .. } => Refusal::Conflict(err.to_string()),
            other => Refusal::Internal(other.to_string()),
        }
    }
}

/// A field error: `field` of the request, and what is wrong with it.
pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Refusal {
    Refusal::Invalid { field: field.to_string(), reason: reason.into() }
}

impl Platform {
    /// A platform over `records`, running commands through `commands` when given.
    pub fn new(records: Records, commands: Option<Commands>) -> Platform {
        Platform {
            sessions: Sessions::new(records.clone(), millis(SESSION_LIFETIME)),
            limiter: LoginLimiter::new(millis(LOGIN_WINDOW), LOGINS_PER_USER, LOGINS_PER_ADDRESS),
            directory: Directory::new(records.clone(), commands.clone()),
            records,
            commands,
            monitoring: None,
            distribution: None,
        }
    }

    /// This platform, showing and changing the monitoring pipeline behind `console`.
    pub fn with_monitoring(self, console: Arc<Console>) -> Platform {
        Platform { monitoring: Some(console), ..self }
    }

    /// This platform, sending monitoring scripts to its hosts as `distribution` says.
    pub fn with_distribution(self, distribution: Distribution) -> Platform {
        Platform { distribution: Some(distribution), ..self }
    }

    /// Logs `user` in with `password`, from `address`, at `now`: the session's token (for the
    /// cookie) and the session. Every attempt is audited.
    ///
    /// # Errors
    ///
    /// [`Refusal::TooManyLogins`] past the limit (the password is not even checked),
    /// [`Refusal::WrongPassword`] for a wrong or disabled user or a wrong password.
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        address: IpAddr,
        now: Millis,
    ) -> Result<(String, Session), Refusal> {
        // Counted as failed before the password is checked, in the same step as the check: so
        // guesses sent together are limited too. A success is forgiven below.
        if let Err(wait) = self.limiter.attempt(user, address, now) {
            self.audit(now, user, "login", &address.to_string(), "refused", "too many failed logins").await;
            return Err(Refusal::TooManyLogins(wait));
        }
        let record = self.records.user(user).await?;
        let (given, hash) =
            (password.to_string(), record.as_ref().map(|record| record.password_hash.clone()));
        // argon2 takes tens of milliseconds of a core on purpose: not on the runtime's threads.
        let verified = tokio::task::spawn_blocking(move || match hash {
            Some(hash) => verify_password(&given, &hash),
            None => {
                verify_nobody(&given);
                false
            }
        })
        .await
        .map_err(|err| Refusal::Internal(err.to_string()))?;
        if !verified || record.is_none_or(|record| record.disabled) {
            self.audit(now, user, "login", &address.to_string(), "refused", "wrong user name or password")
                .await;
            return Err(Refusal::WrongPassword);
        }
        self.limiter.succeeded(user, address, now);
        let session = self.sessions.begin(user, now).await?;
        self.audit(now, user, "login", &address.to_string(), "allowed", "").await;
        Ok(session)
    }

    /// The session `token` names at `now`, of a user who may still log in.
    ///
    /// # Errors
    ///
    /// [`Refusal::NotLoggedIn`] when there is none, or its user is disabled or gone.
    pub async fn session(&self, token: &str, now: Millis) -> Result<Session, Refusal> {
        let session = self.sessions.find(token, now).await?.ok_or(Refusal::NotLoggedIn)?;
        // A user disabled (or removed) since they logged in is logged out on their next request
        // (or within the directory's second, when another request has just looked).
        if self.directory.is_active(&session.user).await? { Ok(session) } else { Err(Refusal::NotLoggedIn) }
    }

    /// What `user`'s role allows, read now (a role changed a moment ago counts).
    ///
    /// # Errors
    ///
    /// [`Refusal::NotLoggedIn`] for a user who is gone or disabled.
    pub async fn grant(&self, user: &str) -> Result<Grant, Refusal> {
        let record =
            self.records.user(user).await?.filter(|record| !record.disabled).ok_or(Refusal::NotLoggedIn)?;
        let role = self.records.role(&record.role).await?.ok_or(Refusal::NotLoggedIn)?;
        Grant::of(&role)
            .map_err(|(field, reason)| Refusal::Internal(format!("role {:?}: {field}: {reason}", role.name)))
    }

    /// Runs `request` for `user`, if their role allows the program on every host the target
    /// names: the run's id. Allowed or refused, it is audited.
    ///
    /// # Errors
    ///
    /// [`Refusal::Invalid`] for a bad field, [`Refusal::Denied`] when the role does not allow it,
    /// [`Refusal::NoControl`] when there is no control master.
    pub async fn run(&self, user: &str, request: &RunRequest, now: Millis) -> Result<i64, Refusal> {
        let grant = self.grant(user).await?;
        let target = check_target(&request.target).map_err(|reason| invalid("target", reason))?;
        if request.program.is_empty() || !request.program.starts_with('/') {
            return Err(invalid("program", "is not an absolute path"));
        }
        if request.timeout.is_zero() || request.timeout > Duration::from_secs(3600) {
            return Err(invalid("timeout_secs", "is not between 1 s and an hour"));
        }
        let commands = self.commands.as_ref().ok_or(Refusal::NoControl)?;
        // The hosts the target names: those the records know and those connected now. Read fresh,
        // not from the directory's cache (up to a second old): this is an authorisation decision,
        // and a command is rare beside the page views the cache is for.
        let mut hosts: BTreeMap<String, BTreeMap<String, String>> =
            self.records.hosts().await?.into_iter().map(|host| (host.name, host.tags)).collect();
        hosts.extend(commands.connected());
        let named = hosts.iter().filter(|(host, tags)| target.matches(host, tags));
        let detail = format!("{} {}", request.program, request.args.join(" "));
        if let Err(denial) =
            grant.check_run(&request.program, named.map(|(host, tags)| (host.as_str(), tags)))
        {
            self.audit(now, user, "run", &request.target, "refused", &format!("{detail}: {denial}")).await;
            return Err(denial.into());
        }
        // What is signed is the user's target within their role's: each agent checks it again.
        let signed_target = format!("({}) and ({})", request.target, grant.targets());
        match commands.start(user, &signed_target, request, now).await {
            Ok(run) => {
                self.audit(now, user, "run", &request.target, "allowed", &format!("run {run}: {detail}"))
                    .await;
                Ok(run)
            }
            Err(StartError::Refused(refusal)) => {
                self.audit(now, user, "run", &request.target, "failed", &format!("{detail}: {refusal}"))
                    .await;
                Err(invalid("target", refusal.to_string()))
            }
            Err(StartError::Records(err)) => Err(err.into()),
        }
    }

    /// Adds a user with `role` and `password`, for `admin`, who must manage the platform.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`] when `admin`'s role does not manage the platform, [`Refusal::Invalid`]
    /// for a bad name (`name`) or password (`password`), [`Refusal::NotFound`] for a role that
    /// does not exist, [`Refusal::Conflict`] for a name taken.
    pub async fn add_user(
        &self,
        admin: &str,
        name: &str,
        role: &str,
        password: &str,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.require_admin(admin, "user.add", name, now).await?;
        let hash = new_password_hash(name, password).await?;
        let user = User {
            name: name.to_string(),
            role: role.to_string(),
            password_hash: hash,
            created: now,
            disabled: false,
        };
        self.records.add_user(&user).await.map_err(|err| match err {
            RecordError::Invalid { field, reason } => invalid(field.trim_start_matches("user."), reason),
            other => other.into(),
        })?;
        self.directory.forget();
        self.audit(now, admin, "user.add", name, "allowed", &format!("role {role}")).await;
        Ok(())
    }

    /// Changes user `name` as `change` says, for `admin`, who must manage the platform. A user
    /// disabled, or given a new password, is logged out everywhere at once.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`] when `admin`'s role does not manage the platform, [`Refusal::NotFound`]
    /// for no such user or role, [`Refusal::Invalid`] for a bad password (`password`).
    pub async fn change_user(
        &self,
        admin: &str,
        name: &str,
        change: &UserChange,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.require_admin(admin, "user.change", name, now).await?;
        let mut user =
            self.records.user(name).await?.ok_or_else(|| Refusal::NotFound(format!("no user {name:?}")))?;
        let mut said = Vec::new();
        if let Some(password) = &change.password {
            user.password_hash = new_password_hash(name, password).await?;
            said.push("a new password".to_string());
        }
        if let Some(role) = &change.role {
            user.role.clone_from(role);
            said.push(format!("role {role}"));
        }
        if let Some(disabled) = change.disabled {
            user.disabled = disabled;
            said.push(if disabled { "disabled" } else { "enabled" }.to_string());
        }
        self.records.update_user(&user).await?;
        if change.password.is_some() || user.disabled {
            self.sessions.end_all_of(name).await?;
        }
        self.directory.forget();
        self.audit(now, admin, "user.change", name, "allowed", &said.join(", ")).await;
        Ok(())
    }

    /// Records `role` for `admin`, who must manage the platform; the sessions of its users go on
    /// with what it now allows.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`] when `admin`'s role does not manage the platform, [`Refusal::Invalid`]
    /// for a glob (`commands`) or target (`targets`) that does not compile.
    pub async fn put_role(&self, admin: &str, role: &Role, now: Millis) -> Result<(), Refusal> {
        self.require_admin(admin, "role.put", &role.name, now).await?;
        Grant::of(role).map_err(|(field, reason)| invalid(field.trim_start_matches("role."), reason))?;
        self.records.put_role(role).await?;
        self.audit(now, admin, "role.put", &role.name, "allowed", "").await;
        Ok(())
    }

    /// Checks that `user` manages the platform; a refusal is audited as `action` on `target`.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`] when they do not.
    pub async fn require_admin(
        &self,
        user: &str,
        action: &str,
        target: &str,
        now: Millis,
    ) -> Result<Grant, Refusal> {
        let grant = self.grant(user).await?;
        if let Err(denial) = grant.check_admin() {
            self.audit(now, user, action, target, "refused", &denial.to_string()).await;
            return Err(denial.into());
        }
        Ok(grant)
    }

    /// Appends to the audit log; a failure to is logged, and does not fail the request.
    pub async fn audit(
        &self,
        at: Millis,
        user: &str,
        action: &str,
        target: &str,
        outcome: &str,
        detail: &str,
    ) {
        // A name the records would refuse (a login typed with a control character) is kept in
        // the detail, quoted, under the user `-`: the attempt is audited all the same.
        let (user, detail) = match check::name("audit.user", user) {
            Ok(()) => (user.to_string(), detail.to_string()),
            Err(_) => ("-".to_string(), format!("as {user:?}: {detail}")),
        };
        let entry = NewAudit {
            at,
            user,
            action: action.to_string(),
            target: target.replace('\0', "").chars().take(1000).collect(),
            outcome: outcome.to_string(),
            detail: detail.replace('\0', "").chars().take(4000).collect(),
        };
        if let Err(err) = self.records.audit(&entry).await {
            tracing::error!(cause = %err, action, "cannot append to the audit log");
        }
    }
}

/// The hash of `password`, a new password for user `name`, once it is checked; argon2 runs off
/// the runtime's threads.
async fn new_password_hash(name: &str, password: &str) -> Result<String, Refusal> {
    check_new_password(name, password).map_err(|reason| invalid("password", reason))?;
    let given = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&given))
        .await
        .map_err(|err| Refusal::Internal(err.to_string()))?
        .map_err(|reason| invalid("password", reason))
}

/// `duration` in milliseconds.
fn millis(duration: Duration) -> Millis {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
