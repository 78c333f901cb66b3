//! Stage 2: trust. Key files; the key store (nothing accepted by itself, accept, reject, delete, a
//! key that does not match); the Noise session (a pinned master key, sealed frames that cannot be
//! tampered with, replayed or moved to another session, hostile handshakes); signed commands
//! (unsigned, forged, tampered, expired, replayed, downgraded: never run); the allow-list; a
//! program's process group killed at its timeout; and a master with real agents: only accepted
//! agents are let in, a revoked one is cut off, a silent one dropped.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use common::{TestMaster, key, master_key, operator};
use control::agent::{AllowList, spawn_agent};
use control::command::{Checker, Command, Refusal, SignedCommand, unix_ms};
use control::exec::run_program;
use control::keys::{Admission, Identity, KeyState, KeyStore, PublicKey};
use control::master::Heard;
use control::session::{self, Session, SessionError};
use control::wire::{FrameReader, Outcome, Reply, encode_frame, read_frame};
use control::{Error, PROTOCOL_VERSION};
use proptest::prelude::*;
use testkit::test;
use testkit::tokio::{eventually, within};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const HOUR: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------------------------
// Keys

#[test]
fn a_key_file_round_trips_readable_by_its_owner_only() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("agent.key");
    let identity = Identity::generate();
    identity.save(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(Identity::load(&path).unwrap().public(), identity.public());
    assert_eq!(Identity::load_or_generate(&path).unwrap().public(), identity.public());
    assert!(
        matches!(Identity::generate().save(&path), Err(Error::File { .. })),
        "a key is never overwritten"
    );
    assert_ne!(Identity::generate().public(), identity.public());
}

#[test]
fn a_file_that_is_not_a_key_is_an_error_naming_it() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("broken.key");
    std::fs::write(&path, "not hex at all\n").unwrap();
    let err = Identity::load(&path).unwrap_err();
    assert!(matches!(err, Error::BadKey { .. }), "{err:?}");
    assert!(err.to_string().contains("broken.key"), "{err}");
    let made = dir.path().join("new.key");
    let identity = Identity::load_or_generate(&made).unwrap();
    assert_eq!(Identity::load(&made).unwrap().public(), identity.public());
}

#[test]
fn a_public_key_is_written_as_hex_and_read_back() {
    let public = key(1).public();
    let text = public.to_string();
    assert_eq!(text.len(), 64);
    assert_eq!(text.parse::<PublicKey>().unwrap(), public);
    assert_eq!(public.fingerprint(), text[..16]);
    assert!("abc".parse::<PublicKey>().is_err());
    assert!("zz".repeat(32).parse::<PublicKey>().is_err());
}

// ---------------------------------------------------------------------------------------------
// The key store

fn store() -> (testkit::TempDir, KeyStore) {
    let dir = testkit::scratch_dir();
    let store = KeyStore::open(&dir.path().join("keys")).unwrap();
    (dir, store)
}

#[test]
fn a_new_agent_waits_for_an_operator() {
    let (_dir, store) = store();
    assert_eq!(store.admit("web1", &key(1).public(), false).unwrap(), Admission::Pending);
    assert_eq!(store.admit("web1", &key(1).public(), false).unwrap(), Admission::Pending, "still pending");
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id.as_str(), listed[0].state, listed[0].key),
        ("web1", KeyState::Pending, key(1).public())
    );
    let accepted = store.accept("web1").unwrap();
    assert_eq!(accepted.state, KeyState::Accepted);
    assert_eq!(store.admit("web1", &key(1).public(), false).unwrap(), Admission::Admit);
}

#[test]
fn auto_accept_lets_a_new_agent_in_and_records_it() {
    let (_dir, store) = store();
    assert_eq!(store.admit("web1", &key(1).public(), true).unwrap(), Admission::Admit);
    assert_eq!(store.find("web1").unwrap().unwrap().state, KeyState::Accepted);
}

