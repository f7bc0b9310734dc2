//! Behaviour of `#[traced]` observed through the public API: which spans are
//! recorded, with which data, under which parent.

use std::time::Duration;

use agent_trace::testing::CollectingProcessor;
use agent_trace::Record;
use agent_trace::{traced, SpanData, SpanRecord, TracerProvider};
use async_trait::async_trait;
use serde::Serialize;

fn setup() -> (TracerProvider, CollectingProcessor) {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(spans.clone())
        .build();
    (provider, spans)
}

fn named<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    spans
        .iter()
        .find(|s| s.data.name() == Some(name))
        .unwrap_or_else(|| panic!("no span named {name:?} in {spans:#?}"))
}

fn function_data(span: &SpanRecord) -> (Option<&str>, Option<&str>) {
    match &span.data {
        SpanData::Function(f) => (f.input.as_deref(), f.output.as_deref()),
        other => panic!("expected a function span, got {other:?}"),
    }
}

#[derive(Debug, Serialize, PartialEq)]
struct Invoice {
    id: u64,
    total_cents: u64,
}

#[derive(Debug)]
struct NotFound(u64);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invoice {} not found", self.0)
    }
}

impl std::error::Error for NotFound {}

#[traced]
async fn lookup_invoice(customer: &str, invoice_id: u64) -> Result<Invoice, NotFound> {
    tokio::task::yield_now().await;
    if invoice_id == 0 {
        return Err(NotFound(invoice_id));
    }
    let _ = customer;
    Ok(Invoice {
        id: invoice_id,
        total_cents: 1250,
    })
}

#[tokio::test]
async fn function_span_captures_input_and_output() {
    let (provider, spans) = setup();
    let invoice = provider
        .trace("wf")
        .run(async { lookup_invoice("acme", 42).await })
        .await
        .unwrap();
    assert_eq!(invoice.id, 42);

    let spans = spans.spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let span = named(&spans, "lookup_invoice");
    assert!(span.error.is_none(), "{span:#?}");
    assert!(span.ended_at.is_some());
    let (input, output) = function_data(span);
    let input: serde_json::Value = serde_json::from_str(input.expect("input captured")).unwrap();
    assert_eq!(input["customer"], "acme", "{input}");
    assert_eq!(input["invoice_id"], 42, "{input}");
    let output = output.expect("output captured");
    assert!(output.contains("1250"), "{output}");
    assert!(
        !output.contains("Ok"),
        "the Ok value is captured, not the Result: {output}"
    );
}

#[tokio::test]
async fn err_return_is_recorded_with_display_message() {
    let (provider, spans) = setup();
    let result = provider
        .trace("wf")
        .run(async { lookup_invoice("acme", 0).await })
        .await;
    assert!(result.is_err());

    let spans = spans.spans();
    let span = named(&spans, "lookup_invoice");
    let error = span.error.as_ref().expect("error recorded");
    assert_eq!(error.message, "invoice 0 not found");
}

#[traced(err = false)]
fn err_not_recorded(fail: bool) -> Result<u8, NotFound> {
    if fail {
        Err(NotFound(1))
    } else {
        Ok(1)
    }
}

#[test]
fn err_false_does_not_record_errors() {
    let (provider, spans) = setup();
    provider.trace("wf").in_scope(|| {
        assert!(err_not_recorded(true).is_err());
    });
    let spans = spans.spans();
    assert!(named(&spans, "err_not_recorded").error.is_none());
}

#[traced(skip(password))]
fn login(user: &str, password: &str) -> bool {
    user.len() == password.len()
}

#[traced(skip_all, name = "login_quietly")]
fn login_quiet(user: &str, password: &str) -> bool {
    user.len() == password.len()
}

#[traced(output = false)]
fn no_output(x: u32) -> u32 {
    x
}

