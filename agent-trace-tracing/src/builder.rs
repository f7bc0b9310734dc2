//! [`AgentTraceLayerBuilder`]: the rules, the sensitive-data and root switches of an
//! [`AgentTraceLayer`].

use agent_trace::TracerProvider;
use tracing_core::Level;

use crate::apply::{ConditionFields, Policy};
use crate::rules::{Rule, Rules};
use crate::AgentTraceLayer;

/// Builds an [`AgentTraceLayer`]; see [`AgentTraceLayer::builder`].
#[derive(Debug)]
pub struct AgentTraceLayerBuilder {
    own: Rules,
    defaults: Option<Rules>,
    sensitive: bool,
    root_traces: bool,
    provider: Option<TracerProvider>,
    event_level: Level,
}

impl AgentTraceLayerBuilder {
    /// The defaults: the GenAI rules, sensitive data and the root switch off.
    pub(crate) fn new() -> AgentTraceLayerBuilder {
        AgentTraceLayerBuilder {
            own: Rules::new(),
            defaults: Some(Rules::genai()),
            sensitive: false,
            root_traces: false,
            provider: None,
            event_level: Level::INFO,
        }
    }

    /// Adds a rule, tried before the default GenAI rules (and after rules added earlier).
    ///
    /// ```
    /// use agent_trace_tracing::{AgentTraceLayer, Rule, Slot};
    /// let layer = AgentTraceLayer::builder()
    ///     .rule(Rule::named("tool.call").kind(agent_trace::SpanKind::Function).field("tool", Slot::Name))
    ///     .build();
    /// # drop(layer);
    /// ```
    pub fn rule(mut self, rule: Rule) -> Self {
        self.own = self.own.rule(rule);
        self
    }

    /// Replaces the whole rule set, the GenAI defaults included (add them back with
    /// `Rules::new().rule(..).extend(Rules::genai())`).
    ///
    /// ```
    /// let layer = agent_trace_tracing::AgentTraceLayer::builder()
    ///     .rules(agent_trace_tracing::Rules::new())
    ///     .build();
    /// # drop(layer);
    /// ```
    pub fn rules(mut self, rules: Rules) -> Self {
        self.own = rules;
        self.defaults = None;
        self
    }

    /// Whether content (messages, prompts, tool arguments and results, the text of error
    /// events) is copied into spans (default `false`). Off, content slots are dropped,
    /// sensitive fields are kept out of custom spans' data and event text never reaches a span.
    /// Both switches must be on for content to be recorded: this one, and the provider's
    /// [`include_sensitive_data`](agent_trace::TracerProviderBuilder::include_sensitive_data)
    /// (also off by default, and overridden by `AGENT_TRACE_INCLUDE_SENSITIVE_DATA`).
    ///
    /// ```
    /// let layer = agent_trace_tracing::AgentTraceLayer::builder().include_sensitive_data(true).build();
    /// # drop(layer);
    /// ```
    pub fn include_sensitive_data(mut self, on: bool) -> Self {
        self.sensitive = on;
        self
    }

    /// Whether a `tracing` span matched by a rule that [`starts_trace`](Rule::starts_trace)
    /// (the GenAI rules do) starts a new trace when no agent-trace trace is current (default
    /// `false`): with it, code using rig alone is traced by adding the layer and a provider.
    /// Off, `tracing` spans outside a trace cost one check per callback.
    ///
    /// ```
    /// let layer = agent_trace_tracing::AgentTraceLayer::builder().root_traces(true).build();
    /// # drop(layer);
    /// ```
    pub fn root_traces(mut self, on: bool) -> Self {
        self.root_traces = on;
        self
    }

    /// The provider root traces start on (default: the global provider at the time).
    ///
    /// ```
    /// let provider = agent_trace::TracerProvider::builder().build();
    /// let layer = agent_trace_tracing::AgentTraceLayer::builder().provider(&provider).build();
    /// # drop(layer);
    /// ```
    pub fn provider(mut self, provider: &TracerProvider) -> Self {
        self.provider = Some(provider.clone());
        self
    }

    /// The most verbose level of events that are counted on their span (default `INFO`);
    /// `ERROR` events always mark their span failed.
    ///
    /// ```
    /// let layer = agent_trace_tracing::AgentTraceLayer::builder().event_level(tracing::Level::DEBUG).build();
    /// # drop(layer);
    /// ```
    pub fn event_level(mut self, level: Level) -> Self {
        self.event_level = level;
        self
    }

    /// The layer.
    ///
    /// ```
    /// let layer = agent_trace_tracing::AgentTraceLayer::builder().build();
    /// # drop(layer);
    /// ```
    pub fn build(self) -> AgentTraceLayer {
        let rules = match self.defaults {
            Some(defaults) => self.own.extend(defaults),
            None => self.own,
        };
        AgentTraceLayer {
            conditions: ConditionFields::new(&rules),
            rules,
            policy: Policy {
                sensitive: self.sensitive,
            },
            root_traces: self.root_traces,
            provider: self.provider,
            event_level: self.event_level,
            callsites: crate::callsites::Callsites::new(),
        }
    }
}
