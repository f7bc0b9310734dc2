use super::*;

const SDK: &str = include_str!("../tests/fixtures/openai-agents-export-sample.jsonl");
const OURS: &str = include_str!("../tests/fixtures/ours-baseline.jsonl");

fn span_json(span_data: &str, ended_at: &str, error: &str) -> String {
    format!(
        r#"{{"object":"trace.span","id":"span_1","trace_id":"trace_1","parent_id":"span_0","started_at":"2026-11-25T11:44:14.259263+00:00","ended_at":{ended_at},"span_data":{span_data},"error":{error}}}"#
    )
}

fn ok_span(span_data: &str) -> SpanLine {
    let line = span_json(span_data, r#""2026-11-25T11:44:14.300000+00:00""#, "null");
    match parse_line(line.as_bytes(), false) {
        Ok(Record::Span(s)) => *s,
        other => panic!("{other:?}"),
    }
}

fn err(line: &str) -> LineError {
    parse_line(line.as_bytes(), false).expect_err(line)
}

#[test]
fn every_line_of_the_sdk_sample_parses() {
    let records: Vec<Record> = SDK
        .lines()
        .map(|l| parse_line(l.as_bytes(), false).unwrap())
        .collect();
    assert_eq!(records.len(), 13);
    let Record::Trace(t) = &records[0] else {
        panic!("the first line is the trace")
    };
    assert_eq!(t.workflow_name, "peers_check_workflow");
    assert_eq!(t.group_id.as_deref(), Some("thread_123"));
    assert_eq!((t.started_at, t.ended_at), (None, None));
    let spans: Vec<&SpanLine> = records
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(&**s),
            _ => None,
        })
        .collect();
    let names: Vec<(&str, &str)> = spans.iter().map(|s| (s.kind, s.name.as_str())).collect();
    assert!(names.contains(&("generation", "gpt-4o-mini")));
    assert!(names.contains(&("handoff", "Triage → Billing")));
    assert!(names.contains(&("mcp_tools", "local-mcp")));
    assert!(names.contains(&("response", "response")));
    let gen = spans.iter().find(|s| s.kind == "generation").unwrap();
    assert_eq!(
        gen.tokens,
        Some(Tokens {
            input: 12,
            output: 5
        })
    );
    assert_eq!(gen.model.as_deref(), Some("gpt-4o-mini"));
    let failed: Vec<_> = spans.iter().filter(|s| s.error.is_some()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error.as_deref(), Some("Error running tool"));
    // response with "usage": null has no tokens
    assert_eq!(
        spans.iter().find(|s| s.kind == "response").unwrap().tokens,
        None
    );
}

#[test]
fn our_exporters_lines_parse_with_trace_times() {
    let mut traces = 0;
    for l in OURS.lines() {
        match parse_line(l.as_bytes(), true).unwrap() {
            Record::Trace(t) => {
                traces += 1;
                let (a, b) = (t.started_at.unwrap(), t.ended_at.unwrap());
                assert!(a <= b);
            }
            Record::Span(s) => {
                assert!(s.start <= s.end);
                assert!(s.raw.as_ref().unwrap()["span_data"]["type"].is_string());
            }
        }
    }
    assert_eq!(traces, 3);
}

#[test]
fn times_are_unix_nanoseconds() {
    assert_eq!(
        parse_time("1970-01-01T00:00:01.000001+00:00"),
        Ok(1_000_001_000)
    );
    assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), Ok(0));
    assert!(parse_time("2199-12-31T23:59:59.999999999Z").is_ok());
    assert_eq!(
        parse_time("2026-11-25T11:44:14Z"),
        Ok(1_795_607_054_000_000_000)
    );
    for bad in [
        "yesterday",
        "2026-11-25",
        "2026-13-01T00:00:00Z",
        "",
        "1969-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ] {
        assert!(
            matches!(parse_time(bad), Err(LineError::BadTime(_))),
            "{bad}"
        );
    }
}

