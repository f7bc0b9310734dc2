//! The [`AgentTraceLayer`]: `tracing` spans in, agent-trace spans out.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};

use agent_trace::span_data::SpanData;
use agent_trace::{
    current_span, Context, ContextGuard, Record, Span, SpanError, SpanLink, Trace, TracerProvider,
};
use tracing_core::span::{Attributes, Id, Record as Values_};
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::apply::{find_rule, initial_data, Apply, ConditionFields, Policy, Values};
pub use crate::builder::AgentTraceLayerBuilder;
use crate::callsites::Callsites;
use crate::rules::{Rule, Rules};

/// The target of the SDK's own diagnostics, and of nothing the bridge turns into spans.
pub const DIAGNOSTICS_TARGET: &str = "agent_trace";

thread_local! {
    /// Set while this thread runs agent-trace code on the bridge's behalf (starting or ending a
    /// span or trace, which runs processors and exporters) or emits a diagnostic: `tracing`
    /// spans and events made meanwhile are not bridged, so an exporter or a diagnostic that
    /// uses `tracing` never feeds back into the trace.
    static BUSY: Cell<bool> = const { Cell::new(false) };
    /// The agent-trace positions of the bridged `tracing` spans entered on this thread,
    /// innermost last.
    static ENTERED: RefCell<Vec<(Id, ContextGuard)>> = const { RefCell::new(Vec::new()) };
    /// How many entries [`ENTERED`] has: a plain load (no destructor to register) tells
    /// `on_exit` of a span that was never bridged there is nothing to restore.
    static ENTERED_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Bridged `tracing` spans alive in the process (all layers): while there are none, the
/// callbacks of spans made outside any trace return after one load, without looking the span up.
static LIVE: AtomicUsize = AtomicUsize::new(0);

fn none_live() -> bool {
    LIVE.load(Ordering::Relaxed) == 0
}

/// Runs `f` with [`BUSY`] set.
pub(crate) fn busy<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            BUSY.with(|b| b.set(self.0));
        }
    }
    let _reset = Reset(BUSY.with(|b| b.replace(true)));
    f()
}

fn is_busy() -> bool {
    BUSY.with(Cell::get)
}

/// What the bridge keeps in a `tracing` span's extensions: one value, inserted once when the
/// span opens; its span is taken out and ended when the span closes (the registry frees the
/// emptied value with the span's slot).
struct Bridged {
    /// The agent-trace span; the position under it is made current while the `tracing` span
    /// is entered.
    span: Span,
    /// The trace this span started (root switch), ended after the span. Boxed: rare, and
    /// the value is moved into the registry's extensions.
    trace: Option<Box<Trace>>,
    /// The rule that typed it (an index into the layer's rules).
    rule: Option<u32>,
    /// Events seen inside it.
    events: u64,
}

/// A [`tracing_subscriber::Layer`] that turns `tracing` spans into agent-trace spans: typed by
/// [`Rules`], nested both ways with agent-trace's own spans. See the [crate docs](crate).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let subscriber = tracing_subscriber::registry().with(agent_trace_tracing::AgentTraceLayer::new());
/// # drop(subscriber);
/// ```
pub struct AgentTraceLayer {
    pub(crate) rules: Rules,
    pub(crate) conditions: ConditionFields,
    pub(crate) policy: Policy,
    pub(crate) root_traces: bool,
    pub(crate) provider: Option<TracerProvider>,
    pub(crate) event_level: Level,
    /// Rule decisions remembered per callsite.
    pub(crate) callsites: Callsites,
}

impl std::fmt::Debug for AgentTraceLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentTraceLayer")
            .field("rules", &self.rules.len())
            .field("include_sensitive_data", &self.policy.sensitive)
            .field("root_traces", &self.root_traces)
            .finish()
    }
}

impl Default for AgentTraceLayer {
    fn default() -> Self {
        AgentTraceLayer::new()
    }
}