#[test]
fn skip_and_output_options() {
    let (provider, spans) = setup();
    provider.trace("wf").in_scope(|| {
        assert!(login("alice", "s3cr3"));
        assert!(login_quiet("alice", "s3cr3"));
        assert_eq!(no_output(7), 7);
    });
    let spans = spans.spans();

    let (input, output) = function_data(named(&spans, "login"));
    let input = input.expect("input captured");
    assert!(input.contains("alice"), "{input}");
    assert!(!input.contains("s3cr3"), "{input}");
    assert!(!input.contains("password"), "{input}");
    assert_eq!(output, Some("true"));

    let (input, _) = function_data(named(&spans, "login_quietly"));
    assert!(input.is_none_or(|i| !i.contains("alice")), "{input:?}");

    let (input, output) = function_data(named(&spans, "no_output"));
    assert!(input.expect("input captured").contains('7'));
    assert!(output.is_none(), "{output:?}");
}

#[derive(Debug)]
struct DebugOnly {
    level: u8,
}

struct Opaque;

#[traced]
fn uncapturable(d: DebugOnly, _o: Opaque) -> DebugOnly {
    d
}

#[test]
fn non_serialize_values_are_captured_as_debug_or_type_name() {
    let (provider, spans) = setup();
    provider.trace("wf").in_scope(|| {
        let d = uncapturable(DebugOnly { level: 3 }, Opaque);
        assert_eq!(d.level, 3);
    });
    let spans = spans.spans();
    let (input, output) = function_data(named(&spans, "uncapturable"));
    let input = input.expect("input captured");
    assert!(input.contains("DebugOnly { level: 3 }"), "{input}");
    assert!(input.contains("Opaque"), "{input}");
    assert!(output.expect("output captured").contains("level: 3"));
}

#[traced(kind = "agent", name = "Support agent", tools = ["lookup_invoice"], handoffs = ["billing"])]
async fn support_agent(question: String) -> Result<Vec<String>, NotFound> {
    let invoice = lookup_invoice("acme", 7).await?;
    Ok(vec![question, invoice.id.to_string()])
}

#[tokio::test]
async fn agent_span_data_and_nesting() {
    let (provider, spans) = setup();
    let answer = provider
        .trace("wf")
        .run(async { support_agent("where is my invoice?".into()).await })
        .await
        .unwrap();
    assert_eq!(answer.len(), 2);

    let spans = spans.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let agent = named(&spans, "Support agent");
    match &agent.data {
        SpanData::Agent(a) => {
            let tools: Vec<&str> = a
                .tools
                .iter()
                .flat_map(|t| t.iter())
                .map(|s| &**s)
                .collect();
            let handoffs: Vec<&str> = a
                .handoffs
                .iter()
                .flat_map(|t| t.iter())
                .map(|s| &**s)
                .collect();
            assert_eq!(tools, ["lookup_invoice"]);
            assert_eq!(handoffs, ["billing"]);
            assert_eq!(a.output_type.as_deref(), Some("Vec<String>"));
        }
        other => panic!("expected agent span, got {other:?}"),
    }
    let tool = named(&spans, "lookup_invoice");
    assert_eq!(tool.parent_id, Some(agent.id));
    assert_eq!(tool.trace_id, agent.trace_id);
    assert_eq!(agent.parent_id, None);
}

#[traced(kind = "generation", model = "gpt-4o-mini")]
async fn complete(prompt: &str) -> String {
    prompt.to_uppercase()
}

#[tokio::test]
async fn generation_span_has_model() {
    let (provider, spans) = setup();
    let out = provider.trace("wf").run(complete("hi")).await;
    assert_eq!(out, "HI");
    let spans = spans.spans();
    assert_eq!(spans.len(), 1);
    match &spans[0].data {
        SpanData::Generation(g) => assert_eq!(g.model.as_deref(), Some("gpt-4o-mini")),
        other => panic!("expected generation span, got {other:?}"),
    }
}

#[traced(kind = "custom", name = "step")]
fn sync_step(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    inner_step(n) + 1
}

#[traced]
fn inner_step(n: u32) -> u32 {
    n * 2
}

#[test]
fn sync_functions_nest() {
    let (provider, spans) = setup();
    let out = provider.trace("wf").in_scope(|| sync_step(2));
    assert_eq!(out, 5);
    let spans = spans.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let outer = named(&spans, "step");
    let inner = named(&spans, "inner_step");
    assert!(matches!(outer.data, SpanData::Custom(_)));
    assert_eq!(inner.parent_id, Some(outer.id));
}

#[test]
fn without_a_trace_nothing_is_recorded() {
    let (_provider, spans) = setup();
    assert_eq!(sync_step(1), 3);
    assert!(spans.spans().is_empty());
}

