//! The command line of `cargo lab`, as clap derive structs.
//!
//! These types stop at [`crate::app`]: it turns them into calls with plain arguments, so no other module
//! depends on clap.

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  cargo lab                                  every lab's progress, and what to do next
  cargo lab test logstat                     run lab 1's graded tests
  cargo lab test 1 --stage parse             only its first stage
  cargo lab watch logstat                    test again at every save
  cargo lab bench logstat -- --quick         your medians against the reference's
  cargo lab grade logstat --submission ../alice --json
  cargo lab grade logstat --class subs/ --out grades.csv --timeout 10
  cargo lab verify                           what CI checks of every lab
  cargo lab run-many logstat -n 50 --reference
  cargo lab list --packages                  the student packages, one a line (for scripts)
  cargo lab clean --grading                  free the grading workspace's build
  cargo lab export ../class-2027             the class template: the course without solutions/

Results go to stdout, progress to stderr. Results are cached in target/lab/results/.";

/// Test, benchmark, grade and verify the course's labs.
///
/// With no command, shows every lab's progress stage by stage and what to do next. Labs are the
/// folders `labs/*/` that hold a `lab.toml`; a LAB argument is a lab's package name (`logstat`), its
/// folder name (`01-logstat`) or its number (`1`).
///
/// Each graded test runs in its own process group with a time limit and a memory limit, so a test
/// that hangs, crashes or eats memory fails alone.
///
/// Exit status: 0 when everything passed, 1 when a test failed or something went wrong, 2 on a usage
/// error (an unknown lab or stage, a missing directory).
#[derive(Debug, Parser)]
#[command(
    name = "cargo-lab",
    bin_name = "cargo lab",
    version,
    args_conflicts_with_subcommands = true,
    after_long_help = EXAMPLES
)]
pub struct Cli {
    /// What to do; without one, show the progress table.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Draw the progress table from cached results only, never running tests.
    #[arg(long)]
    pub no_run: bool,

    /// Test processes to run at once when refreshing stale results [default: number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

/// The commands of `cargo lab`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a lab's graded tests and show what fails, stage by stage.
    ///
    /// Builds the lab's test targets, runs every graded test in its own process and prints each
    /// stage's result, the failing tests, and for the first failing stage its hint, its book section
    /// and the first failure's message. Exits 0 only when every test passes. Testing your crate
    /// (not --reference) also updates the results behind `cargo lab`.
    Test(TestArgs),

    /// Test the stage you are working on each time you save a file of the lab.
    ///
    /// Tests every stage once, then waits; each save of a `.rs` or `.toml` file under the lab's
    /// folder tests the first failing stage again, and when that stage passes, the whole lab, to
    /// find the next one. Ctrl-C stops watching.
    Watch(WatchArgs),

    /// Benchmark a lab against its reference solution.
    ///
    /// Runs every bench target of the lab (criterion) for your crate and for the reference, and prints
    /// each benchmark's median time side by side with the ratio yours/reference. A benchmark whose code
    /// is still `todo!()` is reported as not implemented (and the exit status is 1). Criterion's own
    /// output goes to stderr; its files are kept apart in `target/lab/bench/{yours,reference}`.
    Bench(BenchArgs),

    /// Grade a submission (or a whole class) in a separate, pristine workspace.
    ///
    /// Only the submission's `labs/<lab>/src/` is taken (its `.rs` files); tests, benches, manifests
    /// and Cargo.toml stay the course's own, and changes to them are reported and ignored. Each stage's
    /// weight is split evenly over its tests. The grading workspace is kept in
    /// `target/lab/grade/` so that grading again is incremental.
    ///
    /// A submission that does not compile, or has no `labs/<lab>/src/`, scores zero with the reason in
    /// its report. Exits 0 whenever a grade was produced, whatever the score; with --class, 1 when the
    /// harness itself failed on some student (the gradebook says which).
    #[command(group(ArgGroup::new("source").required(true).args(["submission", "class"])))]
    Grade(GradeArgs),

    /// Check that every lab is sound: parity with the reference, the reference passes, the skeleton
    /// fails, no warnings.
    ///
    /// For each lab (or the named ones), first the parity check, which builds nothing: the lab's
    /// `src/` and the reference's hold the same files (but the extras lab.toml's `[files]` declares),
    /// the given files are byte-identical, every other shared file has the same public items with the
    /// same signatures and doc comments (only bodies and private items differ), the two Cargo.toml
    /// have the same dependencies, `tests/`, the stages and the reference's `[[test]]` list name the same
    /// targets, no skeleton carries a book anchor and every anchor of the reference is quoted. Then:
    /// the reference passes every graded test; the skeleton (the student crate as committed) fails
    /// every graded test, each one on its own (a test it passes asserts nothing); the skeleton builds
    /// without warnings. Verifying every lab also checks that each `{{#include}}` of the book
    /// resolves. Exits 1 if anything is off, naming the file and the item.
    Verify(VerifyArgs),

