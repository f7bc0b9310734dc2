//! The mapping from `tracing` spans to agent-trace spans, as data: [`Rule`]s that match a span
//! by name, target or field and say what its fields mean ([`Slot`]), gathered in [`Rules`].

use std::borrow::Cow;

use agent_trace::SpanKind;

/// Text in a rule: a literal (`&'static str`) or built at run time.
pub type Text = Cow<'static, str>;

/// Where the value of one `tracing` field goes on the agent-trace span.
///
/// Slots a span kind has no place for are ignored (a model on a function span, tools on a
/// generation), never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Slot {
    /// The name of an agent, function, custom or guardrail span.
    Name,
    /// The model of a generation (the last one recorded wins: rig records the request model,
    /// then the response model).
    Model,
    /// Prompt tokens of a generation (`usage.input_tokens`).
    InputTokens,
    /// Completion tokens of a generation (`usage.output_tokens`).
    OutputTokens,
    /// Cached prompt tokens (`usage.input_tokens_details.cached_tokens`).
    CachedInputTokens,
    /// Reasoning tokens (`usage.output_tokens_details.reasoning_tokens`).
    ReasoningTokens,
    /// The input: messages of a generation, arguments of a function. Sensitive: dropped unless
    /// the layer's `include_sensitive_data(true)`. JSON text is parsed.
    Input,
    /// The output: messages of a generation, result of a function. Sensitive, like
    /// [`Slot::Input`].
    Output,
    /// The tools of an agent: a JSON array (of names, or of definitions with a `name`) or a
    /// comma-separated list.
    Tools,
    /// One model setting of a generation (`temperature`, `max_tokens`, …) under this key.
    ModelConfig(Text),
    /// One entry of a custom span's data under this key.
    Attribute(Text),
    /// The kind of error, when the span failed: makes the value the span's error message.
    ErrorType,
    /// An outcome: `error`, `failure` or `failed` marks the span failed (when no
    /// [`Slot::ErrorType`] says more); any other value leaves it as it is.
    Outcome,
    /// Not recorded.
    Ignore,
}

impl Slot {
    /// Whether the slot carries content (prompts, messages, arguments, results), recorded only
    /// with `include_sensitive_data(true)`.
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Slot::Input | Slot::Output)
    }
}

/// One mapping: which `tracing` spans it applies to, the kind of span they become and where
/// their fields go.
///
/// A rule matches a span when every condition it has holds: the span's name, a prefix of its
/// target, a field with one of the given values (as the span was created: match on fields
/// given at creation, not on fields recorded later).
///
/// ```
/// use agent_trace::SpanKind;
/// use agent_trace_tracing::{Rule, Slot};
///
/// // langchain-rust's model calls: `llm.generate` spans with provider, model and token usage.
/// let rule = Rule::named("llm.generate")
///     .kind(SpanKind::Generation)
///     .field("model", Slot::Model)
///     .field("prompt_tokens", Slot::InputTokens)
///     .field("completion_tokens", Slot::OutputTokens);
/// assert_eq!(rule.span_kind(), SpanKind::Generation);
/// ```
#[derive(Debug, Clone)]
pub struct Rule {
    pub(crate) name: Option<Text>,
    pub(crate) target_prefix: Option<Text>,
    pub(crate) field: Option<(Text, Vec<Text>)>,
    pub(crate) kind: SpanKind,
    pub(crate) fields: Vec<(Text, Slot)>,
    pub(crate) keep_other_fields: bool,
    pub(crate) starts_trace: bool,
}

impl Rule {
    fn empty() -> Rule {
        Rule {
            name: None,
            target_prefix: None,
            field: None,
            kind: SpanKind::Custom,
            fields: Vec::new(),
            keep_other_fields: false,
            starts_trace: true,
        }
    }

    /// A rule for spans with this name.
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::named("tool.call");
    /// # drop(rule);
    /// ```
    pub fn named(name: impl Into<Text>) -> Rule {
        Rule {
            name: Some(name.into()),
            ..Rule::empty()
        }
    }

    /// A rule for spans whose target starts with `prefix` (`"rig"` matches `rig::completions`
    /// and `rig_agent::agent::telemetry`).
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::target("langchain_rust");
    /// # drop(rule);
    /// ```
    pub fn target(prefix: impl Into<Text>) -> Rule {
        Rule {
            target_prefix: Some(prefix.into()),
            ..Rule::empty()
        }
    }

    /// A rule for spans created with `field` set to one of `values` (any value if `values` is
    /// empty).
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::when_field("gen_ai.operation.name", ["chat"]);
    /// # drop(rule);
    /// ```
    pub fn when_field<I, V>(field: impl Into<Text>, values: I) -> Rule
    where
        I: IntoIterator<Item = V>,
        V: Into<Text>,
    {
        Rule::empty().and_field(field, values)
    }

    /// Adds a span-name condition.
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::target("rig").and_name("chat");
    /// # drop(rule);
    /// ```
    pub fn and_name(mut self, name: impl Into<Text>) -> Rule {
        self.name = Some(name.into());
        self
    }

