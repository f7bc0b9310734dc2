//! A future dropped before it completes whose drop panics (a guard in its body): its span still
//! ends, "cancelled", and reaches the processors — for `.in_span()` and for `#[traced] async fn`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use agent_trace::{testing::CollectingProcessor, traced, Instrument, TracerProvider};

/// Pending on its first poll, ready on the next.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("drop boom");
    }
}

impl std::fmt::Debug for PanicsOnDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PanicsOnDrop")
    }
}

/// Polls `fut` once (pending), then drops it, catching the drop's panic.
fn poll_once_then_drop_panicking(mut fut: Pin<Box<dyn Future<Output = ()> + '_>>) {
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(fut)));
    assert!(dropped.is_err(), "the drop panicked");
}

fn error_messages(spans: &CollectingProcessor) -> Vec<(Option<String>, Option<String>)> {
    spans
        .spans()
        .iter()
        .map(|s| {
            (
                s.data.name().map(str::to_owned),
                s.error.as_ref().map(|e| e.message.clone()),
            )
        })
        .collect()
}

#[test]
fn an_in_span_future_whose_drop_panics_still_ends_its_span() {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    provider.trace("wf").in_scope(|| {
        poll_once_then_drop_panicking(Box::pin(
            async {
                let _guard = PanicsOnDrop;
                PendingOnce(false).await;
            }
            .in_span(agent_trace::custom_span("guarded")),
        ));
        // The position was put back: a span started now is a root of the trace again.
        assert!(agent_trace::current_span().id().is_none());
    });
    assert_eq!(
        error_messages(&spans),
        vec![(Some("guarded".to_owned()), Some("cancelled".to_owned()))]
    );
}

#[traced(kind = "function")]
async fn holds_a_guard(guard: PanicsOnDrop) {
    PendingOnce(false).await;
    drop(guard);
}

#[test]
fn a_traced_async_fn_whose_drop_panics_still_ends_its_span() {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    provider.trace("wf").in_scope(|| {
        poll_once_then_drop_panicking(Box::pin(holds_a_guard(PanicsOnDrop)));
    });
    assert_eq!(
        error_messages(&spans),
        vec![(
            Some("holds_a_guard".to_owned()),
            Some("cancelled".to_owned())
        )]
    );
}
