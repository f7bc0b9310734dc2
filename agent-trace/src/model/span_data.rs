//! Typed span data: one variant per kind of work, serialized as `span_data` with a `type` tag
//! in the OpenAI Agents SDK's shape (the README lists the few differences).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A name (of a workflow, agent, tool, model…): usually `&'static` (names from `#[traced]`),
/// and then it costs no allocation; an owned `String` when built at run time.
pub type Name = Cow<'static, str>;

/// A list of names (an agent's tools or hand-off targets), usually a static slice.
pub type NameList = Cow<'static, [Name]>;

/// The kind of a span, without its data. `#[traced(kind = "...")]` takes these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpanKind {
    /// An agent run: `agent`.
    Agent,
    /// A tool or function call: `function`.
    Function,
    /// A model generation: `generation`.
    Generation,
    /// A Responses API response: `response`.
    Response,
    /// A hand-off between agents: `handoff`.
    Handoff,
    /// Anything else: `custom`.
    Custom,
    /// A guardrail check: `guardrail`.
    Guardrail,
    /// Speech to text: `transcription`.
    Transcription,
    /// Text to speech: `speech`.
    Speech,
    /// A group of speech spans: `speech_group`.
    SpeechGroup,
    /// Listing an MCP server's tools: `mcp_tools`.
    McpTools,
}

impl SpanKind {
    /// Every kind, in declaration order.
    pub const ALL: [SpanKind; 11] = [
        SpanKind::Agent,
        SpanKind::Function,
        SpanKind::Generation,
        SpanKind::Response,
        SpanKind::Handoff,
        SpanKind::Custom,
        SpanKind::Guardrail,
        SpanKind::Transcription,
        SpanKind::Speech,
        SpanKind::SpeechGroup,
        SpanKind::McpTools,
    ];

    /// The `span_data.type` string.
    ///
    /// ```
    /// assert_eq!(agent_trace::SpanKind::McpTools.as_str(), "mcp_tools");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            SpanKind::Agent => "agent",
            SpanKind::Function => "function",
            SpanKind::Generation => "generation",
            SpanKind::Response => "response",
            SpanKind::Handoff => "handoff",
            SpanKind::Custom => "custom",
            SpanKind::Guardrail => "guardrail",
            SpanKind::Transcription => "transcription",
            SpanKind::Speech => "speech",
            SpanKind::SpeechGroup => "speech_group",
            SpanKind::McpTools => "mcp_tools",
        }
    }
}

/// Token usage of a model call.
///
/// Unknown keys read from a file (such as `input_tokens_details`) are kept in `details`
/// and written back unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Number of requests made (0 = not recorded).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub requests: u64,
    /// Prompt tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// Completion tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Total tokens (0 = not recorded; see [`Usage::total`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total_tokens: u64,
    /// Provider-specific details, e.g. `{"input_tokens_details": {"cached_tokens": 3}}`.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Usage {
    /// Usage with the given input and output tokens.
    ///
    /// ```
    /// let u = agent_trace::Usage::tokens(12, 5);
    /// assert_eq!(u.total(), 17);
    /// ```
    pub fn tokens(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens,
            output_tokens,
            ..Usage::default()
        }
    }

    /// `total_tokens` if recorded, else input + output.
    ///
    /// ```
    /// let mut u = agent_trace::Usage::tokens(1, 2);
    /// assert_eq!(u.total(), 3);
    /// u.total_tokens = 20;
    /// assert_eq!(u.total(), 20);
    /// ```
    pub fn total(&self) -> u64 {
        if self.total_tokens != 0 {
            self.total_tokens
        } else {
            self.input_tokens.saturating_add(self.output_tokens)
        }
    }

    /// Adds another usage to this one (counts add up; details of `other` win).
    ///
    /// ```
    /// let mut u = agent_trace::Usage::tokens(1, 2);
    /// u.add(&agent_trace::Usage::tokens(3, 4));
    /// assert_eq!((u.input_tokens, u.output_tokens), (4, 6));
    /// ```
    pub fn add(&mut self, other: &Usage) {
        self.requests = self.requests.saturating_add(other.requests);
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        for (k, v) in &other.details {
            self.details.insert(k.clone(), v.clone());
        }
    }
}

