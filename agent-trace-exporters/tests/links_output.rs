//! Links between spans, in the same trace and across traces (a span that follows from a span
//! of another trace), reach every output: the JSONL line, the console tree and the OTLP span.
#![cfg(all(feature = "console", feature = "jsonl", feature = "otlp"))]

mod common;

use agent_trace::{BatchProcessor, ExportItem, SpanLink, TracerProvider};
use agent_trace_exporters::console::ConsoleExporter;
use agent_trace_exporters::jsonl::read_items;
use agent_trace_exporters::{JsonlExporter, OtlpExporter};
use common::loopback::otlp_receiver;
use common::SharedBuf;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

#[tokio::test]
async fn links_within_and_across_traces_reach_jsonl_console_and_otlp() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.jsonl");
    let console = SharedBuf::default();
    let (receiver, base) = otlp_receiver().await;
    let batch = BatchProcessor::builder()
        .with_exporter(
            ConsoleExporter::builder()
                .to_writer(console.clone())
                .color(false)
                .build(),
        )
        .with_exporter(JsonlExporter::new(&file).unwrap())
        .with_exporter(
            OtlpExporter::builder()
                .endpoint(&base)
                .gzip(false)
                .build()
                .unwrap(),
        )
        .build();
    let provider = TracerProvider::builder().with_processor(batch).build();

    // Trace 1 produces; trace 2 follows from its span, and a second span of trace 2 follows
    // from the first one.
    let producer = provider.trace("produce").in_scope(|| {
        let span = agent_trace::custom_span("enqueue");
        let link = SpanLink::new(span.trace_id().unwrap(), span.id().unwrap());
        span.end();
        link
    });
    let (consumer, later) = provider.trace("consume").in_scope(|| {
        let consumer =
            agent_trace::custom_span("dequeue").with_link(producer.trace_id, producer.span_id);
        let consumer_link = SpanLink::new(consumer.trace_id().unwrap(), consumer.id().unwrap());
        consumer.end();
        let later = agent_trace::custom_span("report")
            .with_link(consumer_link.trace_id, consumer_link.span_id);
        let later_id = later.id().unwrap();
        later.end();
        (consumer_link, later_id)
    });
    provider
        .shutdown(std::time::Duration::from_secs(30))
        .await
        .unwrap();

    // JSONL: the records carry their links.
    let (items, _) = read_items(&file).unwrap();
    let span = |id| {
        items
            .iter()
            .find_map(|i| match i {
                ExportItem::Span(s) if s.id == id => Some(s.clone()),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(
        span(consumer.span_id).links,
        std::slice::from_ref(&producer)
    );
    assert_eq!(span(later).links, std::slice::from_ref(&consumer));
    assert!(span(producer.span_id).links.is_empty());

    // Console: the line of each linking span names the linked span, and its trace when it is
    // another one.
    let text = console.take();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no `{name}` line in\n{text}"))
            .to_owned()
    };
    assert!(
        line("dequeue").contains(&format!(
            "↪ links {} in {}",
            producer.span_id, producer.trace_id
        )),
        "{text}"
    );
    assert!(
        line("report").contains(&format!("↪ links {}", consumer.span_id)),
        "{text}"
    );
    assert!(!line("report").contains(" in trace_"), "{text}");
    assert!(!line("enqueue").contains("↪"), "{text}");

    // OTLP: the spans carry the links with the linked ids.
    let spans: Vec<_> = receiver
        .seen
        .lock()
        .unwrap()
        .iter()
        .flat_map(|s| {
            ExportTraceServiceRequest::decode(&s.body[..])
                .unwrap()
                .resource_spans
        })
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .collect();
    let links_of = |name: &str| -> Vec<(Vec<u8>, Vec<u8>)> {
        spans
            .iter()
            .find(|s| s.name.contains(name))
            .unwrap_or_else(|| panic!("no OTLP span `{name}`"))
            .links
            .iter()
            .map(|l| (l.trace_id.clone(), l.span_id.clone()))
            .collect()
    };
    let bytes = |l: &SpanLink| {
        (
            l.trace_id.to_bytes().to_vec(),
            l.span_id.to_bytes().to_vec(),
        )
    };
    assert_eq!(links_of("dequeue"), [bytes(&producer)]);
    assert_eq!(links_of("report"), [bytes(&consumer)]);
}
