//! `tracing` events whose target is chosen at run time (`agent.triage`, `models.gpt-4o`): the
//! `tracing` macros need a target known at compile time, so each (target, level) gets a callsite
//! of its own, made once, registered with `tracing-core` like a macro's, and cached. Subscribers
//! then filter and print these events like any other (an `EnvFilter` directive `agent=debug`
//! matches them), and a callsite nobody listens to costs one cached lookup.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{FieldSet, Value};
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, Metadata};

/// Distinct targets kept; past it, new names log under `<root>.other`.
const MAX_TARGETS: usize = 2048;

/// The fields every event has.
pub(crate) const FIELDS: &[&str] = &["message", "trace_id", "span_id"];

struct DynCallsite {
    meta: OnceLock<Metadata<'static>>,
    interest: AtomicU8,
}

const NEVER: u8 = 0;
const SOMETIMES: u8 = 1;
const ALWAYS: u8 = 2;
const UNKNOWN: u8 = 3;

impl Callsite for DynCallsite {
    fn set_interest(&self, interest: Interest) {
        let v = if interest.is_never() {
            NEVER
        } else if interest.is_always() {
            ALWAYS
        } else {
            SOMETIMES
        };
        self.interest.store(v, Ordering::Relaxed);
    }

    fn metadata(&self) -> &Metadata<'_> {
        // Set before the callsite is registered or handed out.
        self.meta
            .get()
            .expect("dynamic callsite metadata is set at creation")
    }
}

type Key = (String, Level);

fn registry() -> &'static Mutex<HashMap<Key, &'static DynCallsite>> {
    static CALLSITES: OnceLock<Mutex<HashMap<Key, &'static DynCallsite>>> = OnceLock::new();
    CALLSITES.get_or_init(Mutex::default)
}

fn callsite(target: &str, level: Level) -> &'static DynCallsite {
    let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(cs) = map.get(&(target.to_owned(), level)) {
        return cs;
    }
    let target = if map.len() >= MAX_TARGETS {
        let root = target.split('.').next().unwrap_or("runtime");
        let folded = format!("{root}.other");
        if let Some(cs) = map.get(&(folded.clone(), level)) {
            return cs;
        }
        folded
    } else {
        target.to_owned()
    };
    // Leaked on purpose: callsites live for the process, as the macros' statics do; there are at
    // most MAX_TARGETS * 5 levels (+ the folded ones) of them.
    let cs: &'static DynCallsite = Box::leak(Box::new(DynCallsite {
        meta: OnceLock::new(),
        interest: AtomicU8::new(UNKNOWN),
    }));
    let static_target: &'static str = Box::leak(target.clone().into_boxed_str());
    let _ = cs.meta.set(Metadata::new(
        "agent_trace event",
        static_target,
        level,
        None,
        None,
        Some("agent_trace_toolkit::logging"),
        FieldSet::new(FIELDS, Identifier(cs)),
        Kind::EVENT,
    ));
    tracing_core::callsite::register(cs);
    map.insert((target, level), cs);
    cs
}

/// Whether an event of this target and level would be recorded by the current subscriber.
pub(crate) fn enabled(target: &str, level: Level) -> bool {
    if tracing_core::LevelFilter::current() < level {
        return false;
    }
    let cs = callsite(target, level);
    match cs.interest.load(Ordering::Relaxed) {
        NEVER => false,
        _ => tracing_core::dispatcher::get_default(|d| d.enabled(cs.metadata())),
    }
}

/// Dispatches one event (call [`enabled`] first to skip the formatting).
pub(crate) fn emit(
    target: &str,
    level: Level,
    message: std::fmt::Arguments<'_>,
    trace_id: Option<&str>,
    span_id: Option<&str>,
) {
    let cs = callsite(target, level);
    let meta = cs.metadata();
    let fields = meta.fields();
    let mut it = fields.iter();
    let (Some(f_msg), Some(f_trace), Some(f_span)) = (it.next(), it.next(), it.next()) else {
        return;
    };
    let values: [(&tracing_core::field::Field, Option<&dyn Value>); 3] = [
        (&f_msg, Some(&message as &dyn Value)),
        (&f_trace, trace_id.as_ref().map(|v| v as &dyn Value)),
        (&f_span, span_id.as_ref().map(|v| v as &dyn Value)),
    ];
    let value_set = fields.value_set(&values);
    Event::dispatch(meta, &value_set);
}
