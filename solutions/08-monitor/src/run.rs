//! Running the `monitor` command: the subcommand [`Config`] names, until it is done or until a
//! [`Shutdown`] is asked for.

use std::io::Write;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crate::agent::run_agent;
use crate::alarm::{DispatchSettings, RemoteAlarm, intake_router, parse_alarm, start_alarm};
use crate::config::{AlarmCommand, Command, Config, JudgeCommand, StoreCommand};
use crate::demo::run_demo;
use crate::error::Error;
use crate::judge::{Event, EventSink, serve_judge};
use crate::query::{router, serve_http};
use crate::relay::{Relay, RelayConfig};
use crate::shutdown::Shutdown;
use crate::store::{Store, serve};

/// How a run that could write its results ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, or stopped by SIGTERM.
    Done,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl Outcome {
    /// The exit status: 0, or 130 when interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Interrupted => 130,
        }
    }
}

/// Runs `config` until it is done (`monitor agent --once`) or `shutdown` is asked for, writing
/// results (points, when the agent has no relay; the addresses a server listens on) to `out` and
/// diagnostics to standard error.
///
/// # Errors
///
/// When a part cannot start ([`Error::File`] for a directory that cannot be made, [`Error::Sys`]
/// for an address that cannot be bound, [`Error::BadOption`] for a relay without shards) or `out`
/// cannot be written ([`Error::Write`]).
pub fn run(config: &Config, shutdown: &Shutdown, out: &mut dyn Write) -> Result<Outcome, Error> {
    match &config.command {
        Command::Agent(agent) => run_agent(agent, shutdown, out)?,
        Command::Relay(relay) => run_relay(relay, shutdown, out)?,
        Command::Store(store) => run_store(store, shutdown, out)?,
        Command::Judge(judge) => run_judge(judge, shutdown, out)?,
        Command::Alarm(alarm) => run_alarm(alarm, shutdown, out)?,
        Command::Demo(demo) => run_demo(demo, shutdown, out)?,
    }
    out.flush().map_err(Error::Write)?;
    Ok(if shutdown.is_interrupted() { Outcome::Interrupted } else { Outcome::Done })
}

/// `monitor relay`: serves until the shutdown, then lets the forwarders drain.
fn run_relay(config: &RelayConfig, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let relay = Relay::start(config.clone(), shutdown)?;
    writeln!(out, "relay listening on {}", relay.local_addr()).map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;
    let stats = relay.join()?;
    tracing::info!(?stats, "relay stopped");
    Ok(())
}

/// `monitor store`: serves the relay and the query API until the shutdown.
fn run_store(command: &StoreCommand, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let store = std::sync::Arc::new(Store::open(command.options.clone())?);
    let server = serve(command.listen, std::sync::Arc::clone(&store), shutdown)?;
    let api = serve_http(command.http, router(store), shutdown)?;
    writeln!(out, "store listening on {}\nquery API on http://{}", server.local_addr(), api.local_addr())
        .map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;
    server.join()?;
    api.join()
}

/// `monitor judge`: serves the relay until the shutdown, posting each event to the alarm, or
/// printing it as a JSON line.
fn run_judge(command: &JudgeCommand, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let log = command.shard.log.clone();
    if let Some(dir) = log.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::file(dir))?;
    }
    if let Some(url) = &command.alarm {
        let alarm = Arc::new(RemoteAlarm::start(url, shutdown)?);
        let server = serve_judge(command.shard.clone(), Arc::clone(&alarm) as Arc<dyn EventSink>, shutdown)?;
        writeln!(out, "judge listening on {}, alerts to {url}", server.local_addr()).map_err(Error::Write)?;
        out.flush().map_err(Error::Write)?;
        server.join()?;
        alarm.join();
        return Ok(());
    }
    let (events, alerts) = mpsc::channel::<Event>();
    let server = serve_judge(command.shard.clone(), Arc::new(events), shutdown)?;
    writeln!(out, "judge listening on {}", server.local_addr()).map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;
    while !shutdown.is_stopped() {
        if let Ok(event) = alerts.recv_timeout(Duration::from_millis(200)) {
            // An Event has string keys and numbers only: serializing it cannot fail.
            let line = serde_json::to_string(&event).expect("an event serializes");
            writeln!(out, "{line}").map_err(Error::Write)?;
            out.flush().map_err(Error::Write)?;
        }
    }
    server.join()
}

/// `monitor alarm`: takes the judges' events over HTTP and tells the receivers, until the shutdown.
fn run_alarm(command: &AlarmCommand, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let (config, notifiers) = parse_alarm(&command.config).map_err(Error::BadOption)?;
    if let Some(dir) = command.journal.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::file(dir))?;
    }
    let alarm =
        start_alarm(config, notifiers, DispatchSettings::default(), Some(&command.journal), shutdown)?;
    let api = serve_http(command.listen, intake_router(alarm.core()), shutdown)?;
    writeln!(out, "alarm listening on http://{}", api.local_addr()).map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;
    api.join()?;
    alarm.join();
    Ok(())
}
