//! Waiting with a deadline inside a tokio test: the async [`eventually`] and [`within`].
//!
//! Built only with the `tokio` feature, so labs that never start a runtime do not compile tokio for
//! their tests. Both wait [`DEFAULT_DEADLINE`], the deadline of the sync [`crate::eventually`], and
//! both measure it with tokio's clock, so a test that pauses time pauses their deadline too.

use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use crate::DEFAULT_DEADLINE;

/// How often [`eventually`] checks its condition: short, since a loopback exchange takes
/// microseconds, but long enough not to spin a core the code under test needs.
const POLL: Duration = Duration::from_millis(2);

/// Waits until `condition` holds, checking it every couple of milliseconds between the runtime's
/// other work.
///
/// # Panics
///
/// When the condition is still false after [`DEFAULT_DEADLINE`]; the message names `what` and the
/// line that waited.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let started = std::time::Instant::now();
/// testkit::tokio::eventually("a few milliseconds to pass", || {
///     started.elapsed() >= std::time::Duration::from_millis(5)
/// })
/// .await;
/// # }
/// ```
#[track_caller]
pub fn eventually(what: &str, condition: impl FnMut() -> bool) -> impl Future<Output = ()> {
    // An async fn cannot be #[track_caller]: the caller is read here, before the future exists.
    eventually_by(DEFAULT_DEADLINE, what, condition, Location::caller())
}

/// Awaits `future`, which must finish within [`DEFAULT_DEADLINE`], and gives its output.
///
/// # Panics
///
/// When `future` is still pending at the deadline; the message names `what` and the line that
/// waited. The future is dropped first.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let answer = testkit::tokio::within("the answer", async { 42 }).await;
/// assert_eq!(answer, 42);
/// # }
/// ```
#[track_caller]
pub fn within<F: Future>(what: &str, future: F) -> impl Future<Output = F::Output> {
    within_by(DEFAULT_DEADLINE, what, future, Location::caller())
}

/// [`eventually`] with any deadline, so the unit tests need not wait the default one out.
async fn eventually_by(
    deadline: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
    caller: &Location<'_>,
) {
    let start = ::tokio::time::Instant::now();
    while !condition() {
        assert!(start.elapsed() < deadline, "timed out after {deadline:?} waiting for {what} (at {caller})");
        ::tokio::time::sleep(POLL).await;
    }
}

/// [`within`] with any deadline, so the unit tests need not wait the default one out.
async fn within_by<F: Future>(deadline: Duration, what: &str, future: F, caller: &Location<'_>) -> F::Output {
    ::tokio::time::timeout(deadline, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {deadline:?} (at {caller})"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    const SHORT: Duration = Duration::from_millis(20);

    #[::tokio::test]
    async fn eventually_returns_once_another_task_makes_the_condition_hold() {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        ::tokio::spawn(async move {
            ::tokio::task::yield_now().await;
            flag.store(true, Ordering::SeqCst);
        });
        eventually("the task to set the flag", || done.load(Ordering::SeqCst)).await;
    }

    #[::tokio::test]
    #[should_panic(expected = "timed out after 20ms waiting for a flag nobody sets (at ")]
    async fn eventually_names_what_it_waited_for_at_the_deadline() {
        eventually_by(SHORT, "a flag nobody sets", || false, Location::caller()).await;
    }

    #[::tokio::test]
    async fn within_gives_the_output_of_a_future_that_finishes() {
        let output = within("a ready future", async { "done" }).await;
        assert_eq!(output, "done", "the output of the future within() awaited");
    }

    #[::tokio::test]
    #[should_panic(expected = "a pending future did not finish within 20ms (at ")]
    async fn within_names_a_future_that_never_finishes() {
        within_by(SHORT, "a pending future", std::future::pending::<()>(), Location::caller()).await;
    }
}