struct Assistant {
    name: String,
}

impl Assistant {
    #[traced]
    fn greet(&self, who: &str) -> String {
        format!("{} greets {who}", self.name)
    }

    #[traced(kind = "agent")]
    async fn answer(&self, question: &str) -> String {
        format!("{}: {question}", self.greet("you"))
    }
}

#[tokio::test]
async fn methods_are_traced() {
    let (provider, spans) = setup();
    let a = Assistant { name: "bot".into() };
    let out = provider.trace("wf").run(a.answer("q")).await;
    assert_eq!(out, "bot greets you: q");
    let spans = spans.spans();
    let answer = named(&spans, "answer");
    let greet = named(&spans, "greet");
    assert_eq!(greet.parent_id, Some(answer.id));
    let (input, output) = function_data(greet);
    assert!(input.unwrap().contains("you"));
    assert!(!input.unwrap().contains("self"));
    assert!(output.unwrap().contains("bot greets you"));
}

#[async_trait]
trait Tool: Send + Sync {
    async fn call(&self, input: String) -> Result<String, NotFound>;
}

struct Echo;

#[async_trait]
impl Tool for Echo {
    #[traced(name = "echo")]
    async fn call(&self, input: String) -> Result<String, NotFound> {
        tokio::task::yield_now().await;
        if input.is_empty() {
            return Err(NotFound(0));
        }
        Ok(input.repeat(2))
    }
}

#[tokio::test]
async fn async_trait_methods_are_traced() {
    let (provider, spans) = setup();
    let tool: Box<dyn Tool> = Box::new(Echo);
    provider
        .trace("wf")
        .run(async {
            assert_eq!(tool.call("ab".into()).await.unwrap(), "abab");
            assert!(tool.call(String::new()).await.is_err());
        })
        .await;
    let spans = spans.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let (input, output) = function_data(&spans[0]);
    assert!(input.unwrap().contains("ab"));
    assert!(output.unwrap().contains("abab"));
    assert_eq!(
        spans[1].error.as_ref().map(|e| e.message.as_str()),
        Some("invoice 0 not found")
    );
}

#[traced]
async fn slow(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[tokio::test]
async fn dropped_future_ends_span_as_cancelled() {
    let (provider, spans) = setup();
    provider
        .trace("wf")
        .run(async {
            let r = tokio::time::timeout(Duration::from_millis(5), slow(10_000)).await;
            assert!(r.is_err());
        })
        .await;
    let spans = spans.spans();
    let span = named(&spans, "slow");
    assert!(span.ended_at.is_some());
    let error = span.error.as_ref().expect("cancellation recorded");
    assert!(error.message.contains("cancelled"), "{error:?}");
}

#[traced]
fn explode(code: u32) -> u32 {
    if code > 0 {
        panic!("kaboom {code}");
    }
    code
}

#[traced]
async fn explode_async(code: u32) -> u32 {
    tokio::task::yield_now().await;
    explode(code)
}

#[test]
fn panics_are_recorded_and_resumed() {
    let (provider, spans) = setup();
    let caught = provider
        .trace("wf")
        .in_scope(|| std::panic::catch_unwind(|| explode(3)));
    let payload = caught.expect_err("panic resumed");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("kaboom 3")
    );
    let spans = spans.spans();
    let error = named(&spans, "explode")
        .error
        .as_ref()
        .expect("panic recorded");
    assert!(error.message.contains("kaboom 3"), "{error:?}");
}

#[tokio::test]
async fn async_panics_are_recorded_and_resumed() {
    use futures::FutureExt;
    let (provider, spans) = setup();
    let caught = provider
        .trace("wf")
        .run(std::panic::AssertUnwindSafe(explode_async(4)).catch_unwind())
        .await;
    assert!(caught.is_err());
    let spans = spans.spans();
    for name in ["explode", "explode_async"] {
        let error = named(&spans, name).error.as_ref().expect("panic recorded");
        assert!(error.message.contains("kaboom 4"), "{name}: {error:?}");
    }
}

mod reexport {
    pub use agent_trace as tracing_core_reexport;
}

