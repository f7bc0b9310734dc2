//! Deep async nesting: a traced recursion costs about the stack of the untraced one per level.
//!
//! Each level of an async recursion polls the next level from inside its own poll, so the
//! stack at the deepest level holds one poll frame chain per level (and dropping the recursion
//! before it completes drops each level from inside the one above). `.in_span()` and
//! `#[traced]` add their wrapper's frames to each: they must stay small, or traced recursion
//! overflows a worker's stack long before the same code untraced does. Measured by the address
//! of a local at the deepest level against the same at the top, on threads with a fixed stack;
//! whether a recursion fits a given stack is checked in a child process, where an overflow
//! (which aborts the process) fails the test instead of killing the test runner.
//!
//! The table of bytes per level: `cargo test [--release] -p agent-trace --test deep_nesting --
//! --nocapture stack_per_level`.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use agent_trace::{custom_span, Instrument};

type Level = Pin<Box<dyn Future<Output = usize> + Send>>;

/// The address of a local of the caller's frame (roughly: the stack pointer).
#[inline(never)]
fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

thread_local! {
    /// Where the deepest level of a recursion was dropped.
    static DROPPED_AT: Cell<usize> = const { Cell::new(0) };
}

/// Records the stack address it is dropped at.
struct DropProbe;

impl Drop for DropProbe {
    fn drop(&mut self) {
        DROPPED_AT.with(|d| d.set(stack_address()));
    }
}

/// The deepest level: the stack address, or (`pend`) waits for ever to be dropped.
async fn bottom(pend: bool) -> usize {
    if pend {
        let _probe = DropProbe;
        std::future::pending::<()>().await;
    }
    stack_address()
}

/// An async block boxed at each level.
fn untraced_block(n: u32, pend: bool) -> Level {
    Box::pin(async move {
        if n == 0 {
            bottom(pend).await
        } else {
            untraced_block(n - 1, pend).await
        }
    })
}

/// The same in a span per level.
fn in_span_block(n: u32, pend: bool) -> Level {
    Box::pin(
        async move {
            if n == 0 {
                bottom(pend).await
            } else {
                in_span_block(n - 1, pend).await
            }
        }
        .in_span(custom_span("level")),
    )
}

/// The same in the context current where each level is made (the trace's).
fn in_current_span_block(n: u32, pend: bool) -> Level {
    Box::pin(
        async move {
            if n == 0 {
                bottom(pend).await
            } else {
                in_current_span_block(n - 1, pend).await
            }
        }
        .in_current_span(),
    )
}

/// An `async fn` recursing through `Box::pin`, as one writes it.
async fn untraced_fn(n: u32, pend: bool) -> usize {
    if n == 0 {
        bottom(pend).await
    } else {
        Box::pin(untraced_fn(n - 1, pend)).await
    }
}

/// The same, traced.
#[agent_trace::traced]
async fn traced_fn(n: u32, pend: bool) -> usize {
    if n == 0 {
        bottom(pend).await
    } else {
        Box::pin(traced_fn(n - 1, pend)).await
    }
}

/// A recursion of `n` levels below this one; the deepest waits for ever if `pend`.
type Recursion = fn(n: u32, pend: bool) -> Level;

/// The recursions measured, by name.
const FORMS: [(&str, Recursion); 5] = [
    ("untraced async block", untraced_block),
    (".in_span() async block", in_span_block),
    (".in_current_span() block", in_current_span_block),
    ("untraced async fn", |n, pend| {
        Box::pin(untraced_fn(n, pend))
    }),
    ("#[traced] async fn", |n, pend| Box::pin(traced_fn(n, pend))),
];

fn form(name: &str) -> Recursion {
    FORMS.iter().find(|(n, _)| *n == name).expect("a form").1
}

