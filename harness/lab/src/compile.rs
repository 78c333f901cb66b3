//! Building with cargo: the test binaries of a package, and the warnings of a package's build.
//!
//! `cargo test --no-run --message-format=json-render-diagnostics` prints one JSON message per line on
//! stdout; each `compiler-artifact` of a `test` target names its `executable`. Cargo renders the
//! compiler's diagnostics on stderr, which is where a compile error's text is taken from.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::interrupt;

/// How many lines of the compiler's errors a report shows.
pub const ERROR_LINES: usize = 30;

/// The result of building a package's test binaries.
#[derive(Debug)]
pub enum Build {
    /// Every requested test target built: target name → executable.
    Built(BTreeMap<String, PathBuf>),
    /// The code does not compile: the compiler's first errors.
    Failed(String),
}

/// Where and how to run cargo.
#[derive(Debug, Clone, Copy)]
pub struct Cargo<'a> {
    /// The workspace to build in (cargo's working directory).
    pub root: &'a Path,
    /// `CARGO_TARGET_DIR`, when not the workspace's own.
    pub target_dir: Option<&'a Path>,
    /// Forward cargo's `Compiling …` lines to stderr, as progress.
    pub echo: bool,
    /// Stop a build of the tests that takes longer: a student's constant evaluated at compile time
    /// can keep rustc busy for ever.
    pub time_limit: Option<Duration>,
}

impl Cargo<'_> {
    /// A `cargo` command in the workspace, with the target directory set.
    pub fn command(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut command = Command::new(cargo);
        command.current_dir(self.root).stdin(Stdio::null());
        if let Some(dir) = self.target_dir {
            command.env("CARGO_TARGET_DIR", dir);
        }
        command
    }

    /// Builds the test targets `targets` of `package` without running them.
    ///
    /// # Errors
    ///
    /// When cargo cannot be started, or fails for a reason other than a compile error (an unknown
    /// package or test target, a broken Cargo.toml): those are the course's bugs, not the student's.
    pub fn build_tests(&self, package: &str, targets: &[String]) -> anyhow::Result<Build> {
        let mut command = self.command();
        command.args(["test", "-p", package, "--no-run", "--message-format=json-render-diagnostics"]);
        for target in targets {
            command.args(["--test", target]);
        }
        let run = self.run(command).with_context(|| format!("failed to run cargo test for {package}"))?;
        if let (true, Some(limit)) = (run.timed_out, self.time_limit) {
            return Ok(Build::Failed(format!(
                "the build was stopped after {} s, the time limit of a build (is a constant evaluated at \
                 compile time that never ends?)",
                limit.as_secs()
            )));
        }
        let mut executables = BTreeMap::new();
        for message in run.messages() {
            if message.reason == "compiler-artifact"
                && let (Some(target), Some(executable)) = (message.target, message.executable)
                && target.kind.iter().any(|kind| kind == "test")
            {
                executables.insert(target.name, executable);
            }
        }
        if run.success {
            if let Some(missing) = targets.iter().find(|target| !executables.contains_key(*target)) {
                bail!("cargo built no test binary for target {missing:?} of {package}");
            }
            return Ok(Build::Built(executables));
        }
        if run.stderr.contains("could not compile") {
            return Ok(Build::Failed(first_errors(&run.stderr)));
        }
        bail!("cargo test -p {package} failed:\n{}", tail(&run.stderr, ERROR_LINES));
    }

    /// The warnings the compiler gives about `package` (whose Cargo.toml is `manifest_path`) when all
    /// its targets are built.
    ///
    /// # Errors
    ///
    /// When cargo cannot be started; a failed build is returned as `Ok(Err(first errors))`.
    pub fn warnings(
        &self,
        package: &str,
        manifest_path: &Path,
    ) -> anyhow::Result<Result<Vec<String>, String>> {
        let mut command = self.command();
        command.args(["build", "-p", package, "--all-targets", "--message-format=json"]);
        let run = self.run(command).with_context(|| format!("failed to run cargo build for {package}"))?;
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        for message in run.messages() {
            let (Some(diagnostic), Some(path)) = (message.message, message.manifest_path) else {
                continue;
            };
            if message.reason != "compiler-message" || path != manifest_path {
                continue;
            }
            let rendered = diagnostic.rendered.unwrap_or(diagnostic.message);
            match diagnostic.level.as_str() {
                "warning" if !warnings.contains(&rendered) => warnings.push(rendered),
                "error" => errors.push(rendered),
                _ => {}
            }
        }
        if run.success {
            Ok(Ok(warnings))
        } else if errors.is_empty() {
            Ok(Err(tail(&run.stderr, ERROR_LINES)))
        } else {
            Ok(Err(first_lines(&errors.concat(), ERROR_LINES)))
        }
    }

    fn run(&self, mut command: Command) -> std::io::Result<CargoRun> {
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        let mut child = interrupt::spawn(&mut command)?;
        // A child id is a positive pid_t, and cargo leads its own group (with its rustc processes).
        let group = child.id() as i32;
        let (done, finished) = mpsc::channel::<()>();
        let watchdog = self.time_limit.map(|limit| {
            std::thread::spawn(move || {
                let timed_out = matches!(finished.recv_timeout(limit), Err(RecvTimeoutError::Timeout));
                if timed_out {
                    interrupt::kill_group(group);
                }
                timed_out
            })
        });
        let stderr = child.stderr.take();
        let echo = self.echo;
        let stderr_reader = std::thread::spawn(move || {
            let mut text = String::new();
            let Some(stderr) = stderr else { return text };
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if echo && is_progress_line(&line) {
                    eprintln!("{line}");
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let mut stdout_lines = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                stdout_lines.push(line?);
            }
        }
        let status = child.wait();
        interrupt::finished(group);
        drop(done);
        let timed_out = watchdog.is_some_and(|watchdog| watchdog.join().unwrap_or(false));
        let status = status?;
        let stderr = stderr_reader.join().unwrap_or_default();
        Ok(CargoRun { success: status.success(), stdout_lines, stderr, timed_out })
    }
}

