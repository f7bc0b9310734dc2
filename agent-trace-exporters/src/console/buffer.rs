//! Per-trace buffering for the tree format: spans wait for their trace item, then the whole tree
//! is rendered at once.

use std::collections::{BTreeMap, HashMap, VecDeque};

use agent_trace::{ExportItem, Name, SpanRecord, TraceId, TraceRecord};

use super::render::{render_late, render_trace, span_extent, Header, Style, TraceStatus};

/// How many printed trace ids are remembered to recognise late spans.
const REMEMBERED_TRACES: usize = 4096;

struct Pending {
    /// Arrival order of the trace's first span; the oldest trace is printed first when the
    /// buffer is full.
    seq: u64,
    spans: Vec<SpanRecord>,
}

/// The buffering state machine. Everything it prints goes into a `String`; the caller writes it.
pub(crate) struct TreeBuffer {
    pending: HashMap<TraceId, Pending>,
    /// `seq` → trace, oldest first.
    order: BTreeMap<u64, TraceId>,
    next_seq: u64,
    buffered: usize,
    max_buffered: usize,
    /// Recently printed traces and their workflow names, bounded.
    printed: HashMap<TraceId, Option<Name>>,
    printed_order: VecDeque<TraceId>,
}

impl TreeBuffer {
    pub(crate) fn new(max_buffered: usize) -> Self {
        TreeBuffer {
            pending: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            buffered: 0,
            max_buffered: max_buffered.max(1),
            printed: HashMap::new(),
            printed_order: VecDeque::new(),
        }
    }