/// Stack bytes of a recursion of `levels`, at its deepest poll and at its deepest drop.
#[derive(Debug, Clone, Copy)]
struct Depth {
    /// From the top to the deepest level's poll.
    poll: usize,
    /// From the top to the deepest level's drop, when dropped before completing.
    drop: usize,
    /// Spans recorded by the polled run, and by the dropped one.
    spans: (usize, usize),
}

/// Runs `levels` levels of `recursion` in a trace on a new thread with a stack of
/// `stack_bytes`, to completion, then again dropped while its deepest level waits.
fn measure(recursion: Recursion, levels: u32, stack_bytes: usize) -> Depth {
    std::thread::Builder::new()
        .stack_size(stack_bytes)
        .spawn(move || {
            let (provider, seen) = common::collecting();
            let top = stack_address();
            let deepest = futures::executor::block_on(
                provider
                    .trace("deep")
                    .run(async move { recursion(levels, false).await }),
            );
            let polled = seen.spans().len();
            let cancelled = CollectingCancelled::new(&provider, recursion, levels);
            Depth {
                poll: top - deepest,
                drop: cancelled.top - cancelled.deepest,
                spans: (polled, seen.spans().len() - polled),
            }
        })
        .unwrap()
        .join()
        .expect("the recursion ran out of stack")
}

/// A recursion polled once (so its deepest level waits), then dropped.
struct CollectingCancelled {
    top: usize,
    deepest: usize,
}

impl CollectingCancelled {
    fn new(provider: &agent_trace::TracerProvider, recursion: Recursion, levels: u32) -> Self {
        let mut run = Box::pin(
            provider
                .trace("dropped")
                .run(async move { recursion(levels, true).await }),
        );
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(run.as_mut().poll(&mut cx).is_pending());
        DROPPED_AT.with(|d| d.set(0));
        let top = stack_address();
        drop(run);
        let deepest = DROPPED_AT.with(Cell::get);
        assert_ne!(deepest, 0, "the deepest level was dropped");
        CollectingCancelled { top, deepest }
    }
}

/// Bytes of stack per level of each form, polled to the bottom and dropped from there, as a
/// table on stderr; asserts that the traced forms stay close to the untraced ones.
#[test]
fn stack_per_level() {
    let levels = 2_000;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    eprintln!("\nStack per level of an async recursion, bytes ({profile} build, {levels} levels):");
    eprintln!("  {:<26} {:>6} {:>6}", "form", "poll", "drop");
    let mut rows = Vec::new();
    for (name, recursion) in FORMS {
        let d = measure(recursion, levels, 256 << 20);
        let row = (d.poll / levels as usize, d.drop / levels as usize);
        eprintln!("  {name:<26} {:>6} {:>6}", row.0, row.1);
        let traced = name.starts_with(".in_span") || name.starts_with("#[traced]");
        let spans = if traced { levels as usize + 1 } else { 0 };
        assert_eq!(
            d.spans,
            (spans, spans),
            "{name}: one span per level, each run"
        );
        rows.push(row);
    }
    eprintln!("  poll: to the deepest level's poll; drop: to the deepest level's drop when the");
    eprintln!(
        "  recursion is dropped before it completes (each level is dropped by the one above)"
    );
    // Release: .in_span() 240 / 320 bytes against 64 / 32 before, #[traced] 688 / 304 against
    // 48 / 32 (a catch_unwind, a saved position and the span's start in every level's frame, and
    // the #[traced] future built on the stack before its box). Now 64 / 48 and 64 / 32.
    // Debug builds keep every temporary in the frame, and a #[traced] future (which holds its
    // span) is built on the stack before its box: 689 / 752 and 2,466 / 752 before, now about
    // 1.5 and 3 times the untraced.
    let (factor, traced_factor) = if cfg!(debug_assertions) {
        (2, 4)
    } else {
        (2, 2)
    };
    let [block, in_span, in_current, plain_fn, traced_fn] = rows[..] else {
        unreachable!()
    };
    for (what, traced, plain, factor) in [
        (".in_span() poll", in_span.0, block.0, factor),
        (".in_span() drop", in_span.1, block.1, factor + 2),
        (".in_current_span() poll", in_current.0, block.0, factor),
        (".in_current_span() drop", in_current.1, block.1, factor + 2),
        ("#[traced] poll", traced_fn.0, plain_fn.0, traced_factor),
        ("#[traced] drop", traced_fn.1, plain_fn.1, traced_factor),
    ] {
        assert!(
            traced <= factor * plain,
            "{what}: {traced} bytes of stack per level, untraced {plain}"
        );
    }
}

