//! Each row of the mapping table: what a `tracing` span becomes.

mod common;

use agent_trace::span_data::SpanData;
use agent_trace::SpanKind;
use agent_trace_tracing::{AgentTraceLayer, Rule, Rules, Slot};
use common::setup;
use tracing::field::Empty;

#[test]
fn invoke_agent_becomes_an_agent_span_with_its_name_and_tools() {
    let s = setup(AgentTraceLayer::new());
    s.in_trace(|| {
        tracing::info_span!(
            "invoke_agent",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.agent.name = "weather-bot",
            gen_ai.tool.definitions =
                r#"[{"type":"function","name":"forecast"},{"name":"geocode"}]"#,
            gen_ai.prompt = "what's the weather?",
        )
        .in_scope(|| {});
    });
    let agent = s.span("weather-bot");
    let SpanData::Agent(a) = &agent.data else {
        panic!("{agent:?}")
    };
    let tools: Vec<&str> = a
        .tools
        .as_ref()
        .unwrap()
        .iter()
        .map(|t| t.as_ref())
        .collect();
    assert_eq!(tools, ["forecast", "geocode"]);
}

#[test]
fn chat_becomes_a_generation_with_fields_recorded_after_it_opened() {
    let s = setup(AgentTraceLayer::new());
    s.in_trace(|| {
        let span = tracing::info_span!(
            "chat",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = Empty,
            gen_ai.response.model = Empty,
            gen_ai.request.temperature = 0.2,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.usage.cache_read.input_tokens = Empty,
            gen_ai.input.messages = Empty,
        );
        span.in_scope(|| {
            span.record("gen_ai.request.model", "gpt-4o-mini");
            span.record("gen_ai.response.model", "gpt-4o-mini-2024-07-18");
            span.record("gen_ai.usage.input_tokens", 120u64);
            span.record("gen_ai.usage.output_tokens", 30u64);
            span.record("gen_ai.usage.cache_read.input_tokens", 100u64);
            span.record(
                "gen_ai.input.messages",
                r#"[{"role":"user","content":"hi"}]"#,
            );
        });
    });
    let g = &s.spans.spans()[0];
    let SpanData::Generation(d) = &g.data else {
        panic!("{g:?}")
    };
    assert_eq!(d.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    let usage = d.usage.as_ref().unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (120, 30));
    assert_eq!(usage.details["input_tokens_details"]["cached_tokens"], 100);
    assert_eq!(d.model_config.as_ref().unwrap()["temperature"], 0.2);
    assert!(
        d.input.is_none(),
        "messages recorded with sensitive data off: {d:?}"
    );
}

#[test]
fn text_completion_and_generate_content_are_generations_too() {
    let s = setup(AgentTraceLayer::new());
    s.in_trace(|| {
        for op in ["text_completion", "generate_content"] {
            tracing::info_span!("call", gen_ai.operation.name = op).in_scope(|| {});
        }
    });
    let kinds: Vec<SpanKind> = s.spans.spans().iter().map(|r| r.data.kind()).collect();
    assert_eq!(kinds, [SpanKind::Generation, SpanKind::Generation]);
}

#[test]
fn messages_are_recorded_with_sensitive_data_on() {
    let s = setup(
        AgentTraceLayer::builder()
            .include_sensitive_data(true)
            .build(),
    );
    s.in_trace(|| {
        tracing::info_span!(
            "chat",
            gen_ai.operation.name = "chat",
            gen_ai.input.messages = r#"[{"role":"user","content":"hi"}]"#,
            gen_ai.output.messages = "plain answer",
        )
        .in_scope(|| {});
    });
    let SpanData::Generation(d) = &s.spans.spans()[0].data else {
        panic!()
    };
    assert_eq!(d.input.as_ref().unwrap()[0]["content"], "hi");
    assert_eq!(d.output.as_ref().unwrap()[0]["content"], "plain answer");
}

