//! Command runs and every host's result. A run is written with the list of hosts it was sent to,
//! before anything is sent, and each result as it comes, in batches: so after a crash, a run's
//! hosts without a result are known, and the run is marked incomplete with them listed, never
//! taken for whole.

use sqlx::any::AnyRow;
use sqlx::{Any, QueryBuilder, Row};

use super::{Millis, RecordError, Records, Result, check, dialect};

/// How a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Results are still coming.
    Running,
    /// Ended with a result from every host.
    Complete,
    /// Ended with some host's result missing (the platform stopped, or the run was cut short).
    Incomplete,
}

impl RunState {
    /// The state as the records spell it.
    pub fn as_str(&self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Complete => "complete",
            RunState::Incomplete => "incomplete",
        }
    }

    /// The state spelled `text`, if any.
    pub fn parse(text: &str) -> Option<RunState> {
        match text {
            "running" => Some(RunState::Running),
            "complete" => Some(RunState::Complete),
            "incomplete" => Some(RunState::Incomplete),
            _ => None,
        }
    }
}

/// A run to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// Who ran it.
    pub user: String,
    /// The target expression it was run on.
    pub target: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// The hosts the target matched: the run expects a result from each.
    pub hosts: Vec<String>,
    /// When it started.
    pub started: Millis,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Its id, given by the records, increasing.
    pub id: i64,
    /// Who ran it.
    pub user: String,
    /// The target expression it was run on.
    pub target: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// When it started.
    pub started: Millis,
    /// When it ended, once it has.
    pub ended: Option<Millis>,
    /// How it stands.
    pub state: RunState,
    /// How many hosts it was sent to.
    pub hosts: i64,
    /// How many of their results are recorded.
    pub results: i64,
}

/// One host's result of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResult {
    /// The host.
    pub host: String,
    /// How it ended, as lab 09 names it (`done`, `failed`, `timeout`, `unreachable`, ...).
    pub status: String,
    /// The program's exit code, when it ran to an exit.
    pub exit_code: Option<i64>,
    /// What it wrote, cut to [`check::MAX_OUTPUT`] bytes.
    pub output: String,
    /// When the result came.
    pub ended: Millis,
}

