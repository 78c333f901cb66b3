//! Stage 5: follow a log like `tail -F`, across rename and copytruncate rotation, losing and
//! repeating nothing.

mod common;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use logstat::{Command, Config, Follower, Input, StartAt};
use testkit::test;

fn append(path: &Path, text: &str) {
    let mut file =
        OpenOptions::new().create(true).append(true).open(path).expect("the scratch dir is writable");
    file.write_all(text.as_bytes()).expect("the scratch dir is writable");
}

fn poll(follower: &mut Follower) -> Vec<String> {
    let lines = follower.poll().expect("polling a readable file");
    lines.into_iter().map(|line| String::from_utf8(line).expect("the test writes UTF-8")).collect()
}

#[test]
fn reads_appended_lines_and_holds_back_a_partial_one() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, "one\ntwo\n");
    let mut follower = Follower::open(&path, StartAt::Beginning).expect("the file exists");
    assert_eq!(poll(&mut follower), ["one", "two"], "the lines already there");
    assert_eq!(poll(&mut follower), Vec::<String>::new(), "nothing new");
    append(&path, "thr");
    assert_eq!(poll(&mut follower), Vec::<String>::new(), "a line without its newline is not complete");
    append(&path, "ee\nfour\n");
    assert_eq!(poll(&mut follower), ["three", "four"], "the held-back line, completed, then the next");
}

#[test]
fn starting_at_the_end_skips_what_is_there() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, "old\n");
    let mut follower = Follower::open(&path, StartAt::End).expect("the file exists");
    assert_eq!(poll(&mut follower), Vec::<String>::new(), "the line written before open");
    append(&path, "new\n");
    assert_eq!(poll(&mut follower), ["new"], "the line written after open");
}

#[test]
fn waits_for_a_file_that_does_not_exist_yet() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("later.log");
    let mut follower = Follower::open(&path, StartAt::End).expect("a missing file is not an error");
    assert_eq!(poll(&mut follower), Vec::<String>::new(), "a poll while the file does not exist");
    append(&path, "first\n");
    assert_eq!(poll(&mut follower), ["first"], "a file that appears is read from its start");
}

#[test]
fn follows_a_rename_rotation_and_finishes_the_old_file() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, "a\n");
    let mut follower = Follower::open(&path, StartAt::Beginning).expect("the file exists");
    assert_eq!(poll(&mut follower), ["a"], "the line already there");
    // logrotate renames the file; nginx keeps writing to the open one until it reopens its logs.
    let mut nginx = OpenOptions::new().append(true).open(&path).expect("the file exists");
    std::fs::rename(&path, dir.path().join("access.log.1")).expect("rename in the scratch dir");
    nginx.write_all(b"b\n").expect("writing the rotated file");
    assert_eq!(poll(&mut follower), ["b"], "the old file is still read while no new one exists");
    nginx.write_all(b"c\n").expect("writing the rotated file");
    append(&path, "d\ne\n");
    assert_eq!(poll(&mut follower), ["c", "d", "e"], "the old file is finished before the new one is read");
    nginx.write_all(b"lost\n").expect("writing the rotated file");
    append(&path, "f\n");
    assert_eq!(poll(&mut follower), ["f"], "after the switch only the new file counts");
}

#[test]
fn follows_a_copytruncate_rotation() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, "line one\nline two\n");
    let mut follower = Follower::open(&path, StartAt::Beginning).expect("the file exists");
    assert_eq!(poll(&mut follower), ["line one", "line two"], "the lines already there");
    std::fs::copy(&path, dir.path().join("access.log.1")).expect("copy in the scratch dir");
    File::options().write(true).open(&path).and_then(|f| f.set_len(0)).expect("truncate the log");
    append(&path, "x\n");
    assert_eq!(poll(&mut follower), ["x"], "a file shorter than what was read was truncated: read it again");
}

#[test]
fn many_rotations_lose_and_repeat_nothing() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    let mut follower = Follower::open(&path, StartAt::Beginning).expect("a missing file is not an error");
    let (mut written, mut seen) = (Vec::new(), Vec::new());
    let mut next = 0;
    for round in 0..60 {
        for _ in 0..(round % 4 + 1) {
            let line = format!("request {next}");
            append(&path, &format!("{line}\n"));
            written.push(line);
            next += 1;
        }
        seen.extend(poll(&mut follower));
        match round % 3 {
            0 => std::fs::rename(&path, dir.path().join(format!("access.log.{round}"))).expect("rename"),
            1 => File::options().write(true).open(&path).and_then(|f| f.set_len(0)).expect("truncate"),
            _ => {}
        }
        // A poller sees a truncation only while the file is still shorter than what it had read,
        // so poll once between the rotation and the next write, as a follower on a timer would.
        seen.extend(poll(&mut follower));
    }
    seen.extend(poll(&mut follower));
    assert_eq!(seen, written, "every line polled against every line written");
}