    /// List the labs: number, package, reference, folder and title.
    ///
    /// With --packages (or --references), print only the student (or reference) packages' names,
    /// one a line, for scripts. Exits 1 when a lab's manifest is broken (named on stderr).
    List(ListArgs),

    /// Write the class template: the course without its reference solutions, ready to hand out.
    ///
    /// Copies the course's files (what git tracks) to DIR, leaving out `solutions/` and `.ci/`; fixes
    /// the root Cargo.toml's members and the lock file so that the template builds as it is; and
    /// replaces the book's quotations of the references with a line saying they are left out.
    /// `cargo lab` and `cargo lab test` work in the template; grade what students make of it from
    /// the full course with `cargo lab grade`.
    Export(ExportArgs),

    /// Free the harness's files under `<target>/lab`.
    ///
    /// The cached results behind the progress table, the grading workspace and its build, and the
    /// benchmarks' files. Cargo's own builds are `cargo clean`'s.
    Clean(CleanArgs),

    /// Run every graded test many times and report any that ever failed.
    ///
    /// Builds once, then runs each test N times. Flakiness is a bug: a test that fails once in a
    /// hundred runs will fail a student's grading one day.
    RunMany(RunManyArgs),

    /// Mutation testing: which changes to a lab's reference do its graded tests fail to notice?
    ///
    /// Runs `cargo mutants` (install it with `cargo install --locked cargo-mutants`) on the lab's
    /// reference, leaving out the files lab.toml declares given. Each mutant is a small change to the
    /// reference (a `<` made `<=`, a function body replaced by a default); the graded tests should
    /// fail on every one. A mutant they pass is either a missing test or a change no behaviour can
    /// show (the chapter's instructor notes list those, with the reason). Results go to
    /// `<target>/lab/mutants/<lab>/mutants.out`; arguments after `--` go to cargo-mutants, e.g.
    /// `-- --iterate` to retest only what was missed, or `-- --list` to see the mutants. Exits with
    /// cargo-mutants' code: 0 when every mutant was caught, 2 when some were missed, 3 on timeouts.
    Mutants(MutantsArgs),
}

/// Arguments of `cargo lab test`, and the tests `cargo lab run-many` repeats.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The lab: package name, folder name or number.
    #[arg(value_name = "LAB")]
    pub lab: String,

    /// Run only this stage (its `id` in lab.toml, e.g. `parse`).
    #[arg(long, value_name = "ID")]
    pub stage: Option<String>,

    /// Test the reference solution instead of your crate.
    #[arg(long)]
    pub reference: bool,

    /// Test processes to run at once [default: number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Time limit of one test, in seconds [default: the lab's test_timeout_secs].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

/// Arguments of `cargo lab watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The lab: package name, folder name or number.
    #[arg(value_name = "LAB")]
    pub lab: String,

    /// Test processes to run at once [default: number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Time limit of one test, in seconds [default: the lab's test_timeout_secs].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

/// Arguments of `cargo lab bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The lab: package name, folder name or number.
    #[arg(value_name = "LAB")]
    pub lab: String,

    /// Run only this bench target (a file in the lab's benches/, without `.rs`).
    #[arg(long, value_name = "NAME")]
    pub bench: Option<String>,

    /// Arguments passed on to criterion, e.g. `-- --quick` or `-- parse_line`.
    #[arg(last = true, value_name = "CRITERION_ARGS")]
    pub criterion_args: Vec<String>,
}

/// Arguments of `cargo lab grade`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// The lab: package name, folder name or number.
    #[arg(value_name = "LAB")]
    pub lab: String,

    /// A student's checkout of the course workspace; its `labs/<lab>/src/` is graded.
    #[arg(long, value_name = "DIR")]
    pub submission: Option<PathBuf>,

    /// A folder with one checkout per student (the sub-folder's name is the student's name).
    #[arg(long, value_name = "DIR", requires = "out")]
    pub class: Option<PathBuf>,

    /// With --class: the CSV gradebook to write; feedback goes to `<stem>-feedback/<student>.txt`.
    #[arg(long, value_name = "FILE", requires = "class")]
    pub out: Option<PathBuf>,

    /// Print the report as JSON instead of text.
    #[arg(long, conflicts_with = "class")]
    pub json: bool,

    /// Also write Gradescope's results.json format to FILE [default: results.json].
    #[arg(
        long,
        value_name = "FILE",
        num_args = 0..=1,
        default_missing_value = "results.json",
        conflicts_with = "class"
    )]
    pub gradescope: Option<PathBuf>,

    /// A folder of extra test files (`*.rs`) graded as one more stage, `extra`.
    ///
    /// They are copied into the grading workspace only, never into the student's tree. The stage's
    /// weight is read from `DIR/extra.toml` (`weight = N`); without it each test is worth 1 point.
    #[arg(long, value_name = "DIR")]
    pub extra_tests: Option<PathBuf>,

    /// Time limit of every test, in seconds [default: 10 times what the reference's test took, at least
    /// 2 s, at most the lab's test_timeout_secs].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,

    /// Test processes to run at once [default: number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Run the tests without a sandbox, where bubblewrap cannot run.
    ///
    /// By default each test runs in a bubblewrap sandbox (new PID and network namespaces, the file
    /// system read-only, a private /tmp), and grading refuses to start where none can be made.
    /// Without it a submission can reach what the grader's user can: use it only for code you
    /// trust. Every report then says that it was graded without a sandbox.
    #[arg(long)]
    pub no_sandbox: bool,

    /// Time limit of one student's build, in seconds.
    ///
    /// The course's dependencies are built once before the first student, so a student's build is
    /// their crate and the tests only; one that runs longer (a constant evaluated at compile time
    /// that never ends) is stopped and scores 0, with the reason.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub build_timeout: u64,
}