impl Records {
    /// Records a run and the hosts it is for, in one transaction, and returns its id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad user (`run.user`), target (`run.target`), an empty
    /// command (`run.command`) or a bad host name (`run.hosts`); nothing is written then.
    pub async fn start_run(&self, run: &NewRun) -> Result<i64> {
        check::name("run.user", &run.user)?;
        check::text("run.target", &run.target)?;
        if run.command.is_empty() {
            return Err(check::invalid("run.command", "is empty"));
        }
        let command = serde_json::to_string(&run.command)
            .map_err(|err| check::invalid("run.command", err.to_string()))?;
        check::text("run.command", &command)?;
        let mut hosts: Vec<&str> = run.hosts.iter().map(String::as_str).collect();
        for host in &hosts {
            check::name("run.hosts", host)?;
        }
        hosts.sort_unstable();
        hosts.dedup();
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO runs (user_name, target, command, started, state, host_count) VALUES (?, ?, ?, ?, 'running', ?)",
        )
        .bind(&run.user)
        .bind(&run.target)
        .bind(&command)
        .bind(run.started)
        .bind(hosts.len() as i64)
        .execute(&mut *tx)
        .await?;
        let id = match inserted.last_insert_id() {
            Some(id) => id,
            None => sqlx::query_scalar("SELECT MAX(id) FROM runs").fetch_one(&mut *tx).await?,
        };
        for chunk in dialect::batches(&hosts, 2, |host| host.len() + 8) {
            let mut insert = QueryBuilder::<Any>::new("INSERT INTO run_hosts (run_id, host) ");
            insert.push_values(chunk, |mut row, host| {
                row.push_bind(id).push_bind(*host);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Records a batch of results of run `run`, in one transaction: a few statements, however
    /// many results. A host's result that is recorded already is kept, and the new one dropped
    /// (a result told again after a restart is the same result). Returns how many were new.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when the run has no such host (nothing of the batch is written
    /// then), [`RecordError::Invalid`] for an empty status (`result.status`).
    pub async fn record_results(&self, run: i64, results: &[HostResult]) -> Result<usize> {
        for result in results {
            check::name("result.status", &result.status)?;
        }
        let outputs: Vec<String> = results.iter().map(|result| check::output(&result.output)).collect();
        let rows: Vec<(&HostResult, &String)> = results.iter().zip(&outputs).collect();
        let mut tx = self.write().await?;
        // What a batch added is what it changed the count by: the two backends count a row kept
        // by `keep_existing` differently.
        let count = "SELECT COUNT(*) FROM run_results WHERE run_id = ?";
        let before: i64 = sqlx::query_scalar(count).bind(run).fetch_one(&mut *tx).await?;
        for chunk in dialect::batches(&rows, 6, |(result, output)| {
            result.host.len() + result.status.len() + output.len() + 24
        }) {
            let mut insert = QueryBuilder::<Any>::new(
                "INSERT INTO run_results (run_id, host, status, exit_code, output, ended) ",
            );
            insert.push_values(chunk, |mut row, (result, output)| {
                row.push_bind(run)
                    .push_bind(result.host.as_str())
                    .push_bind(result.status.as_str())
                    .push_bind(result.exit_code)
                    .push_bind(output.as_str())
                    .push_bind(result.ended);
            });
            insert.push(dialect::keep_existing(self.backend(), "run_id"));
            insert.build().execute(&mut *tx).await.map_err(|err| {
                if dialect::is_missing_reference(&err) {
                    RecordError::NotFound { what: "host in run", key: run.to_string() }
                } else {
                    RecordError::Database(err)
                }
            })?;
        }
        let after: i64 = sqlx::query_scalar(count).bind(run).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok((after - before) as usize)
    }

    /// Ends run `run` at `ended`: complete when every host's result is recorded, incomplete
    /// otherwise. Returns the state it ended in. Ending a run that has ended changes nothing.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is no such run.
    pub async fn finish_run(&self, run: i64, ended: Millis) -> Result<RunState> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT state, host_count FROM runs WHERE id = ?")
            .bind(run)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Err(RecordError::NotFound { what: "run", key: run.to_string() }) };
        let state: String = row.try_get("state")?;
        if let Some(state) = RunState::parse(&state).filter(|state| *state != RunState::Running) {
            return Ok(state);
        }
        let expected: i64 = row.try_get("host_count")?;
        let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM run_results WHERE run_id = ?")
            .bind(run)
            .fetch_one(&mut *tx)
            .await?;
        let state = if recorded >= expected { RunState::Complete } else { RunState::Incomplete };
        sqlx::query("UPDATE runs SET state = ?, ended = ? WHERE id = ?")
            .bind(state.as_str())
            .bind(ended)
            .bind(run)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(state)
    }

    /// Run `run`, with how many results it has.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn run(&self, run: i64) -> Result<Option<Run>> {
        let mut select = QueryBuilder::<Any>::new(RUN_COLUMNS);
        select.push(" WHERE r.id = ").push_bind(run);
        let row = select.build().fetch_optional(self.pool()).await?;
        row.map(|row| run_of(&row)).transpose()
    }

