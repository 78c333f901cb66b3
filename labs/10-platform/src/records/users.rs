//! Users and their roles. A role says which programs its users may run and on which hosts, and
//! whether they manage the platform; a user has one role and a password hash (never the
//! password: hashing is the API's work, and the records only keep what it made).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Millis, RecordError, Records, Result, check, dialect};

/// A role: what its users may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Its name, unique.
    pub name: String,
    /// The programs its users may run, as globs over the program's path (`/usr/bin/*`); none
    /// means no command at all.
    pub commands: Vec<String>,
    /// The hosts they may run them on, as a target expression (lab 09's: `tag:env=staging`).
    pub targets: String,
    /// Whether its users manage the platform: users, roles, rules and scripts.
    pub admin: bool,
}

/// A user of the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Their login name, unique.
    pub name: String,
    /// Their role's name.
    pub role: String,
    /// Their password's hash, in the PHC string format (`$argon2id$v=19$...`).
    pub password_hash: String,
    /// When they were added.
    pub created: Millis,
    /// Whether they may no longer log in.
    pub disabled: bool,
}

impl Records {
    /// Records a role, or changes the one of that name.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad name (`role.name`), glob (`role.commands`) or target
    /// (`role.targets`).
    pub async fn put_role(&self, role: &Role) -> Result<()> {
        todo!(
            "stage 1: check the fields, keep the command globs as JSON text, update the role or insert it when there is none"
        )
    }

    /// The role called `name`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn role(&self, name: &str) -> Result<Option<Role>> {
        todo!("stage 1: the role's row, its commands read back from JSON")
    }

    /// Every role, by name.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        todo!("stage 1: every role, by name")
    }

    /// Deletes the role called `name`.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is none, [`RecordError::Conflict`] when a user has it.
    pub async fn delete_role(&self, name: &str) -> Result<()> {
        todo!(
            "stage 1: a foreign key violation means a user has the role: Conflict; no row deleted: NotFound"
        )
    }

    /// Records a new user.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad name (`user.name`) or an empty hash
    /// (`user.password_hash`), [`RecordError::NotFound`] when their role does not exist,
    /// [`RecordError::Conflict`] when a user of that name does.
    pub async fn add_user(&self, user: &User) -> Result<()> {
        todo!(
            "stage 1: insert; a unique violation is Conflict, a foreign key violation is NotFound for the role"
        )
    }

    /// The user called `name`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn user(&self, name: &str) -> Result<Option<User>> {
        todo!("stage 1: the user's row")
    }

    /// Every user, by name.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn users(&self) -> Result<Vec<User>> {
        todo!("stage 1: every user, by name")
    }

    /// Changes user `name`'s role, password hash and whether they are disabled to `user`'s.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is no such user, or no such role.
    pub async fn update_user(&self, user: &User) -> Result<()> {
        todo!(
            "stage 1: in one transaction: NotFound when there is no such user, then update; a foreign key violation is NotFound for the role"
        )
    }
}