    /// Adds a target-prefix condition.
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::named("chat").and_target("rig");
    /// # drop(rule);
    /// ```
    pub fn and_target(mut self, prefix: impl Into<Text>) -> Rule {
        self.target_prefix = Some(prefix.into());
        self
    }

    /// Adds a field condition (replacing an earlier one): the field is set, to one of `values`
    /// unless `values` is empty.
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::named("run").and_field("kind", ["agent"]);
    /// # drop(rule);
    /// ```
    pub fn and_field<I, V>(mut self, field: impl Into<Text>, values: I) -> Rule
    where
        I: IntoIterator<Item = V>,
        V: Into<Text>,
    {
        self.field = Some((field.into(), values.into_iter().map(Into::into).collect()));
        self
    }

    /// The kind of span matched spans become (custom if not set).
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::named("agent.run").kind(agent_trace::SpanKind::Agent);
    /// # drop(rule);
    /// ```
    pub fn kind(mut self, kind: SpanKind) -> Rule {
        self.kind = kind;
        self
    }

    /// Where the value of `field` goes. A field no rule names is dropped on typed spans and
    /// kept as data on custom spans that [`keep_other_fields`](Rule::keep_other_fields).
    ///
    /// ```
    /// use agent_trace_tracing::{Rule, Slot};
    /// let rule = Rule::named("tool.call").field("tool_name", Slot::Name);
    /// # drop(rule);
    /// ```
    pub fn field(mut self, field: impl Into<Text>, slot: Slot) -> Rule {
        self.fields.push((field.into(), slot));
        self
    }

    /// Keeps the fields no slot names as the data of a custom span (not sensitive ones, see
    /// [`Rules::sensitive_field`], unless sensitive data is on).
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::named("embeddings").keep_other_fields(true);
    /// # drop(rule);
    /// ```
    pub fn keep_other_fields(mut self, on: bool) -> Rule {
        self.keep_other_fields = on;
        self
    }

    /// Whether a matched span with no agent-trace trace current starts a trace when the
    /// layer's [`root_traces`](crate::AgentTraceLayerBuilder::root_traces) switch is on
    /// (default `true`).
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::named("db.query").starts_trace(false);
    /// # drop(rule);
    /// ```
    pub fn starts_trace(mut self, on: bool) -> Rule {
        self.starts_trace = on;
        self
    }

    /// The kind of span this rule makes.
    ///
    /// ```
    /// let rule = agent_trace_tracing::Rule::named("x");
    /// assert_eq!(rule.span_kind(), agent_trace::SpanKind::Custom);
    /// ```
    pub fn span_kind(&self) -> SpanKind {
        self.kind
    }

    /// The slot of `field` in this rule.
    pub(crate) fn slot_of(&self, field: &str) -> Option<&Slot> {
        self.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, slot)| slot)
    }

    /// Whether the rule's name and target conditions hold (the field condition is checked on
    /// the values).
    pub(crate) fn matches_callsite(&self, name: &str, target: &str) -> bool {
        self.name.as_deref().is_none_or(|n| n == name)
            && self
                .target_prefix
                .as_deref()
                .is_none_or(|p| target.starts_with(p))
    }
}

/// The field GenAI spans are told apart by.
pub const OPERATION_NAME: &str = "gen_ai.operation.name";

/// An ordered list of [`Rule`]s (the first match wins) and the names of the fields that carry
/// content, kept out of custom spans' data unless sensitive data is on.
///
/// [`Rules::genai`] is the default set: the OpenTelemetry GenAI conventions, as rig emits
/// them. Put your own rules ahead of it with [`Rules::rule`] on a set you start from
/// [`Rules::new`] and [`Rules::extend`] with the defaults, or simply with
/// [`AgentTraceLayerBuilder::rule`](crate::AgentTraceLayerBuilder::rule).
///
/// ```
/// use agent_trace_tracing::{Rule, Rules};
/// let rules = Rules::new()
///     .rule(Rule::named("agent.run").kind(agent_trace::SpanKind::Agent))
///     .extend(Rules::genai());
/// assert_eq!(rules.len(), 1 + Rules::genai().len());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub(crate) rules: Vec<Rule>,
    pub(crate) sensitive: Vec<Text>,
}

impl Rules {
    /// No rules: every span becomes a custom span with its fields as data.
    ///
    /// ```
    /// assert!(agent_trace_tracing::Rules::new().is_empty());
    /// ```
    pub fn new() -> Rules {
        Rules::default()
    }

    /// Appends a rule (after the ones already there).
    ///
    /// ```
    /// let rules = agent_trace_tracing::Rules::new().rule(agent_trace_tracing::Rule::named("x"));
    /// assert_eq!(rules.len(), 1);
    /// ```
    pub fn rule(mut self, rule: Rule) -> Rules {
        self.rules.push(rule);
        self
    }