/// A writer that several threads can look at.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("no writer panicked").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("no writer panicked")).into_owned()
    }
}

#[test]
fn the_follow_command_prints_new_lines_until_stopped() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, "before\n");
    let command = Command::Follow { from_start: false, interval: Duration::from_millis(5) };
    let config = Config::new(command, vec![Input::Path(path.clone())]);
    let stop = Arc::new(AtomicBool::new(false));
    let out = Shared::default();
    let runner = {
        let (stop, mut out) = (Arc::clone(&stop), out.clone());
        std::thread::spawn(move || logstat::run(&config, &mut &b""[..], &mut out, &stop))
    };
    // `follow` starts at the end: keep appending until it has seen a line, then rotate.
    let mut appended = 0;
    testkit::eventually("follow to print an appended line", || {
        appended += 1;
        append(&path, &format!("after {appended}\n"));
        out.text().contains("after") || runner.is_finished()
    });
    std::fs::rename(&path, dir.path().join("access.log.1")).expect("rename");
    append(&path, "rotated\n");
    testkit::eventually("follow to print the rotated file's line", || {
        out.text().contains("rotated\n") || runner.is_finished()
    });
    if runner.is_finished() {
        // Ended before it was asked to: show why (a panic is re-raised as this test's failure).
        match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(result) => panic!("follow returned before it was stopped: {result:?}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let outcome = runner.join().expect("run does not panic").expect("run succeeds");
    assert!(outcome.interrupted, "follow ends when asked to stop");
    assert!(!out.text().contains("before"), "lines already in the file are not printed");
    let printed: Vec<String> = out.text().lines().map(str::to_owned).collect();
    let first: usize = printed[0].trim_start_matches("after ").parse().expect("an 'after N' line first");
    let want: Vec<String> =
        (first..=appended).map(|n| format!("after {n}")).chain(["rotated".to_owned()]).collect();
    assert_eq!(printed, want, "every line after the first one seen, once, in order");
}

#[test]
fn a_new_file_is_read_from_its_start_even_when_it_is_already_longer() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, "1\n");
    let mut follower = Follower::open(&path, StartAt::Beginning).expect("the file exists");
    assert_eq!(poll(&mut follower), ["1"], "the line already there");
    std::fs::rename(&path, dir.path().join("access.log.1")).expect("rename in the scratch dir");
    // The new file grows past the old offset before the next poll: only its inode tells it apart.
    append(&path, "the new file's first line\nsecond\n");
    assert_eq!(
        poll(&mut follower),
        ["the new file's first line", "second"],
        "a new file at the path is read from offset 0, whatever its size"
    );
}

#[test]
fn a_directory_cannot_be_followed() {
    let dir = testkit::scratch_dir();
    for start in [StartAt::Beginning, StartAt::End] {
        // Opening a directory succeeds on Linux: only its metadata says it is not a file.
        let opened = Follower::open(dir.path(), start);
        assert!(opened.is_err(), "Follower::open on a directory ({start:?}) must fail, got {opened:?}");
    }
    let command = Command::Follow { from_start: true, interval: Duration::from_millis(5) };
    let config = Config::new(command, vec![Input::Path(dir.path().to_path_buf())]);
    let outcome = logstat::run(&config, &mut &b""[..], &mut Vec::new(), &AtomicBool::new(false))
        .expect("an input that cannot be followed is not an error of the run");
    assert_eq!(outcome.exit_code(), 1, "exit code of follow on a directory");
    assert_eq!(outcome.errors.len(), 1, "errors: one for the directory, {:?}", outcome.errors);
    assert!(
        outcome.errors[0].to_string().contains(&dir.path().display().to_string()),
        "the error names the path: {}",
        outcome.errors[0]
    );
}

