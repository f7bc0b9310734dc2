//! agent-trace's own diagnostics as `tracing` events.

use agent_trace::Diagnostic;

use crate::layer::busy;

/// Sends agent-trace's diagnostics (dropped spans, exporter failures, circuit-breaker changes,
/// usage mistakes) to `tracing` as `WARN` events under the target `agent_trace`, with the
/// fields `key` (a stable name such as `spans_dropped`) and `count` (occurrences the line
/// stands for), so your subscriber shows or filters them like everything else
/// (`agent_trace=off` silences them).
///
/// Installs agent-trace's process-wide diagnostics hook
/// ([`agent_trace::set_diagnostics_hook`]), which can be set once: returns `false` (and
/// changes nothing) if a hook was already installed.
///
/// The bridge never turns these events, nor any `tracing` span or event made while it runs
/// agent-trace code (processors and exporters called when it starts or ends a span), into
/// spans or span events of its own.
///
/// ```
/// let installed = agent_trace_tracing::install_diagnostics();
/// assert!(installed);
/// assert!(!agent_trace_tracing::install_diagnostics()); // once per process
/// ```
pub fn install_diagnostics() -> bool {
    agent_trace::set_diagnostics_hook(emit)
}

fn emit(d: &Diagnostic) {
    busy(|| {
        tracing::warn!(
            target: "agent_trace",
            key = d.key,
            count = d.count,
            "{}",
            d.message
        );
    });
}