impl AgentTraceLayer {
    /// The layer with the GenAI rules, sensitive data off and the root switch off.
    ///
    /// ```
    /// let layer = agent_trace_tracing::AgentTraceLayer::new();
    /// # drop(layer);
    /// ```
    pub fn new() -> AgentTraceLayer {
        AgentTraceLayer::builder().build()
    }

    /// A builder, to add rules, switch sensitive data or root traces on.
    ///
    /// ```
    /// let layer = agent_trace_tracing::AgentTraceLayer::builder().root_traces(true).build();
    /// # drop(layer);
    /// ```
    pub fn builder() -> AgentTraceLayerBuilder {
        AgentTraceLayerBuilder::new()
    }

    /// The position a new `tracing` span's agent-trace span goes under; `trace_here` tells
    /// whether an agent-trace trace is current.
    fn parent_position<S>(
        &self,
        attrs: &Attributes<'_>,
        ctx: &LayerContext<'_, S>,
        trace_here: bool,
    ) -> Parent
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let here = if trace_here {
            Parent::Here
        } else {
            Parent::None
        };
        if attrs.is_contextual() {
            return here;
        }
        match attrs.parent() {
            // `parent: None`: a root for `tracing`, but inside a trace it still belongs to it
            // (rig opens its `invoke_agent` span so when no `tracing` span is current).
            None => here,
            // `parent: Span::current()` (rig's chat spans): the current agent-trace position
            // is that span's or one nested in it.
            Some(p) if ctx.current_span().id() == Some(p) => here,
            // No bridged span anywhere: the parent is not one.
            Some(_) if none_live() => Parent::None,
            Some(p) => match ctx.span(p) {
                Some(parent) => match parent.extensions().get::<Bridged>() {
                    Some(b) => Parent::At(b.span.context()),
                    None => Parent::None,
                },
                None => Parent::None,
            },
        }
    }

    fn rule(&self, index: Option<u32>) -> Option<&Rule> {
        index.and_then(|i| self.rules.rules.get(i as usize))
    }

    /// Starts a trace for a root GenAI span (root switch on).
    fn start_trace(
        &self,
        rule: &Rule,
        attrs: &Attributes<'_>,
        span_name: &'static str,
    ) -> Option<Trace> {
        if !rule.starts_trace {
            return None;
        }
        let mut values = Values::default();
        attrs.record(&mut values);
        let provider = match &self.provider {
            Some(p) => p.clone(),
            None => agent_trace::global_provider()?,
        };
        let name = rule
            .fields
            .iter()
            .find(|(_, slot)| *slot == crate::Slot::Name)
            .and_then(|(field, _)| values.get(field))
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| span_name.to_owned());
        let trace = busy(|| provider.trace(name).start());
        trace.id().is_some().then_some(trace)
    }
}

enum Parent {
    /// The current agent-trace position.
    Here,
    /// Under a bridged `tracing` span given as explicit parent.
    At(Context),
    /// Outside any trace.
    None,
}