    /// The newest `limit` runs, newest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn runs(&self, limit: u32) -> Result<Vec<Run>> {
        let mut select = QueryBuilder::<Any>::new(RUN_COLUMNS);
        select.push(" ORDER BY r.id DESC LIMIT ").push_bind(i64::from(limit));
        let rows = select.build().fetch_all(self.pool()).await?;
        rows.iter().map(run_of).collect()
    }

    /// The runs still running, oldest first: after a restart, the ones the platform was following.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn unfinished_runs(&self) -> Result<Vec<Run>> {
        let mut select = QueryBuilder::<Any>::new(RUN_COLUMNS);
        select.push(" WHERE r.state = 'running' ORDER BY r.id");
        let rows = select.build().fetch_all(self.pool()).await?;
        rows.iter().map(run_of).collect()
    }

    /// The results of run `run`, by host.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn results(&self, run: i64) -> Result<Vec<HostResult>> {
        let rows = sqlx::query(
            "SELECT host, status, exit_code, output, ended FROM run_results WHERE run_id = ? ORDER BY host",
        )
        .bind(run)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(HostResult {
                    host: row.try_get("host")?,
                    status: row.try_get("status")?,
                    exit_code: row.try_get("exit_code")?,
                    output: row.try_get("output")?,
                    ended: row.try_get("ended")?,
                })
            })
            .collect()
    }

    /// The hosts of run `run` with no result recorded, sorted.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn missing_hosts(&self, run: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT h.host FROM run_hosts h LEFT JOIN run_results r ON r.run_id = h.run_id AND r.host = h.host \
             WHERE h.run_id = ? AND r.host IS NULL ORDER BY h.host",
        )
        .bind(run)
        .fetch_all(self.pool())
        .await?)
    }

    /// Records that run `run` is the control master's job `job`.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is no such run, [`RecordError::Conflict`] when it has
    /// a job already.
    pub async fn set_run_job(&self, run: i64, job: u64) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO run_jobs (run_id, job) VALUES (?, ?)")
            .bind(run)
            .bind(job.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|err| {
                if dialect::is_missing_reference(&err) {
                    RecordError::NotFound { what: "run", key: run.to_string() }
                } else if dialect::is_conflict(&err) {
                    RecordError::Conflict { what: "job of run", key: run.to_string() }
                } else {
                    RecordError::Database(err)
                }
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// The control master's job that run `run` is, if one was recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails, or the job recorded is not a number.
    pub async fn run_job(&self, run: i64) -> Result<Option<u64>> {
        let job: Option<String> = sqlx::query_scalar("SELECT job FROM run_jobs WHERE run_id = ?")
            .bind(run)
            .fetch_optional(self.pool())
            .await?;
        job.map(|job| job.parse().map_err(|_| check::invalid("run.job", format!("{job:?} is not a job id"))))
            .transpose()
    }

    /// Adds hosts to run `run` (the ones the control master chose), keeping those it has.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad host name (`run.hosts`), [`RecordError::NotFound`] when
    /// there is no such run.
    pub async fn add_run_hosts(&self, run: i64, hosts: &[String]) -> Result<()> {
        for host in hosts {
            check::name("run.hosts", host)?;
        }
        let mut tx = self.write().await?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM runs WHERE id = ?").bind(run).fetch_optional(&mut *tx).await?;
        if found.is_none() {
            return Err(RecordError::NotFound { what: "run", key: run.to_string() });
        }
        for chunk in dialect::batches(hosts, 2, |host| host.len() + 8) {
            let mut insert = QueryBuilder::<Any>::new("INSERT INTO run_hosts (run_id, host) ");
            insert.push_values(chunk, |mut row, host| {
                row.push_bind(run).push_bind(host.as_str());
            });
            insert.push(dialect::keep_existing(self.backend(), "run_id"));
            insert.build().execute(&mut *tx).await?;
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM run_hosts WHERE run_id = ?")
            .bind(run)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("UPDATE runs SET host_count = ? WHERE id = ?")
            .bind(count)
            .bind(run)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The columns of a run, with its count of results.
const RUN_COLUMNS: &str = "SELECT r.id, r.user_name, r.target, r.command, r.started, r.ended, r.state, r.host_count, \
     (SELECT COUNT(*) FROM run_results x WHERE x.run_id = r.id) AS results FROM runs r";

/// A run from its row.
fn run_of(row: &AnyRow) -> Result<Run> {
    let command: String = row.try_get("command")?;
    let state: String = row.try_get("state")?;
    Ok(Run {
        id: row.try_get("id")?,
        user: row.try_get("user_name")?,
        target: row.try_get("target")?,
        command: serde_json::from_str(&command)
            .map_err(|err| check::invalid("run.command", err.to_string()))?,
        started: row.try_get("started")?,
        ended: row.try_get("ended")?,
        state: RunState::parse(&state)
            .ok_or_else(|| check::invalid("run.state", format!("unknown state {state:?}")))?,
        hosts: row.try_get("host_count")?,
        results: row.try_get("results")?,
    })
}