/// Arguments of `cargo lab verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The labs to verify [default: every lab].
    #[arg(value_name = "LAB")]
    pub labs: Vec<String>,

    /// Only the parity checks and the book's includes: no build, no tests (seconds, not minutes).
    #[arg(long)]
    pub parity_only: bool,

    /// Test processes to run at once [default: number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Time limit of one test, in seconds [default: the lab's test_timeout_secs].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

/// Arguments of `cargo lab list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print only the student packages' names, one a line.
    #[arg(long, conflicts_with = "references")]
    pub packages: bool,

    /// Print only the reference packages' names, one a line.
    #[arg(long)]
    pub references: bool,
}

/// Arguments of `cargo lab export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write the template: a folder that does not exist yet, or an empty one.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Arguments of `cargo lab clean`.
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Free only the grading workspace and its build (`<target>/lab/grade`).
    #[arg(long)]
    pub grading: bool,
}

/// Arguments of `cargo lab run-many`.
#[derive(Debug, Args)]
pub struct RunManyArgs {
    /// How many times to run each test.
    #[arg(short = 'n', value_name = "N")]
    pub runs: NonZeroUsize,

    /// Which tests, and how (as for `cargo lab test`).
    #[command(flatten)]
    pub tests: TestArgs,
}

/// Arguments of `cargo lab mutants`.
#[derive(Debug, Args)]
pub struct MutantsArgs {
    /// The lab: package name, folder name or number.
    #[arg(value_name = "LAB")]
    pub lab: String,

    /// Further arguments for cargo-mutants.
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<OsString>,
}

/// The process arguments, without the `lab` that cargo inserts when it runs `cargo-lab` as the
/// subcommand `cargo lab`.
pub fn args() -> Vec<OsString> {
    strip_subcommand_name(std::env::args_os().collect())
}

fn strip_subcommand_name(mut args: Vec<OsString>) -> Vec<OsString> {
    if args.get(1).is_some_and(|arg| arg == "lab") {
        args.remove(1);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        Cli::try_parse_from(strip_subcommand_name(args))
    }

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn skips_the_cargo_subcommand_name() {
        let cli = parse(&["cargo-lab", "lab", "test", "logstat"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Test(ref t)) if t.lab == "logstat"));
        let cli = parse(&["cargo-lab", "test", "1", "--stage", "parse"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Test(ref t)) if t.stage.as_deref() == Some("parse")));
    }

    #[test]
    fn no_command_is_the_status_table() {
        let cli = parse(&["cargo-lab", "--no-run"]).unwrap();
        assert!(cli.command.is_none() && cli.no_run);
    }

    #[test]
    fn grade_needs_exactly_one_source() {
        assert!(parse(&["cargo-lab", "grade", "logstat"]).is_err());
        assert!(parse(&["cargo-lab", "grade", "logstat", "--submission", "a", "--class", "b"]).is_err());
        assert!(parse(&["cargo-lab", "grade", "logstat", "--class", "b"]).is_err(), "--out required");
        assert!(parse(&["cargo-lab", "grade", "logstat", "--class", "b", "--out", "g.csv"]).is_ok());
    }

    #[test]
    fn gradescope_file_defaults_to_results_json() {
        let cli = parse(&["cargo-lab", "grade", "logstat", "--submission", "s", "--gradescope"]).unwrap();
        let Some(Command::Grade(grade)) = cli.command else { panic!("not a grade command") };
        assert_eq!(grade.gradescope, Some(PathBuf::from("results.json")));
    }

    #[test]
    fn list_prints_packages_or_references_not_both() {
        let cli = parse(&["cargo-lab", "list", "--packages"]).unwrap();
        assert!(matches!(cli.command, Some(Command::List(ListArgs { packages: true, references: false }))));
        assert!(parse(&["cargo-lab", "list", "--packages", "--references"]).is_err());
    }

    #[test]
    fn usage_errors_exit_2() {
        let err = parse(&["cargo-lab", "run-many", "logstat"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
