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
        check::name("role.name", &role.name)?;
        for command in &role.commands {
            check::name("role.commands", command)?;
        }
        check::text("role.targets", &role.targets)?;
        let commands = serde_json::to_string(&role.commands)
            .map_err(|err| check::invalid("role.commands", err.to_string()))?;
        check::text("role.commands", &commands)?;
        let mut tx = self.write().await?;
        let updated = sqlx::query("UPDATE roles SET commands = ?, targets = ?, admin = ? WHERE name = ?")
            .bind(&commands)
            .bind(&role.targets)
            .bind(i64::from(role.admin))
            .bind(&role.name)
            .execute(&mut *tx)
            .await?;
        // Whether an UPDATE counts an unchanged row depends on the backend and a client flag:
        // ask whether the role is there instead.
        if updated.rows_affected() == 0 && self.role_exists(&mut tx, &role.name).await? == 0 {
            sqlx::query("INSERT INTO roles (name, commands, targets, admin) VALUES (?, ?, ?, ?)")
                .bind(&role.name)
                .bind(&commands)
                .bind(&role.targets)
                .bind(i64::from(role.admin))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The role called `name`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn role(&self, name: &str) -> Result<Option<Role>> {
        let row = sqlx::query("SELECT name, commands, targets, admin FROM roles WHERE name = ?")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| role_of(&row)).transpose()
    }

    /// Every role, by name.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        let rows = sqlx::query("SELECT name, commands, targets, admin FROM roles ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(role_of).collect()
    }

    /// Deletes the role called `name`.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is none, [`RecordError::Conflict`] when a user has it.
    pub async fn delete_role(&self, name: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let deleted =
            sqlx::query("DELETE FROM roles WHERE name = ?").bind(name).execute(&mut *tx).await.map_err(
                |err| {
                    if dialect::is_missing_reference(&err) {
                        RecordError::Conflict { what: "role in use", key: name.to_string() }
                    } else {
                        RecordError::Database(err)
                    }
                },
            )?;
        tx.commit().await?;
        if deleted.rows_affected() == 0 {
            return Err(RecordError::NotFound { what: "role", key: name.to_string() });
        }
        Ok(())
    }

    /// Records a new user.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad name (`user.name`) or an empty hash
    /// (`user.password_hash`), [`RecordError::NotFound`] when their role does not exist,
    /// [`RecordError::Conflict`] when a user of that name does.
    pub async fn add_user(&self, user: &User) -> Result<()> {
        check::name("user.name", &user.name)?;
        check::name("user.password_hash", &user.password_hash)?;
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO users (name, role, password_hash, created, disabled) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&user.name)
        .bind(&user.role)
        .bind(&user.password_hash)
        .bind(user.created)
        .bind(i64::from(user.disabled))
        .execute(&mut *tx)
        .await
        .map_err(|err| {
            if dialect::is_conflict(&err) {
                RecordError::Conflict { what: "user", key: user.name.clone() }
            } else if dialect::is_missing_reference(&err) {
                RecordError::NotFound { what: "role", key: user.role.clone() }
            } else {
                RecordError::Database(err)
            }
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// The user called `name`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn user(&self, name: &str) -> Result<Option<User>> {
        let row =
            sqlx::query("SELECT name, role, password_hash, created, disabled FROM users WHERE name = ?")
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        row.map(|row| user_of(&row)).transpose()
    }

    /// Every user, by name.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn users(&self) -> Result<Vec<User>> {
        let rows =
            sqlx::query("SELECT name, role, password_hash, created, disabled FROM users ORDER BY name")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(user_of).collect()
    }

    /// Changes user `name`'s role, password hash and whether they are disabled to `user`'s.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is no such user, or no such role.
    pub async fn update_user(&self, user: &User) -> Result<()> {
        check::name("user.password_hash", &user.password_hash)?;
        let mut tx = self.write().await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE name = ?")
            .bind(&user.name)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(RecordError::NotFound { what: "user", key: user.name.clone() });
        }
        sqlx::query("UPDATE users SET role = ?, password_hash = ?, disabled = ? WHERE name = ?")
            .bind(&user.role)
            .bind(&user.password_hash)
            .bind(i64::from(user.disabled))
            .bind(&user.name)
            .execute(&mut *tx)
            .await
            .map_err(|err| {
                if dialect::is_missing_reference(&err) {
                    RecordError::NotFound { what: "role", key: user.role.clone() }
                } else {
                    RecordError::Database(err)
                }
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// How many roles are called `name` (0 or 1), inside a transaction.
    async fn role_exists(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>, name: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE name = ?")
            .bind(name)
            .fetch_one(&mut **tx)
            .await?)
    }
}

/// A role from its row.
fn role_of(row: &AnyRow) -> Result<Role> {
    let commands: String = row.try_get("commands")?;
    Ok(Role {
        name: row.try_get("name")?,
        commands: serde_json::from_str(&commands)
            .map_err(|err| check::invalid("role.commands", err.to_string()))?,
        targets: row.try_get("targets")?,
        admin: row.try_get::<i64, _>("admin")? != 0,
    })
}

/// A user from its row.
fn user_of(row: &AnyRow) -> Result<User> {
    Ok(User {
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        password_hash: row.try_get("password_hash")?,
        created: row.try_get("created")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
    })
}
