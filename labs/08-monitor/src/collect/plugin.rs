//! Plugins: any executable that prints samples ([`super::plugin_output`]), run as a collector.
//!
//! A plugin is whatever the machine's owner wrote, so it is run as if it could misbehave in every
//! way, and none of them may stop the agent:
//!
//! - **no shell**: the program is executed with its arguments as given, so nothing in them is
//!   expanded or split, and standard input is `/dev/null`;
//! - **its own process group**, so that when it has to go, the shell pipelines and background
//!   children it started go with it: killing only the child would leave a grandchild that holds
//!   the output pipe, and the read would never end;
//! - **a timeout**: a plugin is done when it has exited *and* its output has closed; one that is
//!   not done in time has its process group killed (SIGKILL) and the reading fails;
//! - **capped output**: past [`PluginSpec::max_output`] bytes the group is killed too;
//! - a **non-zero exit**, a **signal**, or output that does not parse is an error naming the plugin,
//!   with the start of its standard error.

use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use std::os::unix::process::CommandExt;

use super::{CollectError, Collector, parse_plugin_output};
use crate::{Millis, Sample};

/// How much of a failed plugin's standard error is kept for the report.
pub const MAX_STDERR: usize = 1024;

/// How long to wait, after killing a plugin's group, for its pipes to close and its exit status.
const REAP_GRACE: Duration = Duration::from_secs(2);

/// How to run one plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments, passed as they are.
    pub args: Vec<String>,
    /// How often it runs.
    pub interval: Duration,
    /// How long one run may take, output included; keep it under the interval.
    pub timeout: Duration,
    /// The most bytes it may print on standard output.
    pub max_output: usize,
}

impl PluginSpec {
    /// Running `program` with no arguments every 60 s, with a 10 s timeout and 1 MiB of output.
    pub fn new(program: impl Into<PathBuf>) -> PluginSpec {
        todo!("stage 1: no arguments, every 60 s, a 10 s timeout, 1 MiB of output")
    }

    /// The plugin's name in reports: its program's file name.
    pub fn name(&self) -> String {
        todo!("stage 1: the program's file name")
    }
}

/// Runs the plugin once and returns what it printed on standard output.
///
/// # Errors
///
/// [`CollectError::PluginStart`] when it cannot be started, [`CollectError::PluginTimeout`] when it
/// has not exited and closed its output within the timeout, [`CollectError::PluginFlood`] when it
/// printed more than `max_output` bytes, [`CollectError::PluginFailed`] when it exited with a
/// status other than 0 or was killed by a signal. In the first three cases its whole process group
/// is killed.
pub fn run_plugin(spec: &PluginSpec) -> Result<Vec<u8>, CollectError> {
    todo!(
        "stage 1: spawn with process_group(0), stdin null, stdout and stderr piped; read them on threads; on the timeout or too much output, kill the group (-pid); wait; check the status"
    )
}

/// Reads `pipe` to its end, keeping at most `limit` bytes. Returns them, and whether there were
/// more. With `drain`, the rest is read and dropped (so the writer never blocks); without, reading
/// stops at the first byte past the limit.
fn read_capped(pipe: Option<impl Read>, limit: usize, drain: bool) -> (Vec<u8>, bool) {
    todo!("stage 1: read at most limit + 1 bytes; drain the rest if asked")
}

/// SIGKILL to every process in the group.
fn kill_group(group: libc::pid_t) {
    todo!("stage 1: libc::kill(-group, SIGKILL)")
}

/// A plugin, run as a collector.
#[derive(Debug)]
pub struct PluginCollector {
    spec: PluginSpec,
    name: String,
}

impl PluginCollector {
    /// The collector running `spec`; it is named `plugin:` and the program's file name.
    pub fn new(spec: PluginSpec) -> PluginCollector {
        todo!("stage 1: name it plugin:<file name>")
    }
}

impl Collector for PluginCollector {
    fn name(&self) -> &str {
        todo!("stage 1: the name")
    }

    fn interval(&self) -> Duration {
        todo!("stage 1: the spec's interval")
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        todo!("stage 1: run_plugin, then the output as UTF-8 through parse_plugin_output")
    }
}
