//! A short fuzzing run of the master's side of the handshake: for `--seconds` (10 by default),
//! genuine first messages are damaged (a bit flipped, a byte changed, cut, lengthened, spliced
//! with another) or replaced by random bytes, and handed to `session::accept` as an agent's first
//! frame. Each must be refused, and none may panic; the run prints how many it tried of each kind.
//!
//! Usage: cargo run --release -p control-ref --example fuzz-handshake -- --seconds 20

use std::time::{Duration, Instant};

use control::keys::{Admission, Identity};
use control::session;
use control::wire::{FrameReader, encode_frame, read_frame};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use tokio::io::AsyncWriteExt;

fn main() {
    let seconds = std::env::args()
        .skip_while(|arg| arg != "--seconds")
        .nth(1)
        .and_then(|text| text.parse().ok())
        .unwrap_or(10.0);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let master = Identity::from_seed([200; 32]);
    let agent = Identity::from_seed([1; 32]);
    let mut rng = ChaCha8Rng::seed_from_u64(u64::from(std::process::id()));
    let mut tried = [0u64; 6];
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut genuine = runtime.block_on(first_message(&agent, &master));
    while Instant::now() < deadline {
        // A fresh genuine message now and then: each carries a new ephemeral key.
        if tried.iter().sum::<u64>() % 64 == 0 {
            genuine = runtime.block_on(first_message(&agent, &master));
        }
        let kind = (rng.next_u32() % 6) as usize;
        let mut message = genuine.clone();
        let at = rng.next_u32() as usize % message.len();
        match kind {
            0 => message[at] ^= 1 << (rng.next_u32() % 8),
            1 => message[at] ^= 1 + (rng.next_u32() % 255) as u8,
            2 => message.truncate(at),
            3 => message.extend((0..1 + rng.next_u32() % 64).map(|_| rng.next_u32() as u8)),
            4 => {
                let other = runtime.block_on(first_message(&agent, &master));
                message.truncate(at);
                message.extend_from_slice(&other[at.min(other.len())..]);
                if message == genuine || message == other {
                    continue;
                }
            }
            _ => message = (0..rng.next_u32() % 400).map(|_| rng.next_u32() as u8).collect(),
        }
        tried[kind] += 1;
        if runtime.block_on(accept(message.clone(), &master)) {
            eprintln!("fuzz-handshake: a damaged first message was accepted: {}", hex::encode(&message));
            std::process::exit(1);
        }
    }
    let total: u64 = tried.iter().sum();
    println!(
        "  {total} hostile first messages in {seconds} s, every one refused: {} with a bit flipped, {} with a byte changed, {} cut, {} lengthened, {} spliced, {} random",
        tried[0], tried[1], tried[2], tried[3], tried[4], tried[5]
    );
}

/// A genuine first handshake message of `agent` to `master`.
async fn first_message(agent: &Identity, master: &Identity) -> Vec<u8> {
    let (mut near, mut far) = tokio::io::duplex(4096);
    let (agent, master_key) = (agent.clone(), master.public());
    let connecting = tokio::spawn(async move {
        let _ = session::connect(&mut near, &mut FrameReader::new(), &agent, "web1", &master_key).await;
    });
    let first = read_frame(&mut far, &mut FrameReader::new()).await.ok().flatten().unwrap_or_default();
    drop(far);
    let _ = connecting.await;
    first
}

/// Whether the master makes a session of `first` as an agent's first frame.
async fn accept(first: Vec<u8>, master: &Identity) -> bool {
    let (mut near, mut far) = tokio::io::duplex(1 << 17);
    let mut framed = Vec::new();
    if encode_frame(&first, &mut framed).is_err() {
        return false;
    }
    if near.write_all(&framed).await.is_err() || near.shutdown().await.is_err() {
        return false;
    }
    let accepted = session::accept(&mut far, &mut FrameReader::new(), master, |_, _| Admission::Admit).await;
    accepted.is_ok()
}