/// Data of an agent span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentSpanData {
    /// The agent's name.
    pub name: Name,
    /// Agents this one may hand off to.
    #[serde(default)]
    pub handoffs: Option<NameList>,
    /// Tools this agent may call.
    #[serde(default)]
    pub tools: Option<NameList>,
    /// The agent's output type, as text.
    #[serde(default)]
    pub output_type: Option<Name>,
}

/// Data of a function (tool call) span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionSpanData {
    /// The function's name.
    pub name: Name,
    /// Its arguments, as JSON text.
    #[serde(default)]
    pub input: Option<String>,
    /// Its result, as text (JSON text for structured values).
    #[serde(default)]
    pub output: Option<String>,
    /// MCP call details when the tool came from an MCP server (boxed: rare, and it keeps
    /// function spans small enough to stay unboxed).
    #[serde(default)]
    pub mcp_data: Option<Box<Value>>,
}

/// Data of a model generation span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GenerationSpanData {
    /// The input messages.
    #[serde(default)]
    pub input: Option<Value>,
    /// The output messages.
    #[serde(default)]
    pub output: Option<Value>,
    /// The model name.
    #[serde(default)]
    pub model: Option<Name>,
    /// Model settings (temperature, …).
    #[serde(default)]
    pub model_config: Option<Map<String, Value>>,
    /// Token usage.
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// Data of a Responses API span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseSpanData {
    /// The response id.
    #[serde(default)]
    pub response_id: Option<String>,
    /// Token usage.
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// Data of a hand-off span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HandoffSpanData {
    /// The agent handing off.
    #[serde(default)]
    pub from_agent: Option<Name>,
    /// The agent receiving control.
    #[serde(default)]
    pub to_agent: Option<Name>,
}

/// Data of a custom span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomSpanData {
    /// The span's name.
    pub name: Name,
    /// Free-form data.
    #[serde(default)]
    pub data: Map<String, Value>,
}

/// Data of a guardrail span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GuardrailSpanData {
    /// The guardrail's name.
    pub name: Name,
    /// Whether the guardrail tripped.
    #[serde(default)]
    pub triggered: bool,
}

/// Data of a speech-to-text span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptionSpanData {
    /// The audio input (`{"data": …, "format": …}`).
    #[serde(default)]
    pub input: Option<Value>,
    /// The transcribed text.
    #[serde(default)]
    pub output: Option<String>,
    /// The model name.
    #[serde(default)]
    pub model: Option<Name>,
    /// Model settings.
    #[serde(default)]
    pub model_config: Option<Map<String, Value>>,
}

/// Data of a text-to-speech span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpeechSpanData {
    /// The text spoken.
    #[serde(default)]
    pub input: Option<String>,
    /// The audio output (`{"data": …, "format": …}`).
    #[serde(default)]
    pub output: Option<Value>,
    /// The model name.
    #[serde(default)]
    pub model: Option<Name>,
    /// Model settings.
    #[serde(default)]
    pub model_config: Option<Map<String, Value>>,
    /// When the first audio arrived (ISO-8601).
    #[serde(default)]
    pub first_content_at: Option<String>,
}

/// Data of a span grouping speech spans.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpeechGroupSpanData {
    /// The text input.
    #[serde(default)]
    pub input: Option<String>,
}

/// Data of an MCP list-tools span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpListToolsSpanData {
    /// The MCP server.
    #[serde(default)]
    pub server: Option<Name>,
    /// The tool names it returned.
    #[serde(default)]
    pub result: Option<Vec<String>>,
}

/// What a span did, by kind. Serialized with a `type` tag (`{"type": "function", ...}`).
///
/// Large, rarer variants are boxed so that a span record stays small on the hot path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SpanData {
    /// An agent run.
    Agent(Box<AgentSpanData>),
    /// A tool or function call (the default kind of `#[traced]`: unboxed, so starting one
    /// allocates nothing).
    Function(FunctionSpanData),
    /// A model generation.
    Generation(Box<GenerationSpanData>),
    /// A Responses API response.
    Response(Box<ResponseSpanData>),
    /// A hand-off between agents.
    Handoff(HandoffSpanData),
    /// Anything else.
    Custom(CustomSpanData),
    /// A guardrail check.
    Guardrail(GuardrailSpanData),
    /// Speech to text.
    Transcription(Box<TranscriptionSpanData>),
    /// Text to speech.
    Speech(Box<SpeechSpanData>),
    /// A group of speech spans.
    SpeechGroup(Box<SpeechGroupSpanData>),
    /// Listing an MCP server's tools.
    #[serde(rename = "mcp_tools")]
    McpTools(Box<McpListToolsSpanData>),
}

