//! `control run`: a command signed, started on the master as a job, and followed to its end, on a
//! terminal (a progress bar, then the hosts grouped by identical output) or for a script (a JSON
//! object a line).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::command::{Command, SignedCommand};
use crate::config::RunCommand;
use crate::error::Error;
use crate::gather::Gather;
use crate::keys::Identity;
use crate::master::{Ending, JobEvent};
use crate::operator::{Following, Operator};

/// How long a command `control run` signs stays valid: every host must be started within it.
/// Agents refuse longer validities than theirs (an hour by default).
pub const VALIDITY: Duration = Duration::from_secs(50 * 60);

/// How long a master that stopped mid-job is waited for.
pub const REATTACH: Duration = Duration::from_secs(120);

/// Signs `command`'s program with the operator's key, starts it on the master, and follows it
/// until it is over or `shutdown`; what was gathered, and whether the shutdown came first.
///
/// # Errors
///
/// [`Error::File`] or [`Error::BadKey`] for the operator's key, [`Error::Api`] when the master
/// cannot be reached or refuses the command, [`Error::Write`] when `out` cannot be written.
pub async fn run_job(
    command: &RunCommand,
    shutdown: &CancellationToken,
    out: &mut dyn Write,
) -> Result<(Gather, bool), Error> {
    let operator = Identity::load(&command.key)?;
    let body = Command::new(&command.target, &command.program, &command.args, VALIDITY, command.timeout);
    let signed = SignedCommand::sign(&body, &operator);
    let following =
        Operator::connect(&command.api).await?.run(signed, command.options.clone(), REATTACH).await?;
    follow(following, command.json, shutdown, out).await
}

/// Follows a job to its end (or `shutdown`), showing a progress bar on a terminal, or writing a
/// JSON line per host as it ends when `json`.
async fn follow(
    mut following: Following,
    json: bool,
    shutdown: &CancellationToken,
    out: &mut dyn Write,
) -> Result<(Gather, bool), Error> {
    let mut gather = Gather::new(following.hosts.clone(), Instant::now());
    let bar = progress_bar(following.hosts.len(), !json, "{elapsed:>4} [{bar:30}] {msg}");
    loop {
        let event = tokio::select! {
            event = following.next() => event?,
            () = shutdown.cancelled() => {
                bar.finish_and_clear();
                return Ok((gather, true));
            }
        };
        let Some(event) = event else { break };
        let before = gather.ended();
        gather.record(&event, Instant::now());
        if json && gather.ended() > before {
            if let JobEvent::Ended(host, ending) = &event {
                writeln!(out, "{}", host_line(host, ending)).map_err(Error::Write)?;
            }
        }
        bar.set_position(gather.ended() as u64);
        bar.set_message(gather.progress_line());
    }
    bar.finish_and_clear();
    Ok((gather, false))
}

/// A progress bar of `len` steps drawn with `template` on standard error when `shown` and it is a
/// terminal; one that draws nothing otherwise.
pub fn progress_bar(len: usize, shown: bool, template: &str) -> ProgressBar {
    let bar = match shown && std::io::stderr().is_terminal() {
        true => ProgressBar::new(len as u64),
        false => ProgressBar::hidden(),
    };
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template").progress_chars("=> "));
    bar
}

/// A host's ending as a JSON line.
fn host_line(host: &str, ending: &Ending) -> serde_json::Value {
    let exit = ending.exit();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    json!({
        "host": host,
        "ending": ending.label(),
        "status": exit.map(|exit| exit.status()),
        "stdout": exit.map(|exit| text(&exit.stdout)),
        "stderr": exit.map(|exit| text(&exit.stderr)),
        "truncated": exit.map(|exit| exit.truncated),
        "reason": match ending {
            Ending::Refused(refusal) => Some(refusal.to_string()),
            Ending::Lost(why) => Some(why.clone()),
            _ => None,
        },
    })
}

/// The totals of `gather` as a JSON line.
pub fn totals_line(gather: &Gather, elapsed: Duration) -> serde_json::Value {
    let counts: serde_json::Map<String, serde_json::Value> =
        gather.counts().into_iter().map(|(label, count)| (label.to_owned(), count.into())).collect();
    json!({
        "hosts": gather.named(),
        "ended": gather.ended(),
        "counts": counts,
        "stopped": gather.stopped().is_some(),
        "seconds": elapsed.as_secs_f64(),
    })
}