/// The bodies of the layer's callbacks, out of line: the [`Layer`] methods below are inlined
/// into the subscriber and return after one check when the span cannot be a bridged one; the
/// bodies are only called past that check, and do not repeat it.
impl AgentTraceLayer {
    #[inline(never)]
    fn on_new_span_slow<S: Subscriber + for<'a> LookupSpan<'a>>(
        &self,
        attrs: &Attributes<'_>,
        id: &Id,
        ctx: LayerContext<'_, S>,
    ) {
        // (`on_new_span` has returned already for a contextual span outside any trace with the
        // root switch off.)
        let trace_here = current_span().trace_id().is_some();
        if is_busy() {
            return;
        }
        let meta = attrs.metadata();
        if meta.target().starts_with(DIAGNOSTICS_TARGET) {
            return;
        }
        let parent = self.parent_position(attrs, &ctx, trace_here);
        if matches!(parent, Parent::None) && !self.root_traces {
            return; // outside any trace
        }
        let rule_index = self.callsites.rule(meta, || {
            find_rule(&self.rules, &self.conditions, meta, |v| attrs.record(v))
        });
        let rule = rule_index.and_then(|i| self.rules.rules.get(i));
        let data: SpanData = initial_data(rule, meta.name());
        let (mut span, trace) = match parent {
            Parent::Here => (busy(|| Span::new(data)), None),
            Parent::At(cx) => (busy(|| Span::with_parent(cx, data)), None),
            Parent::None => {
                let Some(rule) = rule else { return };
                let Some(trace) = self.start_trace(rule, attrs, meta.name()) else {
                    return;
                };
                let span = busy(|| Span::with_parent(trace.context(), data));
                (span, Some(Box::new(trace)))
            }
        };
        if !span.is_recording() {
            if let Some(trace) = trace {
                busy(|| drop(trace));
            }
            return;
        }
        span.record_mut(|record| {
            attrs.record(&mut Apply {
                record,
                rule,
                rules: &self.rules,
                policy: self.policy,
            })
        });
        let Some(s) = ctx.span(id) else {
            busy(|| drop((span, trace)));
            return;
        };
        LIVE.fetch_add(1, Ordering::Relaxed);
        let replaced = s.extensions_mut().replace(Bridged {
            span,
            trace,
            rule: rule_index.map(|i| i as u32),
            events: 0,
        });
        // A second bridge layer on the same registry: the later one wins, the earlier span
        // ends here (`insert` would panic).
        if let Some(old) = replaced {
            LIVE.fetch_sub(1, Ordering::Relaxed);
            busy(|| drop(old));
        }
    }

    #[inline(never)]
    fn on_record_slow<S: Subscriber + for<'a> LookupSpan<'a>>(
        &self,
        id: &Id,
        values: &Values_<'_>,
        ctx: LayerContext<'_, S>,
    ) {
        if is_busy() {
            return;
        }
        let Some(s) = ctx.span(id) else { return };
        let mut ext = s.extensions_mut();
        let Some(b) = ext.get_mut::<Bridged>() else {
            return;
        };
        let rule = self.rule(b.rule);
        b.span.record_mut(|record| {
            values.record(&mut Apply {
                record,
                rule,
                rules: &self.rules,
                policy: self.policy,
            })
        });
    }

    #[inline(never)]
    fn on_enter_slow<S: Subscriber + for<'a> LookupSpan<'a>>(
        &self,
        id: &Id,
        ctx: LayerContext<'_, S>,
    ) {
        let Some(s) = ctx.span(id) else { return };
        let cx = match s.extensions().get::<Bridged>() {
            Some(b) => b.span.context(),
            None => return,
        };
        drop(s);
        let guard = cx.attach();
        ENTERED.with(|e| e.borrow_mut().push((id.clone(), guard)));
        ENTERED_DEPTH.with(|d| d.set(d.get() + 1));
    }

    #[inline(never)]
    fn on_exit_slow<S: Subscriber + for<'a> LookupSpan<'a>>(
        &self,
        id: &Id,
        _ctx: LayerContext<'_, S>,
    ) {
        let guard = ENTERED.with(|e| {
            let mut e = e.borrow_mut();
            let at = e.iter().rposition(|(i, _)| i == id)?;
            // Usually the innermost.
            let (_, guard) = if at + 1 == e.len() {
                e.pop()?
            } else {
                e.remove(at)
            };
            ENTERED_DEPTH.with(|d| d.set(e.len()));
            Some(guard)
        });
        // Dropped outside the borrow: restoring a position can release a provider.
        drop(guard);
    }