impl SpanData {
    /// The kind of this data.
    ///
    /// ```
    /// use agent_trace::{SpanData, SpanKind};
    /// assert_eq!(SpanData::custom("x").kind(), SpanKind::Custom);
    /// ```
    pub fn kind(&self) -> SpanKind {
        match self {
            SpanData::Agent(_) => SpanKind::Agent,
            SpanData::Function(_) => SpanKind::Function,
            SpanData::Generation(_) => SpanKind::Generation,
            SpanData::Response(_) => SpanKind::Response,
            SpanData::Handoff(_) => SpanKind::Handoff,
            SpanData::Custom(_) => SpanKind::Custom,
            SpanData::Guardrail(_) => SpanKind::Guardrail,
            SpanData::Transcription(_) => SpanKind::Transcription,
            SpanData::Speech(_) => SpanKind::Speech,
            SpanData::SpeechGroup(_) => SpanKind::SpeechGroup,
            SpanData::McpTools(_) => SpanKind::McpTools,
        }
    }

    /// Empty data of the given kind.
    ///
    /// ```
    /// use agent_trace::{SpanData, SpanKind};
    /// assert_eq!(SpanData::empty(SpanKind::Guardrail).kind(), SpanKind::Guardrail);
    /// ```
    pub fn empty(kind: SpanKind) -> Self {
        match kind {
            SpanKind::Agent => SpanData::Agent(Box::default()),
            SpanKind::Function => SpanData::Function(FunctionSpanData::default()),
            SpanKind::Generation => SpanData::Generation(super::recycle::generation_box()),
            SpanKind::Response => SpanData::Response(Box::default()),
            SpanKind::Handoff => SpanData::Handoff(HandoffSpanData::default()),
            SpanKind::Custom => SpanData::Custom(CustomSpanData::default()),
            SpanKind::Guardrail => SpanData::Guardrail(GuardrailSpanData::default()),
            SpanKind::Transcription => SpanData::Transcription(Box::default()),
            SpanKind::Speech => SpanData::Speech(Box::default()),
            SpanKind::SpeechGroup => SpanData::SpeechGroup(Box::default()),
            SpanKind::McpTools => SpanData::McpTools(Box::default()),
        }
    }

    /// Custom data with a name and no fields.
    ///
    /// ```
    /// assert_eq!(agent_trace::SpanData::custom("fetch-docs").name(), Some("fetch-docs"));
    /// ```
    pub fn custom(name: impl Into<Name>) -> Self {
        SpanData::Custom(CustomSpanData {
            name: name.into(),
            data: Map::new(),
        })
    }

    /// The name shown for this span: the agent, function, guardrail or custom name, the model
    /// of a generation, the target of a hand-off, the MCP server. `None` when there is none.
    ///
    /// ```
    /// use agent_trace::span_data::{GenerationSpanData, SpanData};
    /// let mut data = GenerationSpanData::default();
    /// data.model = Some("gpt-4o".into());
    /// assert_eq!(SpanData::Generation(Box::new(data)).name(), Some("gpt-4o"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        match self {
            SpanData::Agent(d) => Some(&d.name),
            SpanData::Function(d) => Some(&d.name),
            SpanData::Custom(d) => Some(&d.name),
            SpanData::Guardrail(d) => Some(&d.name),
            SpanData::Generation(d) => d.model.as_deref(),
            SpanData::Transcription(d) => d.model.as_deref(),
            SpanData::Speech(d) => d.model.as_deref(),
            SpanData::Handoff(d) => d.to_agent.as_deref(),
            SpanData::McpTools(d) => d.server.as_deref(),
            SpanData::Response(d) => d.response_id.as_deref(),
            SpanData::SpeechGroup(_) => None,
        }
    }

    /// Token usage, for generation and response spans that recorded it.
    ///
    /// ```
    /// assert!(agent_trace::SpanData::custom("x").usage().is_none());
    /// ```
    pub fn usage(&self) -> Option<&Usage> {
        match self {
            SpanData::Generation(d) => d.usage.as_ref(),
            SpanData::Response(d) => d.usage.as_ref(),
            _ => None,
        }
    }
}
