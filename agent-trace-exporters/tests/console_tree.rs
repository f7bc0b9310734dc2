//! Behaviour of the console exporter's tree format, through the public API.
#![cfg(feature = "console")]

mod common;

use agent_trace::span_data::{
    AgentSpanData, GenerationSpanData, GuardrailSpanData, HandoffSpanData, ResponseSpanData,
};
use agent_trace::{
    ExportItem, SpanData, SpanError, SpanId, SpanRecord, Timestamp, TraceId, TraceRecord,
    TracingExporter, Usage,
};
use agent_trace_exporters::console::{ConsoleExporter, ConsoleFormat};
use common::SharedBuf;

const BASE: u64 = 1_764_000_000_000_000_000;
const MS: u64 = 1_000_000;
const US: u64 = 1_000;

fn trace_id() -> TraceId {
    TraceId::from_hex("1ae9c80f9e5e4bef82dfc44dfba1c6ff").unwrap()
}

fn span(id: u64, parent: Option<u64>, start: u64, len: u64, data: SpanData) -> SpanRecord {
    let mut s = SpanRecord::new(trace_id(), parent.and_then(SpanId::from_u64), data);
    s.id = SpanId::from_u64(id).unwrap();
    s.started_at = Timestamp::from_unix_nanos(BASE + start);
    s.ended_at = Some(Timestamp::from_unix_nanos(BASE + start + len));
    s
}

fn agent(name: &'static str, tools: &[&'static str], handoffs: &[&'static str]) -> SpanData {
    let list = |l: &[&'static str]| {
        (!l.is_empty()).then(|| l.iter().map(|s| (*s).into()).collect::<Vec<_>>().into())
    };
    SpanData::Agent(Box::new({
        let mut d = AgentSpanData::default();
        d.name = name.into();
        d.tools = list(tools);
        d.handoffs = list(handoffs);
        d.output_type = None;
        d
    }))
}

fn guardrail(name: &'static str, triggered: bool) -> SpanData {
    SpanData::Guardrail({
        let mut d = GuardrailSpanData::default();
        d.name = name.into();
        d.triggered = triggered;
        d
    })
}

fn function(name: &'static str) -> SpanData {
    SpanData::Function({
        let mut d = agent_trace::span_data::FunctionSpanData::default();
        d.name = name.into();
        d
    })
}

fn trace_record() -> TraceRecord {
    let mut t = TraceRecord::new("customer-support");
    t.id = trace_id();
    t.group_id = Some("thread-42".into());
    t.started_at = Some(Timestamp::from_unix_nanos(BASE));
    t.ended_at = Some(Timestamp::from_unix_nanos(BASE + 1_200 * MS));
    t
}

/// The spans of the golden trace, in a scrambled arrival order.
fn golden_spans() -> Vec<SpanRecord> {
    let mut lookup = span(4, Some(1), 20 * MS, 812 * US, function("lookup_invoice"));
    lookup.error = Some(Box::new(SpanError::new("timeout")));
    vec![
        span(
            7,
            Some(6),
            1_110 * MS,
            1_500 * US,
            SpanData::Response(Box::new({
                let mut d = ResponseSpanData::default();
                d.response_id = Some("resp_123".into());
                d.usage = Some(Usage::tokens(30, 7));
                d
            })),
        ),
        lookup,
        span(2, Some(1), 2 * MS, 5 * US, guardrail("no_pii", false)),
        span(
            3,
            Some(1),
            3 * MS,
            12_300 * US,
            SpanData::Generation(Box::new({
                let mut d = GenerationSpanData::default();
                d.model = Some("gpt-4o-mini".into());
                d.usage = Some(Usage::tokens(12, 5));
                d
            })),
        ),
        span(
            5,
            Some(1),
            30 * MS,
            3 * US,
            SpanData::Handoff({
                let mut d = HandoffSpanData::default();
                d.from_agent = Some("Triage".into());
                d.to_agent = Some("Billing".into());
                d
            }),
        ),
        span(
            1,
            None,
            MS,
            1_100 * MS,
            agent("Triage", &["lookup_invoice"], &["Billing"]),
        ),
        // Its parent is not in the trace: it attaches at the root.
        span(
            9,
            Some(99),
            MS / 2,
            250 * US,
            SpanData::custom("fetch-docs"),
        ),
        span(
            8,
            Some(6),
            1_120 * MS,
            20 * US,
            guardrail("no_refund_abuse", true),
        ),
        span(6, None, 1_105 * MS, 40 * MS, agent("Billing", &[], &[])),
    ]
}

const GOLDEN: &str = "\
customer-support  trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff  group thread-42  1.20s
├─ custom fetch-docs  250µs
├─ agent Triage  1.10s  tools: lookup_invoice · handoffs: Billing
│  ├─ guardrail no_pii  5µs  passed
│  ├─ generation gpt-4o-mini  12.3ms  in 12 / out 5 tokens
│  ├─ function lookup_invoice  812µs  ✗ timeout
│  └─ handoff Triage → Billing  3µs
└─ agent Billing  40.0ms
   ├─ response resp_123  1.5ms  in 30 / out 7 tokens
   └─ guardrail no_refund_abuse  20µs  triggered
";

