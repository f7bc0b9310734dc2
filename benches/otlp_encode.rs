//! OTLP encoding throughput: spans encoded per second per core, agent-trace's OTLP exporter
//! against opentelemetry-otlp's encoder, for the same realistic generation spans.
//!
//! ```text
//! cargo bench -p agent-trace-benches --bench otlp_encode                            # full run
//! AGENT_TRACE_BENCH_QUICK=1 cargo bench -p agent-trace-benches --bench otlp_encode  # seconds
//! ```
//!
//! The span: an agent-trace `SpanRecord` of kind `generation` inside a trace (it has a parent
//! span and a group id), with a model, a model config (temperature, max_tokens), token usage
//! (with cached tokens), and sensitive data on, so its input messages (~420 bytes of JSON: a
//! system and a user message) and output (~190 bytes: an assistant message) are exported. A
//! batch is 512 such spans (the batch processor's default batch) of 8 traces; each span's user
//! message differs.
//!
//! The forms: protobuf and JSON, each with and without gzip.
//! - agent-trace: `OtlpExporter::encode_body`, the body its `export` POSTs for a batch that fits
//!   one request: the GenAI mapping, the encoding, and the exporter's own gzip (flate2, fast
//!   level) when on.
//! - opentelemetry-otlp 0.33 (the peer): the same spans as `opentelemetry_sdk::trace::SpanData`
//!   with the same attributes (the bench checks they decode to the same `gen_ai.*` key-values),
//!   encoded as its HTTP exporter does: opentelemetry-proto's
//!   `group_spans_by_resource_and_scope` into an `ExportTraceServiceRequest`, then
//!   `prost::Message::encode_to_vec`, or `serde_json::to_string_pretty` for JSON (what
//!   opentelemetry-otlp calls), then flate2's `GzEncoder` at the default level for gzip.
//!
//! What a sample times: a batch of records in, the request body out. agent-trace's exporter
//! reads a borrowed batch that the pipeline frees after every exporter ran, so it has two
//! columns: the encoding alone (the exporter's own cost; the batch is freed after the clock
//! stops) and the encoding plus freeing the batch, like for like with the peer, whose exporter
//! consumes its `Vec<SpanData>` (moves its strings into the request and frees the rest). The
//! batches are cloned before the clock starts. Time is the encoding thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), so the rate is per core and a shared machine's preemption does
//! not count; the wall-clock medians are printed below the table.
//!
//! `--profile FORM` (`protobuf`, `protobuf+gzip`, `JSON`, `JSON+gzip`) runs agent-trace's
//! encoder alone on one batch for 5 s, for a profiler:
//! `perf record -e cpu-clock target/release/deps/otlp_encode-* --bench --profile protobuf`.
//!
//! In every mode (quick mode too, and under `cargo test --benches`), one request of each form
//! and system is decoded with opentelemetry-proto's types and checked: 512 spans, the model,
//! the token counts, the messages, the ids; and every span's attributes of the two systems are
//! compared key by key.

#[path = "common/mod.rs"]
mod common;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime};

use agent_trace::span_data::GenerationSpanData;
use agent_trace::{
    ExportItem, SpanData, SpanId, SpanRecord, Timestamp, TraceId, TraceRecord, Usage,
};
use agent_trace_exporters::otlp::Protocol;
use agent_trace_exporters::OtlpExporter;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue as ProtoKeyValue};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use prost::Message;
use serde_json::{json, Value};

/// Spans per request: the batch processor's default batch size.
const BATCH: usize = 512;
const TRACES: usize = 8;
const MODEL: &str = "gpt-4o-mini";
const INPUT_TOKENS: u64 = 1_284;
const OUTPUT_TOKENS: u64 = 176;
const CACHED_TOKENS: u64 = 1_024;
const SYSTEM_PROMPT: &str = "You are the support agent of an online shop. Answer in two or three sentences, cite the order number, never promise a refund before the billing team has confirmed it, and hand off to billing for any payment question.";
const ANSWER: &str = "Your order has left our warehouse and should arrive within two working days; the tracking link is in your confirmation email. I have asked billing to look at the double charge.";

