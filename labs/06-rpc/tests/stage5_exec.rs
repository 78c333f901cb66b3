//! Stage 5: the command service. Allow-listed programs run without a shell in their own process
//! group, output streamed and capped, status returned, the group killed at the timeout; callers
//! sign their requests, and unsigned, wrongly signed, expired and replayed ones are refused; the
//! `rpc exec` command exits with the program's status.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{ServerProcess, TestServer, live_in_group, start};
use rpc::exec::{AuditEvent, collect, exec, exec_envelope};
use rpc::{
    AllowList, AuthError, Client, ClientConfig, Envelope, ErrorCode, ExecConfig, ExecEvent, ExecOutput,
    ExecRequest, ExecService, Secret, ServerConfig, Service, Verifier, to_payload,
};
use testkit::test;
use testkit::tokio::{eventually, within};

const SH: &str = "/bin/sh";

fn secret() -> Secret {
    Secret::new(b"correct horse battery staple".to_vec())
}

/// An exec server allowing only /bin/sh, with the test secret; its audit log.
async fn exec_server(tweak: impl FnOnce(&mut ExecConfig)) -> (TestServer, Arc<Mutex<Vec<AuditEvent>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut config = ExecConfig::new(AllowList::parse(&format!("# test\n{SH}\n")), Some(secret()));
    let sink = Arc::clone(&log);
    config.audit = Some(Arc::new(move |event: &AuditEvent| sink.lock().unwrap().push(event.clone())));
    tweak(&mut config);
    let mut service = Service::new();
    ExecService::new(config).register(&mut service);
    (start(service, ServerConfig::default()).await, log)
}

fn sh(script: &str, timeout_ms: u64) -> ExecRequest {
    ExecRequest { program: SH.into(), args: vec!["-c".into(), script.into()], timeout_ms }
}

async fn run(client: &Client, request: &ExecRequest) -> Result<ExecOutput, rpc::Error> {
    within("exec", async { collect(exec(client, Some(&secret()), request).await?).await }).await
}

#[test(tokio)]
async fn a_program_runs_and_its_output_and_status_come_back() {
    let (server, log) = exec_server(|_| {}).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    let output = run(&client, &sh("echo out; echo err >&2; exit 3", 10_000)).await.unwrap();
    let what = "sh -c 'echo out; echo err >&2; exit 3'";
    assert_eq!(output.stdout, b"out\n", "the stdout of {what}: \"{}\"", output.stdout.escape_ascii());
    assert_eq!(output.stderr, b"err\n", "the stderr of {what}: \"{}\"", output.stderr.escape_ascii());
    assert_eq!((output.exit.code, output.exit.status()), (Some(3), 3), "(exit code, status) of {what}");
    assert!(
        !output.exit.timed_out && !output.exit.truncated,
        "{what} neither timed out nor was truncated: {:?}",
        output.exit
    );
    assert!(output.pid > 0, "the pid of {what}: {}", output.pid);
    let events = log.lock().unwrap().clone();
    assert!(events.iter().any(|e| e.program == SH && e.verdict.is_ok()), "runs are logged");
    let ok = run(&client, &sh("true", 10_000)).await.unwrap();
    assert_eq!(ok.exit.status(), 0, "the status of sh -c true: {:?}", ok.exit);
    let killed = run(&client, &sh("kill -TERM $$", 10_000)).await.unwrap();
    assert_eq!((killed.exit.signal, killed.exit.status()), (Some(15), 143), "a signal is 128 + N");
    server.stop().await;
}

#[test(tokio)]
async fn arguments_are_passed_without_a_shell() {
    let (server, _) = exec_server(|_| {}).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    let request = ExecRequest {
        program: SH.into(),
        args: vec!["-c".into(), "printf '[%s]' \"$@\"".into(), "x".into(), "a b".into(), "$HOME;*".into()],
        timeout_ms: 10_000,
    };
    let stdout = run(&client, &request).await.unwrap().stdout;
    assert_eq!(
        stdout,
        b"[a b][$HOME;*]",
        "the stdout of printf '[%s]' with the arguments \"a b\" and \"$HOME;*\": \"{}\"",
        stdout.escape_ascii()
    );
    server.stop().await;
}

