//! End-to-end tests of `cargo-lab` on a tiny fake course built in a temp dir.
//!
//! The course has two labs without dependencies, so it builds in seconds: `adder` (two stages, a
//! `todo!()` skeleton and a correct reference) and `sloppy` (a skeleton with a warning and a test
//! that asserts nothing, which `verify` must catch). Each test makes its own course, with its own
//! target dir inside the temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const WORKSPACE: &str = r#"[workspace]
resolver = "3"
members = ["labs/*", "solutions/*"]
"#;

const ADDER_LAB: &str = r#"
name = "adder"
reference = "adder-ref"
number = 1
title = "adder: sums and doubles"
chapter = "book/adder.md"

[limits]
test_timeout_secs = 20
memory_mb = 512

[[stages]]
id = "add"
title = "Add two numbers"
tests = "stage1_add"
weight = 10
hint = "Use the + operator."
book = "book/adder.md#add"

[[stages]]
id = "twice"
title = "Double a number"
tests = "stage2_twice"
weight = 10
hint = "Twice is x + x."
book = "book/adder.md#twice"
"#;

const ADDER_SKELETON: &str = r#"//! Adder.

/// Adds.
pub fn add(a: u64, b: u64) -> u64 {
    todo!("add {a} and {b}")
}

/// Doubles.
pub fn twice(x: u64) -> u64 {
    todo!("double {x}")
}
"#;

const ADDER_SOLUTION: &str = r#"//! Adder.

/// Adds.
pub fn add(a: u64, b: u64) -> u64 {
    a + b
}

/// Doubles.
pub fn twice(x: u64) -> u64 {
    x + x
}
"#;

const STAGE1: &str = r#"mod proof;
use proof::Proof;

#[test]
fn adds_small() {
    let proof = Proof::start();
    assert_eq!(adder::add(2, 3), 5);
    proof.done();
}

#[test]
fn adds_zero() {
    let proof = Proof::start();
    assert_eq!(adder::add(0, 7), 7);
    proof.done();
}
"#;

const STAGE2: &str = r#"mod proof;
use proof::Proof;

#[test]
fn doubles() {
    let proof = Proof::start();
    assert_eq!(adder::twice(21), 42);
    proof.done();
}
"#;

/// The test's side of `cargo lab`'s verdict, by hand: the real course's tests get it from testkit's
/// `#[test]`, which would make this course build for minutes instead of seconds.
const PROOF: &str = r#"
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

pub struct Proof(Option<(std::fs::File, Vec<u8>)>);

impl Proof {
    pub fn start() -> Proof {
        let Ok(value) = std::env::var("LAB_VERDICT") else { return Proof(None) };
        let fd: i32 = value.split(':').next().unwrap().parse().unwrap();
        // SAFETY: the runner gave this process the socket as `fd`.
        let mut socket = unsafe { std::fs::File::from_raw_fd(fd) };
        let mut secret = vec![0; 64];
        socket.read_exact(&mut secret).unwrap();
        Proof(Some((socket, secret)))
    }

    pub fn done(self) {
        if let Some((mut socket, secret)) = self.0 {
            socket.write_all(&[b"lab-verdict ", &secret[..], b"\n"].concat()).unwrap();
        }
    }
}
"#;

const SLOPPY_LAB: &str = r#"
name = "sloppy"
reference = "sloppy-ref"
number = 2
title = "sloppy"

[[stages]]
id = "answer"
title = "Answer"
tests = "stage1_answer"
weight = 1
hint = "42."
book = "book/sloppy.md"
"#;