struct CargoRun {
    timed_out: bool,
    success: bool,
    stdout_lines: Vec<String>,
    stderr: String,
}

impl CargoRun {
    fn messages(&self) -> impl Iterator<Item = Message> + '_ {
        self.stdout_lines.iter().filter_map(|line| serde_json::from_str(line).ok())
    }
}

/// The parts of cargo's JSON messages that matter here.
#[derive(Debug, Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    message: Option<Diagnostic>,
}

#[derive(Debug, Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Diagnostic {
    level: String,
    message: String,
    #[serde(default)]
    rendered: Option<String>,
}

fn is_progress_line(line: &str) -> bool {
    let word = line.trim_start().split(' ').next().unwrap_or("");
    matches!(word, "Compiling" | "Blocking" | "Updating" | "Locking" | "Downloading" | "Downloaded")
}

/// The compiler's first errors in cargo's stderr: from the first line that starts with `error`, at
/// most [`ERROR_LINES`] lines, without cargo's own status lines.
pub fn first_errors(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !is_progress_line(line) && !line.trim_start().starts_with("Checking "))
        .collect();
    let start = lines.iter().position(|line| line.starts_with("error")).unwrap_or(0);
    first_lines(&lines[start..].join("\n"), ERROR_LINES)
}

/// The first `n` lines of `text`, with a note of how many more there were.
pub fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    if lines.len() <= n {
        return lines.join("\n");
    }
    format!("{}\n… ({} more lines)", lines[..n].join("\n"), lines.len() - n)
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_errors_skip_warnings_and_progress() {
        let stderr = "   Compiling logstat v0.1.0 (/w/labs/01-logstat)\n\
                      warning: unused variable: `x`\n  --> src/lib.rs:1:1\n\n\
                      error[E0308]: mismatched types\n --> src/lib.rs:3:5\n  |\n\
                      error: could not compile `logstat` (lib) due to 1 previous error\n";
        let errors = first_errors(stderr);
        assert!(errors.starts_with("error[E0308]: mismatched types"), "{errors}");
        assert!(errors.contains("could not compile"));
        assert!(!errors.contains("Compiling"));
    }

    #[test]
    fn first_lines_caps_and_counts() {
        let text: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let capped = first_lines(&text, 30);
        assert_eq!(capped.lines().count(), 31);
        assert!(capped.ends_with("… (10 more lines)"));
        assert_eq!(first_lines("a\nb\n", 30), "a\nb");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }

    #[test]
    fn parses_a_test_artifact_message() {
        let line = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/labs/x#x@0.1.0","manifest_path":"/w/labs/x/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"stage1_parse","src_path":"/w/labs/x/tests/stage1_parse.rs","edition":"2024","doc":false,"doctest":false,"test":true},"profile":{"test":true},"features":[],"filenames":["/w/target/debug/deps/stage1_parse-abc"],"executable":"/w/target/debug/deps/stage1_parse-abc","fresh":true}"#;
        let message: Message = serde_json::from_str(line).unwrap();
        assert_eq!(message.reason, "compiler-artifact");
        let target = message.target.unwrap();
        assert_eq!(target.name, "stage1_parse");
        assert_eq!(target.kind, ["test"]);
        assert_eq!(message.executable.unwrap(), Path::new("/w/target/debug/deps/stage1_parse-abc"));
    }
}