    /// Appends the rules and sensitive field names of `other`.
    ///
    /// ```
    /// let rules = agent_trace_tracing::Rules::new().extend(agent_trace_tracing::Rules::genai());
    /// assert!(!rules.is_empty());
    /// ```
    pub fn extend(mut self, other: Rules) -> Rules {
        self.rules.extend(other.rules);
        for s in other.sensitive {
            if !self.sensitive.contains(&s) {
                self.sensitive.push(s);
            }
        }
        self
    }

    /// Names a field that carries content: never copied into a custom span's data unless
    /// sensitive data is on.
    ///
    /// ```
    /// let rules = agent_trace_tracing::Rules::new().sensitive_field("prompt");
    /// # drop(rules);
    /// ```
    pub fn sensitive_field(mut self, field: impl Into<Text>) -> Rules {
        self.sensitive.push(field.into());
        self
    }

    /// How many rules there are.
    ///
    /// ```
    /// assert_eq!(agent_trace_tracing::Rules::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    ///
    /// ```
    /// assert!(!agent_trace_tracing::Rules::genai().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub(crate) fn is_sensitive_field(&self, field: &str) -> bool {
        self.sensitive.iter().any(|s| s == field)
    }

    /// The OpenTelemetry GenAI conventions (the default rule set), matched on
    /// `gen_ai.operation.name`; see the table in the [crate docs](crate).
    ///
    /// ```
    /// let rules = agent_trace_tracing::Rules::genai();
    /// assert_eq!(rules.len(), 4);
    /// ```
    pub fn genai() -> Rules {
        let agent = Rule::when_field(OPERATION_NAME, ["invoke_agent", "create_agent"])
            .kind(SpanKind::Agent)
            .field("gen_ai.agent.name", Slot::Name)
            .field("gen_ai.tool.definitions", Slot::Tools)
            .field("error.type", Slot::ErrorType);
        let generation = Rule::when_field(
            OPERATION_NAME,
            ["chat", "text_completion", "generate_content"],
        )
        .kind(SpanKind::Generation)
        .field("gen_ai.request.model", Slot::Model)
        .field("gen_ai.response.model", Slot::Model)
        .field("gen_ai.usage.input_tokens", Slot::InputTokens)
        .field("gen_ai.usage.output_tokens", Slot::OutputTokens)
        .field(
            "gen_ai.usage.cache_read.input_tokens",
            Slot::CachedInputTokens,
        )
        .field("gen_ai.usage.reasoning_tokens", Slot::ReasoningTokens)
        .field("gen_ai.input.messages", Slot::Input)
        .field("gen_ai.output.messages", Slot::Output)
        .field(
            "gen_ai.request.temperature",
            Slot::ModelConfig("temperature".into()),
        )
        .field("gen_ai.request.top_p", Slot::ModelConfig("top_p".into()))
        .field(
            "gen_ai.request.max_tokens",
            Slot::ModelConfig("max_tokens".into()),
        )
        .field("gen_ai.request.seed", Slot::ModelConfig("seed".into()))
        .field("error.type", Slot::ErrorType);
        let function = Rule::when_field(OPERATION_NAME, ["execute_tool"])
            .kind(SpanKind::Function)
            .field("gen_ai.tool.name", Slot::Name)
            .field("gen_ai.tool.call.arguments", Slot::Input)
            .field("gen_ai.tool.call.result", Slot::Output)
            .field("gen_ai.tool.call.outcome", Slot::Outcome)
            .field("gen_ai.tool.error.type", Slot::ErrorType)
            .field("error.type", Slot::ErrorType);
        let embeddings = Rule::when_field(OPERATION_NAME, ["embeddings"])
            .kind(SpanKind::Custom)
            .keep_other_fields(true);
        let mut rules = Rules::new()
            .rule(agent)
            .rule(generation)
            .rule(function)
            .rule(embeddings);
        for field in [
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.system_instructions",
            "gen_ai.prompt",
            "gen_ai.completion",
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
        ] {
            rules = rules.sensitive_field(field);
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callsite_conditions_all_hold() {
        let rule = Rule::named("chat").and_target("rig");
        assert!(rule.matches_callsite("chat", "rig::completions"));
        assert!(!rule.matches_callsite("chat", "my_app"));
        assert!(!rule.matches_callsite("embeddings", "rig::completions"));
        assert!(Rule::when_field("f", ["v"]).matches_callsite("any", "any"));
    }

    #[test]
    fn genai_rules_name_their_content_fields_sensitive() {
        let rules = Rules::genai();
        assert!(rules.is_sensitive_field("gen_ai.input.messages"));
        assert!(!rules.is_sensitive_field("gen_ai.request.model"));
        let gen = &rules.rules[1];
        assert_eq!(
            gen.slot_of("gen_ai.usage.input_tokens"),
            Some(&Slot::InputTokens)
        );
        assert!(gen.slot_of("gen_ai.input.messages").unwrap().is_sensitive());
    }
}