    #[inline(never)]
    fn on_event_slow<S: Subscriber + for<'a> LookupSpan<'a>>(
        &self,
        event: &Event<'_>,
        ctx: LayerContext<'_, S>,
    ) {
        if is_busy() {
            return;
        }
        let meta = event.metadata();
        if meta.target().starts_with(DIAGNOSTICS_TARGET) {
            return; // the SDK's own diagnostics never land on a span
        }
        let error = *meta.level() == Level::ERROR;
        if !error && *meta.level() > self.event_level {
            return;
        }
        let Some(s) = ctx.event_span(event) else {
            return;
        };
        let mut ext = s.extensions_mut();
        let Some(b) = ext.get_mut::<Bridged>() else {
            return;
        };
        // An event in an agent-trace span nested inside this one is not this span's.
        if event.is_contextual() && current_span().id() != b.span.id() {
            return;
        }
        b.events += 1;
        if error {
            let err = if self.policy.sensitive {
                let mut v = Values::default();
                event.record(&mut v);
                let message = v
                    .get("message")
                    .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
                    .unwrap_or_else(|| meta.name().to_owned());
                let fields: serde_json::Map<_, _> =
                    v.0.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                SpanError::new(message).with_data(serde_json::Value::Object(fields))
            } else {
                SpanError::new(format!(
                    "an error event was recorded ({}; its text is left out: sensitive data is off)",
                    meta.target()
                ))
            };
            b.span.set_error(err);
        }
    }

    #[inline(never)]
    fn on_close_slow<S: Subscriber + for<'a> LookupSpan<'a>>(
        &self,
        id: Id,
        ctx: LayerContext<'_, S>,
    ) {
        let Some(s) = ctx.span(&id) else { return };
        let mut ext = s.extensions_mut();
        let Some(b) = ext.get_mut::<Bridged>() else {
            return;
        };
        LIVE.fetch_sub(1, Ordering::Relaxed);
        let events = b.events;
        if events > 0 {
            b.span.record_mut(|r| {
                if let SpanData::Custom(d) = &mut r.data {
                    d.data
                        .insert("events".into(), serde_json::Value::from(events));
                }
            });
        }
        // Taken out (the emptied value is freed with the span's slot) and ended after the
        // span's lock is released: a `follows_from` naming this span's id on another thread
        // never waits for the processors.
        let span = std::mem::replace(&mut b.span, Span::none());
        let trace = b.trace.take();
        drop(ext);
        drop(s);
        busy(|| {
            drop(span);
            drop(trace);
        });
    }
}

impl<S> Layer<S> for AgentTraceLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    #[inline]
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        // Outside any trace with the root switch off, a contextual span costs this one
        // thread-local read.
        if !self.root_traces && attrs.is_contextual() && current_span().trace_id().is_none() {
            return;
        }
        self.on_new_span_slow(attrs, id, ctx);
    }

    #[inline]
    fn on_record(&self, id: &Id, values: &Values_<'_>, ctx: LayerContext<'_, S>) {
        if none_live() {
            return;
        }
        self.on_record_slow(id, values, ctx);
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: LayerContext<'_, S>) {
        // A link to a span already closed (or never bridged) cannot be resolved: ignored.
        if none_live() {
            return;
        }
        let Some(target) = ctx.span(follows).and_then(|f| {
            let ext = f.extensions();
            let b = ext.get::<Bridged>()?;
            Some(SpanLink::new(b.span.trace_id()?, b.span.id()?))
        }) else {
            return;
        };
        if let Some(s) = ctx.span(id) {
            if let Some(b) = s.extensions_mut().get_mut::<Bridged>() {
                b.span.record_mut(|r| r.links.push(target));
            }
        }
    }

    #[inline]
    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        if none_live() {
            return;
        }
        self.on_enter_slow(id, ctx);
    }

    #[inline]
    fn on_exit(&self, id: &Id, ctx: LayerContext<'_, S>) {
        if ENTERED_DEPTH.with(Cell::get) == 0 {
            return;
        }
        self.on_exit_slow(id, ctx);
    }

    #[inline]
    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        if none_live() {
            return;
        }
        self.on_event_slow(event, ctx);
    }

    #[inline]
    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        if none_live() {
            return;
        }
        self.on_close_slow(id, ctx);
    }
}
