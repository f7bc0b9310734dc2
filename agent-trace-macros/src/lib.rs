//! The `#[traced]` attribute of [agent-trace].
//!
//! Use it through the core crate, as [`agent_trace::traced`]: its documentation lists the
//! options and the supported function shapes. This crate is an implementation detail, and its
//! generated code only works together with the `agent_trace` version it was released with.
//!
//! [agent-trace]: https://github.com/agent-trace/agent-trace
//! [`agent_trace::traced`]: https://docs.rs/agent-trace/latest/agent_trace/attr.traced.html

#![forbid(unsafe_code)]
// The crate-root lint set of tokio-rs/tracing.
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub,
    bad_style,
    dead_code,
    improper_ctypes,
    non_shorthand_field_patterns,
    no_mangle_generic_items,
    overflowing_literals,
    path_statements,
    patterns_in_fns_without_body,
    private_interfaces,
    private_bounds,
    unconditional_recursion,
    unused_allocation,
    unused_comparisons,
    unused_parens,
    while_true
)]

mod args;
mod async_trait;
mod expand;
mod types;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use quote::quote;

// The documentation is on the re-export, `agent_trace::traced`
// (agent-trace/src/docs/traced.md); rustdoc appends this line to it there.
/// Defined in the `agent-trace-macros` crate; use it as `agent_trace::traced`.
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
