//! Test data for the labs: committed fixtures with their expected answers, and deterministic
//! generators of large inputs.
//!
//! Small fixtures live beside this crate (`datasets/nginx/`, `datasets/text/`) and are committed; big
//! files are generated on demand into `datasets/generated/`, which git ignores:
//!
//! ```text
//! cargo run -p datasets --release --bin gen -- nginx --size 1G --seed 1
//! cargo run -p datasets --release --bin gen -- text --size 100M --seed 1
//! ```
//!
//! Every generator is a pure function of its spec: the same seed gives the same bytes on every
//! machine, and each one returns or yields the ground truth a correct solution must reproduce.
//!
//! # Layout
//!
//! - [`nginx`]: access logs in nginx's `combined` format, each line with its parsed [`nginx::Entry`].
//! - [`metrics`]: a fleet of servers' metrics, read every step, for time-series stores.
//! - [`text`]: prose for word counting, with the true count of every word.
//! - [`size`]: `100M`-style sizes for the `gen` binary.
//! - `dice`, `zipf`: the value-stable random draws both generators share.

mod dice;
pub mod metrics;
pub mod nginx;
pub mod size;
pub mod text;
mod zipf;

use std::io;
use std::path::PathBuf;

/// The `datasets/` folder of the workspace, where the committed fixtures are.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `datasets/generated/` folder for big generated files, created if missing. Git ignores it.
///
/// # Errors
///
/// When the folder cannot be created.
pub fn generated_dir() -> io::Result<PathBuf> {
    let dir = root().join("generated");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Calls `produce` to append whole pieces (lines, paragraphs) to a buffer until at least
/// `target_bytes` have been produced, writing the buffer to `out` a megabyte at a time.
fn write_until(
    target_bytes: u64,
    out: &mut impl io::Write,
    mut produce: impl FnMut(&mut Vec<u8>),
) -> io::Result<()> {
    const CHUNK: usize = 1 << 20;
    let mut buf = Vec::with_capacity(CHUNK + 64 * 1024);
    let mut written = 0u64;
    while written + (buf.len() as u64) < target_bytes {
        produce(&mut buf);
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            written += buf.len() as u64;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}
