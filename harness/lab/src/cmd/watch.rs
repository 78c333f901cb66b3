//! `cargo lab watch <lab>`: test the stage you are working on every time you save a file of the lab,
//! as rustlings does. The first run tests every stage; after that each save tests the first stage
//! that failed, and when it passes, the whole lab again, to find the next one (and any stage the
//! change broke). Ctrl-C stops it.

use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};

use crate::cmd::test::{self, Options};
use crate::output;
use crate::style::Style;
use crate::workspace::Workspace;

/// How long the files must be quiet before a run: an editor's save is often several writes.
const QUIET: Duration = Duration::from_millis(300);

/// Watches the lab and tests it at every save, until interrupted.
///
/// # Errors
///
/// An unknown lab, a watcher that cannot be set up (too many inotify watches), or a test run that
/// fails for a reason other than the student's code (see `cargo lab test`).
pub fn run(ws: &Workspace, options: &Options) -> anyhow::Result<ExitCode> {
    let lab = ws.lab(&options.lab)?;
    let (sender, saves) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(QUIET, sender).context("cannot watch files")?;
    debouncer
        .watcher()
        .watch(&lab.dir, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", lab.dir.display()))?;
    let shown = lab.dir.strip_prefix(&ws.root).unwrap_or(&lab.dir).display().to_string();
    let style = Style::for_stdout();

    let mut stage: Option<String> = None;
    loop {
        let tested = test::test_and_report(ws, &Options { stage: stage.clone(), ..options.clone() })?;
        let first_failing =
            tested.scores.iter().find(|score| !score.is_complete()).map(|score| score.id.clone());
        stage = match (&stage, first_failing) {
            // The stage worked on now passes: test everything at once, to find the next one.
            (Some(_), None) => {
                output::print(&format!("\n{} Stage passed; testing the whole lab.\n\n", style.green("✓")))?;
                None
            }
            (_, failing) => failing,
        };
        if stage.is_none() && tested.all_passed() {
            output::print(&format!(
                "\n{} Every stage passes. Watching for more changes.\n",
                style.green("✓")
            ))?;
        }
        let testing = stage.as_deref().map_or_else(|| "every stage".to_owned(), |id| format!("stage {id}"));
        output::print(&format!(
            "\nWatching {shown}/: save a file to test {testing} again (Ctrl-C stops).\n"
        ))?;
        wait_for_a_save(&saves)?;
        output::print(&format!("\n{}\n", style.dim("── a file changed: testing again ──")))?;
    }
}

/// Blocks until a Rust or TOML file of the lab has been written; an editor's swap and backup files
/// do not count.
fn wait_for_a_save(saves: &mpsc::Receiver<DebounceEventResult>) -> anyhow::Result<()> {
    loop {
        match saves.recv().context("the file watcher stopped")? {
            Ok(events) if events.iter().any(|event| is_source(&event.path)) => return Ok(()),
            Ok(_) => {}
            Err(err) => eprintln!("cargo-lab: watching: {err}"),
        }
    }
}

/// Whether `path` is a file a student edits: `*.rs` or `*.toml`, not hidden (`.x.rs.swp`, `.#x.rs`).
fn is_source(path: &Path) -> bool {
    let hidden = path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.'));
    let source = path.extension().is_some_and(|ext| ext == "rs" || ext == "toml");
    source && !hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sources_count_as_saves() {
        assert!(is_source(Path::new("labs/01-logstat/src/parse.rs")));
        assert!(is_source(Path::new("labs/01-logstat/lab.toml")));
        for path in ["src/.parse.rs.swp", "src/parse.rs~", "src/.#parse.rs", "src/4913", "notes.md"] {
            assert!(!is_source(Path::new(path)), "{path}");
        }
    }
}
