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
        todo!("stage 2: NotFound, Conflict and Invalid keep their meaning; anything else is Internal")
    }
}

impl Platform {
    /// A platform over `records`, running commands through `commands` when given.
    pub fn new(records: Records, commands: Option<Commands>) -> Platform {
        todo!(
            "stage 2: sessions over the records lasting SESSION_LIFETIME, a limiter with LOGIN_WINDOW and the two limits, a Directory over the records and the commands, no monitoring and no distribution yet"
        )
    }

    /// This platform, showing and changing the monitoring pipeline behind `console`.
    pub fn with_monitoring(self, console: Arc<Console>) -> Platform {
        todo!("stage 2: keep the console")
    }

    /// This platform, sending monitoring scripts to its hosts as `distribution` says.
    pub fn with_distribution(self, distribution: Distribution) -> Platform {
        todo!("stage 3: keep the distribution")
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
        todo!(
            "stage 2: attempt on the limiter first, which counts the try; then the user, and argon2 against their hash off the runtime's threads, or verify_nobody for no user; a success is forgiven; audit every outcome; begin a session"
        )
    }

    /// The session `token` names at `now`, of a user who may still log in.
    ///
    /// # Errors
    ///
    /// [`Refusal::NotLoggedIn`] when there is none, or its user is disabled or gone.
    pub async fn session(&self, token: &str, now: Millis) -> Result<Session, Refusal> {
        todo!("stage 2: the session the token names, if the directory says its user may still log in")
    }

    /// What `user`'s role allows, read now (a role changed a moment ago counts).
    ///
    /// # Errors
    ///
    /// [`Refusal::NotLoggedIn`] for a user who is gone or disabled.
    pub async fn grant(&self, user: &str) -> Result<Grant, Refusal> {
        todo!("stage 2: the user, not disabled, and their role, compiled with Grant::of")
    }

    /// Runs `request` for `user`, if their role allows the program on every host the target
    /// names: the run's id. Allowed or refused, it is audited.
    ///
    /// # Errors
    ///
    /// [`Refusal::Invalid`] for a bad field, [`Refusal::Denied`] when the role does not allow it,
    /// [`Refusal::NoControl`] when there is no control master.
    pub async fn run(&self, user: &str, request: &RunRequest, now: Millis) -> Result<i64, Refusal> {
        todo!(
            "stage 2: the grant; the target, the program and the timeout checked; every host the records or the master know that the target names, checked with check_run; audit the refusal or the start; sign the user's target within the role's"
        )
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
        todo!("stage 2: require an admin; check the password, hash it, add the user; audit it")
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
        todo!(
            "stage 2: admins only; the user read, each change given applied (a password checked and hashed off the runtime's threads), recorded; their sessions ended when disabled or given a new password; audited"
        )
    }

    /// Records `role` for `admin`, who must manage the platform; the sessions of its users go on
    /// with what it now allows.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`] when `admin`'s role does not manage the platform, [`Refusal::Invalid`]
    /// for a glob (`commands`) or target (`targets`) that does not compile.
    pub async fn put_role(&self, admin: &str, role: &Role, now: Millis) -> Result<(), Refusal> {
        todo!("stage 2: require an admin; compile the role to check it; record it; audit it")
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
        todo!("stage 2: the grant, and check_admin; a refusal audited")
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
        todo!(
            "stage 2: append an entry; a user name the records refuse goes in quoted in the detail, under the user -; a failure to append is logged"
        )
    }
}