#[test(tokio)]
async fn output_is_streamed_as_it_comes() {
    let (server, _) = exec_server(|_| {}).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    let mut events =
        exec(&client, Some(&secret()), &sh("echo first; exec sleep 1000", 30_000)).await.unwrap();
    let Some(Ok(ExecEvent::Started { pid })) = within("start", events.next::<ExecEvent>()).await else {
        panic!("the first event says the program started");
    };
    let next = within("the first line, while the program still runs", events.next::<ExecEvent>()).await;
    assert_eq!(
        next.unwrap().unwrap(),
        ExecEvent::Stdout(b"first\n".to_vec()),
        "the event after Started, from echo first; exec sleep 1000"
    );
    assert!(!live_in_group(pid).is_empty(), "it is still running");
    drop(events);
    eventually("a cancelled exec to kill its group", || live_in_group(pid).is_empty()).await;
    server.stop().await;
}

#[test(tokio)]
async fn a_command_that_never_exits_is_killed_with_its_children() {
    let (server, _) = exec_server(|_| {}).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    let output = run(&client, &sh("sleep 1000 & sleep 1000", 300)).await.unwrap();
    assert!(output.exit.timed_out, "sleep 1000 with a 300 ms timeout timed out: {:?}", output.exit);
    assert_eq!(
        output.exit.signal,
        Some(9),
        "the signal that ended sleep 1000 at its timeout: {:?}",
        output.exit
    );
    eventually("every process of the group to be gone", || live_in_group(output.pid).is_empty()).await;
    let leftover = run(&client, &sh("sleep 1000 & echo started", 30_000)).await.unwrap();
    assert_eq!(
        leftover.stdout,
        b"started\n",
        "the stdout of sleep 1000 & echo started: \"{}\"",
        leftover.stdout.escape_ascii()
    );
    eventually("a background child to die with its program", || live_in_group(leftover.pid).is_empty()).await;
    server.stop().await;
}

#[test(tokio)]
async fn output_is_capped() {
    let (server, _) = exec_server(|config| config.max_output = 10_000).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    let output =
        run(&client, &sh("head -c 300000 /dev/zero; head -c 50 /dev/zero >&2", 10_000)).await.unwrap();
    assert_eq!(output.stdout.len(), 10_000, "stdout bytes of 300000 written, capped at 10000");
    assert_eq!(output.stderr.len(), 50, "stderr bytes of 50 written, under the cap");
    assert!(output.exit.truncated, "truncated is set for output over the cap: {:?}", output.exit);
    assert_eq!(output.exit.status(), 0, "the program ran to the end");
    server.stop().await;
}

#[test(tokio)]
async fn output_still_in_the_pipe_when_the_program_exits_arrives() {
    let (server, _) = exec_server(|_| {}).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    // 60,000 bytes fit in a pipe: the program has exited before most of them are read.
    for round in 0..5 {
        let output = run(&client, &sh("head -c 60000 /dev/zero", 10_000)).await.unwrap();
        assert_eq!(output.stdout.len(), 60_000, "stdout bytes of 60000 written, round {round}");
        assert_eq!(output.exit.status(), 0, "the status of head, round {round}");
    }
    server.stop().await;
}

#[test(tokio)]
async fn output_of_exactly_the_cap_is_whole_and_no_chunk_is_empty() {
    let (server, _) = exec_server(|config| config.max_output = 10_000).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    let output = run(&client, &sh("head -c 10000 /dev/zero", 10_000)).await.unwrap();
    assert_eq!(output.stdout.len(), 10_000, "stdout bytes of 10000 written, the cap");
    assert!(!output.exit.truncated, "nothing was dropped at exactly the cap: {:?}", output.exit);

    let mut events = exec(&client, Some(&secret()), &sh("head -c 300000 /dev/zero", 10_000)).await.unwrap();
    let mut stdout = 0;
    loop {
        let event = within("the next exec event", events.next::<ExecEvent>()).await;
        match event.expect("an exit report before the end").unwrap() {
            ExecEvent::Stdout(bytes) | ExecEvent::Stderr(bytes) => {
                assert!(!bytes.is_empty(), "an output event carries bytes (after {stdout} of stdout)");
                stdout += bytes.len();
            }
            ExecEvent::Started { .. } => {}
            ExecEvent::Exited(exit) => {
                assert!(exit.truncated, "300000 bytes over a cap of 10000 are flagged: {exit:?}");
                break;
            }
        }
    }
    assert_eq!(stdout, 10_000, "output bytes sent of 300000 written, capped at 10000");
    server.stop().await;
}

