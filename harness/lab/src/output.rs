//! Results go to stdout through [`print()`], so that a closed pipe (`cargo lab | head`) ends the run
//! quietly instead of panicking like `println!`.

use std::io::{self, Write};

/// Writes `text` to stdout and flushes it.
///
/// # Errors
///
/// The write error; `main` treats a broken pipe as success.
pub fn print(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}
