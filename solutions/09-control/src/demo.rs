//! `control demo`, the lab's main job on one machine: a master and a swarm of simulated agents
//! on loopback, one command broadcast to all of them, every result gathered, and what it took.
//! Also `control swarm`, the swarm alone, for a master of its own.

use std::io::Write;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::command::{Command, SignedCommand};
use crate::config::{DemoCommand, SwarmCommand};
use crate::error::Error;
use crate::follow::progress_bar;
use crate::gather::Gather;
use crate::keys::{Identity, KeyStore};
use crate::master::{JobEvent, JobOptions, Master, MasterConfig};
use crate::swarm::{Swarm, SwarmConfig, loopback_sources, raise_fd_limit};

/// How many agents a source address carries at most: well under the 28,000 ephemeral ports one
/// address has.
const AGENTS_PER_SOURCE: usize = 10_000;

/// Runs the demo: a master, `command.agents` simulated agents, one broadcast. Returns early, with
/// what it has, on `shutdown`.
///
/// # Errors
///
/// When the master cannot start, or `out` cannot be written.
pub async fn demo(
    command: &DemoCommand,
    shutdown: &CancellationToken,
    out: &mut dyn Write,
) -> Result<(), Error> {
    // Each agent is a connection at both ends, in this one process.
    room_for(command.agents, 2)?;
    let dir = scratch_dir()?;
    let operator = Identity::generate();
    let mut config = MasterConfig::new(Identity::generate(), KeyStore::open(&dir.join("keys"))?);
    config.auto_accept = true;
    config.operators = vec![operator.public()];
    config.audit = Some(dir.join("audit.log"));
    let master = Master::bind("127.0.0.1:0".parse().expect("an address"), config.clone()).await?;
    let addr = master.local_addr()?;
    let handle = master.handle();
    let stop = shutdown.child_token();
    let master_task = tokio::spawn(master.run(stop.clone()));
    writeln!(out, "master on {addr}").map_err(Error::Write)?;

    let mut swarm_config = SwarmConfig::new(command.agents, addr, config.identity.public());
    swarm_config.operators = vec![operator.public()];
    swarm_config.sources = loopback_sources(command.agents.div_ceil(AGENTS_PER_SOURCE).max(1));
    let started = Instant::now();
    let swarm = Swarm::start(&swarm_config, &stop);
    let connecting =
        progress_bar(command.agents, true, "{elapsed:>4} [{bar:30}] {pos}/{len} agents connected");
    while handle.agents().len() < command.agents {
        connecting.set_position(handle.agents().len() as u64);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
            () = shutdown.cancelled() => return stop_all(stop, master_task, swarm).await,
        }
    }
    connecting.finish_and_clear();
    writeln!(
        out,
        "{} agents connected in {:.1} s, dialing from {} loopback address(es); each one a Noise handshake and an enrolment",
        command.agents,
        started.elapsed().as_secs_f64(),
        swarm_config.sources.len()
    )
    .map_err(Error::Write)?;

    let body = Command::new(
        &command.target,
        &command.program,
        &command.args,
        Duration::from_secs(600),
        Duration::from_secs(60),
    );
    let signed = SignedCommand::sign(&body, &operator);
    let sent = Instant::now();
    let options = JobOptions {
        batch: None,
        failure_budget: None,
        wait: Duration::from_secs(10),
        probe: Duration::from_secs(5),
    };
    let mut job = handle.start(&signed, &options).map_err(|refusal| Error::Api(refusal.to_string()))?;
    let mut gather = Gather::new(job.hosts.clone(), sent);
    let bar = progress_bar(job.hosts.len(), true, "{elapsed:>4} [{bar:30}] {pos}/{len} results");
    let mut last = sent;
    loop {
        let event = tokio::select! {
            event = job.next() => event,
            () = shutdown.cancelled() => None,
        };
        let Some(event) = event else { break };
        if matches!(event, JobEvent::Ended(..)) {
            last = Instant::now();
        }
        gather.record(&event, Instant::now());
        bar.set_position(gather.ended() as u64);
    }
    bar.finish_and_clear();
    writeln!(
        out,
        "broadcast to {} agents, last result {:.0} ms after the send",
        job.hosts.len(),
        (last - sent).as_secs_f64() * 1000.0
    )
    .map_err(Error::Write)?;
    write!(out, "{}", gather.report(Instant::now(), 5, 3)).map_err(Error::Write)?;
    if let Some(rss) = resident_kib() {
        writeln!(out, "this process (master and swarm together): {:.1} MiB resident", rss as f64 / 1024.0)
            .map_err(Error::Write)?;
    }
    out.flush().map_err(Error::Write)?;
    stop_all(stop, master_task, swarm).await?;
    std::fs::remove_dir_all(&dir).map_err(Error::file(&dir))
}

/// Runs a swarm for a master of its own until `shutdown`, saying when every agent is connected.
///
/// # Errors
///
/// When `out` cannot be written, or there are not files enough for the agents.
pub async fn swarm(
    command: &SwarmCommand,
    shutdown: &CancellationToken,
    out: &mut dyn Write,
) -> Result<(), Error> {
    room_for(command.config.agents, 1)?;
    let started = Instant::now();
    let swarm = Swarm::start(&command.config, shutdown);
    let mut told = false;
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
            () = shutdown.cancelled() => break,
        }
        let connected = swarm.connected();
        if !told && connected == swarm.len() {
            told = true;
            writeln!(out, "{connected} agents connected in {:.1} s", started.elapsed().as_secs_f64())
                .map_err(Error::Write)?;
            out.flush().map_err(Error::Write)?;
        }
    }
    swarm.join().await;
    Ok(())
}

async fn stop_all(
    stop: CancellationToken,
    master: tokio::task::JoinHandle<()>,
    swarm: Swarm,
) -> Result<(), Error> {
    stop.cancel();
    let _ = master.await;
    swarm.join().await;
    Ok(())
}

/// Raises the file limit and checks that it leaves room for `agents` agents of `files_each`
/// descriptors each, and a hundred more for everything else.
fn room_for(agents: usize, files_each: usize) -> Result<(), Error> {
    let limit = raise_fd_limit().map_err(Error::sys("setrlimit"))?;
    let room = usize::try_from(limit).unwrap_or(usize::MAX).saturating_sub(100) / files_each;
    match agents <= room {
        true => Ok(()),
        false => Err(Error::BadOption(format!(
            "--agents {agents}: this process may open {limit} files, room for {room} agents"
        ))),
    }
}

/// A new directory for the demo's key store and audit log.
fn scratch_dir() -> Result<std::path::PathBuf, Error> {
    let dir = std::env::temp_dir().join(format!("control-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(Error::file(&dir))?;
    Ok(dir)
}

/// This process's resident memory in KiB, from /proc.
pub fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
