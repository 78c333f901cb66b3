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
        let mut programs = GlobSetBuilder::new();
        for pattern in &role.commands {
            // `*` stops at `/`: `/usr/bin/*` allows `/usr/bin/uptime`, not `/usr/bin/x/evil`.
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|err| ("role.commands", format!("{pattern:?}: {err}")))?;
            programs.add(glob);
        }
        let programs = programs.build().map_err(|err| ("role.commands", err.to_string()))?;
        let targets = Target::parse(&role.targets).map_err(|err| ("role.targets", err.to_string()))?;
        Ok(Grant { role: role.name.clone(), programs, targets, admin: role.admin })
    }

    /// The role's name.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// The role's target expression, as written.
    pub fn targets(&self) -> String {
        self.targets.to_string()
    }

    /// Whether the role manages the platform.
    pub fn is_admin(&self) -> bool {
        self.admin
    }

    /// Whether the role may run `program` on the host `host` with `tags`.
    pub fn allows(&self, program: &str, host: &str, tags: &BTreeMap<String, String>) -> bool {
        self.programs.is_match(program) && self.targets.matches(host, tags)
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
        if !self.programs.is_match(program) {
            return Err(Denial::Program { role: self.role.clone(), program: program.to_string() });
        }
        let outside: Vec<String> = hosts
            .into_iter()
            .filter(|(host, tags)| !self.targets.matches(host, tags))
            .take(10)
            .map(|(host, _)| host.to_string())
            .collect();
        if outside.is_empty() {
            Ok(())
        } else {
            Err(Denial::Hosts { role: self.role.clone(), hosts: outside })
        }
    }

    /// Checks that the role manages the platform.
    ///
    /// # Errors
    ///
    /// [`Denial::NotAdmin`] when it does not.
    pub fn check_admin(&self) -> Result<(), Denial> {
        if self.admin { Ok(()) } else { Err(Denial::NotAdmin { role: self.role.clone() }) }
    }
}