#[test]
fn names_follow_the_kind() {
    assert_eq!(
        ok_span(r#"{"type":"agent","name":"Triage"}"#).name,
        "Triage"
    );
    assert_eq!(ok_span(r#"{"type":"function","name":"f"}"#).name, "f");
    assert_eq!(ok_span(r#"{"type":"guardrail","name":"g"}"#).name, "g");
    assert_eq!(
        ok_span(r#"{"type":"custom","name":"c","data":{}}"#).name,
        "c"
    );
    assert_eq!(ok_span(r#"{"type":"generation"}"#).name, "generation");
    assert_eq!(
        ok_span(r#"{"type":"speech","model":"tts-1"}"#).name,
        "tts-1"
    );
    assert_eq!(
        ok_span(r#"{"type":"transcription","model":"whisper"}"#)
            .model
            .as_deref(),
        Some("whisper")
    );
    assert_eq!(ok_span(r#"{"type":"speech_group"}"#).name, "speech_group");
    assert_eq!(ok_span(r#"{"type":"mcp_tools"}"#).name, "mcp_tools");
    assert_eq!(
        ok_span(r#"{"type":"handoff","from_agent":"A"}"#).name,
        "A → ?"
    );
    // A kind without a model field keeps none even if one is written.
    assert_eq!(
        ok_span(r#"{"type":"agent","name":"a","model":"m"}"#).model,
        None
    );
    // Unicode survives.
    assert_eq!(
        ok_span(r#"{"type":"function","name":"摘要→ü"}"#).name,
        "摘要→ü"
    );
}

#[test]
fn usage_is_read_where_each_kind_keeps_it() {
    let t = |input, output| Some(Tokens { input, output });
    assert_eq!(
        ok_span(r#"{"type":"generation","usage":{"input_tokens":3,"output_tokens":4}}"#).tokens,
        t(3, 4)
    );
    assert_eq!(
        ok_span(r#"{"type":"response","usage":{"input_tokens":3}}"#).tokens,
        t(3, 0)
    );
    assert_eq!(
        ok_span(r#"{"type":"generation","usage":{"total_tokens":9}}"#).tokens,
        t(9, 0)
    );
    assert_eq!(
        ok_span(
            r#"{"type":"custom","name":"c","data":{"usage":{"input_tokens":1,"output_tokens":2}}}"#
        )
        .tokens,
        t(1, 2)
    );
    assert_eq!(ok_span(r#"{"type":"generation","usage":{}}"#).tokens, None);
    assert_eq!(
        ok_span(r#"{"type":"generation","usage":"lots"}"#).tokens,
        None
    );
    assert_eq!(
        ok_span(r#"{"type":"generation","usage":{"input_tokens":-1,"output_tokens":2}}"#).tokens,
        t(0, 2)
    );
    assert_eq!(
        ok_span(r#"{"type":"custom","name":"c","usage":{"input_tokens":1}}"#).tokens,
        None
    );
}

#[test]
fn errors_are_their_message_or_a_placeholder() {
    let with = |e: &str| {
        let line = span_json(
            r#"{"type":"function","name":"f"}"#,
            r#""2026-11-25T11:44:15+00:00""#,
            e,
        );
        match parse_line(line.as_bytes(), false).unwrap() {
            Record::Span(s) => s.error,
            r => panic!("{r:?}"),
        }
    };
    assert_eq!(with("null"), None);
    assert_eq!(
        with(r#"{"message":"boom","data":null}"#).as_deref(),
        Some("boom")
    );
    assert_eq!(with(r#"{"data":{"x":1}}"#).as_deref(), Some("error"));
    assert_eq!(with(r#""a string""#).as_deref(), Some("error"));
}

#[test]
fn damaged_lines_are_malformed() {
    for bad in [
        "",
        "not json",
        "{",
        r#"{"object": "trace.span", "id": "span_1", "trace_"#,
        "[]",
        "42",
        "{}",
        r#"{"object":"trace"}"#,
        r#"{"object":"trace","id":7}"#,
        r#"{"object":"trace.span","id":"s","trace_id":"t"}"#,
        r#"{"object":"trace.span","id":"s","trace_id":"t","started_at":"2026-11-25T11:44:14Z","ended_at":"2026-11-25T11:44:14Z","span_data":[]}"#,
        r#"{"object":"trace.span","id":"s","trace_id":"t","started_at":"2026-11-25T11:44:14Z","ended_at":"2026-11-25T11:44:14Z","span_data":{"name":"x"}}"#,
        r#"{"object":"trace.span","id":"s","trace_id":"t","ended_at":"2026-11-25T11:44:14Z","span_data":{"type":"custom"}}"#,
        r#"{"object":"trace.span","id":"s","trace_id":"t","parent_id":5,"started_at":"2026-11-25T11:44:14Z","ended_at":"2026-11-25T11:44:14Z","span_data":{"type":"custom"}}"#,
    ] {
        assert!(
            matches!(err(bad), LineError::Malformed(_)),
            "{bad}: {:?}",
            err(bad)
        );
    }
}

#[test]
fn each_other_problem_has_its_own_error() {
    assert_eq!(
        err(r#"{"object":"trace.event","id":"x"}"#),
        LineError::UnknownObject("trace.event".into())
    );
    let future = span_json(
        r#"{"type":"telepathy"}"#,
        r#""2026-11-25T11:44:15+00:00""#,
        "null",
    );
    assert_eq!(err(&future), LineError::UnknownSpanType("telepathy".into()));
    let running = span_json(r#"{"type":"agent","name":"a"}"#, "null", "null");
    assert_eq!(err(&running), LineError::MissingEnd("span_1".into()));
    let no_end = running.replace(r#","ended_at":null"#, "");
    assert_eq!(err(&no_end), LineError::MissingEnd("span_1".into()));
    let backwards = span_json(
        r#"{"type":"agent","name":"a"}"#,
        r#""2020-01-01T00:00:00Z""#,
        "null",
    );
    assert_eq!(err(&backwards), LineError::EndBeforeStart("span_1".into()));
    let bad_time = span_json(r#"{"type":"agent","name":"a"}"#, r#""soon""#, "null");
    assert_eq!(err(&bad_time), LineError::BadTime("soon".into()));
    // Messages are short even for huge inputs.
    let huge = format!(r#"{{"object":"{}"}}"#, "x".repeat(10_000));
    assert!(err(&huge).to_string().len() < 120);
}

#[test]
fn unknown_fields_and_trailing_whitespace_are_fine() {
    let line = span_json(
        r#"{"type":"function","name":"f","novel":[1,2]}"#,
        r#""2026-11-25T11:44:15+00:00""#,
        "null",
    )
    .replace(r#""object""#, r#""links":[],"extra":{"a":1},"object""#)
        + " \r\n";
    assert!(matches!(
        parse_line(line.as_bytes(), false),
        Ok(Record::Span(_))
    ));
}

#[test]
fn raw_data_is_kept_only_when_asked() {
    let line = span_json(
        r#"{"type":"function","name":"f"}"#,
        r#""2026-11-25T11:44:15+00:00""#,
        r#"{"message":"m"}"#,
    );
    let Record::Span(kept) = parse_line(line.as_bytes(), true).unwrap() else {
        panic!()
    };
    let raw = kept.raw.unwrap();
    assert_eq!(raw["span_data"]["name"], "f");
    assert_eq!(raw["error"]["message"], "m");
    let Record::Span(dropped) = parse_line(line.as_bytes(), false).unwrap() else {
        panic!()
    };
    assert!(dropped.raw.is_none());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// No input makes the parser panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_line(&bytes, true);
        }

        /// A cut-off valid line is an error, never a panic or a wrong record.
        #[test]
        fn truncated_lines_are_rejected(cut in 0usize..400) {
            let line = span_json(r#"{"type":"generation","model":"m","usage":{"input_tokens":1,"output_tokens":2}}"#,
                r#""2026-11-25T11:44:15+00:00""#, "null");
            let cut = cut.min(line.len() - 1);
            prop_assert!(parse_line(&line.as_bytes()[..cut], false).is_err());
        }

        /// Valid spans keep their times, name and tokens.
        #[test]
        fn valid_spans_round_trip(start in 0i64..4_000_000_000, len in 0i64..1_000_000_000,
                                  name in "[a-zA-Z0-9_ ]{1,20}", input in 0u64..1_000_000, output in 0u64..1_000_000) {
            let fmt = |ns: i64| {
                let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns) * 1000).unwrap();
                t.format(&Rfc3339).unwrap()
            };
            let data = serde_json::json!({"type": "custom", "name": name, "data": {"usage": {"input_tokens": input, "output_tokens": output}}});
            let line = span_json(&data.to_string(), &format!("\"{}\"", fmt(start + len)), "null")
                .replace("\"2026-11-25T11:44:14.259263+00:00\"", &format!("\"{}\"", fmt(start)));
            let Ok(Record::Span(s)) = parse_line(line.as_bytes(), false) else { panic!("{line}") };
            prop_assert_eq!(s.start, start * 1000);
            prop_assert_eq!(s.duration(), len * 1000);
            prop_assert_eq!(&s.name, &name);
            prop_assert_eq!(s.tokens, Some(Tokens { input, output }));
        }
    }
}
