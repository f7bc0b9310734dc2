//! Spawning that keeps the current span as parent (Tokio).

use std::future::Future;

use tokio::task::JoinHandle;

use crate::{Context, Instrument};

/// `tokio::spawn`, with the current trace and span as the task's context: spans the task
/// starts are children of the span that spawned it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let handle = agent_trace::spawn(async { 2 + 2 });
/// assert_eq!(handle.await.unwrap(), 4);
/// # }
/// ```
#[track_caller]
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(fut.in_current_span())
}

/// `tokio::task::spawn_blocking`, with the current trace and span as the closure's context.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let n = agent_trace::spawn_blocking(|| 6 * 7).await.unwrap();
/// assert_eq!(n, 42);
/// # }
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let cx = Context::current();
    tokio::task::spawn_blocking(move || cx.run(f))
}
