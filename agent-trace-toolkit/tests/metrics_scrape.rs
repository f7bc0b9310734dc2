//! The `/metrics` endpoint scraped over real HTTP on 127.0.0.1, its exposition parsed strictly.

use std::collections::HashMap;

use agent_trace::{Record, TracerProvider, Usage};
use agent_trace_toolkit::metrics::{MetricsProcessor, MetricsServer, CONTENT_TYPE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().to_owned();
    let ctype = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or_default()
        .to_owned();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, body.len(), "Content-Length matches the body");
    (status, ctype, body.to_owned())
}

/// One sample: metric name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// Parses the Prometheus text format strictly: every sample belongs to a family announced by
/// `# HELP` and `# TYPE`, label values are quoted, values are numbers.
fn parse(text: &str) -> (HashMap<String, String>, Vec<Sample>) {
    let mut types = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').expect("TYPE name type");
            assert!(["counter", "histogram", "gauge"].contains(&ty), "{line}");
            types.insert(name.to_owned(), ty.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line}");
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), Vec::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("closing brace");
                let labels = body
                    .split("\",")
                    .map(|kv| {
                        let (k, v) = kv.split_once("=\"").expect("k=\"v\"");
                        (k.to_owned(), v.trim_end_matches('"').to_owned())
                    })
                    .collect();
                (name.to_owned(), labels)
            }
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name {name}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| types.contains_key(*f)))
            .unwrap_or(&name);
        assert!(types.contains_key(family), "{name} has no # TYPE");
        samples.push((name, labels, value));
    }
    (types, samples)
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|(n, l, _)| {
        n == name
            && labels
                .iter()
                .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_over_http_parses_and_counts_spans_errors_and_tokens() {
    let metrics = MetricsProcessor::with_limits(3, 10);
    let provider = TracerProvider::builder()
        .with_processor(metrics.clone())
        .build();
    provider.trace("support").in_scope(|| {
        for _ in 0..3 {
            let mut g = agent_trace::generation_span().with_model("gpt-4o-mini");
            g.record_usage(Usage::tokens(12, 5));
        }
        let mut f = agent_trace::function_span("web");
        f.set_error(agent_trace::SpanError::new("timeout"));
        drop(f);
        agent_trace::agent_span("triage").end();
        for name in ["a", "b", "c", "d", "e"] {
            agent_trace::custom_span(name).end();
        }
    });

    let server = MetricsServer::bind("127.0.0.1:0", metrics.clone())
        .await
        .unwrap();
    let (status, ctype, body) = get(server.local_addr(), "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(ctype, CONTENT_TYPE);
    let (types, samples) = parse(&body);
    assert_eq!(types["agent_trace_span_duration_seconds"], "histogram");
    assert_eq!(types["agent_trace_span_errors_total"], "counter");
    assert_eq!(types["agent_trace_tokens_total"], "counter");

    let count = |kind, name| {
        find(
            &samples,
            "agent_trace_span_duration_seconds_count",
            &[("kind", kind), ("name", name)],
        )
        .map(|s| s.2)
    };
    assert_eq!(count("generation", "gpt-4o-mini"), Some(3.0));
    assert_eq!(count("agent", "triage"), Some(1.0));
    // Five custom names, limit three: two fold into "other", and are counted as folded.
    assert_eq!(count("custom", "other"), Some(2.0));
    let folded = find(
        &samples,
        "agent_trace_metrics_folded_total",
        &[("label", "name")],
    );
    assert_eq!(folded.map(|s| s.2), Some(2.0));
    let errors = find(
        &samples,
        "agent_trace_span_errors_total",
        &[("kind", "function"), ("name", "web")],
    );
    assert_eq!(errors.map(|s| s.2), Some(1.0));
    let tokens = |dir| {
        find(
            &samples,
            "agent_trace_tokens_total",
            &[("model", "gpt-4o-mini"), ("direction", dir)],
        )
        .map(|s| s.2)
    };
    assert_eq!(
        (tokens("input"), tokens("output")),
        (Some(36.0), Some(15.0))
    );

    // Buckets are cumulative, end with +Inf equal to the count.
    let buckets: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == "agent_trace_span_duration_seconds_bucket"
                && l.iter().any(|(k, v)| k == "name" && v == "gpt-4o-mini")
        })
        .map(|s| s.2)
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&3.0));

    let (status, _, _) = get(server.local_addr(), "/nope").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}

#[test]
fn snapshot_reports_percentiles_and_serializes() {
    let metrics = MetricsProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(metrics.clone())
        .build();
    provider.trace("wf").in_scope(|| {
        for _ in 0..10 {
            agent_trace::function_span("lookup").end();
        }
    });
    let snap = metrics.snapshot();
    let s = snap.get(agent_trace::SpanKind::Function, "lookup").unwrap();
    assert_eq!(s.count, 10);
    assert!(s.min <= s.p50 && s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max);
    let json = serde_json::to_value(&snap).unwrap();
    assert_eq!(json["spans"][0]["name"], "lookup");
    assert!(json["spans"][0]["p99"].is_f64());
}
