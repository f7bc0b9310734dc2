//! Shared set-up: a provider collecting spans, a `tracing` dispatcher with the layer.
#![allow(dead_code)]

use agent_trace::testing::CollectingProcessor;
use agent_trace::{SpanRecord, TracerProvider};
use agent_trace_tracing::AgentTraceLayer;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

pub struct Setup {
    pub spans: CollectingProcessor,
    pub provider: TracerProvider,
    pub dispatch: Dispatch,
}

pub fn setup(layer: AgentTraceLayer) -> Setup {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(spans.clone())
        .build();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    Setup {
        spans,
        provider,
        dispatch,
    }
}

impl Setup {
    /// Runs `f` inside a trace with the layer's dispatcher as this thread's default.
    pub fn in_trace<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, || self.provider.trace("wf").in_scope(f))
    }

    /// The finished span named `name`.
    pub fn span(&self, name: &str) -> SpanRecord {
        let all = self.spans.spans();
        all.iter()
            .find(|s| s.data.name() == Some(name))
            .cloned()
            .unwrap_or_else(|| panic!("no span named {name} in {all:#?}"))
    }
}

/// A current-thread runtime.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
