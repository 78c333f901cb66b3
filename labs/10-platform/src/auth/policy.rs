//! What a role allows, checked on the server: which programs its users may run (globs over the
//! program's path), on which hosts (a target expression, lab 09's), and whether they manage the
//! platform. The dashboard may hide a button; only this decides.

use std::collections::BTreeMap;

use control::target::Target;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::records::Role;

/// A role, compiled for checking.
#[derive(Debug, Clone)]
pub struct Grant {
    role: String,
    programs: GlobSet,
    targets: Target,
    admin: bool,
}

/// Why a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The role runs no such program.
    #[error("role {role:?} may not run {program:?}")]
    Program {
        /// The role.
        role: String,
        /// The program asked for.
        program: String,
    },
    /// The target names hosts outside the role's.
    #[error("role {role:?} may not run commands on {}", hosts.join(", "))]
    Hosts {
        /// The role.
        role: String,
        /// The hosts outside it (the first few).
        hosts: Vec<String>,
    },
    /// Only a role that manages the platform may do this.
    #[error("role {role:?} does not manage the platform")]
    NotAdmin {
        /// The role.
        role: String,
    },
}

impl Grant {
    /// Compiles `role`.
    ///
    /// # Errors
    ///
    /// What is wrong with one of its globs (`role.commands`) or its target (`role.targets`), as
    /// (field, reason).
    pub fn of(role: &Role) -> Result<Grant, (&'static str, String)> {
        todo!(
            "stage 2: compile each glob with literal_separator so a star stops at a slash, into a GlobSet; parse the target with lab 09's Target::parse"
        )
    }

    /// The role's name.
    pub fn role(&self) -> &str {
        todo!("stage 2: the role's name")
    }

    /// The role's target expression, as written.
    pub fn targets(&self) -> String {
        todo!("stage 2: the target expression as it displays")
    }

    /// Whether the role manages the platform.
    pub fn is_admin(&self) -> bool {
        todo!("stage 2: whether the role manages the platform")
    }

    /// Whether the role may run `program` on the host `host` with `tags`.
    pub fn allows(&self, program: &str, host: &str, tags: &BTreeMap<String, String>) -> bool {
        todo!("stage 2: the program matches a glob and the host matches the target")
    }

    /// Checks a command: `program` on every host of `hosts` (name and tags).
    ///
    /// # Errors
    ///
    /// The [`Denial`]: the program first, then the hosts outside the role (up to ten named).
    pub fn check_run<'a>(
        &self,
        program: &str,
        hosts: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, String>)>,
    ) -> Result<(), Denial> {
        todo!(
            "stage 2: a program no glob matches is a Program denial; then the hosts the target does not match, up to ten, are a Hosts denial"
        )
    }

    /// Checks that the role manages the platform.
    ///
    /// # Errors
    ///
    /// [`Denial::NotAdmin`] when it does not.
    pub fn check_admin(&self) -> Result<(), Denial> {
        todo!("stage 2: NotAdmin unless the role manages the platform")
    }
}