/// A fake course workspace in a temp dir.
struct Course {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Course {
    fn new() -> Course {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("course");
        let files: &[(&str, &str)] = &[
            ("Cargo.toml", WORKSPACE),
            ("labs/01-adder/lab.toml", ADDER_LAB),
            ("labs/01-adder/Cargo.toml", &package("adder", "")),
            ("labs/01-adder/src/lib.rs", ADDER_SKELETON),
            ("labs/01-adder/tests/stage1_add.rs", STAGE1),
            ("labs/01-adder/tests/stage2_twice.rs", STAGE2),
            ("labs/01-adder/tests/proof/mod.rs", PROOF),
            (
                "solutions/01-adder/Cargo.toml",
                &package("adder-ref", &reference_tests("01-adder", &["stage1_add", "stage2_twice"])),
            ),
            ("solutions/01-adder/src/lib.rs", ADDER_SOLUTION),
            ("labs/02-sloppy/lab.toml", SLOPPY_LAB),
            ("labs/02-sloppy/Cargo.toml", &package("sloppy", "")),
            (
                "labs/02-sloppy/src/lib.rs",
                "//! Sloppy.\n\n/// The answer.\npub fn answer() -> u32 {\n    let unused = 1;\n    todo!()\n}\n",
            ),
            (
                "labs/02-sloppy/tests/stage1_answer.rs",
                "mod proof;\nuse proof::Proof;\n\n#[test]\nfn answers() {\n    let proof = Proof::start();\n    \
                 assert_eq!(sloppy::answer(), 42);\n    proof.done();\n}\n\n\
                 #[test]\nfn asserts_nothing() {\n    Proof::start().done();\n}\n",
            ),
            ("labs/02-sloppy/tests/proof/mod.rs", PROOF),
            (
                "solutions/02-sloppy/Cargo.toml",
                &package("sloppy-ref", &reference_tests("02-sloppy", &["stage1_answer"])),
            ),
            (
                "solutions/02-sloppy/src/lib.rs",
                "//! Sloppy.\n\n/// The answer.\npub fn answer() -> u32 {\n    42\n}\n",
            ),
        ];
        for (path, text) in files {
            write(&root.join(path), text);
        }
        Course { _tmp: tmp, root }
    }

    /// Runs `cargo-lab ARGS` in the course, with the course's own target dir.
    fn lab(&self, args: &[&str]) -> Output {
        cargo_lab(&self.root).args(args).env("CI", "true").output().unwrap()
    }

    /// A student's checkout holding only `labs/01-adder/src/lib.rs` with `lib`.
    fn submission(&self, dir: &Path, lib: &str) {
        write(&dir.join("labs/01-adder/src/lib.rs"), lib);
    }
}

/// `cargo lab` run in `dir`, building into the course's own `target/`, without colours.
fn cargo_lab(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-lab"));
    command
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env("NO_COLOR", "1");
    command
}

fn package(name: &str, extra: &str) -> String {
    let lib = name.trim_end_matches("-ref");
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n{}\n\
         [lib]\nname = \"{lib}\"\npath = \"src/lib.rs\"\n{extra}",
        if extra.is_empty() { "" } else { "autotests = false" }
    )
}