fn ts(base: u64, us: u64) -> Timestamp {
    Timestamp::from_unix_nanos(base + us * 1_000)
}

const BASE_NANOS: u64 = 1_764_071_054_259_263_000;

fn trace_id(t: usize) -> TraceId {
    TraceId::from_u128(0x5b8e_fff7_9803_8103_d269_b633_813f_c600 + t as u128).expect("non-zero")
}

fn agent_span_id(t: usize) -> SpanId {
    SpanId::from_u64(0xeee1_9b7e_c3c1_0000 + t as u64).expect("non-zero")
}

fn user_message(i: usize) -> String {
    format!("Hello, my order #{} from last Tuesday has not arrived yet and I was charged twice for it. Can you tell me where it is and fix the payment?", 40_000 + i)
}

/// The trace start records (they carry the group ids the spans' `gen_ai.conversation.id` comes
/// from; the batch processor hands them to the exporter ahead of the spans).
fn trace_starts() -> Vec<ExportItem> {
    (0..TRACES)
        .map(|t| {
            let mut r = TraceRecord::new("support");
            r.id = trace_id(t);
            r.group_id = Some(format!("thread-{t:04}"));
            r.started_at = Some(ts(BASE_NANOS, 0));
            r.ended_at = None;
            ExportItem::Trace(r)
        })
        .collect()
}