/// The child process's part of [`ten_thousand_levels_fit_where_untraced_needs_a_fraction`]:
/// runs the recursion named by `DEEP_NESTING_CHILD` (`form:levels:stack bytes`) to completion
/// and dropped; an overflow aborts the child.
#[test]
#[ignore = "run in a child process by ten_thousand_levels_fit_where_untraced_needs_a_fraction"]
fn child_runs_a_deep_recursion() {
    let spec = std::env::var("DEEP_NESTING_CHILD").expect("DEEP_NESTING_CHILD=form:levels:stack");
    let mut parts = spec.rsplitn(3, ':');
    let stack: usize = parts.next().unwrap().parse().unwrap();
    let levels: u32 = parts.next().unwrap().parse().unwrap();
    let name = parts.next().unwrap();
    let d = measure(form(name), levels, stack);
    assert_eq!(d.spans, (levels as usize + 1, levels as usize + 1));
    println!("completed {levels} levels of {name} on {stack} bytes of stack");
}

/// Runs `levels` of the recursion `name` on a stack of `stack` bytes in a child process.
fn run_in_child(name: &str, levels: u32, stack: usize) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_runs_a_deep_recursion",
            "--nocapture",
        ])
        .env("DEEP_NESTING_CHILD", format!("{name}:{levels}:{stack}"))
        .output()
        .unwrap()
}

#[test]
fn ten_thousand_levels_fit_where_untraced_needs_a_fraction() {
    let levels = 10_000;
    // The untraced recursion takes a third of the stack (a quarter in debug builds, where a
    // #[traced] future built on the stack before its box takes about three times the room).
    let fraction = if cfg!(debug_assertions) { 4 } else { 3 };
    for (traced, untraced) in [
        ("#[traced] async fn", "untraced async fn"),
        (".in_span() async block", "untraced async block"),
    ] {
        let need = measure(form(untraced), levels, 256 << 20);
        // Plus room for the thread's own start.
        let stack = fraction * need.poll.max(need.drop) + (64 << 10);
        let out = run_in_child(traced, levels, stack);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("completed"),
            "{levels} levels of {traced} on {stack} bytes of stack (untraced needs {need:?}): \
             {:?}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{levels} levels of {traced} completed on {stack} bytes of stack");
    }
}

#[test]
fn the_child_check_fails_when_the_stack_is_too_small() {
    // The same check on a stack a tenth of what the untraced recursion needs: the child
    // overflows, and the check sees it.
    let need = measure(form("untraced async fn"), 10_000, 256 << 20);
    let out = run_in_child("#[traced] async fn", 10_000, need.poll / 10 + (64 << 10));
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("completed"));
}

/// A level of a recursion that panics at the bottom.
type Failing = Pin<Box<dyn Future<Output = ()> + Send>>;

fn panicking(n: u32) -> Failing {
    Box::pin(
        async move {
            if n == 0 {
                panic!("deep failure");
            }
            panicking(n - 1).await
        }
        .in_span(custom_span("level")),
    )
}

/// The same through `#[traced]`.
#[agent_trace::traced]
async fn panicking_fn(n: u32) {
    if n == 0 {
        panic!("deep failure");
    }
    Box::pin(panicking_fn(n - 1)).await
}

