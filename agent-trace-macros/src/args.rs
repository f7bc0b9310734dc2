//! Parsing and validation of the `#[traced(...)]` option list.
//!
//! Parsing is done by hand (rather than through `syn::Meta`) so that every
//! error can point at the exact offending token, and so that several
//! independent mistakes are reported in one compilation.

use proc_macro2::TokenTree;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{bracketed, parenthesized, Ident, LitBool, LitStr, Path, Token};

/// The span kinds accepted by `kind = "..."`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Agent,
    Function,
    Generation,
    Response,
    Handoff,
    Custom,
    Guardrail,
    Transcription,
    Speech,
    SpeechGroup,
    McpTools,
}

impl Kind {
    /// Every kind with its attribute spelling and `SpanKind` variant name.
    const ALL: [(&'static str, &'static str, Kind); 11] = [
        ("agent", "Agent", Kind::Agent),
        ("function", "Function", Kind::Function),
        ("generation", "Generation", Kind::Generation),
        ("response", "Response", Kind::Response),
        ("handoff", "Handoff", Kind::Handoff),
        ("custom", "Custom", Kind::Custom),
        ("guardrail", "Guardrail", Kind::Guardrail),
        ("transcription", "Transcription", Kind::Transcription),
        ("speech", "Speech", Kind::Speech),
        ("speech_group", "SpeechGroup", Kind::SpeechGroup),
        ("mcp_tools", "McpTools", Kind::McpTools),
    ];

    fn parse_str(s: &str) -> Option<Kind> {
        Self::ALL.iter().find(|(n, _, _)| *n == s).map(|e| e.2)
    }

    /// The attribute spelling, e.g. `"speech_group"`.
    pub(crate) fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|e| e.2 == self)
            .map(|e| e.0)
            .unwrap_or("function")
    }

    /// The `SpanKind` variant name, e.g. `"SpeechGroup"`.
    pub(crate) fn variant(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|e| e.2 == self)
            .map(|e| e.1)
            .unwrap_or("Function")
    }

    /// Whether `model = "..."` is meaningful for this kind.
    fn allows_model(self) -> bool {
        matches!(self, Kind::Generation | Kind::Transcription | Kind::Speech)
    }

    fn valid_list() -> String {
        Self::ALL
            .iter()
            .map(|e| format!("\"{}\"", e.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const OPTIONS: &str =
    "`kind`, `name`, `skip(..)`, `skip_all`, `input`, `output`, `err`, `model`, `tools`, `handoffs`, `crate`";

/// A boolean switch such as `input`, `output = false`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flag {
    pub(crate) value: bool,
}

/// Validated `#[traced(...)]` options.
pub(crate) struct TracedArgs {
    pub(crate) kind: Kind,
    pub(crate) name: Option<LitStr>,
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_all: bool,
    pub(crate) input: Option<Flag>,
    pub(crate) output: Option<Flag>,
    pub(crate) err: Option<Flag>,
    pub(crate) model: Option<LitStr>,
    pub(crate) tools: Vec<LitStr>,
    pub(crate) handoffs: Vec<LitStr>,
    pub(crate) krate: Option<Path>,
}

impl TracedArgs {
    /// Capture arguments as span input?
    pub(crate) fn capture_input(&self) -> bool {
        !self.skip_all
            && self
                .input
                .map_or(self.kind == Kind::Function, |flag| flag.value)
    }

    /// Capture the return value as span output?
    pub(crate) fn capture_output(&self) -> bool {
        self.output
            .map_or(self.kind == Kind::Function, |flag| flag.value)
    }

    /// Record an `Err` return as the span error?
    pub(crate) fn capture_err(&self) -> bool {
        self.err.is_none_or(|flag| flag.value)
    }
}

/// Collects errors so that several mistakes are reported at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
}

/// Consumes tokens up to (not including) the next top-level comma.
fn skip_to_comma(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// Error at the next token (or at the end of the attribute).
fn error_at_next(input: ParseStream<'_>, msg: &str) -> syn::Error {
    match input.fork().parse::<TokenTree>() {
        Ok(tt) => syn::Error::new(tt.span(), msg),
        Err(_) => input.error(msg),
    }
}

fn parse_eq(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            key.span(),
            format!("`{key}` expects a value: write `{example}`"),
        ))
    }
}