/// The generation spans of one batch.
fn records() -> Vec<ExportItem> {
    (0..BATCH)
        .map(|i| {
            let t = i % TRACES;
            let mut d = GenerationSpanData::default();
            d.model = Some(MODEL.into());
            let mut config = serde_json::Map::new();
            config.insert("temperature".into(), json!(0.2));
            config.insert("max_tokens".into(), json!(512));
            d.model_config = Some(config);
            let mut usage = Usage::tokens(INPUT_TOKENS, OUTPUT_TOKENS);
            usage.details.insert(
                "input_tokens_details".into(),
                json!({ "cached_tokens": CACHED_TOKENS }),
            );
            d.usage = Some(usage);
            d.input = Some(json!([
                { "role": "system", "content": SYSTEM_PROMPT },
                { "role": "user", "content": user_message(i) },
            ]));
            d.output = Some(json!([{ "role": "assistant", "content": ANSWER }]));
            let mut s = SpanRecord::new(
                trace_id(t),
                Some(agent_span_id(t)),
                SpanData::Generation(Box::new(d)),
            );
            s.id = SpanId::from_u64(0x1000_0000_0000_0000 + i as u64).expect("non-zero");
            s.started_at = ts(BASE_NANOS, 100 + i as u64 * 10);
            s.ended_at = Some(ts(BASE_NANOS, 100 + i as u64 * 10 + 850_000));
            ExportItem::Span(s)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The peer: the same spans as opentelemetry_sdk SpanData, with the attributes our mapping makes.

fn system_time(t: Timestamp) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(t.unix_nanos())
}

fn peer_spans(records: &[ExportItem]) -> Vec<opentelemetry_sdk::trace::SpanData> {
    use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceFlags, TraceState};
    use opentelemetry::KeyValue;
    let scope = opentelemetry::InstrumentationScope::builder("agent-trace")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    records
        .iter()
        .map(|item| {
            let ExportItem::Span(s) = item else {
                unreachable!("spans only")
            };
            let SpanData::Generation(d) = &s.data else {
                unreachable!("generation spans only")
            };
            let t = s.trace_id.to_u128() as usize - trace_id(0).to_u128() as usize;
            let model = d.model.as_deref().expect("model").to_owned();
            let config = d.model_config.as_ref().expect("model config");
            let usage = d.usage.as_ref().expect("usage");
            // As an instrumented application records them: the messages as JSON text.
            let attributes = vec![
                KeyValue::new("gen_ai.operation.name", "chat"),
                KeyValue::new("gen_ai.provider.name", "openai"),
                KeyValue::new("gen_ai.request.model", model.clone()),
                KeyValue::new("gen_ai.response.model", model.clone()),
                KeyValue::new(
                    "gen_ai.request.temperature",
                    config["temperature"].as_f64().expect("f64"),
                ),
                KeyValue::new(
                    "gen_ai.request.max_tokens",
                    config["max_tokens"].as_i64().expect("i64"),
                ),
                KeyValue::new(
                    "agent_trace.generation.model_config",
                    Value::Object(config.clone()).to_string(),
                ),
                KeyValue::new("gen_ai.usage.input_tokens", usage.input_tokens as i64),
                KeyValue::new("gen_ai.usage.output_tokens", usage.output_tokens as i64),
                KeyValue::new("gen_ai.usage.cache_read.input_tokens", CACHED_TOKENS as i64),
                KeyValue::new(
                    "gen_ai.input.messages",
                    d.input.as_ref().expect("input").to_string(),
                ),
                KeyValue::new(
                    "gen_ai.output.messages",
                    d.output.as_ref().expect("output").to_string(),
                ),
                KeyValue::new("agent_trace.span_kind", "generation"),
                KeyValue::new("gen_ai.conversation.id", format!("thread-{t:04}")),
            ];
            opentelemetry_sdk::trace::SpanData {
                span_context: SpanContext::new(
                    opentelemetry::trace::TraceId::from_bytes(s.trace_id.to_bytes()),
                    opentelemetry::trace::SpanId::from_bytes(s.id.to_bytes()),
                    TraceFlags::SAMPLED,
                    false,
                    TraceState::default(),
                ),
                parent_span_id: opentelemetry::trace::SpanId::from_bytes(
                    s.parent_id.expect("parent").to_bytes(),
                ),
                parent_span_is_remote: false,
                span_kind: SpanKind::Client,
                name: Cow::Owned(format!("chat {model}")),
                start_time: system_time(s.started_at),
                end_time: system_time(s.ended_at.expect("ended")),
                attributes,
                dropped_attributes_count: 0,
                events: Default::default(),
                links: Default::default(),
                status: Status::Unset,
                instrumentation_scope: scope.clone(),
            }
        })
        .collect()
}

fn peer_resource() -> ResourceAttributesWithSchema {
    use opentelemetry::KeyValue;
    let resource = opentelemetry_sdk::Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "bench"),
            KeyValue::new("telemetry.sdk.name", "opentelemetry"),
            KeyValue::new("telemetry.sdk.language", "rust"),
            KeyValue::new("telemetry.sdk.version", "0.33.1"),
        ])
        .build();
    (&resource).into()
}

/// opentelemetry-otlp's `build_trace_export_body` and `process_body` (HTTP exporter, 0.33).
fn peer_encode(
    spans: Vec<opentelemetry_sdk::trace::SpanData>,
    resource: &ResourceAttributesWithSchema,
    protocol: Protocol,
    gzip: bool,
) -> Vec<u8> {
    let resource_spans = group_spans_by_resource_and_scope(spans, resource);
    let req = ExportTraceServiceRequest { resource_spans };
    let body = match protocol {
        Protocol::HttpJson => serde_json::to_string_pretty(&req)
            .expect("JSON")
            .into_bytes(),
        _ => req.encode_to_vec(),
    };
    if !gzip {
        return body;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&body).expect("gzip");
    encoder.finish().expect("gzip")
}

// ---------------------------------------------------------------------------------------------
// Checks: decode one request of each system and form.