#[test]
fn another_key_under_a_known_id_is_refused() {
    let (_dir, store) = store();
    store.enroll("web1", &key(1).public()).unwrap();
    assert!(matches!(store.admit("web1", &key(2).public(), false).unwrap(), Admission::Refused(_)));
    assert!(
        matches!(store.admit("web1", &key(2).public(), true).unwrap(), Admission::Refused(_)),
        "not even with auto-accept"
    );
    store.admit("db1", &key(3).public(), false).unwrap();
    assert!(
        matches!(store.admit("db1", &key(4).public(), false).unwrap(), Admission::Refused(_)),
        "nor for a pending id"
    );
    assert_eq!(store.find("db1").unwrap().unwrap().key, key(3).public(), "and the pending key is kept");
}

#[test]
fn a_rejected_agent_is_refused_until_deleted() {
    let (_dir, store) = store();
    store.enroll("web1", &key(1).public()).unwrap();
    assert_eq!(store.reject("web1").unwrap().state, KeyState::Rejected);
    assert!(matches!(store.admit("web1", &key(1).public(), true).unwrap(), Admission::Refused(_)));
    assert!(store.delete("web1").unwrap());
    assert!(!store.delete("web1").unwrap());
    assert_eq!(store.admit("web1", &key(1).public(), false).unwrap(), Admission::Pending);
}

#[test]
fn operations_that_do_not_apply_say_so() {
    let (_dir, store) = store();
    assert!(matches!(store.accept("ghost"), Err(Error::Keys(_))));
    assert!(matches!(store.reject("ghost"), Err(Error::Keys(_))));
    store.enroll("web1", &key(1).public()).unwrap();
    assert!(matches!(store.accept("web1"), Err(Error::Keys(_))), "accepted already");
}

