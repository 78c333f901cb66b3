//! Dispatch: finds the workspace, turns the parsed command line into plain options and runs the
//! command. The clap types stop here.

use std::num::NonZeroUsize;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{Cli, Command};
use crate::cmd;
use crate::interrupt;
use crate::sandbox::Isolation;
use crate::workspace::Workspace;

/// Runs the command `cli` asks for and returns the exit code.
///
/// # Errors
///
/// Any error that stops the command; `main` prints it and picks the exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    interrupt::install();
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let ws = Workspace::discover(&cwd)?;
    match cli.command {
        None => cmd::status::run(&ws, cli.no_run, jobs(cli.jobs)),
        Some(Command::Test(args)) => cmd::test::run(
            &ws,
            &cmd::test::Options {
                lab: args.lab,
                stage: args.stage,
                reference: args.reference,
                jobs: jobs(args.jobs),
                timeout: args.timeout,
            },
        ),
        Some(Command::Watch(args)) => cmd::watch::run(
            &ws,
            &cmd::test::Options {
                lab: args.lab,
                stage: None,
                reference: false,
                jobs: jobs(args.jobs),
                timeout: args.timeout,
            },
        ),
        Some(Command::Bench(args)) => cmd::bench::run(
            &ws,
            &cmd::bench::Options { lab: args.lab, bench: args.bench, criterion_args: args.criterion_args },
        ),
        Some(Command::Grade(args)) => {
            let options = cmd::grade::Options {
                lab: args.lab,
                extra_tests: args.extra_tests,
                timeout: args.timeout,
                jobs: jobs(args.jobs),
                isolation: if args.no_sandbox { Isolation::ProcessGroup } else { Isolation::Sandbox },
                build_timeout: std::time::Duration::from_secs(args.build_timeout),
            };
            match (args.submission, args.class, args.out) {
                (Some(submission), _, _) => {
                    cmd::grade::one(&ws, &options, &submission, args.json, args.gradescope)
                }
                (None, Some(class), Some(out)) => cmd::grade::class(&ws, &options, &class, &out),
                // clap requires --submission or --class, and --out with --class.
                _ => anyhow::bail!("grade needs --submission DIR, or --class DIR --out FILE"),
            }
        }
        Some(Command::Verify(args)) => cmd::verify::run(
            &ws,
            &cmd::verify::Options {
                labs: args.labs,
                parity_only: args.parity_only,
                jobs: jobs(args.jobs),
                timeout: args.timeout,
            },
        ),
        Some(Command::List(args)) => cmd::list::run(
            &ws,
            if args.packages {
                cmd::list::Listing::Packages
            } else if args.references {
                cmd::list::Listing::References
            } else {
                cmd::list::Listing::Labs
            },
        ),
        Some(Command::Export(args)) => cmd::export::run(&ws, &args.dir),
        Some(Command::Clean(args)) => cmd::clean::run(
            &ws,
            if args.grading { cmd::clean::Scope::Grading } else { cmd::clean::Scope::All },
        ),
        Some(Command::Mutants(args)) => cmd::mutants::run(&ws, &args.lab, &args.extra),
        Some(Command::RunMany(args)) => cmd::run_many::run(
            &ws,
            &cmd::run_many::Options {
                runs: args.runs.get(),
                lab: args.tests.lab,
                stage: args.tests.stage,
                reference: args.tests.reference,
                jobs: jobs(args.tests.jobs),
                timeout: args.tests.timeout,
            },
        ),
    }
}

/// `--jobs`, or the number of CPUs.
fn jobs(jobs: Option<NonZeroUsize>) -> usize {
    jobs.or_else(|| std::thread::available_parallelism().ok()).map_or(1, NonZeroUsize::get)
}