#[test]
fn execute_tool_becomes_a_function_span_and_a_failed_outcome_its_error() {
    let s = setup(
        AgentTraceLayer::builder()
            .include_sensitive_data(true)
            .build(),
    );
    s.in_trace(|| {
        for (args, outcome) in [(r#"{"city":"Oslo"}"#, "success"), ("{}", "error")] {
            let span = tracing::info_span!(
                "execute_tool",
                gen_ai.operation.name = "execute_tool",
                gen_ai.tool.name = Empty,
                gen_ai.tool.call.arguments = Empty,
                gen_ai.tool.call.result = Empty,
                gen_ai.tool.call.outcome = Empty,
                gen_ai.tool.error.type = Empty,
            );
            span.record("gen_ai.tool.name", "forecast");
            span.record("gen_ai.tool.call.arguments", args);
            span.record("gen_ai.tool.call.result", "sunny");
            span.record("gen_ai.tool.call.outcome", outcome);
            if outcome == "error" {
                span.record("gen_ai.tool.error.type", "ToolCallError");
            }
        }
    });
    let spans = s.spans.spans();
    assert_eq!(spans.len(), 2);
    let SpanData::Function(ok) = &spans[0].data else {
        panic!()
    };
    assert_eq!(ok.name, "forecast");
    assert_eq!(ok.input.as_deref(), Some(r#"{"city":"Oslo"}"#));
    assert_eq!(ok.output.as_deref(), Some("sunny"));
    assert!(spans[0].error.is_none());
    let err = spans[1].error.as_ref().expect("failed tool has an error");
    assert!(err.message.contains("ToolCallError"), "{err:?}");
}

#[test]
fn tool_arguments_and_results_are_dropped_with_sensitive_data_off() {
    let s = setup(AgentTraceLayer::new());
    s.in_trace(|| {
        tracing::info_span!(
            "execute_tool",
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = "forecast",
            gen_ai.tool.call.arguments = "{\"secret\":1}",
            gen_ai.tool.call.result = "secret",
        )
        .in_scope(|| {});
    });
    let SpanData::Function(f) = &s.span("forecast").data else {
        panic!()
    };
    assert!(f.input.is_none() && f.output.is_none(), "{f:?}");
}

#[test]
fn embeddings_and_other_spans_become_custom_spans_with_their_fields() {
    let s = setup(AgentTraceLayer::new());
    s.in_trace(|| {
        tracing::info_span!(
            "embeddings",
            gen_ai.operation.name = "embeddings",
            gen_ai.request.model = "text-embedding-3-small",
            gen_ai.usage.input_tokens = 8u64,
        )
        .in_scope(|| {});
        tracing::info_span!(
            "fetch_docs",
            url = "https://example.com",
            retries = 2,
            ok = true,
            gen_ai.prompt = "private"
        )
        .in_scope(|| {});
    });
    let SpanData::Custom(e) = &s.span("embeddings").data else {
        panic!()
    };
    assert_eq!(e.data["gen_ai.request.model"], "text-embedding-3-small");
    assert_eq!(e.data["gen_ai.usage.input_tokens"], 8);
    assert!(!e.data.contains_key("gen_ai.operation.name"));
    let SpanData::Custom(f) = &s.span("fetch_docs").data else {
        panic!()
    };
    assert_eq!(f.data["url"], "https://example.com");
    assert_eq!(f.data["retries"], 2);
    assert_eq!(f.data["ok"], true);
    assert!(
        !f.data.contains_key("gen_ai.prompt"),
        "sensitive field kept: {f:?}"
    );
}

#[test]
fn events_are_counted_and_an_error_event_fails_the_span_without_its_text() {
    let s = setup(AgentTraceLayer::new());
    s.in_trace(|| {
        tracing::info_span!("work").in_scope(|| {
            tracing::info!("step one");
            tracing::warn!("slow");
            tracing::debug!("not counted at the default INFO level");
            tracing::error!(user = "alice@example.com", "failed for alice@example.com");
        });
    });
    let work = s.span("work");
    let SpanData::Custom(d) = &work.data else {
        panic!()
    };
    assert_eq!(d.data["events"], 3);
    let err = work.error.expect("error event fails the span");
    assert!(!err.message.contains("alice"), "event text copied: {err:?}");
    assert!(err.data.is_none());
}

#[test]
fn an_error_event_carries_its_text_with_sensitive_data_on() {
    let s = setup(
        AgentTraceLayer::builder()
            .include_sensitive_data(true)
            .build(),
    );
    s.in_trace(|| {
        tracing::info_span!("work").in_scope(|| {
            tracing::error!(code = 7, "upstream refused");
        });
    });
    let err = s.span("work").error.unwrap();
    assert_eq!(err.message, "upstream refused");
    assert_eq!(err.data.unwrap()["code"], 7);
}

#[test]
fn follows_from_links_open_spans_and_ignores_closed_ones() {
    let s = setup(AgentTraceLayer::new());
    s.in_trace(|| {
        let cause = tracing::info_span!("cause");
        let closed = tracing::info_span!("closed");
        let closed_id = closed.id();
        drop(closed);
        let effect = tracing::info_span!("effect");
        effect.follows_from(&cause);
        effect.follows_from(closed_id); // already closed: ignored, no panic
        drop(effect);
        drop(cause);
    });
    let cause = s.span("cause");
    let effect = s.span("effect");
    assert_eq!(effect.links.len(), 1, "{:?}", effect.links);
    assert_eq!(effect.links[0].span_id, cause.id);
}

/// The langchain-rust rule set of the crate docs.
fn langchain() -> Rules {
    Rules::new()
        .rule(
            Rule::named("agent.run")
                .and_target("langchain_rust")
                .kind(SpanKind::Agent)
                .field("agent", Slot::Name),
        )
        .rule(
            Rule::named("llm.generate")
                .and_target("langchain_rust")
                .kind(SpanKind::Generation)
                .field("model", Slot::Model)
                .field("provider", Slot::ModelConfig("provider".into()))
                .field("prompt_tokens", Slot::InputTokens)
                .field("completion_tokens", Slot::OutputTokens),
        )
        .rule(
            Rule::named("tool.call")
                .and_target("langchain_rust")
                .kind(SpanKind::Function)
                .field("tool", Slot::Name),
        )
        .extend(Rules::genai())
}

#[test]
fn user_rules_type_another_frameworks_spans_by_name_and_target() {
    let s = setup(AgentTraceLayer::builder().rules(langchain()).build());
    s.in_trace(|| {
        tracing::info_span!(target: "langchain_rust::agent", "agent.run", agent = "researcher")
            .in_scope(|| {
                let llm = tracing::info_span!(
                    target: "langchain_rust::llm",
                    "llm.generate",
                    provider = "openai",
                    model = "gpt-4o",
                    prompt_tokens = Empty,
                    completion_tokens = Empty,
                );
                llm.record("prompt_tokens", 11u64);
                llm.record("completion_tokens", 4u64);
                drop(llm);
                tracing::info_span!(target: "langchain_rust::tools", "tool.call", tool = "search")
                    .in_scope(|| {});
                // Same name, another target: not langchain's, stays custom.
                tracing::info_span!(target: "my_app", "tool.call").in_scope(|| {});
            });
    });
    let agent = s.span("researcher");
    assert_eq!(agent.data.kind(), SpanKind::Agent);
    let g = s.span("gpt-4o");
    assert_eq!(g.parent_id, Some(agent.id));
    assert_eq!(g.data.usage().unwrap().total(), 15);
    let SpanData::Generation(gd) = &g.data else {
        panic!()
    };
    assert_eq!(gd.model_config.as_ref().unwrap()["provider"], "openai");
    assert_eq!(s.span("search").data.kind(), SpanKind::Function);
    assert_eq!(s.span("tool.call").data.kind(), SpanKind::Custom);
}

#[test]
fn rules_match_on_field_values_and_the_first_match_wins() {
    let layer = AgentTraceLayer::builder()
        .rule(
            Rule::when_field("kind", ["agent"])
                .kind(SpanKind::Agent)
                .field("who", Slot::Name),
        )
        .rule(Rule::when_field("kind", Vec::<&str>::new()).kind(SpanKind::Guardrail))
        .build();
    let s = setup(layer);
    s.in_trace(|| {
        tracing::info_span!("a", kind = "agent", who = "planner").in_scope(|| {});
        tracing::info_span!("b", kind = "check").in_scope(|| {});
        tracing::info_span!("c").in_scope(|| {});
    });
    assert_eq!(s.span("planner").data.kind(), SpanKind::Agent);
    assert_eq!(s.span("b").data.kind(), SpanKind::Guardrail);
    assert_eq!(s.span("c").data.kind(), SpanKind::Custom);
}

#[test]
fn field_conditions_compare_numbers_as_json_text_debug_values_as_text_and_need_a_value() {
    #[derive(Debug)]
    enum Role {
        Planner,
    }
    let layer = AgentTraceLayer::builder()
        .rules(
            Rules::new()
                .rule(Rule::when_field("attempt", ["2"]).kind(SpanKind::Function))
                .rule(Rule::when_field("role", ["Planner"]).kind(SpanKind::Agent))
                .rule(Rule::when_field("ratio", ["0.5"]).kind(SpanKind::Guardrail)),
        )
        .build();
    let s = setup(layer);
    s.in_trace(|| {
        tracing::info_span!("retry", attempt = 2u64).in_scope(|| {});
        tracing::info_span!("first", attempt = 1u64).in_scope(|| {});
        tracing::info_span!("plan", role = ?Role::Planner).in_scope(|| {});
        tracing::info_span!("half", ratio = 0.5f64).in_scope(|| {});
        // Declared but empty at creation: a condition is decided on creation values only.
        let later = tracing::info_span!("later", attempt = tracing::field::Empty);
        later.record("attempt", 2u64);
        later.in_scope(|| {});
    });
    assert_eq!(s.span("retry").data.kind(), SpanKind::Function);
    assert_eq!(s.span("first").data.kind(), SpanKind::Custom);
    assert_eq!(s.span("plan").data.kind(), SpanKind::Agent);
    assert_eq!(s.span("half").data.kind(), SpanKind::Guardrail);
    assert_eq!(s.span("later").data.kind(), SpanKind::Custom);
}
