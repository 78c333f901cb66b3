//! The `mapreduce` command: parse the arguments, run the job, print or write the output. Run as
//! `mapreduce worker`, it is a worker process serving tasks on stdin/stdout.

mod cli;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, JobName, ModeName};
use mapreduce::{Config, JobSpec, Mode, ProcessOptions, WorkerCommand};

fn main() -> ExitCode {
    // The hidden worker mode: the coordinator starts this same binary with `worker`.
    if std::env::args_os().nth(1).is_some_and(|arg| arg == "worker") {
        return match mapreduce::serve_worker(io::stdin().lock(), io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("mapreduce worker: {err}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err)
            if err.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            // Every message already names its cause: print it once, not the whole source chain.
            eprintln!("mapreduce: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let spec = match cli.job {
        JobName::Wordcount => JobSpec::WordCount,
        JobName::TopUrls => JobSpec::TopUrls,
        JobName::Status => JobSpec::Status,
        JobName::Index => JobSpec::Index,
    };
    let mode = match cli.mode {
        ModeName::Threads => Mode::Threads,
        ModeName::Processes => {
            let exe = std::env::current_exe()
                .map_err(|err| anyhow::anyhow!("cannot find this program to start workers: {err}"))?;
            Mode::Processes(ProcessOptions::new(WorkerCommand::new(exe).arg("worker")))
        }
    };
    let config = Config {
        workers: cli.workers.max(1),
        reducers: cli.reducers.max(1),
        memory: cli.memory << 20,
        split_size: cli.split.max(1) << 20,
        mode,
        spill_dir: None,
    };
    let job = spec.job(&cli.files);
    let output = mapreduce::run(job.as_ref(), &cli.files, &config)?;
    if cli.stats {
        let s = &output.stats;
        eprintln!(
            "map {:.3}s (spill {:.3}s, {} spills, {} bytes) reduce {:.3}s; {} tasks, {} attempts, {} records, {} pairs emitted, {} shuffled, {} runs merged, {} failures, {} reruns, {} backups",
            s.map_time.as_secs_f64(),
            s.spill_time.as_secs_f64(),
            s.spills,
            s.spill_bytes,
            s.reduce_time.as_secs_f64(),
            s.map_tasks,
            s.map_attempts,
            s.records,
            s.emitted,
            s.shuffled,
            s.runs_merged,
            s.worker_failures,
            s.reruns,
            s.backups,
        );
    }
    if let Some(dir) = &cli.out {
        std::fs::create_dir_all(dir)
            .map_err(|err| anyhow::anyhow!("cannot create {}: {err}", dir.display()))?;
        for (reducer, pairs) in output.partitions.iter().enumerate() {
            let path = dir.join(format!("part-{reducer:05}"));
            let file = std::fs::File::create(&path)
                .map_err(|err| anyhow::anyhow!("cannot create {}: {err}", path.display()))?;
            let mut out = BufWriter::new(file);
            for (key, value) in pairs {
                writeln!(out, "{key}\t{value}")?;
            }
            out.flush().map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
        }
        return Ok(());
    }
    let mut out = BufWriter::new(io::stdout().lock());
    if let JobName::TopUrls = cli.job {
        for (url, count) in mapreduce::top_n(&output.merged(), 10) {
            writeln!(out, "{url}\t{count}")?;
        }
    } else {
        for (key, value) in output.merged() {
            writeln!(out, "{key}\t{value}")?;
        }
    }
    out.flush()?;
    Ok(())
}
