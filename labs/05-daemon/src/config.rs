//! What one run of `superd` is asked to do ([`Config`], built from the command line by
//! [`Config::try_from`]), and the configuration file that `superd reload` (SIGHUP) rereads: the
//! supervision settings.
//!
//! The command line gives the starting [`Settings`]; a TOML file named by `--config` overrides
//! them at `start` and again on every SIGHUP. Every key is optional, and a key left out keeps the
//! command line's value:
//!
//! ```toml
//! restart_max = 3
//! restart_window_ms = 10000
//! backoff_ms = 50
//! backoff_max_ms = 2000
//! kill_after_ms = 1000
//! command = ["sh", "-c", "exec my-server --port 8080"]
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{Cli, Sub};
use crate::error::Error;
use crate::supervise::{Policy, note};

/// What the supervisor runs and how it restarts and stops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The command and its arguments; never empty.
    pub command: Vec<OsString>,
    /// When to restart it, when to give up, and how long it has after SIGTERM.
    pub policy: Policy,
}

/// The keys a configuration file may set, each optional; an unknown key is an error, so a typo
/// is reported rather than silently ignored.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Replaces `--restart-max`.
    pub restart_max: Option<u32>,
    /// Replaces `--restart-window-ms`.
    pub restart_window_ms: Option<u64>,
    /// Replaces `--backoff-ms`.
    pub backoff_ms: Option<u64>,
    /// Replaces `--backoff-max-ms`.
    pub backoff_max_ms: Option<u64>,
    /// Replaces `--kill-after-ms`.
    pub kill_after_ms: Option<u64>,
    /// Replaces the command given after `--`, from its next start.
    pub command: Option<Vec<String>>,
}

/// Why a configuration file's text was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, an unknown key, or a value of the wrong type; the message gives line and column.
    #[error("{}", flatten(.0))]
    Syntax(#[from] toml::de::Error),
    /// `command = []`: there is no program to run.
    #[error("`command` is empty: it needs at least the program to run")]
    EmptyCommand,
}

/// toml's messages draw the offending line over several lines; a log line wants one:
/// `line 2, column 15: invalid type: …`.
fn flatten(err: &toml::de::Error) -> String {
    let text = err.to_string();
    match text.lines().next().and_then(|first| first.strip_prefix("TOML parse error at ")) {
        Some(place) => format!("{place}: {}", err.message().trim()),
        None => err.message().trim().to_string(),
    }
}

/// Parses the TOML `text` of a configuration file and returns `base` with every key the file
/// sets replaced by the file's value.
///
/// `base` is the command line's settings, not the ones in force: a key removed from the file goes
/// back to the command line's value on the next reload.
///
/// # Errors
///
/// [`ConfigError::Syntax`] if `text` is not TOML, has an unknown key or a value of the wrong
/// type; [`ConfigError::EmptyCommand`] if it sets `command = []`.
pub fn merge(base: &Settings, text: &str) -> Result<Settings, ConfigError> {
    // TODO(stage 3): parse with toml::from_str into a ConfigFile, then override base's fields.
    todo!("stage 3: parse the text as a ConfigFile and override base with the keys it sets")
}

/// Where the settings come from: the command line, and the file that overrides it, if any.
#[derive(Debug, Clone)]
pub struct SettingsSource {
    /// The command line's settings.
    pub base: Settings,
    /// The configuration file (`--config`), as an absolute path: the daemon works in `/`.
    pub file: Option<PathBuf>,
}

impl SettingsSource {
    /// The settings in force now: the command line's, overridden by the file as it is now.
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be read, [`Error::Config`] if [`merge`] refuses it.
    pub fn load(&self) -> Result<Settings, Error> {
        let Some(path) = &self.file else {
            return Ok(self.base.clone());
        };
        let text = std::fs::read_to_string(path).map_err(Error::file(path))?;
        merge(&self.base, &text).map_err(|source| Error::Config { path: path.clone(), source })
    }

    /// Rereads the file after SIGHUP. Logs what changed and returns the new settings; or logs
    /// why the file was refused and returns `None`: the daemon keeps `current`, it never dies of a
    /// bad reload. Without a file there is nothing to reread: `None`, silently.
    pub fn reload(&self, current: &Settings) -> Option<Settings> {
        let path = self.file.as_ref()?;
        match self.load() {
            Ok(new) => {
                let changed = changes(current, &new);
                let what =
                    if changed.is_empty() { "nothing changed".to_string() } else { changed.join(", ") };
                note(&format!("configuration reloaded from {}: {what}", path.display()));
                Some(new)
            }
            Err(err) => {
                note(&format!("cannot reload configuration: {err}; keeping the old settings"));
                None
            }
        }
    }
}

/// What differs between `old` and `new`, as `name old -> new` items; empty if nothing does.
pub fn changes(old: &Settings, new: &Settings) -> Vec<String> {
    let mut changed = Vec::new();
    let mut compare = |name: &str, old: String, new: String| {
        if old != new {
            changed.push(format!("{name} {old} -> {new}"));
        }
    };
    let (a, b) = (&old.policy, &new.policy);
    compare("restart_max", a.restart_max.to_string(), b.restart_max.to_string());
    let ms = |d: Duration| d.as_millis().to_string();
    compare("restart_window_ms", ms(a.window), ms(b.window));
    compare("backoff_ms", ms(a.backoff), ms(b.backoff));
    compare("backoff_max_ms", ms(a.backoff_max), ms(b.backoff_max));
    compare("kill_after_ms", ms(a.kill_after), ms(b.kill_after));
    compare("command", format!("{:?}", old.command), format!("{:?}", new.command));
    changed
}

/// One run of `superd`: a subcommand, validated, its paths absolute (the daemon works in `/`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The subcommand and its settings.
    pub command: Command,
}

/// One subcommand.
#[derive(Debug, Clone)]
pub enum Command {
    /// Daemonize and supervise.
    Start {
        /// The pid file, absolute.
        pidfile: PathBuf,
        /// The log file, absolute.
        log: PathBuf,
        /// The command line's settings and the file that overrides them, absolute.
        settings: SettingsSource,
    },
    /// Send the daemon SIGTERM and wait for it to exit.
    Stop {
        /// The pid file.
        pidfile: PathBuf,
        /// How long to wait.
        timeout: Duration,
    },
    /// Say whether the daemon runs.
    Status {
        /// The pid file.
        pidfile: PathBuf,
    },
    /// Send the daemon SIGHUP.
    Reload {
        /// The pid file.
        pidfile: PathBuf,
    },
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Makes `start`'s paths absolute: the daemon works in `/`, so they must be resolved in the
    /// directory `superd start` ran in.
    fn try_from(cli: Cli) -> Result<Config, Error> {
        let absolute = |path: &Path| std::path::absolute(path).map_err(Error::file(path));
        let command = match cli.command {
            Sub::Start(args) => Command::Start {
                pidfile: absolute(&args.pidfile)?,
                log: absolute(&args.log)?,
                settings: SettingsSource {
                    base: args.settings(),
                    file: args.config.as_deref().map(absolute).transpose()?,
                },
            },
            Sub::Stop(args) => {
                Command::Stop { pidfile: args.pidfile, timeout: Duration::from_secs(args.timeout) }
            }
            Sub::Status(args) => Command::Status { pidfile: args.pidfile },
            Sub::Reload(args) => Command::Reload { pidfile: args.pidfile },
        };
        Ok(Config { command })
    }
}