fn decode(body: &[u8], protocol: Protocol, gzip: bool) -> ExportTraceServiceRequest {
    let mut raw = body.to_vec();
    if gzip {
        raw.clear();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut raw)
            .expect("a gzip body");
    }
    match protocol {
        Protocol::HttpJson => serde_json::from_slice(&raw).expect("an OTLP JSON body"),
        _ => ExportTraceServiceRequest::decode(raw.as_slice()).expect("an OTLP protobuf body"),
    }
}

fn attrs(kvs: &[ProtoKeyValue]) -> BTreeMap<String, any_value::Value> {
    kvs.iter()
        .map(|kv| {
            let v = kv.value.as_ref().and_then(|v| v.value.clone());
            (kv.key.clone(), v.expect("a value"))
        })
        .collect()
}

/// The decoded request holds the batch's spans with the right model, tokens and messages;
/// returns every span's attributes.
fn check(
    who: &str,
    body: &[u8],
    protocol: Protocol,
    gzip: bool,
) -> Vec<BTreeMap<String, any_value::Value>> {
    use any_value::Value::{IntValue, StringValue};
    let req = decode(body, protocol, gzip);
    let spans: Vec<_> = req
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect();
    assert_eq!(spans.len(), BATCH, "{who}: spans in the request");
    for (i, span) in spans.iter().enumerate() {
        let a = attrs(&span.attributes);
        let s = |k: &str| match a.get(k) {
            Some(StringValue(s)) => s.as_str(),
            other => panic!("{who}: span {i}: {k} = {other:?}"),
        };
        let n = |k: &str| match a.get(k) {
            Some(IntValue(n)) => *n as u64,
            other => panic!("{who}: span {i}: {k} = {other:?}"),
        };
        assert_eq!(span.name, format!("chat {MODEL}"), "{who}");
        assert_eq!(s("gen_ai.request.model"), MODEL, "{who}");
        assert_eq!(n("gen_ai.usage.input_tokens"), INPUT_TOKENS, "{who}");
        assert_eq!(n("gen_ai.usage.output_tokens"), OUTPUT_TOKENS, "{who}");
        assert_eq!(
            n("gen_ai.usage.cache_read.input_tokens"),
            CACHED_TOKENS,
            "{who}"
        );
        assert!(
            s("gen_ai.input.messages").contains(&user_message(i)),
            "{who}"
        );
        assert!(s("gen_ai.output.messages").contains(ANSWER), "{who}");
        assert_eq!(
            span.span_id,
            (0x1000_0000_0000_0000u64 + i as u64).to_be_bytes()
        );
        assert_eq!(span.parent_span_id, agent_span_id(i % TRACES).to_bytes());
    }
    spans.iter().map(|s| attrs(&s.attributes)).collect()
}

// ---------------------------------------------------------------------------------------------
// Measurement.

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[derive(Default)]
struct Samples {
    /// Spans per CPU-second, per sample.
    cpu: Vec<f64>,
    /// Spans per wall-clock second, per sample.
    wall: Vec<f64>,
}