#[test]
fn an_id_can_never_name_a_path() {
    let (dir, store) = store();
    for id in ["../escape", "a/b", ".hidden", "-rf", "", "x".repeat(65).as_str(), "sp ace"] {
        assert!(matches!(store.admit(id, &key(1).public(), true).unwrap(), Admission::Refused(_)), "{id:?}");
        assert!(matches!(store.accept(id), Err(Error::BadOption(_))), "{id:?}");
        assert!(matches!(store.delete(id), Err(Error::BadOption(_))), "{id:?}");
    }
    assert!(!dir.path().join("escape").exists());
    assert!(store.list().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// Runs both sides of a handshake over an in-memory pipe: the agent `id` with key `agent`, which
/// pinned `pinned`, against the master (key [`master_key`]) whose verdict is `admission`.
async fn handshake(
    id: &str,
    agent: Identity,
    pinned: PublicKey,
    admission: Admission,
) -> (Result<Session, SessionError>, Result<(Session, String, PublicKey), SessionError>) {
    let (mut near, mut far) = tokio::io::duplex(4096);
    let id = id.to_owned();
    let agent_side = tokio::spawn(async move {
        let result = session::connect(&mut near, &mut FrameReader::new(), &agent, &id, &pinned).await;
        (result, near)
    });
    let master = master_key();
    let master_side = session::accept(&mut far, &mut FrameReader::new(), &master, |_, _| admission).await;
    // A master that gives up closes the connection, and the agent sees it.
    drop(far);
    let (agent_side, _near) = agent_side.await.unwrap();
    (agent_side, master_side)
}

#[test(tokio)]
async fn a_handshake_authenticates_both_ends_and_seals_both_ways() {
    let (agent, master) = handshake("web1", key(1), master_key().public(), Admission::Admit).await;
    let (mut agent, (mut master, id, agent_key)) = (agent.unwrap(), master.unwrap());
    assert_eq!(id, "web1");
    assert_eq!(agent_key, key(1).public());
    let sealed = agent.seal(b"hello master").unwrap();
    assert!(!sealed.windows(5).any(|w| w == b"hello"), "sealed means unreadable");
    assert_eq!(master.open(&sealed).unwrap(), b"hello master");
    let sealed = master.seal(b"hello agent").unwrap();
    assert_eq!(agent.open(&sealed).unwrap(), b"hello agent");
}

#[test(tokio)]
async fn the_master_sees_the_key_the_agent_proved_and_asks_about_it() {
    let (mut near, mut far) = tokio::io::duplex(4096);
    let agent = tokio::spawn(async move {
        let _ = session::connect(&mut near, &mut FrameReader::new(), &key(9), "db7", &master_key().public())
            .await;
    });
    let mut asked = None;
    let _ = session::accept(&mut far, &mut FrameReader::new(), &master_key(), |id, key| {
        asked = Some((id.to_owned(), *key));
        Admission::Pending
    })
    .await;
    agent.await.unwrap();
    assert_eq!(asked, Some(("db7".to_owned(), key(9).public())));
}

#[test(tokio)]
async fn an_agent_talks_only_to_the_master_it_pinned() {
    let (agent, master) = handshake("web1", key(1), key(77).public(), Admission::Admit).await;
    assert!(matches!(agent, Err(SessionError::Handshake(_) | SessionError::Closed)), "{agent:?}");
    assert!(master.is_err(), "an impostor master learns nothing it can use");
}

#[test(tokio)]
async fn a_pending_or_refused_agent_gets_no_session_and_is_told_why() {
    let (agent, master) = handshake("web1", key(1), master_key().public(), Admission::Pending).await;
    assert!(matches!(&agent, Err(SessionError::Refused(reason)) if reason.contains("pending")), "{agent:?}");
    assert!(matches!(master, Err(SessionError::Refused(_))));
    let (agent, _) =
        handshake("web1", key(1), master_key().public(), Admission::Refused("web1 is rejected".into())).await;
    assert!(matches!(&agent, Err(SessionError::Refused(reason)) if reason.contains("rejected")), "{agent:?}");
}

#[test(tokio)]
async fn a_tampered_frame_does_not_open() {
    let (agent, master) = handshake("web1", key(1), master_key().public(), Admission::Admit).await;
    let (mut agent, (mut master, _, _)) = (agent.unwrap(), master.unwrap());
    let mut sealed = agent.seal(b"run /bin/true").unwrap();
    sealed[3] ^= 1;
    assert!(matches!(master.open(&sealed), Err(SessionError::Open)));
}

#[test(tokio)]
async fn a_frame_cannot_be_replayed_reordered_or_moved_to_another_session() {
    let (agent, master) = handshake("web1", key(1), master_key().public(), Admission::Admit).await;
    let (mut agent, (mut master, _, _)) = (agent.unwrap(), master.unwrap());
    let first = agent.seal(b"first").unwrap();
    let second = agent.seal(b"second").unwrap();
    assert_eq!(master.open(&first).unwrap(), b"first");
    assert!(matches!(master.open(&first), Err(SessionError::Open)), "a replay of the same frame");

    let (agent2, master2) = handshake("web1", key(1), master_key().public(), Admission::Admit).await;
    let (mut agent2, (mut master2, _, _)) = (agent2.unwrap(), master2.unwrap());
    assert!(matches!(master2.open(&second), Err(SessionError::Open)), "a frame of another session");
    let _first = agent2.seal(b"first").unwrap();
    let _second = agent2.seal(b"second").unwrap();
    let third = agent2.seal(b"third").unwrap();
    assert!(matches!(master2.open(&third), Err(SessionError::Open)), "a frame out of order");
}

#[test(tokio)]
async fn a_message_too_long_to_seal_is_refused() {
    let (agent, _) = handshake("web1", key(1), master_key().public(), Admission::Admit).await;
    let mut agent = agent.unwrap();
    assert!(matches!(agent.seal(&vec![0; session::MAX_MESSAGE + 1]), Err(SessionError::TooLong { .. })));
    assert!(agent.seal(&vec![0; session::MAX_MESSAGE]).is_ok());
}

/// What `accept` makes of `first` as an agent's first handshake frame.
async fn accept_bytes(first: Vec<u8>) -> Result<(Session, String, PublicKey), SessionError> {
    let (mut near, mut far) = tokio::io::duplex(1 << 17);
    let mut framed = Vec::new();
    encode_frame(&first, &mut framed).unwrap();
    near.write_all(&framed).await.unwrap();
    // Closed for writing only: the master's answer still has somewhere to go.
    near.shutdown().await.unwrap();
    let accepted =
        session::accept(&mut far, &mut FrameReader::new(), &master_key(), |_, _| Admission::Admit).await;
    drop(near);
    accepted
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    /// Any bytes as a first handshake message: refused, never a panic, never a session.
    #[test]
    fn a_hostile_handshake_is_refused(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        prop_assert!(runtime.block_on(accept_bytes(bytes)).is_err());
    }

    /// A real first message, cut or with one byte changed: refused.
    #[test]
    fn a_damaged_handshake_is_refused(cut in 0usize..200, flip in 0usize..200, bit in 0u8..8) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let first = runtime.block_on(first_message());
        let mut damaged = first.clone();
        let at = flip % damaged.len();
        damaged[at] ^= 1 << bit;
        prop_assert!(runtime.block_on(accept_bytes(damaged)).is_err());
        let cut = cut % first.len();
        prop_assert!(runtime.block_on(accept_bytes(first[..cut].to_vec())).is_err());
    }

    /// Any bytes as a sealed frame: an error, never a panic.
    #[test]
    fn hostile_frames_do_not_open(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (_, master) = runtime.block_on(handshake("web1", key(1), master_key().public(), Admission::Admit));
        let (mut master, _, _) = master.unwrap();
        prop_assert!(master.open(&bytes).is_err());
    }
}

/// A genuine first handshake message of agent `web1`.
async fn first_message() -> Vec<u8> {
    let (mut near, mut far) = tokio::io::duplex(4096);
    let agent = tokio::spawn(async move {
        let _ = session::connect(&mut near, &mut FrameReader::new(), &key(1), "web1", &master_key().public())
            .await;
    });
    let first = read_frame(&mut far, &mut FrameReader::new()).await.unwrap().unwrap();
    drop(far);
    agent.await.unwrap();
    first
}

#[test(tokio)]
async fn the_same_first_message_twice_gives_the_replayer_no_session() {
    // An attacker who recorded an agent's first message can send it again; the master answers,
    // but without the agent's ephemeral key nothing that follows opens.
    let first = first_message().await;
    let (mut master, _, _) = accept_bytes(first.clone()).await.unwrap();
    let (mut other, _, _) = accept_bytes(first).await.unwrap();
    assert!(master.open(&other.seal(b"hello").unwrap()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Signed commands

fn command(program: &str, args: &[&str]) -> Command {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    Command::new("*", program, &args, Duration::from_secs(60), Duration::from_secs(5))
}

fn checker() -> Checker {
    Checker::new(vec![operator().public()], HOUR)
}

#[test]
fn a_signed_command_passes_once() {
    let command = command("/bin/echo", &["hi"]);
    assert_eq!(command.version, PROTOCOL_VERSION);
    let signed = SignedCommand::sign(&command, &operator());
    assert!(signed.is_signed_by(&operator().public()));
    let mut checker = checker();
    assert_eq!(checker.check(&signed, SystemTime::now()).unwrap(), command);
    assert_eq!(checker.check(&signed, SystemTime::now()), Err(Refusal::Replayed));
}

#[test]
fn an_unsigned_or_forged_command_is_refused() {
    let command = command("/bin/echo", &["hi"]);
    let mut unsigned = SignedCommand::sign(&command, &operator());
    unsigned.signature = vec![0; 64];
    assert_eq!(checker().check(&unsigned, SystemTime::now()), Err(Refusal::Unsigned));
    let mut empty = unsigned.clone();
    empty.signature.clear();
    assert_eq!(checker().check(&empty, SystemTime::now()), Err(Refusal::Unsigned));

    let stranger = SignedCommand::sign(&command, &key(66));
    assert!(matches!(checker().check(&stranger, SystemTime::now()), Err(Refusal::UnknownOperator(_))));

    // Someone else's signature under the operator's name.
    let mut forged = stranger.clone();
    forged.operator = operator().public().to_bytes();
    assert_eq!(checker().check(&forged, SystemTime::now()), Err(Refusal::BadSignature));
}

#[test]
fn a_command_changed_after_signing_is_refused() {
    let signed = SignedCommand::sign(&command("/bin/echo", &["hi"]), &operator());
    let mut changed = command("/bin/echo", &["hi"]);
    changed.program = "/bin/sh".into();
    let mut tampered = signed.clone();
    tampered.body = SignedCommand::sign(&changed, &operator()).body;
    assert_eq!(checker().check(&tampered, SystemTime::now()), Err(Refusal::BadSignature));
    let mut flipped = signed.clone();
    let last = flipped.body.len() - 1;
    flipped.body[last] ^= 1;
    assert_eq!(checker().check(&flipped, SystemTime::now()), Err(Refusal::BadSignature));
}

#[test]
fn an_expired_or_future_or_long_lived_command_is_refused() {
    let now = SystemTime::now();
    let mut expired = command("/bin/echo", &[]);
    expired.expires_ms = unix_ms(now) - 1000;
    expired.issued_ms = expired.expires_ms - 60_000;
    assert!(matches!(
        checker().check(&SignedCommand::sign(&expired, &operator()), now),
        Err(Refusal::Expired { .. })
    ));

    let mut future = command("/bin/echo", &[]);
    future.issued_ms = unix_ms(now) + 10 * 60_000;
    future.expires_ms = future.issued_ms + 60_000;
    assert!(matches!(
        checker().check(&SignedCommand::sign(&future, &operator()), now),
        Err(Refusal::NotYetValid { .. })
    ));

    let mut eternal = command("/bin/echo", &[]);
    eternal.expires_ms = eternal.issued_ms + 365 * 24 * 3600 * 1000;
    assert!(matches!(
        checker().check(&SignedCommand::sign(&eternal, &operator()), now),
        Err(Refusal::TooLongLived { .. })
    ));

    // A command is valid until its expiry, and refused from it on.
    let valid = command("/bin/echo", &[]);
    let signed = SignedCommand::sign(&valid, &operator());
    let at = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
    assert!(checker().check(&signed, at(valid.expires_ms - 1)).is_ok());
    assert!(matches!(checker().check(&signed, at(valid.expires_ms)), Err(Refusal::Expired { .. })));
}

#[test]
fn a_command_of_another_version_is_refused() {
    for version in [0, PROTOCOL_VERSION + 1] {
        let mut old = command("/bin/echo", &[]);
        old.version = version;
        let refused = checker().check(&SignedCommand::sign(&old, &operator()), SystemTime::now());
        assert_eq!(refused, Err(Refusal::Version { version, expected: PROTOCOL_VERSION }));
    }
}

#[test]
fn a_replay_is_refused_while_valid_and_its_nonce_forgotten_after() {
    let mut checker = checker();
    let first = command("/bin/echo", &["1"]);
    let signed = SignedCommand::sign(&first, &operator());
    let now = SystemTime::now();
    checker.check(&signed, now).unwrap();
    // A second command with the same nonce but other contents is a replay too.
    let mut same_nonce = command("/bin/echo", &["2"]);
    same_nonce.nonce = first.nonce;
    assert_eq!(checker.check(&SignedCommand::sign(&same_nonce, &operator()), now), Err(Refusal::Replayed));
    // An unsigned message does not burn a nonce.
    let fresh = command("/bin/echo", &["3"]);
    let mut unsigned = SignedCommand::sign(&fresh, &operator());
    unsigned.signature = vec![1; 64];
    assert_eq!(checker.check(&unsigned, now), Err(Refusal::BadSignature));
    assert!(checker.check(&SignedCommand::sign(&fresh, &operator()), now).is_ok());
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    /// Random bodies and signatures are never accepted.
    #[test]
    fn random_commands_are_never_accepted(body in prop::collection::vec(any::<u8>(), 0..200), signature in prop::collection::vec(any::<u8>(), 0..80)) {
        let signed = SignedCommand { body, operator: operator().public().to_bytes(), signature };
        prop_assert!(checker().check(&signed, SystemTime::now()).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Running programs

#[test(tokio)]
async fn a_program_runs_without_a_shell_and_its_output_and_status_come_back() {
    let args = ["-c".to_string(), "echo out; echo err >&2; exit 3".to_string()];
    let exit = run_program("/bin/sh", &args, Duration::from_secs(10), 1024).await.unwrap();
    assert_eq!((exit.code, exit.timed_out, exit.truncated), (Some(3), false, false));
    assert_eq!((exit.stdout.as_slice(), exit.stderr.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
    let exit =
        run_program("/bin/echo", &["$HOME;".to_string()], Duration::from_secs(10), 1024).await.unwrap();
    assert_eq!(exit.stdout, b"$HOME;\n", "arguments are not a shell's");
    assert!(run_program("/no/such/program", &[], Duration::from_secs(1), 1024).await.is_err());
}

#[test(tokio)]
async fn output_over_the_cap_is_cut_and_flagged() {
    let args = ["-c".to_string(), "head -c 100000 /dev/zero".to_string()];
    let exit = run_program("/bin/sh", &args, Duration::from_secs(10), 1000).await.unwrap();
    assert_eq!((exit.stdout.len(), exit.truncated, exit.code), (1000, true, Some(0)));
}

#[test(tokio)]
async fn at_the_timeout_the_whole_process_group_dies() {
    let dir = testkit::scratch_dir();
    let pid_file = dir.path().join("child.pid");
    let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
    let started = std::time::Instant::now();
    let exit =
        run_program("/bin/sh", &["-c".to_string(), script], Duration::from_millis(300), 1024).await.unwrap();
    assert!(exit.timed_out, "{exit:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let child: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    eventually("the background child to die with its group", || !alive(child)).await;
}

/// Whether process `pid` exists and is not a zombie.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// The master and its agents

/// Sends `signed` to agent `id` and waits for its reply.
async fn run_on(master: &TestMaster, id: &str, signed: &SignedCommand) -> Reply {
    let mut dispatch = master.handle.dispatch(signed, &[id.to_string()]).unwrap();
    assert_eq!(dispatch.sent, [id.to_string()]);
    let (from, heard) = within("a reply", dispatch.replies.recv()).await.unwrap();
    assert_eq!(from, id);
    match heard {
        Heard::Reply(reply) => reply,
        other => panic!("expected a reply, heard {other:?}"),
    }
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_agent_is_pending_and_let_in_once_accepted() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let mut config = master.agent_config("web1", 1);
    config.tags = [("role".to_string(), "web".to_string())].into();
    let agent = spawn_agent(config, shutdown.clone());
    eventually("the agent's key to be pending", || {
        master.keys.find("web1").unwrap().is_some_and(|entry| entry.state == KeyState::Pending)
    })
    .await;
    eventually("the agent to hear why", || {
        agent.status().last_error.is_some_and(|why| why.contains("pending"))
    })
    .await;
    assert!(!master.has("web1"));
    assert_eq!(agent.status().sessions, 0);

    master.keys.accept("web1").unwrap();
    eventually("the accepted agent to connect", || master.has("web1")).await;
    let info = master.handle.agent("web1").unwrap();
    assert_eq!(info.tags["role"], "web");
    assert!(info.since <= SystemTime::now());
    assert!(info.addr.ip().is_loopback());
    assert!(agent.status().connected);
    shutdown.cancel();
    within("the agent to stop", agent.join()).await;
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_agent_runs_a_signed_command_and_replies() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let _agent = master.enrolled_agent("web1", 1, &shutdown);
    eventually("the agent to connect", || master.has("web1")).await;
    let signed = SignedCommand::sign(&command("/bin/echo", &["hello", "world"]), &operator());
    let reply = run_on(&master, "web1", &signed).await;
    match reply.outcome {
        Outcome::Exited(exit) => {
            assert_eq!((exit.code, exit.stdout.as_slice()), (Some(0), &b"hello world\n"[..]))
        }
        other => panic!("expected an exit, got {other:?}"),
    }
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn the_master_relays_no_command_an_agent_would_refuse_for_its_signature() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let _agent = master.enrolled_agent("web1", 1, &shutdown);
    eventually("the agent to connect", || master.has("web1")).await;
    let ids = ["web1".to_string()];
    let mut unsigned = SignedCommand::sign(&command("/bin/echo", &[]), &operator());
    unsigned.signature = vec![0; 64];
    assert_eq!(master.handle.dispatch(&unsigned, &ids).unwrap_err(), Refusal::Unsigned);
    let stranger = SignedCommand::sign(&command("/bin/echo", &[]), &key(66));
    assert!(matches!(master.handle.dispatch(&stranger, &ids), Err(Refusal::UnknownOperator(_))));
    let signed = SignedCommand::sign(&command("/bin/echo", &[]), &operator());
    master.handle.dispatch(&signed, &ids).unwrap();
    assert_eq!(master.handle.dispatch(&signed, &ids).unwrap_err(), Refusal::Replayed);
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_checks_for_itself_and_runs_only_what_it_allows() {
    // A master that trusts a stranger's key relays the stranger's command; the agent does not.
    let master = TestMaster::start(|config| config.operators.push(key(66).public())).await;
    let shutdown = CancellationToken::new();
    let agent = master.enrolled_agent("web1", 1, &shutdown);
    eventually("the agent to connect", || master.has("web1")).await;
    let stranger = SignedCommand::sign(&command("/bin/echo", &["x"]), &key(66));
    let reply = run_on(&master, "web1", &stranger).await;
    assert!(matches!(reply.outcome, Outcome::Refused(Refusal::UnknownOperator(_))), "{reply:?}");

    let not_allowed = SignedCommand::sign(&command("/usr/bin/id", &[]), &operator());
    let reply = run_on(&master, "web1", &not_allowed).await;
    assert_eq!(reply.outcome, Outcome::Refused(Refusal::NotAllowed("/usr/bin/id".into())));
    assert_eq!((agent.status().refused, agent.status().ran), (2, 0));
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_an_empty_allow_list_runs_nothing() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    master.keys.enroll("web1", &key(1).public()).unwrap();
    let mut config = master.agent_config("web1", 1);
    config.allow = AllowList::default();
    let _agent = spawn_agent(config, shutdown.clone());
    eventually("the agent to connect", || master.has("web1")).await;
    let signed = SignedCommand::sign(&command("/bin/echo", &["x"]), &operator());
    let reply = run_on(&master, "web1", &signed).await;
    assert_eq!(reply.outcome, Outcome::Refused(Refusal::NotAllowed("/bin/echo".into())));
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_agent_is_cut_off_and_not_let_back() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let agent = master.enrolled_agent("web1", 1, &shutdown);
    let _other = master.enrolled_agent("web2", 2, &shutdown);
    eventually("both agents to connect", || master.has("web1") && master.has("web2")).await;
    master.keys.reject("web1").unwrap();
    eventually("the rejected agent to be cut off", || !master.has("web1")).await;
    eventually("the agent to notice", || !agent.status().connected).await;
    let signed = SignedCommand::sign(&command("/bin/echo", &[]), &operator());
    let dispatch = master.handle.dispatch(&signed, &["web1".to_string(), "web2".to_string()]).unwrap();
    assert_eq!(dispatch.unreachable, ["web1".to_string()]);
    assert_eq!(dispatch.sent, ["web2".to_string()]);
    // It keeps knocking, and is refused every time.
    let sessions = agent.status().sessions;
    eventually("the agent to be refused", || {
        agent.status().last_error.is_some_and(|why| why.contains("rejected"))
    })
    .await;
    assert_eq!(agent.status().sessions, sessions);
    assert!(master.has("web2"), "the others carry on");
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_another_key_under_an_enrolled_id_is_refused() {
    let master = TestMaster::start(|config| config.auto_accept = true).await;
    let shutdown = CancellationToken::new();
    master.keys.enroll("web1", &key(1).public()).unwrap();
    let impostor = spawn_agent(master.agent_config("web1", 5), shutdown.clone());
    eventually("the impostor to be refused", || {
        impostor.status().last_error.is_some_and(|why| why.contains("key"))
    })
    .await;
    assert!(!master.has("web1"));
    assert_eq!(master.keys.find("web1").unwrap().unwrap().key, key(1).public());
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_never_talks_to_a_master_it_did_not_pin() {
    let master = TestMaster::start(|config| config.auto_accept = true).await;
    let shutdown = CancellationToken::new();
    let mut config = master.agent_config("web1", 1);
    config.master_key = key(99).public();
    let agent = spawn_agent(config, shutdown.clone());
    eventually("a few failed attempts", || agent.status().last_error.is_some()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(agent.status().sessions, 0);
    assert!(!master.has("web1"));
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_agent_is_dropped_after_three_silent_heartbeats_and_a_live_one_is_kept() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let dead = master.enrolled_agent("dead", 1, &shutdown);
    let _live = master.enrolled_agent("live", 2, &shutdown);
    eventually("both agents to connect", || master.has("dead") && master.has("live")).await;
    // A machine that froze: its connection stays open, but it says nothing more.
    dead.freeze();
    let frozen = std::time::Instant::now();
    eventually("the silent agent to be dropped", || !master.has("dead")).await;
    assert!(frozen.elapsed() >= Duration::from_millis(300), "dropped after {:?}", frozen.elapsed());
    // Well past the live one's own three intervals: its heartbeats keep it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(master.has("live"));
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_agent_replaces_its_old_connection() {
    let master = TestMaster::start(|_| {}).await;
    let (first_life, second_life) = (CancellationToken::new(), CancellationToken::new());
    let first = master.enrolled_agent("web1", 1, &first_life);
    eventually("the agent to connect", || master.has("web1")).await;
    let old = master.handle.agent("web1").unwrap().connection;
    first.freeze();
    let _second = spawn_agent(master.agent_config("web1", 1), second_life.clone());
    eventually("the new connection to replace the old", || {
        master.handle.agent("web1").is_some_and(|info| info.connection != old)
    })
    .await;
    assert_eq!(master.handle.agents().len(), 1);
    first_life.cancel();
    second_life.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_speaking_garbage_closes_only_its_own_connection() {
    let master = TestMaster::start(|config| config.auto_accept = true).await;
    let shutdown = CancellationToken::new();
    let _agent = master.enrolled_agent("web1", 1, &shutdown);
    eventually("the agent to connect", || master.has("web1")).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    for garbage in [vec![0xff; 10], b"\x00\x05hello".to_vec(), b"GET / HTTP/1.1\r\n\r\n".to_vec()] {
        let mut stream = tokio::net::TcpStream::connect(master.addr).await.unwrap();
        stream.write_all(&garbage).await.unwrap();
        let mut frames = FrameReader::new();
        let closed = within("the master to close", read_frame(&mut stream, &mut frames)).await;
        tx.send(closed.map(|frame| frame.is_none()).unwrap_or(true)).unwrap();
    }
    for _ in 0..3 {
        assert!(rx.recv().await.unwrap(), "the master closes the connection without a word");
    }
    let signed = SignedCommand::sign(&command("/bin/echo", &["still", "here"]), &operator());
    let reply = run_on(&master, "web1", &signed).await;
    assert!(matches!(reply.outcome, Outcome::Exited(_)));
    assert_eq!(master.handle.agents().len(), 1);
    shutdown.cancel();
}