#[test(tokio)]
async fn a_program_not_on_the_allow_list_is_refused_and_logged() {
    let (server, log) = exec_server(|_| {}).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    for program in ["/bin/echo", "sh", "/bin/../bin/sh", ""] {
        let request = ExecRequest { program: program.into(), args: vec!["hi".into()], timeout_ms: 1000 };
        let err = run(&client, &request).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::Forbidden), "the error code of running {program:?}: {err}");
    }
    let events = log.lock().unwrap().clone();
    let refused: Vec<&str> =
        events.iter().filter(|e| e.verdict.is_err()).map(|e| e.program.as_str()).collect();
    assert_eq!(
        refused,
        ["/bin/echo", "sh", "/bin/../bin/sh", ""],
        "the programs the audit log records as refused"
    );
    let nothing = AllowList::parse("# only comments\n\n");
    assert!(!nothing.allows(SH), "an allow-list of only comments allows {SH}");
    let list = AllowList::parse("/bin/sh   # the shell\n  /usr/bin/env\n#/bin/rm\n");
    assert!(
        list.allows("/bin/sh") && list.allows("/usr/bin/env") && !list.allows("/bin/rm"),
        "the list allows /bin/sh and /usr/bin/env, not the commented-out /bin/rm"
    );
    server.stop().await;
}

async fn refused(client: &Client, envelope: &Envelope) -> rpc::Error {
    within("exec", async { collect(exec_envelope(client, envelope).await?).await }).await.unwrap_err()
}

#[test(tokio)]
async fn unsigned_wrongly_signed_expired_and_replayed_requests_are_refused() {
    let (server, log) = exec_server(|_| {}).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    let body = to_payload(&sh("echo ran", 5000)).unwrap();
    let in_a_minute = SystemTime::now() + Duration::from_secs(60);

    let unsigned = Envelope::unsigned(body.clone());
    let err = refused(&client, &unsigned).await;
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated), "the error code of an unsigned envelope: {err}");
    let err = collect(exec(&client, None, &sh("echo ran", 5000)).await.unwrap()).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated), "the error code of exec with no secret: {err}");

    let wrong = Envelope::sign(&Secret::new(b"guess".to_vec()), "exec", body.clone(), in_a_minute);
    let err = refused(&client, &wrong).await;
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated), "the error code of a wrong secret: {err}");

    let mut tampered = Envelope::sign(&secret(), "exec", body.clone(), in_a_minute);
    tampered.body = to_payload(&sh("echo other", 5000)).unwrap();
    let err = refused(&client, &tampered).await;
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated), "the error code of a tampered body: {err}");

    let other_method = Envelope::sign(&secret(), "not-exec", body.clone(), in_a_minute);
    let err = refused(&client, &other_method).await;
    assert_eq!(
        err.code(),
        Some(ErrorCode::Unauthenticated),
        "the error code of a signature for not-exec: {err}"
    );

    let expired = Envelope::sign(&secret(), "exec", body.clone(), SystemTime::now() - Duration::from_secs(1));
    let err = refused(&client, &expired).await;
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated), "the error code of an expired envelope: {err}");

    let good = Envelope::sign(&secret(), "exec", body, in_a_minute);
    let output = collect(exec_envelope(&client, &good).await.unwrap()).await.unwrap();
    assert_eq!(
        output.stdout,
        b"ran\n",
        "the stdout of a good envelope: \"{}\"",
        output.stdout.escape_ascii()
    );
    let err = refused(&client, &good).await;
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated), "a replay: {err}");
    assert!(log.lock().unwrap().iter().filter(|e| e.verdict.is_err()).count() >= 6, "refusals are logged");
    server.stop().await;
}

#[test(tokio)]
async fn a_server_without_a_secret_runs_nothing() {
    let (server, _) = exec_server(|config| config.secret = None).await;
    let client = Client::connect(server.addr, ClientConfig::default()).await.unwrap();
    let err = run(&client, &sh("echo hi", 1000)).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(ErrorCode::Unauthenticated),
        "the error code of a server without a secret: {err}"
    );
    server.stop().await;
}