impl Samples {
    fn push(&mut self, spans: usize, cpu: Duration, wall: Duration) {
        self.cpu.push(spans as f64 / cpu.as_secs_f64().max(1e-9));
        self.wall.push(spans as f64 / wall.as_secs_f64().max(1e-9));
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn fastest(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Times `encode` over `batches` prepared batches (prepared before the clock starts). What
/// `encode` returns besides the body's size is dropped after the clock stops.
fn sample<B, K>(
    samples: &mut Samples,
    batches: usize,
    prepare: impl Fn() -> B,
    mut encode: impl FnMut(B) -> (usize, K),
) {
    let inputs: Vec<B> = (0..batches).map(|_| prepare()).collect();
    let mut kept: Vec<K> = Vec::with_capacity(batches);
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let mut bytes = 0;
    for input in inputs {
        let (n, keep) = encode(black_box(input));
        bytes += n;
        kept.push(keep);
    }
    let (cpu, wall) = (thread_cpu() - cpu, wall.elapsed());
    black_box(bytes);
    drop(kept);
    samples.push(batches * BATCH, cpu, wall);
}

struct Form {
    name: &'static str,
    protocol: Protocol,
    gzip: bool,
    ours: OtlpExporter,
    /// Encoding alone: the batch is borrowed, and freed after the clock stops.
    alone_samples: Samples,
    /// Encoding and freeing the batch (as the peer's encoder consumes its batch).
    ours_samples: Samples,
    peer_samples: Samples,
    ours_bytes: usize,
    peer_bytes: usize,
}

fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else {
        format!("{:.0} k", v / 1e3)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not (a quick check then).
    let quick = common::checking_run();
    let (rounds, batches) = if quick { (3, 1) } else { (31, 8) };

    let starts = trace_starts();
    let batch = records();
    let resource = peer_resource();
    let peer_batch = peer_spans(&batch);

    let mut forms: Vec<Form> = [
        ("protobuf", Protocol::HttpProtobuf, false),
        ("protobuf + gzip", Protocol::HttpProtobuf, true),
        ("JSON", Protocol::HttpJson, false),
        ("JSON + gzip", Protocol::HttpJson, true),
    ]
    .into_iter()
    .map(|(name, protocol, gzip)| {
        let ours = OtlpExporter::builder()
            .endpoint("http://127.0.0.1:9")
            .protocol(protocol)
            .gzip(gzip)
            .service_name("bench")
            .include_sensitive_data(true)
            .build()
            .expect("exporter");
        // The trace starts reach the exporter ahead of the spans, in an earlier batch, as from
        // the batch processor: the exporter records the traces' group ids.
        ours.encode_body(&starts).expect("trace starts");
        Form {
            name,
            protocol,
            gzip,
            ours,
            alone_samples: Samples::default(),
            ours_samples: Samples::default(),
            peer_samples: Samples::default(),
            ours_bytes: 0,
            peer_bytes: 0,
        }
    })
    .collect();

    // The checks, in every mode.
    for f in &mut forms {
        let ours = f.ours.encode_body(&batch).expect("encode");
        let peer = peer_encode(peer_batch.clone(), &resource, f.protocol, f.gzip);
        let a = check(
            &format!("agent-trace {}", f.name),
            &ours,
            f.protocol,
            f.gzip,
        );
        let b = check(&format!("peer {}", f.name), &peer, f.protocol, f.gzip);
        assert_eq!(a, b, "{}: the two systems' span attributes", f.name);
        f.ours_bytes = ours.len();
        f.peer_bytes = peer.len();
    }

    // `--profile FORM`: only agent-trace's encoder on that form, for 5 s (see the module docs).
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let name = args.get(i + 1).map_or("protobuf", String::as_str);
        let f = forms
            .iter()
            .find(|f| f.name.replace(' ', "") == name.replace(' ', ""))
            .expect("--profile protobuf|protobuf+gzip|JSON|JSON+gzip");
        let (start, cpu) = (Instant::now(), thread_cpu());
        let mut spans = 0;
        while start.elapsed() < Duration::from_secs(5) {
            black_box(f.ours.encode_body(&batch).expect("encode"));
            spans += BATCH;
        }
        let cpu = thread_cpu() - cpu;
        println!(
            "{name}: {spans} spans in {:?} ({:?} CPU): {} spans/s per core, the batch borrowed (not freed)",
            start.elapsed(),
            cpu,
            rate(spans as f64 / cpu.as_secs_f64())
        );
        let (start, cpu) = (Instant::now(), thread_cpu());
        let mut freed = 0;
        while start.elapsed() < Duration::from_secs(2) {
            let b = batch.clone();
            let c = thread_cpu();
            drop(black_box(b));
            freed += BATCH;
            black_box(thread_cpu() - c);
        }
        println!(
            "(cloning and freeing {freed} records took {:?} CPU)",
            thread_cpu() - cpu
        );
        return;
    }

    // Rounds: every form and system once per round, so that a noisy moment hits all alike.
    for _ in 0..rounds {
        for f in &mut forms {
            let ours = &f.ours;
            sample(
                &mut f.alone_samples,
                batches,
                || batch.clone(),
                |b| (ours.encode_body(&b).expect("encode").len(), b),
            );
            sample(
                &mut f.ours_samples,
                batches,
                || batch.clone(),
                |b| {
                    let n = ours.encode_body(&b).expect("encode").len();
                    drop(b);
                    (n, ())
                },
            );
            let (protocol, gzip) = (f.protocol, f.gzip);
            sample(
                &mut f.peer_samples,
                batches,
                || peer_batch.clone(),
                |b| (peer_encode(b, &resource, protocol, gzip).len(), ()),
            );
        }
    }

    println!(
        "otlp_encode: {BATCH} generation spans per request ({} B of input and output messages per span), {rounds} samples of {batches} request(s) per form and system{}",
        input_output_bytes(&batch),
        if quick { " (quick mode: too few samples to quote)" } else { "" }
    );
    println!();
    println!("| form | agent-trace: encoding, median | fastest | agent-trace: encoding + freeing the records, median | fastest | bytes/span | opentelemetry-otlp 0.33: encoding (consumes the records), median | fastest | bytes/span | agent-trace ÷ peer, like for like (median) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for f in &forms {
        let (om, pm) = (median(&f.ours_samples.cpu), median(&f.peer_samples.cpu));
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2}× |",
            f.name,
            rate(median(&f.alone_samples.cpu)),
            rate(fastest(&f.alone_samples.cpu)),
            rate(om),
            rate(fastest(&f.ours_samples.cpu)),
            f.ours_bytes / BATCH,
            rate(pm),
            rate(fastest(&f.peer_samples.cpu)),
            f.peer_bytes / BATCH,
            om / pm,
        );
    }
    println!();
    println!("Spans per CPU-second of the encoding thread (one core), {rounds} samples of {batches} batch(es) of {BATCH} spans, batches cloned before each sample's clock starts.");
    println!("agent-trace's exporter reads a borrowed batch, which the pipeline frees after every exporter ran: \"encoding\" is the exporter's own cost; \"+ freeing the records\" adds dropping the batch, to compare like for like with the peer, whose exporter consumes (moves from and frees) its batch.");
    println!("agent-trace: OtlpExporter::encode_body (GenAI mapping; protobuf written straight from the records, JSON through prost's types and serde_json; gzip at flate2's fast level).");
    println!("Same attributes in both (checked): the peer's messages and model config are string attributes already (an application serializes them when it records them); agent-trace's records hold JSON values, whose text the exporter writes.");
    println!("peer: opentelemetry-proto's group_spans_by_resource_and_scope, then prost encode_to_vec or serde_json::to_string_pretty, then gzip at flate2's default level, as opentelemetry-otlp's HTTP exporter does.");
    print!("Wall-clock medians (spans/s):");
    for f in &forms {
        print!(
            " {} {} / {} / peer {};",
            f.name,
            rate(median(&f.alone_samples.wall)),
            rate(median(&f.ours_samples.wall)),
            rate(median(&f.peer_samples.wall))
        );
    }
    println!();
    println!("Regenerate: cargo bench -p agent-trace-benches --bench otlp_encode");
}

/// Bytes of input and output messages (as JSON text) in the first span.
fn input_output_bytes(batch: &[ExportItem]) -> usize {
    match &batch[0] {
        ExportItem::Span(SpanRecord {
            data: SpanData::Generation(d),
            ..
        }) => {
            d.input.as_ref().map_or(0, |v| v.to_string().len())
                + d.output.as_ref().map_or(0, |v| v.to_string().len())
        }
        _ => 0,
    }
}