#[test]
fn only_a_missing_path_is_waited_for_every_other_error_is_returned() {
    // A symbolic link to itself: opening it, or reading its metadata, fails with ELOOP. That is a
    // path that cannot be followed, not one that does not exist yet.
    let dir = testkit::scratch_dir();
    let looping = dir.path().join("loop.log");
    std::os::unix::fs::symlink(&looping, &looping).expect("the scratch dir is writable");
    for start in [StartAt::Beginning, StartAt::End] {
        let opened = Follower::open(&looping, start);
        assert!(opened.is_err(), "Follower::open on a symlink loop ({start:?}) must fail, got {opened:?}");
    }

    // The same at rotation: the log is renamed away and the loop takes its place.
    let path = dir.path().join("access.log");
    append(&path, "one\n");
    let mut follower = Follower::open(&path, StartAt::Beginning).expect("open a fresh log");
    assert_eq!(poll(&mut follower), ["one"], "the first poll reads the log");
    std::fs::rename(&path, dir.path().join("access.log.1")).expect("rename in the scratch dir");
    std::os::unix::fs::symlink(&path, &path).expect("the scratch dir is writable");
    let polled = follower.poll();
    assert!(polled.is_err(), "a poll that cannot look at the path must fail, got {polled:?}");

    // A file whose every read fails: /proc/self/mem at offset 0 is unmapped memory, and reading it
    // fails with EIO. The error is returned, not retried for ever.
    let mut follower = Follower::open("/proc/self/mem", StartAt::Beginning).expect("open /proc/self/mem");
    let polled = follower.poll();
    assert!(polled.is_err(), "a read that fails must fail the poll, got {polled:?}");
}

#[test]
fn follow_ends_with_an_input_error_when_a_poll_fails() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, "");
    let command = Command::Follow { from_start: false, interval: Duration::from_millis(5) };
    let config = Config::new(command, vec![Input::Path(path.clone())]);
    let out = Shared::default();
    let runner = {
        let mut out = out.clone();
        std::thread::spawn(move || logstat::run(&config, &mut &b""[..], &mut out, &AtomicBool::new(false)))
    };
    let mut appended = 0;
    testkit::eventually("follow to print an appended line", || {
        appended += 1;
        append(&path, &format!("line {appended}\n"));
        out.text().contains("line") || runner.is_finished()
    });
    // The log is rotated away and a directory takes its place: the poll that finds it fails.
    std::fs::rename(&path, dir.path().join("access.log.1")).expect("rename in the scratch dir");
    std::fs::create_dir(&path).expect("the scratch dir is writable");
    testkit::eventually("follow to return after a failed poll", || runner.is_finished());
    let outcome = match runner.join() {
        Ok(result) => result.expect("a failed poll is an input error, not an error of the run"),
        Err(panic) => std::panic::resume_unwind(panic),
    };
    assert!(!outcome.interrupted, "follow ended on its own, not by the stop flag");
    assert_eq!(outcome.exit_code(), 1, "exit code of follow after a failed poll");
    assert_eq!(outcome.errors.len(), 1, "errors: the failed poll, {:?}", outcome.errors);
    assert!(
        outcome.errors[0].to_string().contains("access.log"),
        "the error names the followed path: {}",
        outcome.errors[0]
    );
}

#[test]
fn the_stop_flag_ends_follow_in_the_middle_of_a_long_interval() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, "only\n");
    let command = Command::Follow { from_start: true, interval: Duration::from_secs(3600) };
    let config = Config::new(command, vec![Input::Path(path)]);
    let stop = Arc::new(AtomicBool::new(false));
    let out = Shared::default();
    let runner = {
        let (stop, mut out) = (Arc::clone(&stop), out.clone());
        std::thread::spawn(move || logstat::run(&config, &mut &b""[..], &mut out, &stop))
    };
    // Once the line is printed, the next poll finds nothing and follow waits out its hour.
    testkit::eventually("follow to print the line already there", || {
        out.text().contains("only\n") || runner.is_finished()
    });
    stop.store(true, Ordering::Relaxed);
    testkit::eventually("follow to return soon after the stop flag, not after its 1-hour interval", || {
        runner.is_finished()
    });
    let outcome = match runner.join() {
        Ok(result) => result.expect("run succeeds"),
        Err(panic) => std::panic::resume_unwind(panic),
    };
    assert!(outcome.interrupted, "follow ended by the stop flag says it was interrupted");
    assert_eq!(outcome.exit_code(), 130, "exit code of an interrupted follow");
}