#[test]
fn the_nonce_cache_is_bounded_and_forgets_at_expiry() {
    let now = SystemTime::now();
    let verifier = Verifier::new(Some(secret()), Duration::from_secs(60), 2);
    let sign = |ttl| Envelope::sign(&secret(), "exec", b"x".to_vec(), now + Duration::from_secs(ttl));
    let (a, b, c) = (sign(10), sign(20), sign(30));
    assert_eq!(verifier.verify("exec", &a, now), Ok(()), "verifying a, the first time");
    let again = verifier.verify("exec", &a, now);
    assert!(matches!(again, Err(AuthError::Replayed { .. })), "verifying a, a second time: {again:?}");
    assert_eq!(verifier.verify("exec", &b, now), Ok(()), "verifying b, with room for a second nonce");
    assert_eq!(
        verifier.verify("exec", &c, now),
        Err(AuthError::CacheFull),
        "full: refuse rather than forget"
    );
    let later = now + Duration::from_secs(11);
    assert_eq!(verifier.verify("exec", &c, later), Ok(()), "a's nonce expired and was forgotten");
    assert!(
        matches!(verifier.verify("exec", &a, later), Err(AuthError::Expired { .. })),
        "a itself is expired"
    );
    let far = sign(3600);
    let ahead = verifier.verify("exec", &far, now);
    assert!(
        matches!(ahead, Err(AuthError::TooFarAhead { .. })),
        "an envelope expiring in an hour: {ahead:?}"
    );
    let none = Verifier::new(None, Duration::from_secs(60), 10);
    assert_eq!(none.verify("exec", &sign(10), now), Err(AuthError::NoSecret), "a verifier without a secret");
}

#[test]
fn expiry_bounds_are_exact_to_the_millisecond() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
    let ms = Duration::from_millis;
    let verifier = Verifier::new(Some(secret()), Duration::from_secs(60), 1);
    let sign = |expires| Envelope::sign(&secret(), "exec", b"x".to_vec(), expires);
    assert_eq!(
        verifier.verify("exec", &sign(now - ms(1500)), now),
        Err(AuthError::Expired { ago_ms: 1500 }),
        "an envelope that expired 1500 ms ago"
    );
    assert_eq!(
        verifier.verify("exec", &sign(now), now),
        Err(AuthError::Expired { ago_ms: 0 }),
        "an envelope expiring at this very millisecond"
    );
    let longest = now + Duration::from_secs(60);
    assert_eq!(verifier.verify("exec", &sign(longest), now), Ok(()), "an envelope for exactly max_ttl");
    assert_eq!(
        verifier.verify("exec", &sign(longest + ms(1)), now),
        Err(AuthError::TooFarAhead { max_ms: 60_000 }),
        "an envelope for max_ttl and 1 ms"
    );
    // The cache holds one nonce, expiring at `longest`: at that millisecond it is forgotten.
    assert_eq!(
        verifier.verify("exec", &sign(longest + ms(10)), longest - ms(1)),
        Err(AuthError::CacheFull),
        "1 ms before the cached nonce expires"
    );
    assert_eq!(
        verifier.verify("exec", &sign(longest + ms(10)), longest),
        Ok(()),
        "at the millisecond the cached nonce expires, it makes room"
    );
}

#[test]
fn a_secret_file_loses_its_line_ending_and_no_debug_output_shows_a_secret() {
    let dir = testkit::scratch_dir();
    let now = SystemTime::now();
    let verifier = Verifier::new(Some(Secret::new(b"hunter2".to_vec())), Duration::from_secs(60), 10);
    for (name, text) in
        [("lf", &b"hunter2\n"[..]), ("crlf", b"hunter2\r\n"), ("none", b"hunter2"), ("two", b"hunter2\n\n")]
    {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let secret = Secret::from_file(&path)
            .unwrap_or_else(|err| panic!("reading {:?}: {err}", text.escape_ascii().to_string()));
        let signed = Envelope::sign(&secret, "exec", b"x".to_vec(), now + Duration::from_secs(10));
        assert_eq!(
            verifier.verify("exec", &signed, now),
            Ok(()),
            "signed with the secret read from a file of \"{}\"",
            text.escape_ascii()
        );
        let shown = format!("{secret:?}");
        assert!(shown.contains("Secret") && !shown.contains("hunter2"), "a secret's Debug output: {shown}");
    }
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"\r\n").unwrap();
    assert!(Secret::from_file(&empty).is_err(), "a secret file of only a line ending is refused");
    let config = ExecConfig::new(AllowList::parse(SH), Some(Secret::new(b"hunter2".to_vec())));
    let shown = format!("{config:?}");
    assert!(
        shown.contains("ExecConfig") && shown.contains(SH) && !shown.contains("hunter2"),
        "an ExecConfig's Debug output names it and its allow-list, not its secret: {shown}"
    );
}

