//! The OTLP exporter's transport against a real HTTP receiver on 127.0.0.1: status codes,
//! `Retry-After`, refused connections, timeouts, configuration from the environment.
#![cfg(feature = "otlp")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use agent_trace::{
    ExportError, ExportItem, SpanData, SpanRecord, Timestamp, TraceId, TraceRecord, TracingExporter,
};
use agent_trace_exporters::otlp::Protocol;
use agent_trace_exporters::OtlpExporter;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;

use common::loopback::{closed_port, otlp_receiver};

fn batch(trace: TraceId) -> Vec<ExportItem> {
    let mut span = SpanRecord::new(trace, None, SpanData::custom("step"));
    span.ended_at = Some(Timestamp::now());
    vec![
        ExportItem::Span(span),
        ExportItem::Trace({
            let mut t = TraceRecord::new("wf");
            t.id = trace;
            t.started_at = Some(Timestamp::now());
            t.ended_at = Some(Timestamp::now());
            t
        }),
    ]
}

async fn export_answered(answer: (u16, Vec<(&'static str, String)>, &str)) -> ExportError {
    let (r, base) = otlp_receiver().await;
    r.answers
        .lock()
        .unwrap()
        .push_back((answer.0, answer.1, answer.2.to_owned(), Duration::ZERO));
    let exporter = OtlpExporter::builder().endpoint(&base).build().unwrap();
    exporter
        .export(&batch(TraceId::random()))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn statuses_are_classified() {
    for status in [500, 502, 503, 504, 408] {
        let e = export_answered((status, vec![], "busy")).await;
        assert!(e.is_retryable(), "{status}: {e}");
        assert!(e.to_string().contains(&status.to_string()), "{e}");
    }
    let e = export_answered((503, vec![("retry-after", "7".into())], "")).await;
    assert_eq!(
        e,
        ExportError::Transient {
            message: "HTTP 503: Service Unavailable".into(),
            retry_after: Some(Duration::from_secs(7))
        }
    );
    let later = httpdate_in(Duration::from_secs(120));
    let e = export_answered((429, vec![("retry-after", later)], "slow down")).await;
    match e {
        ExportError::Transient {
            message,
            retry_after: Some(d),
        } => {
            assert!(message.contains("slow down"));
            assert!(
                d > Duration::from_secs(100) && d <= Duration::from_secs(120),
                "{d:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let e = export_answered((400, vec![], "bad span")).await;
    assert!(
        matches!(&e, ExportError::Permanent(m) if m.contains("400") && m.contains("bad span")),
        "{e}"
    );
    assert!(!export_answered((501, vec![], "")).await.is_retryable());
    assert!(!export_answered((401, vec![], "")).await.is_retryable());
}

/// An IMF-fixdate `d` from now.
fn httpdate_in(d: Duration) -> String {
    let secs = (std::time::SystemTime::now() + d)
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // civil_from_days (Howard Hinnant)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        months[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[tokio::test]
async fn connection_refused_and_timeout_are_transient() {
    let port = closed_port();
    let exporter = OtlpExporter::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let e = exporter
        .export(&batch(TraceId::random()))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("could not connect"), "{e}");

    let (r, base) = otlp_receiver().await;
    r.answers
        .lock()
        .unwrap()
        .push_back((200, vec![], String::new(), Duration::from_secs(60)));
    let exporter = OtlpExporter::builder()
        .endpoint(&base)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // The answer comes after a minute: an error saying the request timed out is the
    // exporter's own timeout, without a bound on this machine's speed.
    let e = exporter
        .export(&batch(TraceId::random()))
        .await
        .unwrap_err();
    assert!(
        e.is_retryable() && e.to_string().contains("timed out"),
        "{e}"
    );
}

#[tokio::test]
async fn configured_from_env_lookup() {
    let (r, base) = otlp_receiver().await;
    let env: HashMap<&str, String> = HashMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", base.clone()),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Basic%20abc,x-tenant=t1".into(),
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip".into()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".into()),
        ("OTEL_SERVICE_NAME", "support-bot".into()),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=test,service.name=ignored".into(),
        ),
    ]);
    let exporter = OtlpExporter::builder()
        .from_env_lookup(move |k| env.get(k).cloned())
        .header("x-tenant", "t2") // code wins over the environment
        .build()
        .unwrap();
    assert_eq!(exporter.traces_url(), format!("{base}/v1/traces"));
    assert_eq!(exporter.protocol(), Protocol::HttpJson);
    exporter.export(&batch(TraceId::random())).await.unwrap();
    let seen = r.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.headers["authorization"], "Basic abc");
    assert_eq!(seen.headers["x-tenant"], "t2");
    assert_eq!(seen.headers["content-encoding"], "gzip");
    let req: ExportTraceServiceRequest = serde_json::from_slice(&seen.body).unwrap();
    let res = &req.resource_spans[0].resource.as_ref().unwrap().attributes;
    let get = |k: &str| {
        res.iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.clone()?.value)
    };
    assert_eq!(
        get("service.name"),
        Some(Av::StringValue("support-bot".into()))
    );
    assert_eq!(
        get("deployment.environment"),
        Some(Av::StringValue("test".into()))
    );

    for (var, value) in [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "bad header=1"),
    ] {
        let e = OtlpExporter::builder()
            .from_env_lookup(move |k| (k == var).then(|| value.to_owned()))
            .build()
            .unwrap_err();
        assert!(!e.to_string().is_empty(), "{var}");
    }
}

#[test]
fn an_endpoint_without_a_host_is_a_setup_error() {
    // `http://` used to become the URL `http://v1/traces` (host "v1").
    let err = OtlpExporter::builder()
        .endpoint("http://")
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("no host"), "{err}");
}

#[tokio::test]
async fn credentials_in_the_endpoint_never_show_in_debug_or_errors() {
    let port = closed_port();
    let exporter = OtlpExporter::builder()
        .traces_endpoint(format!(
            "http://user:s3cret@127.0.0.1:{port}/v1/traces?api_key=t0ken"
        ))
        .build()
        .unwrap();
    let debug = format!("{exporter:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains("t0ken"),
        "{debug}"
    );
    assert!(debug.contains("***@127.0.0.1"), "{debug}");
    let e = exporter
        .export(&batch(TraceId::random()))
        .await
        .unwrap_err()
        .to_string();
    assert!(!e.contains("s3cret") && !e.contains("t0ken"), "{e}");
    assert!(e.contains("could not connect"), "{e}");
}