    /// Spans currently held back.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.buffered
    }

    /// Takes one batch: buffers its spans, prints the trees of traces that ended in it, then
    /// any spans that arrived after their trace was printed.
    pub(crate) fn export(&mut self, batch: &[ExportItem], style: Style, out: &mut String) {
        // Late spans, grouped by trace in order of first appearance.
        let mut late: Vec<(TraceId, Vec<SpanRecord>)> = Vec::new();
        for item in batch {
            let ExportItem::Span(span) = item else {
                continue;
            };
            let id = span.trace_id;
            if let Some(p) = self.pending.get_mut(&id) {
                p.spans.push(span.clone());
            } else if self.printed.contains_key(&id) {
                match late.iter_mut().find(|(t, _)| *t == id) {
                    Some((_, spans)) => spans.push(span.clone()),
                    None => late.push((id, vec![span.clone()])),
                }
                continue;
            } else {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.order.insert(seq, id);
                self.pending.insert(
                    id,
                    Pending {
                        seq,
                        spans: vec![span.clone()],
                    },
                );
            }
            self.buffered += 1;
            while self.buffered > self.max_buffered {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                self.print_pending(oldest, None, TraceStatus::Early, style, out);
            }
        }
        for item in batch {
            // A trace is printed when it ends; its start record carries nothing to print.
            match item {
                ExportItem::Trace(trace) if !item.is_trace_start() => {
                    self.print_pending(trace.id, Some(trace), TraceStatus::Ended, style, out);
                }
                _ => {}
            }
        }
        for (id, spans) in late {
            let name = self.printed.get(&id).and_then(|n| n.as_deref());
            render_late(out, id, name, &spans, style);
        }
    }

    /// Prints every trace still buffered, marked as running.
    pub(crate) fn flush(&mut self, style: Style, out: &mut String) {
        while let Some((_, id)) = self.order.pop_first() {
            self.print_pending(id, None, TraceStatus::Running, style, out);
        }
    }

    /// Prints the buffered spans of `id` (if any) under a header, and remembers the trace as
    /// printed.
    fn print_pending(
        &mut self,
        id: TraceId,
        trace: Option<&TraceRecord>,
        status: TraceStatus,
        style: Style,
        out: &mut String,
    ) {
        let spans = match self.pending.remove(&id) {
            Some(p) => {
                self.order.remove(&p.seq);
                self.buffered -= p.spans.len();
                p.spans
            }
            None => Vec::new(),
        };
        let duration = match trace {
            Some(t) => match (t.started_at, t.ended_at) {
                (Some(s), Some(e)) => Some(e.saturating_duration_since(s)),
                _ => span_extent(&spans),
            },
            None => None,
        };
        let header = Header {
            id,
            workflow_name: trace.map(|t| &*t.workflow_name),
            group_id: trace.and_then(|t| t.group_id.as_deref()),
            duration,
            status,
        };
        render_trace(out, &header, &spans, style);
        self.remember(id, trace.map(|t| t.workflow_name.clone()));
    }

    fn remember(&mut self, id: TraceId, name: Option<Name>) {
        match self.printed.get_mut(&id) {
            Some(slot) => {
                if name.is_some() {
                    *slot = name;
                }
            }
            None => {
                if self.printed_order.len() >= REMEMBERED_TRACES {
                    if let Some(old) = self.printed_order.pop_front() {
                        self.printed.remove(&old);
                    }
                }
                self.printed_order.push_back(id);
                self.printed.insert(id, name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_trace::{SpanData, SpanId};

    fn span(trace: u128, id: u64) -> ExportItem {
        let mut s = SpanRecord::new(
            TraceId::from_u128(trace).unwrap(),
            None,
            SpanData::custom("s"),
        );
        s.id = SpanId::from_u64(id).unwrap();
        ExportItem::Span(s)
    }

    /// A trace's end record.
    fn trace(id: u128) -> ExportItem {
        ExportItem::Trace({
            let mut t = TraceRecord::new("wf");
            t.id = TraceId::from_u128(id).unwrap();
            t.ended_at = Some(agent_trace::Timestamp::now());
            t
        })
    }

    #[test]
    fn a_trace_start_record_prints_nothing() {
        let mut b = TreeBuffer::new(10);
        let mut out = String::new();
        let ExportItem::Trace(mut start) = trace(1) else {
            unreachable!()
        };
        start.ended_at = None;
        start.started_at = Some(agent_trace::Timestamp::now());
        b.export(&[ExportItem::Trace(start), span(1, 1)], PLAIN, &mut out);
        assert!(out.is_empty(), "{out}");
        b.export(&[trace(1)], PLAIN, &mut out);
        assert_eq!(out.lines().count(), 2, "{out}");
    }

    const PLAIN: Style = Style { color: false };

    #[test]
    fn the_buffer_is_bounded_and_prints_the_oldest_trace_early() {
        let mut b = TreeBuffer::new(3);
        let mut out = String::new();
        b.export(&[span(1, 1), span(1, 2), span(2, 3)], PLAIN, &mut out);
        assert!(out.is_empty());
        b.export(&[span(2, 4)], PLAIN, &mut out);
        assert!(
            out.contains("trace_00000000000000000000000000000001"),
            "{out}"
        );
        assert!(out.contains("printed early"), "{out}");
        assert_eq!(b.buffered(), 2);
        // Trace 1 was printed: its next span is late, and is not buffered.
        let mut out = String::new();
        b.export(&[span(1, 5)], PLAIN, &mut out);
        assert!(
            out.starts_with("late spans of trace_00000000000000000000000000000001\n"),
            "{out}"
        );
        assert_eq!(b.buffered(), 2);
    }

    #[test]
    fn the_printed_set_is_bounded() {
        let mut b = TreeBuffer::new(10);
        let mut out = String::new();
        for i in 1..=(REMEMBERED_TRACES as u128 + 10) {
            b.export(&[trace(i)], PLAIN, &mut out);
        }
        assert_eq!(b.printed.len(), REMEMBERED_TRACES);
        assert_eq!(b.printed_order.len(), REMEMBERED_TRACES);
    }

    #[test]
    fn spans_after_their_trace_item_in_the_same_batch_join_the_tree() {
        let mut b = TreeBuffer::new(10);
        let mut out = String::new();
        b.export(&[trace(1), span(1, 1)], PLAIN, &mut out);
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(!out.contains("late"));
    }
}
