//! The `#[traced]` attribute of [agent-trace].
//!
//! Use it through the core crate, as `agent_trace::traced`; this crate is an
//! implementation detail and its generated code only works together with the
//! `agent_trace` version it was released with.
//!
//! [agent-trace]: https://github.com/agent-trace/agent-trace
//!
//! # What it does
//!
//! `#[traced]` wraps a function so that each call opens a span of the chosen
//! kind, makes it the current span while the body runs (across `.await`
//! points for async code), records the arguments and the return value, and
//! ends the span when the call returns:
//!
//! ```ignore
//! use agent_trace::traced;
//!
//! #[traced] // a "function" span named `lookup_invoice`, input and output captured
//! async fn lookup_invoice(customer: &str, invoice_id: u64) -> Result<Invoice, DbError> {
//!     db::fetch(customer, invoice_id).await
//! }
//!
//! #[traced(kind = "agent", name = "Support agent", tools = ["lookup_invoice"], handoffs = ["billing"])]
//! async fn support_agent(question: String) -> Result<Answer, AgentError> {
//!     let invoice = lookup_invoice("acme", 42).await?; // child span of "Support agent"
//!     answer(question, invoice).await
//! }
//!
//! #[traced(kind = "generation", model = "gpt-4o-mini", input, output)]
//! fn complete(prompt: &str) -> String { llm::complete(prompt) }
//! ```
//!
//! When no trace is active (or tracing is disabled) the span is a cheap no-op
//! and no argument is serialised.
//!
//! # Options
//!
//! `#[traced(kind = "...", option, ...)]`; every option is optional and may
//! appear at most once.
//!
//! | option | meaning | default |
//! |---|---|---|
//! | `kind = "..."` | span kind: `"agent"`, `"function"`, `"generation"`, `"response"`, `"handoff"`, `"custom"`, `"guardrail"`, `"transcription"`, `"speech"`, `"speech_group"`, `"mcp_tools"` | `"function"` |
//! | `name = "..."` | span name | the function's name |
//! | `skip(a, b)` | do not capture these arguments | |
//! | `skip_all` | capture no argument | |
//! | `input`, `input = bool` | capture arguments as the span input | on for `"function"`, off otherwise |
//! | `output`, `output = bool` | capture the return value as the span output (the `Ok` value of a `Result`) | on for `"function"`, off otherwise |
//! | `err`, `err = bool` | record an `Err(e)` return as the span error (message from `Display`) | on |
//! | `model = "..."` | model name; kinds `"generation"`, `"transcription"`, `"speech"` only | |
//! | `tools = ["..."]` | tools the agent may call; kind `"agent"` only | |
//! | `handoffs = ["..."]` | agents it may hand off to; kind `"agent"` only | |
//! | `crate = path` | path of the `agent_trace` crate in generated code, for re-exports | `::agent_trace` |
//!
//! Mistakes (unknown kinds or options, duplicated options, `skip` naming an
//! argument that does not exist, `model` on a kind without a model, ...) are
//! compile errors pointing at the offending token.
//!
//! # Captured values
//!
//! Only arguments bound to a plain identifier (`x: T`, `mut x: T`) are
//! captured; `self` and destructuring patterns are not. Each value is recorded
//! as JSON through `serde::Serialize` when the type implements it, otherwise
//! as its `Debug` text, otherwise as a marker naming the type — so any
//! argument type is accepted, no bound is required on generic parameters
//! (but a generic `T` only gets the richer forms when the bound is visible,
//! e.g. `T: Debug`). Arguments are captured by reference before the body runs.
//!
//! # Supported functions
//!
//! * `async fn` — free functions, inherent and trait methods (including
//!   native `async fn` in traits and default trait methods). The span starts
//!   when the future is first polled. If the future is dropped before it
//!   completes, the span ends with the error `"cancelled"`.
//! * plain `fn` — the body runs inside a closure; `return` and `?` keep
//!   their meaning.
//! * `fn ... -> impl Future<Output = T>` — the span starts when the function
//!   is called and ends when the returned future completes. The whole body
//!   runs with the span current, including the code that runs before the
//!   future is returned (spans started there are its children; a panic there
//!   ends the span with the panic message), and so does every poll of the
//!   returned future.
//! * methods inside an `#[async_trait]` `impl` or `trait` (put `#[traced]` on
//!   the method, `#[async_trait]` on the block), and any function whose body
//!   ends in `Box::pin(async move { .. })` and which returns
//!   `Pin<Box<dyn Future<Output = T> ..>>` or an alias like `BoxFuture<'_, T>`.
//!   The span starts when the function is called and covers the boxed
//!   future.
//!
//! A panic in the body is recorded as the span error and then resumed.
//! `const fn` and declarations without a body are rejected.
//!
//! # Re-exporting
//!
//! Crates that re-export `agent_trace` under another path tell the macro where
//! to find it:
//!
//! ```ignore
//! #[my_framework::traced(crate = my_framework::agent_trace)]
//! async fn step() {}
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod async_trait;
mod expand;
mod types;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use quote::quote;

/// Instruments a function with an agent-trace span.
///
/// See the [crate documentation](crate) for the options and the supported
/// function shapes.
///
/// ```ignore
/// #[agent_trace::traced(kind = "agent", tools = ["search"])]
/// async fn researcher(topic: String) -> Result<Report, Error> { /* ... */ }
/// ```
#[proc_macro_attribute]
pub fn traced(attr: TokenStream, item: TokenStream) -> TokenStream {
    let original = proc_macro2::TokenStream::from(item.clone());
    let args = syn::parse::<args::TracedArgs>(attr);
    let func = parse_fn(item);
    let result = match (args, func) {
        (Ok(args), Ok(func)) => expand::expand(&args, &func),
        (Err(mut e), Err(e2)) => {
            e.combine(e2);
            Err(e)
        }
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
    };
    match result {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let errors = e.to_compile_error();
            quote!(#errors #original).into()
        }
    }
}

/// Parses the annotated item as a function with a body.
fn parse_fn(item: TokenStream) -> syn::Result<syn::ItemFn> {
    if let Ok(func) = syn::parse::<syn::ItemFn>(item.clone()) {
        return Ok(func);
    }
    if let Ok(decl) = syn::parse::<syn::TraitItemFn>(item.clone()) {
        if decl.default.is_none() {
            return Err(syn::Error::new_spanned(
                &decl.sig,
                "`#[traced]` needs a function body: put it on the implementations of this method instead",
            ));
        }
    }
    let item2 = proc_macro2::TokenStream::from(item);
    let span_of = match syn::parse2::<syn::Item>(item2.clone()) {
        Ok(parsed) => quote!(#parsed),
        Err(_) => item2,
    };
    Err(syn::Error::new_spanned(
        span_of,
        "`#[traced]` can only be applied to functions",
    ))
}