fn exporter(buf: &SharedBuf) -> ConsoleExporter {
    ConsoleExporter::builder()
        .to_writer(buf.clone())
        .color(false)
        .build()
}

fn spans_items(spans: &[SpanRecord]) -> Vec<ExportItem> {
    spans.iter().cloned().map(ExportItem::Span).collect()
}

#[tokio::test]
async fn golden_tree_buffered_across_batches() {
    let buf = SharedBuf::default();
    let e = exporter(&buf);
    let spans = golden_spans();
    e.export(&spans_items(&spans[..4])).await.unwrap();
    assert_eq!(buf.take(), "", "nothing is printed before the trace ends");
    e.export(&spans_items(&spans[4..])).await.unwrap();
    assert_eq!(buf.take(), "");
    e.export(&[ExportItem::Trace(trace_record())])
        .await
        .unwrap();
    assert_eq!(buf.take(), GOLDEN);
    e.force_flush().await.unwrap();
    assert_eq!(buf.take(), "", "nothing left to flush");
}

#[tokio::test]
async fn trace_and_spans_in_one_batch() {
    let buf = SharedBuf::default();
    let e = exporter(&buf);
    let mut items = vec![ExportItem::Trace(trace_record())];
    items.extend(spans_items(&golden_spans()));
    e.export(&items).await.unwrap();
    assert_eq!(buf.take(), GOLDEN);
}

#[tokio::test]
async fn late_spans_print_as_a_short_block() {
    let buf = SharedBuf::default();
    let e = exporter(&buf);
    let mut items = spans_items(&golden_spans());
    items.push(ExportItem::Trace(trace_record()));
    e.export(&items).await.unwrap();
    assert_eq!(buf.take(), GOLDEN);

    let late = span(10, Some(1), 1_300 * MS, 2 * MS, function("send_email"));
    e.export(&[ExportItem::Span(late)]).await.unwrap();
    assert_eq!(
        buf.take(),
        "late spans of trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff (customer-support)\n\
         └─ function send_email  2.0ms\n"
    );
}

#[tokio::test]
async fn unfinished_traces_print_at_flush_and_shutdown() {
    let buf = SharedBuf::default();
    let e = exporter(&buf);
    e.export(&[ExportItem::Span(span(
        1,
        None,
        0,
        3 * MS,
        SpanData::custom("step"),
    ))])
    .await
    .unwrap();
    assert_eq!(buf.take(), "");
    e.force_flush().await.unwrap();
    assert_eq!(
        buf.take(),
        "trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff  (trace still running)\n└─ custom step  3.0ms\n"
    );

    // Another span, then shutdown: printed as late spans of the already-shown trace.
    e.export(&[ExportItem::Span(span(
        2,
        Some(1),
        MS,
        MS,
        SpanData::custom("more"),
    ))])
    .await
    .unwrap();
    assert!(buf
        .take()
        .starts_with("late spans of trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff\n"));
    e.shutdown().await.unwrap();
    assert_eq!(buf.take(), "");
}

#[tokio::test]
async fn a_full_buffer_prints_the_oldest_trace_early() {
    let buf = SharedBuf::default();
    let e = ConsoleExporter::builder()
        .to_writer(buf.clone())
        .color(false)
        .max_buffered_spans(4)
        .build();
    let spans = golden_spans();
    e.export(&spans_items(&spans[..5])).await.unwrap();
    let out = buf.take();
    assert!(out.contains("printed early"), "{out}");
    // Whatever was printed early, nothing is lost: all 9 spans appear once in the end.
    e.export(&spans_items(&spans[5..])).await.unwrap();
    e.export(&[ExportItem::Trace(trace_record())])
        .await
        .unwrap();
    let all = out + &buf.take();
    for name in [
        "fetch-docs",
        "Triage",
        "no_pii",
        "gpt-4o-mini",
        "lookup_invoice",
        "Billing",
        "resp_123",
        "no_refund_abuse",
    ] {
        assert!(all.contains(name), "{name} missing from\n{all}");
    }
}

#[tokio::test]
async fn json_lines_are_printed_unbuffered() {
    let buf = SharedBuf::default();
    let e = ConsoleExporter::builder()
        .format(ConsoleFormat::JsonLines)
        .to_writer(buf.clone())
        .build();
    let items = spans_items(&golden_spans()[..2]);
    e.export(&items).await.unwrap();
    let out = buf.take();
    let back: Vec<ExportItem> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, items);
    assert!(!out.contains('\x1b'));
}

#[tokio::test]
async fn end_to_end_through_a_batch_processor() {
    use agent_trace::{BatchProcessor, TracerProvider};
    let buf = SharedBuf::default();
    let batch = BatchProcessor::new(exporter(&buf));
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    provider.trace("e2e").group_id("g1").in_scope(|| {
        agent_trace::custom_span("outer").in_scope(|| agent_trace::custom_span("inner").end());
    });
    batch.flush().await.unwrap();
    let out = buf.take();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("e2e  trace_") && lines[0].contains("group g1"),
        "{out}"
    );
    assert!(lines[1].starts_with("└─ custom outer  "), "{out}");
    assert!(lines[2].starts_with("   └─ custom inner  "), "{out}");
}
