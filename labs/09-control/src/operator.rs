//! The operator's side of the master: a Unix socket where `control run` (or a script) starts a
//! job and follows it, one JSON object a line each way.
//!
//! ```text
//! → {"run":{"command":{…signed…},"options":{…}}}      ← {"job":{"id":…,"hosts":[…]}}
//!                                                     ← {"event":{"Sent":"web1"}} …
//!                                                     ← "over"
//! → {"follow":{"job":…}}                              (the same answers, from the start)
//! → "agents"                                          ← {"agents":[{"id":…,"addr":…,…}]}
//! ```
//!
//! A socket, not a port: only who may open the file (its owner: it is made `0600`) can ask, and
//! what is asked still runs only if an operator's key signed it. A job's answers end with `"over"`
//! once every host has ended; a connection that closes before that is a master that stopped, and
//! [`Following::next`] follows the job again on the master that comes back, which tells it the
//! job from the start ([`crate::gather::Gather`] takes replays in its stride).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;

use crate::command::SignedCommand;
use crate::error::Error;
use crate::master::{JobEvent, JobOptions};

/// What an operator asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Start a job and follow it.
    Run {
        /// The command, signed.
        command: SignedCommand,
        /// How to roll it out.
        options: JobOptions,
    },
    /// Follow a job already started: its events from the start.
    Follow {
        /// The job's id.
        job: u64,
    },
    /// The connected agents.
    Agents,
}

/// What the master answers, a line each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The job started (or found): its id and the hosts it names.
    Job {
        /// The command's id.
        id: u64,
        /// The hosts, in the order they are started.
        hosts: Vec<String>,
    },
    /// Something happened in it.
    Event(JobEvent),
    /// Every host has ended: nothing follows.
    Over,
    /// The connected agents.
    Agents(Vec<AgentLine>),
    /// The request was refused, and why.
    Error(String),
}

/// One connected agent, as the socket tells of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLine {
    /// Its id.
    pub id: String,
    /// Where it connects from.
    pub addr: String,
    /// When it connected, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// The longest line either side reads: a job's first answer names every host (50,000 ids of up to
/// 64 characters fit), and an event carries at most two capped outputs.
pub const MAX_LINE: usize = 8 << 20;

/// A connection to a master's operator socket.
#[derive(Debug)]
pub struct Operator {
    path: PathBuf,
    lines: Lines<BufReader<UnixStream>>,
}

impl Operator {
    /// Connects to the master's socket at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when no master listens there.
    pub async fn connect(path: &Path) -> Result<Operator, Error> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|err| Error::Api(format!("{}: {err} (is the master running?)", path.display())))?;
        Ok(Operator { path: path.to_owned(), lines: BufReader::new(stream).lines() })
    }

    /// Sends `request`.
    async fn ask(&mut self, request: &Request) -> Result<(), Error> {
        let mut line = serde_json::to_vec(request).expect("requests are plain data");
        line.push(b'\n');
        let stream = self.lines.get_mut().get_mut();
        stream.write_all(&line).await.map_err(|err| Error::Api(format!("{}: {err}", self.path.display())))
    }

    /// The next answer; `None` when the master closed the connection.
    async fn answer(&mut self) -> Result<Option<Answer>, Error> {
        let line = self
            .lines
            .next_line()
            .await
            .map_err(|err| Error::Api(format!("{}: {err}", self.path.display())))?;
        match line {
            None => Ok(None),
            Some(line) if line.len() > MAX_LINE => {
                Err(Error::Api(format!("an answer of {} bytes", line.len())))
            }
            Some(line) => serde_json::from_str(&line)
                .map(Some)
                .map_err(|err| Error::Api(format!("an answer that is not one: {err}"))),
        }
    }

    /// The agents connected to the master.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when the master cannot be asked or answers otherwise.
    pub async fn agents(mut self) -> Result<Vec<AgentLine>, Error> {
        self.ask(&Request::Agents).await?;
        match self.answer().await? {
            Some(Answer::Agents(agents)) => Ok(agents),
            Some(Answer::Error(why)) => Err(Error::Api(why)),
            other => Err(Error::Api(format!("expected the agents, got {other:?}"))),
        }
    }

    /// Starts a job of `command` rolled out as `options`, and follows it; a master that stops
    /// before the job is over is waited for up to `reattach`, and the job followed again there.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with the master's reason when it refuses the command (a signature it does
    /// not trust, a target that does not parse), or when it cannot be asked.
    pub async fn run(
        self,
        command: SignedCommand,
        options: JobOptions,
        reattach: Duration,
    ) -> Result<Following, Error> {
        self.start(Request::Run { command, options }, reattach).await
    }

    /// Follows job `job` already started.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when the master does not know the job, or cannot be asked.
    pub async fn follow(self, job: u64, reattach: Duration) -> Result<Following, Error> {
        self.start(Request::Follow { job }, reattach).await
    }

    async fn start(mut self, request: Request, reattach: Duration) -> Result<Following, Error> {
        self.ask(&request).await?;
        match self.answer().await? {
            Some(Answer::Job { id, hosts }) => Ok(Following { id, hosts, operator: Some(self), reattach }),
            Some(Answer::Error(why)) => Err(Error::Api(why)),
            Some(other) => Err(Error::Api(format!("expected a job, got {other:?}"))),
            None => Err(Error::Api("the master closed the connection".into())),
        }
    }
}

/// A job followed through the master's socket.
#[derive(Debug)]
pub struct Following {
    /// The command's id.
    pub id: u64,
    /// The hosts it names.
    pub hosts: Vec<String>,
    operator: Option<Operator>,
    reattach: Duration,
}

impl Following {
    /// The next event; `None` once the job is over. When the master stops first, its successor
    /// is waited for (up to the `reattach` time given) and the job followed again from the
    /// start: events come again, and a follower must take each host's first ending only.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when the master did not come back in time, or no longer knows the job.
    pub async fn next(&mut self) -> Result<Option<JobEvent>, Error> {
        loop {
            let Some(operator) = self.operator.as_mut() else { return Ok(None) };
            match operator.answer().await {
                Ok(Some(Answer::Event(event))) => return Ok(Some(event)),
                Ok(Some(Answer::Over)) => {
                    self.operator = None;
                    return Ok(None);
                }
                Ok(Some(Answer::Error(why))) => return Err(Error::Api(why)),
                Ok(Some(other)) => return Err(Error::Api(format!("expected an event, got {other:?}"))),
                // The master stopped mid-job.
                Ok(None) | Err(_) => {
                    let path = operator.path.clone();
                    self.operator = Some(self.again(&path).await?);
                }
            }
        }
    }

    /// Connects again and follows the job, until the reattach time runs out.
    async fn again(&self, path: &Path) -> Result<Operator, Error> {
        let deadline = tokio::time::Instant::now() + self.reattach;
        loop {
            let attempt = async {
                let mut operator = Operator::connect(path).await?;
                operator.ask(&Request::Follow { job: self.id }).await?;
                match operator.answer().await? {
                    Some(Answer::Job { .. }) => Ok(Some(operator)),
                    Some(Answer::Error(why)) => Err(Error::Api(why)),
                    _ => Ok(None),
                }
            };
            match attempt.await {
                Ok(Some(operator)) => return Ok(operator),
                // A master that answers but does not know the job will not learn it.
                Err(Error::Api(why)) if why.starts_with("no job") => return Err(Error::Api(why)),
                _ if tokio::time::Instant::now() >= deadline => {
                    return Err(Error::Api(format!(
                        "the master stopped during job {:016x} and was not back within {:?}",
                        self.id, self.reattach
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}