#[test]
fn only_an_accepted_envelope_uses_up_its_nonce() {
    // The nonce is checked last, after the signature and the expiry: envelopes refused for those
    // must not use up a nonce or a place in the cache, or anyone could burn the nonces of requests
    // they cannot sign, or fill the cache with expired ones.
    let now = SystemTime::now();
    let verifier = Verifier::new(Some(secret()), Duration::from_secs(60), 1);
    let good = Envelope::sign(&secret(), "exec", b"x".to_vec(), now + Duration::from_secs(10));
    let forged = Envelope { body: b"y".to_vec(), ..good.clone() };
    assert_eq!(verifier.verify("exec", &forged, now), Err(AuthError::BadSignature), "a forged copy of good");
    let unsigned = Envelope { tag: Vec::new(), ..good.clone() };
    assert_eq!(verifier.verify("exec", &unsigned, now), Err(AuthError::Unsigned), "an unsigned copy of good");
    let expired = Envelope::sign(&secret(), "exec", b"x".to_vec(), now - Duration::from_secs(1));
    let refused = verifier.verify("exec", &expired, now);
    assert!(matches!(refused, Err(AuthError::Expired { .. })), "an expired envelope: {refused:?}");
    let ahead = Envelope::sign(&secret(), "exec", b"x".to_vec(), now + Duration::from_secs(3600));
    let refused = verifier.verify("exec", &ahead, now);
    assert!(matches!(refused, Err(AuthError::TooFarAhead { .. })), "an envelope for an hour: {refused:?}");
    assert_eq!(
        verifier.verify("exec", &good, now),
        Ok(()),
        "good, after copies of it and other envelopes were refused, with room for one nonce"
    );
}

#[test]
fn rpc_exec_exits_with_the_programs_status() {
    let dir = testkit::scratch_dir();
    let allow = dir.path().join("allow");
    let secret_file = dir.path().join("secret");
    std::fs::write(&allow, format!("# programs\n{SH}\n")).unwrap();
    std::fs::write(&secret_file, "correct horse battery staple\n").unwrap();
    let (allow, secret_file) = (allow.to_str().unwrap(), secret_file.to_str().unwrap());
    let server = ServerProcess::start(&["--allow", allow, "--secret-file", secret_file]);
    let addr = server.addr.to_string();

    let ran = Command::new(testkit::lab_binary!("rpc"))
        .args([
            "exec",
            &addr,
            "--secret-file",
            secret_file,
            "--",
            SH,
            "-c",
            "echo hello; echo oops >&2; exit 7",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (ran.stdout.escape_ascii(), ran.stderr.escape_ascii());
    assert_eq!(ran.status.code(), Some(7), "the exit code of rpc exec of exit 7; stderr: \"{stderr}\"");
    assert_eq!(ran.stdout, b"hello\n", "the stdout of rpc exec: \"{stdout}\"");
    assert_eq!(ran.stderr, b"oops\n", "the stderr of rpc exec: \"{stderr}\"");

    let ok = Command::new(testkit::lab_binary!("rpc"))
        .args(["exec", &addr, "--secret-file", secret_file, "--", SH, "-c", "true"])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "the exit code of rpc exec of true: \"{}\"",
        ok.stderr.escape_ascii()
    );

    let unsigned = Command::new(testkit::lab_binary!("rpc"))
        .args(["exec", &addr, "--", SH, "-c", "true"])
        .output()
        .unwrap();
    assert_eq!(unsigned.status.code(), Some(1), "no secret: refused");
    let forbidden = Command::new(testkit::lab_binary!("rpc"))
        .args(["exec", &addr, "--secret-file", secret_file, "--", "/bin/echo", "x"])
        .output()
        .unwrap();
    let shown = forbidden.stderr.escape_ascii();
    assert_eq!(forbidden.status.code(), Some(1), "the exit code of rpc exec of /bin/echo: \"{shown}\"");
    assert!(
        String::from_utf8_lossy(&forbidden.stderr).contains("allow-list"),
        "the error of rpc exec of /bin/echo names the allow-list: \"{shown}\""
    );

    let call =
        Command::new(testkit::lab_binary!("rpc")).args(["call", &addr, "echo", "a", "b c"]).output().unwrap();
    assert_eq!(
        (call.status.code(), &call.stdout[..]),
        (Some(0), &b"a\nb c\n"[..]),
        "(exit code, stdout) of rpc call echo a \"b c\"; stdout \"{}\"",
        call.stdout.escape_ascii()
    );
    let usage = Command::new(testkit::lab_binary!("rpc")).args(["exec", &addr]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2), "no program is a usage error");
    let help = Command::new(testkit::lab_binary!("rpc")).args(["--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        ["echo", "ping", "time", "serve", "exec"].iter().all(|word| text.contains(word)),
        "rpc --help names echo, ping, time, serve and exec: \"{}\"",
        help.stdout.escape_ascii()
    );
}