fn parse_lit_str(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<LitStr> {
    parse_eq(input, key, example)?;
    if input.peek(LitStr) {
        input.parse()
    } else {
        Err(error_at_next(
            input,
            &format!("expected a string literal: write `{example}`"),
        ))
    }
}

fn parse_flag(input: ParseStream<'_>, key: &Ident) -> syn::Result<Flag> {
    if !input.peek(Token![=]) {
        if input.peek(syn::token::Paren) || input.peek(syn::token::Bracket) {
            return Err(error_at_next(
                input,
                &format!("`{key}` is a switch: write `{key}`, `{key} = true` or `{key} = false`"),
            ));
        }
        return Ok(Flag { value: true });
    }
    input.parse::<Token![=]>()?;
    if input.peek(LitBool) {
        let b: LitBool = input.parse()?;
        Ok(Flag { value: b.value })
    } else {
        Err(error_at_next(
            input,
            &format!("expected `true` or `false`: write `{key} = true` or `{key} = false`"),
        ))
    }
}

fn parse_str_list(input: ParseStream<'_>, key: &Ident) -> syn::Result<Vec<LitStr>> {
    let example = format!("{key} = [\"a\", \"b\"]");
    parse_eq(input, key, &example)?;
    if !input.peek(syn::token::Bracket) {
        return Err(error_at_next(
            input,
            &format!("expected a list of string literals: write `{example}`"),
        ));
    }
    let content;
    bracketed!(content in input);
    let mut out = Vec::new();
    while !content.is_empty() {
        if !content.peek(LitStr) {
            return Err(error_at_next(
                &content,
                &format!("expected a string literal: write `{example}`"),
            ));
        }
        out.push(content.parse()?);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(out)
}

fn parse_skip_list(input: ParseStream<'_>, key: &Ident) -> syn::Result<Vec<Ident>> {
    if !input.peek(syn::token::Paren) {
        return Err(error_at_next(
            input,
            &format!("expected a parenthesised list of argument names: write `{key}(arg1, arg2)`"),
        ));
    }
    let content;
    parenthesized!(content in input);
    let mut out = Vec::new();
    while !content.is_empty() {
        if !content.peek(Ident::peek_any) {
            return Err(error_at_next(
                &content,
                &format!("expected an argument name: write `{key}(arg1, arg2)`"),
            ));
        }
        out.push(content.call(Ident::parse_any)?);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(out)
}

/// Raw options, before cross-option validation.
#[derive(Default)]
struct Raw {
    kind: Option<(Kind, LitStr)>,
    name: Option<LitStr>,
    skip: Option<(Ident, Vec<Ident>)>,
    skip_all: Option<Ident>,
    input: Option<(Ident, Flag)>,
    output: Option<(Ident, Flag)>,
    err: Option<(Ident, Flag)>,
    model: Option<(Ident, LitStr)>,
    tools: Option<(Ident, Vec<LitStr>)>,
    handoffs: Option<(Ident, Vec<LitStr>)>,
    krate: Option<Path>,
}

fn set_once<T>(slot: &mut Option<T>, key: &Ident, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate option `{key}`: remove one of them"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

impl Raw {
    fn parse_one(&mut self, input: ParseStream<'_>, key: &Ident) -> syn::Result<()> {
        match key.to_string().as_str() {
            "kind" => {
                let lit = parse_lit_str(input, key, "kind = \"agent\"")?;
                let kind = Kind::parse_str(&lit.value()).ok_or_else(|| {
                    syn::Error::new(
                        lit.span(),
                        format!(
                            "unknown span kind \"{}\": expected one of {}",
                            lit.value(),
                            Kind::valid_list()
                        ),
                    )
                })?;
                set_once(&mut self.kind, key, (kind, lit))
            }
            "name" => {
                let lit = parse_lit_str(input, key, "name = \"my_span\"")?;
                set_once(&mut self.name, key, lit)
            }
            "model" => {
                let lit = parse_lit_str(input, key, "model = \"gpt-4o-mini\"")?;
                set_once(&mut self.model, key, (key.clone(), lit))
            }
            "skip" => {
                let list = parse_skip_list(input, key)?;
                set_once(&mut self.skip, key, (key.clone(), list))
            }
            "skip_all" => {
                if !input.is_empty() && !input.peek(Token![,]) {
                    return Err(error_at_next(
                        input,
                        "`skip_all` takes no value: write `skip_all`",
                    ));
                }
                set_once(&mut self.skip_all, key, key.clone())
            }
            "input" => {
                let flag = parse_flag(input, key)?;
                set_once(&mut self.input, key, (key.clone(), flag))
            }
            "output" => {
                let flag = parse_flag(input, key)?;
                set_once(&mut self.output, key, (key.clone(), flag))
            }
            "err" => {
                let flag = parse_flag(input, key)?;
                set_once(&mut self.err, key, (key.clone(), flag))
            }
            "tools" => {
                let list = parse_str_list(input, key)?;
                set_once(&mut self.tools, key, (key.clone(), list))
            }
            "handoffs" => {
                let list = parse_str_list(input, key)?;
                set_once(&mut self.handoffs, key, (key.clone(), list))
            }
            "crate" => {
                parse_eq(input, key, "crate = my_crate::agent_trace")?;
                if !(input.peek(Ident::peek_any) || input.peek(Token![::])) {
                    return Err(error_at_next(
                        input,
                        "expected a path: write `crate = my_crate::agent_trace`",
                    ));
                }
                let path = Path::parse_mod_style(input)?;
                set_once(&mut self.krate, key, path)
            }
            other => Err(syn::Error::new(
                key.span(),
                format!("unknown option `{other}`: expected one of {OPTIONS}"),
            )),
        }
    }

    fn validate(self, errors: &mut Errors) -> TracedArgs {
        let kind = self.kind.as_ref().map_or(Kind::Function, |k| k.0);
        let kind_desc = format!("kind = \"{}\"", kind.as_str());
        if let (Some(_), Some((key, _))) = (&self.skip_all, &self.skip) {
            errors.push(syn::Error::new(
                key.span(),
                "`skip(..)` and `skip_all` cannot be combined: keep only one",
            ));
        }
        if let (Some(_), Some((key, flag))) = (&self.skip_all, &self.input) {
            if flag.value {
                errors.push(syn::Error::new(
                    key.span(),
                    "`input` conflicts with `skip_all`: remove one of them",
                ));
            }
        }
        if let Some((key, _)) = &self.model {
            if !kind.allows_model() {
                errors.push(syn::Error::new(
                    key.span(),
                    format!(
                        "`model` is only allowed for kind \"generation\", \"transcription\" or \"speech\" (this span has {kind_desc}): remove it or change the kind"
                    ),
                ));
            }
        }
        for (key, _) in [&self.tools, &self.handoffs].into_iter().flatten() {
            if kind != Kind::Agent {
                errors.push(syn::Error::new(
                    key.span(),
                    format!(
                        "`{key}` is only allowed for kind \"agent\" (this span has {kind_desc}): remove it or use `kind = \"agent\"`"
                    ),
                ));
            }
        }
        TracedArgs {
            kind,
            name: self.name,
            skip: self.skip.map(|s| s.1).unwrap_or_default(),
            skip_all: self.skip_all.is_some(),
            input: self.input.map(|f| f.1),
            output: self.output.map(|f| f.1),
            err: self.err.map(|f| f.1),
            model: self.model.map(|m| m.1),
            tools: self.tools.map(|t| t.1).unwrap_or_default(),
            handoffs: self.handoffs.map(|t| t.1).unwrap_or_default(),
            krate: self.krate,
        }
    }
}

impl Parse for TracedArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut raw = Raw::default();
        let mut errors = Errors::default();
        while !input.is_empty() {
            if !input.peek(Ident::peek_any) {
                errors.push(error_at_next(
                    input,
                    &format!("expected an option name: one of {OPTIONS}"),
                ));
                skip_to_comma(input)?;
            } else {
                let key = input.call(Ident::parse_any)?;
                if let Err(e) = raw.parse_one(input, &key) {
                    errors.push(e);
                    skip_to_comma(input)?;
                } else if !input.is_empty() && !input.peek(Token![,]) {
                    errors.push(error_at_next(input, "expected `,` between options"));
                    skip_to_comma(input)?;
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        let args = raw.validate(&mut errors);
        match errors.0 {
            Some(e) => Err(e),
            None => Ok(args),
        }
    }
}