#[test]
fn a_panic_deep_down_ends_every_level_with_its_message_innermost_first() {
    use futures::FutureExt;
    let forms: [fn(u32) -> Failing; 2] = [panicking, |n| Box::pin(panicking_fn(n))];
    for recursion in forms {
        let (provider, seen) = common::collecting();
        let outside = agent_trace::Context::current().span_id();
        // The spans start inside the trace (a span started outside any trace records nothing).
        let caught = futures::executor::block_on(provider.trace("deep").run(async move {
            std::panic::AssertUnwindSafe(recursion(50))
                .catch_unwind()
                .await
        }));
        assert!(caught.is_err(), "the panic goes on");
        let spans = seen.spans();
        assert_eq!(spans.len(), 51);
        for s in &spans {
            let error = s.error.as_ref().expect("every level records the panic");
            assert!(error.message.contains("deep failure"), "{error:?}");
            assert!(s.ended_at.is_some());
        }
        common::assert_innermost_first(&spans);
        // Every level's context was taken off as the panic went through.
        assert_eq!(agent_trace::Context::current().span_id(), outside);
        assert_eq!(seen.traces().len(), 1);
    }
}

/// Each level records its depth on its span, through `current_span()`.
#[agent_trace::traced(kind = "custom")]
async fn recording_fn(n: u32) -> u32 {
    use agent_trace::Record;
    agent_trace::current_span().set_attribute("depth", &n);
    if n == 0 {
        0
    } else {
        1 + Box::pin(recording_fn(n - 1)).await
    }
}

#[test]
fn deep_levels_nest_and_each_records_on_its_own_span() {
    let (provider, seen) = common::collecting();
    let levels = 1_000;
    let depth = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            futures::executor::block_on(provider.trace("deep").run(recording_fn(levels)))
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(depth, levels);
    let spans = seen.spans();
    assert_eq!(spans.len(), levels as usize + 1);
    // Ended innermost first, each under the level above, each with its own depth.
    common::assert_innermost_first(&spans);
    for (n, s) in spans.iter().enumerate() {
        let agent_trace::SpanData::Custom(c) = &s.data else {
            panic!("a custom span: {s:?}")
        };
        assert_eq!(c.data["depth"], n);
        assert!(s.error.is_none());
    }
    assert!(spans.last().unwrap().parent_id.is_none());
}

/// An argument whose capture panics.
struct Unserializable;

impl std::fmt::Debug for Unserializable {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("cannot print")
    }
}

#[agent_trace::traced]
async fn takes_unserializable(_arg: Unserializable) -> u32 {
    7
}

#[test]
fn a_panic_while_capturing_arguments_still_ends_the_span() {
    use futures::FutureExt;
    let (provider, seen) = common::collecting();
    let outside = agent_trace::Context::current().span_id();
    let caught = futures::executor::block_on(provider.trace("t").run(async {
        std::panic::AssertUnwindSafe(takes_unserializable(Unserializable))
            .catch_unwind()
            .await
    }));
    assert!(caught.is_err(), "the panic goes on");
    let spans = seen.spans();
    assert_eq!(spans.len(), 1, "the span ended: {spans:?}");
    assert!(spans[0].ended_at.is_some());
    assert_eq!(agent_trace::Context::current().span_id(), outside);
}

#[test]
fn a_panic_caught_between_levels_ends_the_levels_it_went_through() {
    use futures::FutureExt;
    let (provider, seen) = common::collecting();
    futures::executor::block_on(provider.trace("deep").run(async {
        async {
            // The panic goes through 11 spans and is caught inside the outer one.
            let caught = std::panic::AssertUnwindSafe(panicking(10))
                .catch_unwind()
                .await;
            assert!(caught.is_err());
            // The outer span is current again.
            assert!(agent_trace::Context::current().span_id().is_some());
            custom_span("after").end();
        }
        .in_span(custom_span("outer"))
        .await
    }));
    common::assert_caught_between_levels(&seen.spans(), 11);
}