#[traced(crate = reexport::tracing_core_reexport, kind = "guardrail")]
fn guard(text: &str) -> bool {
    text.is_empty()
}

#[test]
fn crate_path_option_and_guardrail_kind() {
    let (provider, spans) = setup();
    provider.trace("wf").in_scope(|| assert!(!guard("x")));
    let spans = spans.spans();
    assert!(matches!(
        named(&spans, "guard").data,
        SpanData::Guardrail(_)
    ));
}

#[traced]
fn deferred(n: u32) -> impl std::future::Future<Output = u32> {
    async move {
        tokio::task::yield_now().await;
        inner_step(n)
    }
}

#[tokio::test]
async fn impl_future_functions_span_the_returned_future() {
    let (provider, spans) = setup();
    let out = provider.trace("wf").run(async { deferred(4).await }).await;
    assert_eq!(out, 8);
    let spans = spans.spans();
    let outer = named(&spans, "deferred");
    let inner = named(&spans, "inner_step");
    assert_eq!(inner.parent_id, Some(outer.id));
    let (input, output) = function_data(outer);
    assert!(input.unwrap().contains('4'));
    assert_eq!(output, Some("8"));
}

struct Counter {
    hits: u32,
}

impl Counter {
    #[traced(kind = "custom", name = "Counter::hit")]
    fn hit(&mut self, by: u32) -> &mut u32 {
        self.hits += by;
        &mut self.hits
    }

    #[traced(input = false)]
    fn into_hits(self, _unused: u8) -> u32 {
        self.hits
    }
}

#[test]
fn mut_self_and_self_methods() {
    let (provider, spans) = setup();
    let hits = provider.trace("wf").in_scope(|| {
        let mut c = Counter { hits: 0 };
        *c.hit(2) += 1;
        c.into_hits(0)
    });
    assert_eq!(hits, 3);
    let spans = spans.spans();
    assert!(matches!(
        named(&spans, "Counter::hit").data,
        SpanData::Custom(_)
    ));
    let (input, output) = function_data(named(&spans, "into_hits"));
    assert!(input.is_none(), "{input:?}");
    assert_eq!(output, Some("3"));
}

#[traced(kind = "agent", name = "boxed agent")]
fn boxed_agent(n: u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = u32> + Send>> {
    Box::pin(async move {
        tokio::task::yield_now().await;
        inner_step(n)
    })
}

#[tokio::test]
async fn boxed_future_functions_span_the_future() {
    let (provider, spans) = setup();
    let out = provider
        .trace("wf")
        .run(async { boxed_agent(5).await })
        .await;
    assert_eq!(out, 10);
    let spans = spans.spans();
    let outer = named(&spans, "boxed agent");
    assert_eq!(named(&spans, "inner_step").parent_id, Some(outer.id));
    match &outer.data {
        SpanData::Agent(a) => assert_eq!(a.output_type.as_deref(), Some("u32")),
        other => panic!("expected agent span, got {other:?}"),
    }
}

#[traced]
fn tool_that_counts_tokens(n: u64) -> u64 {
    // A mistake: a function span has no usage field (the model call's generation span has).
    agent_trace::current_span().record_usage(agent_trace::Usage::tokens(n, n));
    n
}

// The only test of this file that installs a diagnostics hook or records usage on a kind
// without one (both are once per process).
#[test]
fn usage_on_a_function_span_is_reported_once() {
    use std::sync::{Arc, Mutex};
    let said = Arc::new(Mutex::new(Vec::new()));
    let sink = said.clone();
    assert!(agent_trace::set_diagnostics_hook(move |d| {
        sink.lock().unwrap().push((d.key, d.message.clone()))
    }));
    let (provider, spans) = setup();
    provider.trace("wf").in_scope(|| {
        tool_that_counts_tokens(3);
        tool_that_counts_tokens(4);
    });
    let spans = spans.spans();
    assert_eq!(spans.len(), 2);
    assert!(spans.iter().all(|s| s.data.usage().is_none()));
    let said: Vec<_> = said
        .lock()
        .unwrap()
        .iter()
        .filter(|(key, _)| *key == "usage_ignored")
        .cloned()
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].1.contains("`function` span"), "{said:?}");
    assert!(said[0].1.contains(r#"kind = "generation""#), "{said:?}");
}