fn reference_tests(dir: &str, tests: &[&str]) -> String {
    tests
        .iter()
        .map(|test| format!("\n[[test]]\nname = \"{test}\"\npath = \"../../labs/{dir}/tests/{test}.rs\"\n"))
        .collect()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

#[test]
fn test_command_reports_stages_hints_and_exit_codes() {
    let course = Course::new();
    let out = course.lab(&["test", "adder"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}\n{}", stderr(&out));
    assert!(text.contains("✗ add    0/2  Add two numbers"), "{text}");
    assert!(text.contains("✗ adds_small"), "{text}");
    assert!(text.contains("Next: stage add, Add two numbers"), "{text}");
    assert!(text.contains("Hint: Use the + operator."), "{text}");
    assert!(text.contains("Read: book/adder.md#add"), "{text}");
    assert!(text.contains("not yet implemented: add"), "{text}");
    assert!(text.contains("Run: cargo lab test adder --stage add"), "{text}");
    assert!(!text.contains('\x1b'), "no colours when stdout is not a terminal");

    let out = course.lab(&["lab", "test", "1", "--reference", "--stage", "twice"]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("All 1 tests pass."), "{}", stdout(&out));

    let out = course.lab(&["test", "nope"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no lab named \"nope\"; the labs are: adder (01-adder), sloppy (02-sloppy)")
    );
    let out = course.lab(&["test", "adder", "--stage", "mul"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("its stages are: add, twice"), "{}", stderr(&out));

    write(&course.root.join("labs/01-adder/src/lib.rs"), "pub fn add( {");
    let out = course.lab(&["test", "01-adder"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("does not compile"), "{}", stdout(&out));
    assert!(stdout(&out).contains("error"), "{}", stdout(&out));
}

#[test]
fn status_table_uses_the_cache_until_sources_change() {
    let course = Course::new();
    let out = course.lab(&["--no-run"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("not run yet: cargo lab test adder"), "{}", stdout(&out));

    let out = course.lab(&[]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}\n{}", stderr(&out));
    assert!(stderr(&out).contains("adder: never run; testing it"), "{}", stderr(&out));
    assert!(text.contains(" 1 adder   add 0/2 ✗  twice 0/1 ✗"), "{text}");
    assert!(text.contains(" 2 sloppy  answer 1/2 ✗"), "{text}");
    assert!(text.contains("Next: lab 1 adder, stage add: Add two numbers"), "{text}");
    assert!(text.contains("Run:  cargo lab test adder --stage add"), "{text}");
    assert!(course.root.join("target/lab/results/adder.json").is_file());

    let started = Instant::now();
    let out = course.lab(&[]);
    assert!(started.elapsed() < Duration::from_secs(2), "a cached table is instant");
    assert_eq!(stdout(&out), text);
    assert!(!stderr(&out).contains("testing it"), "{}", stderr(&out));

    write(&course.root.join("labs/01-adder/src/lib.rs"), ADDER_SOLUTION);
    let out = course.lab(&["--no-run"]);
    assert!(stdout(&out).contains("(out of date)"), "{}", stdout(&out));
    let out = course.lab(&[]);
    assert!(stderr(&out).contains("adder: changed since its last run"), "{}", stderr(&out));
    assert!(stdout(&out).contains(" 1 adder   add 2/2 ✓  twice 1/1 ✓"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Next: lab 2 sloppy, stage answer"), "{}", stdout(&out));
}

#[test]
fn a_fresh_clone_tests_only_the_labs_begun() {
    let course = Course::new();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=Course", "-c", "user.email=course@example.invalid"])
            .args(args)
            .current_dir(&course.root)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "--quiet"]);
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "the course"]);

    let out = course.lab(&[]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}\n{}", stderr(&out));
    assert!(!stderr(&out).contains("testing it"), "a fresh clone builds nothing: {}", stderr(&out));
    assert!(text.contains(" 1 adder   not started: cargo lab test adder"), "{text}");
    assert!(text.contains("2 lab(s) not started (src/ as committed) were not built or tested"), "{text}");
    assert!(!course.root.join("target").exists(), "nothing was built");

    write(&course.root.join("labs/01-adder/src/lib.rs"), &format!("{ADDER_SKELETON}// begun\n"));
    let out = course.lab(&[]);
    let text = stdout(&out);
    assert!(
        stderr(&out).contains("adder: never run; testing it"),
        "an edited lab is tested: {}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("sloppy: never run"), "{}", stderr(&out));
    assert!(text.contains(" 1 adder   add 0/2 ✗  twice 0/1 ✗"), "{text}");
    assert!(text.contains(" 2 sloppy  not started"), "{text}");
}

#[test]
fn verify_accepts_a_sound_lab_and_catches_a_sloppy_one() {
    let course = Course::new();
    let out = course.lab(&["verify", "adder"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}\n{}", stderr(&out));
    assert!(text.contains("✓ the reference passes all 3 tests"), "{text}");
    assert!(text.contains("✓ the skeleton fails all 3 tests"), "{text}");
    assert!(text.contains("✓ the skeleton builds without warnings"), "{text}");

    let out = course.lab(&["verify"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(text.contains("answer: asserts_nothing asserts nothing"), "{text}");
    assert!(text.contains("the skeleton builds with 1 warning(s)"), "{text}");
    assert!(text.contains("unused variable"), "{text}");
    assert!(text.contains("verify: 3 problem(s) in 2 lab(s)"), "{text}");
}

#[test]
fn verify_parity_names_every_drifted_file_and_item() {
    let course = Course::new();
    let out = course.lab(&["verify", "--parity-only"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "a course whose labs match their references: {text}\n{}", stderr(&out));
    assert!(text.contains("✓ the lab and its reference match"), "{text}");
    assert!(text.contains("✓ every {{#include}} resolves"), "{text}");

    let root = &course.root;
    let drifted = ADDER_SOLUTION
        .replace("pub fn add(a: u64, b: u64)", "pub fn add(a: u32, b: u64)")
        .replace("/// Doubles.", "/// Twice the number.")
        + "\n/// Only here.\npub fn extra() {}\n";
    write(&root.join("solutions/01-adder/src/lib.rs"), &drifted);
    write(&root.join("solutions/01-adder/src/helper.rs"), "//! A helper.\n");
    for side in ["labs", "solutions"] {
        write(&root.join(format!("{side}/01-adder/src/cli.rs")), &format!("//! Given.\n// {side}\n"));
    }
    let manifest = std::fs::read_to_string(root.join("labs/01-adder/lab.toml")).unwrap();
    write(&root.join("labs/01-adder/lab.toml"), &format!("{manifest}\n[files]\ngiven = [\"cli.rs\"]\n"));
    let skeleton = ADDER_SKELETON.replace("/// Adds.", "// ANCHOR: add\n/// Adds.");
    write(&root.join("labs/01-adder/src/lib.rs"), &skeleton);
    write(&root.join("labs/01-adder/tests/stage3_more.rs"), "#[test]\nfn more() {}\n");
    let reference_manifest = std::fs::read_to_string(root.join("solutions/01-adder/Cargo.toml")).unwrap();
    write(
        &root.join("solutions/01-adder/Cargo.toml"),
        &format!("{reference_manifest}\n[dependencies]\nmemchr = \"2\"\n"),
    );
    write(
        &root.join("book/src/adder.md"),
        "# Adder\n\n{{#include ../../solutions/01-adder/src/lib.rs:add}}\n",
    );
    for side in ["labs", "solutions"] {
        write(&root.join(format!("{side}/01-adder/src/main.rs")), "//! The binary.\n\nfn main() {}\n");
    }

    let out = course.lab(&["verify", "--parity-only"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "a drifted lab fails verify: {text}");
    for expected in [
        "solutions/01-adder/src/helper.rs: is only in the reference",
        "labs/01-adder/src/cli.rs:2: is a given file, so it must be byte-identical",
        "labs/01-adder/src/lib.rs:4: `fn add` differs from the reference's (solutions/01-adder/src/lib.rs:3)",
        "reference: pub fn add (a : u32 , b : u64) -> u64 { }",
        "the doc comment of `fn twice` differs from the reference's",
        "reference: Twice the number.",
        "solutions/01-adder/src/lib.rs:13: `fn extra` is public in the reference but not in the lab",
        "labs/01-adder/src/lib.rs:3: the skeleton carries the book anchor \"add\"",
        "labs/01-adder/Cargo.toml: [dependencies] lacks memchr, which the reference's has",
        "labs/01-adder/tests/stage3_more.rs: is a test file no stage of lab.toml names",
        "solutions/01-adder/Cargo.toml: has no [[test]] for the lab's tests/stage3_more.rs",
        "book/src/adder.md:3: includes ../../solutions/01-adder/src/lib.rs:add, but that file has no `ANCHOR: add`",
        "labs/01-adder/src/main.rs: every lab's main.rs, cli.rs and error.rs are given",
        "labs/01-adder/src: the crate lacks `impl TryFrom<Cli> for Config`",
        "the skeleton's lib.rs lacks every skeleton's `#![allow(unused_variables, unused_imports, dead_code)]` line",
    ] {
        assert!(text.contains(expected), "verify should report {expected:?}:\n{text}");
    }
    assert!(!text.contains("the reference passes"), "--parity-only runs no test: {text}");
}

#[test]
fn an_exported_class_template_works_and_its_submissions_grade() {
    let course = Course::new();
    write(
        &course.root.join("book/src/adder.md"),
        "# Adder\n\n```rust\n{{#include ../../solutions/01-adder/src/lib.rs}}\n```\n",
    );
    write(&course.root.join("README.md"), "# The course\n");
    let class = course.root.parent().unwrap().join("class");
    let out = course.lab(&["export", class.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    assert!(!class.join("solutions").exists(), "the template has no references");
    assert!(class.join("labs/01-adder/tests/stage1_add.rs").is_file(), "the graded tests are in it");
    let manifest = std::fs::read_to_string(class.join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("solutions"), "the workspace lists no reference: {manifest}");
    let page = std::fs::read_to_string(class.join("book/src/adder.md")).unwrap();
    assert!(
        !page.contains("solutions/") && page.contains("left out"),
        "the book quotes no reference: {page}"
    );
    assert!(std::fs::read_to_string(class.join("README.md")).unwrap().contains("cargo lab export"));

    let again = course.lab(&["export", class.to_str().unwrap()]);
    assert_eq!(code(&again), 1, "export does not write over a folder");
    assert!(stderr(&again).contains("already exists and is not empty"), "{}", stderr(&again));

    // A student works in the template: `cargo lab test` builds and grades their crate there.
    let student = |args: &[&str]| cargo_lab(&class).args(args).output().unwrap();
    let out = student(&["test", "adder"]);
    assert_eq!(code(&out), 1, "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("0/3 tests pass."), "{}", stdout(&out));
    let out = student(&["test", "adder", "--reference"]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("adder-ref"), "a missing reference is named: {}", stderr(&out));
    write(&class.join("labs/01-adder/src/lib.rs"), ADDER_SOLUTION);
    let out = student(&["test", "adder"]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));

    // The instructor grades the student's copy from the full course.
    let out =
        course.lab(&["grade", "adder", "--submission", class.to_str().unwrap(), "--json", "--no-sandbox"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["score"], 20.0, "{json}");
}

#[test]
fn watch_tests_the_current_stage_at_every_save() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;

    let course = Course::new();
    let mut child = cargo_lab(&course.root)
        .args(["watch", "adder"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (lines, read) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match read.recv_timeout(left) {
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                }
                Err(_) => panic!("watch never printed {needle:?}; it printed:\n{seen}"),
            }
        }
        seen.clear();
    };

    wait_for("Watching labs/01-adder/: save a file to test stage add again");
    write(&course.root.join("labs/01-adder/src/lib.rs"), ADDER_SOLUTION);
    wait_for("Stage passed; testing the whole lab.");
    wait_for("Every stage passes. Watching for more changes.");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn run_many_reports_tests_that_ever_fail() {
    let course = Course::new();
    let out = course.lab(&["run-many", "adder", "-n", "3", "--reference"]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("Ran 3 tests 3 times each: 9 runs."), "{}", stdout(&out));

    // Wrong in exactly one run: the one that creates the marker file (tests run in the package dir).
    let flaky = ADDER_SOLUTION.replace(
        "    x + x\n",
        "    if std::fs::OpenOptions::new().write(true).create_new(true).open(\"ran-once\").is_ok() {\n        \
         return 0;\n    }\n    x + x\n",
    );
    write(&course.root.join("labs/01-adder/src/lib.rs"), &flaky);
    let out = course.lab(&["run-many", "adder", "-n", "5", "--stage", "twice"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(text.contains("twice: doubles  failed 1/5 runs"), "{text}");
    assert!(text.contains("left: 0"), "{text}");
    assert!(text.contains("(flaky)"), "{text}");
}

#[test]
fn grades_a_class_through_hangs_crashes_and_cheats() {
    let course = Course::new();
    let class = course.root.parent().unwrap().join("class");
    let looping = "//! Loops.\n\n/// Spins.\npub fn add(a: u64, b: u64) -> u64 {\n    \
                   let _ = std::process::Command::new(\"sleep\").arg(\"987654\").spawn();\n    \
                   let _ = (a, b);\n    loop {}\n}\n\n/// Spins.\npub fn twice(x: u64) -> u64 {\n    \
                   let _ = x;\n    loop {}\n}\n";
    let half = ADDER_SOLUTION.replace("x + x", "x + 1");
    let hog =
        ADDER_SOLUTION.replace("    x + x\n", "    let v = vec![1u8; 1 << 32];\n    v.len() as u64 * x\n");
    course.submission(&class.join("good"), ADDER_SOLUTION);
    course.submission(&class.join("half"), &half);
    course.submission(&class.join("looping"), looping);
    course.submission(&class.join("broken"), "pub fn add( {");
    course.submission(&class.join("cheat"), ADDER_SOLUTION);
    write(&class.join("cheat/labs/01-adder/tests/stage1_add.rs"), "#[test]\nfn adds_small() {}\n");
    write(&class.join("cheat/labs/01-adder/tests/stage2_twice.rs"), STAGE2);
    course.submission(&class.join("Hog, the"), &hog);
    write(&class.join("none/README.md"), "I forgot.");
    let extra = course.root.parent().unwrap().join("extra");
    write(
        &extra.join("edge.rs"),
        "mod proof;\nuse proof::Proof;\n\n\
         #[test]\nfn adds_near_max() {\n    let proof = Proof::start();\n    \
         assert_eq!(adder::add(u64::MAX - 1, 1), u64::MAX);\n    proof.done();\n}\n\n\
         #[test]\nfn doubles_zero() {\n    let proof = Proof::start();\n    assert_eq!(adder::twice(0), 0);\n    \
         proof.done();\n}\n",
    );
    write(&extra.join("extra.toml"), "weight = 10\n");
    let out_csv = course.root.parent().unwrap().join("out/grades.csv");

    let started = Instant::now();
    let out = course.lab(&[
        "grade",
        "adder",
        "--class",
        class.to_str().unwrap(),
        "--out",
        out_csv.to_str().unwrap(),
        "--timeout",
        "2",
        "--extra-tests",
        extra.to_str().unwrap(),
        // The sandbox is .ci/grade-smoke's to test: this machine may have no bubblewrap.
        "--no-sandbox",
    ]);
    let log = stderr(&out);
    assert_eq!(code(&out), 0, "{}\n{log}", stdout(&out));
    assert!(log.contains("[1/7] Hog, the …"), "{log}");
    assert!(log.contains("[7/7] none …"), "{log}");
    let csv = std::fs::read_to_string(&out_csv).unwrap();
    assert_eq!(stdout(&out), csv);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "student,score,max,add,twice,extra,status");
    assert_eq!(rows[1], "\"Hog, the\",15,30,10,0,5,ok");
    assert_eq!(rows[2], "broken,0,30,0,0,0,compile-error");
    assert_eq!(rows[3], "cheat,30,30,10,10,10,tests-modified");
    assert_eq!(rows[4], "good,30,30,10,10,10,ok");
    assert_eq!(rows[5], "half,15,30,10,0,5,ok");
    assert_eq!(rows[6], "looping,0,30,0,0,0,timeouts:5");
    assert_eq!(rows[7], "none,0,30,0,0,0,no-submission");
    assert!(started.elapsed() < Duration::from_secs(120));

    let feedback = |student: &str| {
        std::fs::read_to_string(out_csv.parent().unwrap().join(format!("grades-feedback/{student}.txt")))
            .unwrap()
    };
    assert!(feedback("Hog, the").contains("memory allocation"), "{}", feedback("Hog, the"));
    assert!(feedback("broken").contains("does not compile"), "{}", feedback("broken"));
    assert!(feedback("cheat").contains("labs/01-adder/tests/stage1_add.rs"), "{}", feedback("cheat"));
    assert!(!feedback("cheat").contains("stage2_twice.rs"), "an unchanged file is not reported");
    assert!(feedback("half").contains("twice: doubles"), "{}", feedback("half"));
    assert!(feedback("looping").contains("timed out after 2s"), "{}", feedback("looping"));
    assert!(feedback("none").contains("no labs/01-adder/src/ folder"), "{}", feedback("none"));

    // The looping student's `sleep` children died with their process groups.
    let survivors = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).contains("987654"))
        .count();
    assert_eq!(survivors, 0, "a test's child process outlived it");

    // The extra tests never entered the course's own tree, and grading left the tree alone.
    assert!(!course.root.join("labs/01-adder/tests/extra_edge.rs").exists());
    assert_eq!(
        std::fs::read_to_string(course.root.join("labs/01-adder/src/lib.rs")).unwrap(),
        ADDER_SKELETON
    );
}

#[test]
fn grades_one_submission_as_json_and_for_gradescope() {
    let course = Course::new();
    let submission = course.root.parent().unwrap().join("alice");
    course.submission(&submission, &ADDER_SOLUTION.replace("x + x", "x + 1"));
    let gradescope = course.root.parent().unwrap().join("results.json");
    let out = course.lab(&[
        "grade",
        "adder",
        "--submission",
        submission.to_str().unwrap(),
        "--json",
        "--gradescope",
        gradescope.to_str().unwrap(),
        "--no-sandbox",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["lab"], "adder");
    assert_eq!(json["score"], 10.0);
    assert_eq!(json["max"], 20.0);
    assert_eq!(json["compile_error"], serde_json::Value::Null);
    assert_eq!(json["stages"][1]["id"], "twice");
    assert_eq!(json["stages"][1]["passed"], 0);
    assert_eq!(json["tests"][0]["name"], "adds_small");
    assert_eq!(json["tests"][0]["points"], 5.0);
    assert_eq!(json["tests"][2]["passed"], false);
    assert!(json["tests"][2]["message"].as_str().unwrap().contains("left: 22"), "{json}");
    assert_eq!(json["tests_modified"], serde_json::json!([]));

    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&gradescope).unwrap()).unwrap();
    assert_eq!(results["score"], 10.0);
    assert_eq!(results["max_score"], 20.0);
    assert_eq!(results["tests"][2]["name"], "twice: doubles");
    assert_eq!(results["tests"][2]["visibility"], "visible");

    let out = course.lab(&["grade", "adder", "--submission", "/no/such/dir", "--no-sandbox"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("submission /no/such/dir does not exist"), "{}", stderr(&out));

    // Where no sandbox can be made (here: no bwrap on the PATH), grading refuses unless told.
    let no_tools = course.root.parent().unwrap().join("empty-path");
    std::fs::create_dir_all(&no_tools).unwrap();
    let out = cargo_lab(&course.root)
        .args(["grade", "adder", "--submission", submission.to_str().unwrap()])
        .env("PATH", &no_tools)
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot grade in a sandbox here: bwrap is not installed"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--no-sandbox"), "{}", stderr(&out));
    assert!(json_report_says_no_sandbox(&course, &submission), "a report made with --no-sandbox says so");
}

fn json_report_says_no_sandbox(course: &Course, submission: &Path) -> bool {
    let out = course.lab(&[
        "grade",
        "adder",
        "--submission",
        submission.to_str().unwrap(),
        "--json",
        "--no-sandbox",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["sandbox"] == false
}
