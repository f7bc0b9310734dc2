//! Code generation for `#[traced]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{AttrStyle, Block, FnArg, Ident, ItemFn, LitStr, Pat, Type};

use crate::args::{Kind, TracedArgs};
use crate::async_trait;
use crate::types::{
    impl_future_output, non_unit_return, replace_impl_trait_with_infer, result_ok_type, tidy_type,
};

/// How the instrumented function produces its value.
enum Shape {
    /// `async fn`.
    Async,
    /// A function rewritten by `#[async_trait]` (or a hand-written `Box::pin(async move { .. })`).
    AsyncTrait,
    /// `fn f() -> impl Future<Output = T>`.
    ImplFuture,
    /// Any other `fn`.
    Sync,
}

/// Identifiers private to the generated code (invisible to the user's body).
fn private_ident(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// A captured argument: its name as written and the binding identifier.
struct Captured {
    name: String,
    ident: Ident,
}

/// Arguments of the signature: (every named argument, capturable arguments).
fn collect_args(item: &ItemFn, async_trait_form: bool) -> (Vec<String>, Vec<Captured>) {
    let mut names = Vec::new();
    let mut captured = Vec::new();
    for arg in &item.sig.inputs {
        match arg {
            FnArg::Receiver(_) => names.push("self".to_owned()),
            FnArg::Typed(pat_ty) => {
                let Pat::Ident(pat) = &*pat_ty.pat else {
                    continue;
                };
                if pat.subpat.is_some() {
                    continue;
                }
                let name = pat.ident.unraw().to_string();
                names.push(name.clone());
                if async_trait_form && async_trait::is_positional_arg(&name) {
                    continue;
                }
                // `self` is never captured; arguments under `#[cfg(..)]` may not exist.
                let conditional = pat_ty
                    .attrs
                    .iter()
                    .any(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"));
                if name == "self" || conditional {
                    continue;
                }
                captured.push(Captured {
                    name,
                    ident: pat.ident.clone(),
                });
            }
        }
    }
    (names, captured)
}

/// Checks that every `skip(..)` entry names an argument.
fn check_skip(args: &TracedArgs, item: &ItemFn, names: &[String]) -> syn::Result<()> {
    let mut error: Option<syn::Error> = None;
    for skipped in &args.skip {
        let skipped_name = skipped.unraw().to_string();
        if skipped_name == "self" || names.contains(&skipped_name) {
            continue;
        }
        let listed = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let have = if listed.is_empty() {
            "it has no arguments".to_owned()
        } else {
            format!("its arguments are {listed}")
        };
        let e = syn::Error::new(
            skipped.span(),
            format!(
                "`skip` names `{skipped_name}`, which is not an argument of `{}` ({have}): remove it from `skip(..)`",
                item.sig.ident.unraw()
            ),
        );
        match &mut error {
            Some(all) => all.combine(e),
            None => error = Some(e),
        }
    }
    error.map_or(Ok(()), Err)
}

/// `Option<&'static str>` literal tokens.
fn opt_str(value: Option<String>, span: Span) -> TokenStream {
    match value {
        Some(v) => {
            let lit = LitStr::new(&v, span);
            quote!(::core::option::Option::Some(#lit))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// The user's block, preceded by a "fake return edge": an unreachable
/// `return` of the declared type, so that the return type of the closure /
/// async block is fixed before its body is checked. `?` then converts errors
/// correctly, and a mismatching `return` or tail is reported inside the body
/// rather than at the macro. The body's statements are spliced in unchanged
/// (no extra `let`), so lints and temporaries behave as in the original.
fn guarded_body(block: &Block, ret: Option<&Type>, diverges: bool) -> TokenStream {
    if diverges {
        return quote!(#block);
    }
    let mut ty = match ret {
        Some(ty) => ty.clone(),
        None => syn::parse_quote!(()),
    };
    replace_impl_trait_with_infer(&mut ty);
    // Located at the return type so "return type inferred to be `T` here"
    // points at the signature.
    let fake = Ident::new("__at_fake_return", Span::mixed_site().located_at(ty.span()));
    let stmts = &block.stmts;
    let edge = quote_spanned! {ty.span()=>
        #[allow(unreachable_code)]
        if let ::core::option::Option::Some(#fake) = ::core::option::Option::None::<#ty> {
            return #fake;
        }
    };
    quote! {{
        #edge
        #(#stmts)*
    }}
}

/// Generates the instrumented function.
pub(crate) fn expand(args: &TracedArgs, item: &ItemFn) -> syn::Result<TokenStream> {
    if let Some(constness) = &item.sig.constness {
        return Err(syn::Error::new(
            constness.span(),
            "`#[traced]` cannot be applied to a `const fn` (spans are created at run time): remove `const` or `#[traced]`",
        ));
    }
    let declared = non_unit_return(&item.sig.output);
    // `-> !`: nothing to capture, and `!` cannot appear in `None::<!>` on stable.
    let diverges = matches!(declared, Some(Type::Never(_)));
    let declared = declared.filter(|_| !diverges);
    let async_trait_form = async_trait::detect(item);
    let (shape, ret): (Shape, Option<&Type>) = if item.sig.asyncness.is_some() {
        (Shape::Async, declared)
    } else if let Some(at) = &async_trait_form {
        let out = Some(at.output).filter(|t| !crate::types::is_unit(t));
        (Shape::AsyncTrait, out)
    } else if let Some(out) = declared.and_then(impl_future_output) {
        (
            Shape::ImplFuture,
            Some(out).filter(|t| !crate::types::is_unit(t)),
        )
    } else {
        (Shape::Sync, declared)
    };

    let (names, captured) = collect_args(item, async_trait_form.is_some());
    check_skip(args, item, &names)?;

    let krate = match &args.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::agent_trace),
    };
    let private = quote!(#krate::__private);
    let span_ident = private_ident("__at_span");
    let ret_ident = private_ident("__at_ret");
    let err_ident = private_ident("__at_err");
    let out_ident = private_ident("__at_out");

    // start_span(..)
    let kind = format_ident!("{}", args.kind.variant());
    let fn_name = item.sig.ident.unraw().to_string();
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(&fn_name, item.sig.ident.span()));
    let model = opt_str(args.model.as_ref().map(LitStr::value), Span::call_site());
    let tools = &args.tools;
    let handoffs = &args.handoffs;
    let output_type = if args.kind == Kind::Agent {
        ret.map(|t| tidy_type(result_ok_type(t).unwrap_or(t)))
    } else {
        None
    };
    let output_type = opt_str(output_type, Span::call_site());

    // Input capture.
    let inputs: Vec<&Captured> = if args.capture_input() {
        captured
            .iter()
            .filter(|c| !args.skip.iter().any(|s| s.unraw() == c.name))
            .collect()
    } else {
        Vec::new()
    };
    let mutability =
        (!inputs.is_empty() || matches!(shape, Shape::ImplFuture)).then(|| quote!(mut));
    // The captured arguments recorded on `target` (a `&mut Span` expression).
    let set_input = |target: TokenStream| {
        let arg_names = inputs.iter().map(|c| LitStr::new(&c.name, c.ident.span()));
        let arg_idents = inputs.iter().map(|c| &c.ident);
        quote! {
            #private::set_input_args(#target, ::std::vec![
                #( (#arg_names, #private::capture!(&#arg_idents)) ),*
            ]);
        }
    };
    let input_stmt = if inputs.is_empty() {
        quote!()
    } else {
        let set = set_input(quote!(&mut #span_ident));
        quote! {
            #[allow(clippy::used_underscore_binding)]
            if #private::records_content(&#span_ident) {
                #set
            }
        }
    };
    // The closure captures nothing (literals only), so the data folds to one kind's.
    let start_call = quote! {
        #private::start_span(|| #private::span_data(
            #private::SpanKind::#kind,
            #name,
            #model,
            &[#(#tools),*],
            &[#(#handoffs),*],
            #output_type,
        ))
    };
    let start = quote! {
        let #mutability #span_ident = #start_call;
        #input_stmt
    };
    // In an `async fn`, the span is started and the arguments captured out of line: inlined,
    // their temporaries would take stack in the function's every poll, which in an async
    // recursion is paid once per level (in unoptimized builds, every temporary is).
    let start_fn = private_ident("__at_start_span");
    let input_async = if inputs.is_empty() {
        quote!()
    } else {
        let set = set_input(quote!(#span_ident));
        quote! {
            #[allow(clippy::used_underscore_binding)]
            #private::record_input(&mut #span_ident, |#span_ident| { #set });
        }
    };
    let start_async = quote! {
        #[inline(never)]
        fn #start_fn() -> #private::SpanState {
            #private::SpanState::from(#start_call)
        }
        let mut #span_ident = #start_fn();
        #input_async
    };

    // Return-value handling.
    let output_stmt = (args.capture_output() && ret.is_some()).then(|| {
        quote! {
            if #private::records_content(#span_ident) {
                if let ::core::option::Option::Some(#out_ident) = #private::capture_output!(#ret_ident) {
                    #private::set_output_value(#span_ident, #out_ident);
                }
            }
        }
    });
    let err_stmt = (args.capture_err() && ret.is_some()).then(|| {
        quote! {
            if let ::core::option::Option::Some(#err_ident) = #private::capture_error!(#ret_ident) {
                #private::set_error(#span_ident, #err_ident);
            }
        }
    });
    let on_return = if output_stmt.is_none() && err_stmt.is_none() {
        quote!(|_, _| {})
    } else {
        quote!(|#span_ident, #ret_ident| { #output_stmt #err_stmt })
    };

    let diverge = diverges.then(|| quote!(; ::core::unreachable!()));
    let body = match shape {
        Shape::Async => {
            let guarded = guarded_body(&item.block, ret, diverges);
            quote! {
                #start_async
                #private::traced_future_in(&mut #span_ident, async move #guarded, #on_return).await
                #diverge
            }
        }
        Shape::Sync => {
            let guarded = guarded_body(&item.block, ret, diverges);
            quote! {
                #start
                #private::traced_sync(#span_ident, move || #guarded, #on_return)
                #diverge
            }
        }
        Shape::ImplFuture => {
            let block = &item.block;
            let fut = private_ident("__at_future");
            quote! {
                #start
                // Code before the returned future runs inside the span as well.
                let #fut = #private::enter_scope(&mut #span_ident, move || #block);
                #private::traced_future(#span_ident, #fut, #on_return)
            }
        }
        Shape::AsyncTrait => {
            let (before, box_pin, fut) =
                async_trait::split(&item.block).expect("detected async_trait shape");
            quote! {
                #(#before)*
                #start
                #box_pin(#private::traced_future(#span_ident, #fut, #on_return))
            }
        }
    };

    let outer_attrs = item
        .attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Outer));
    let inner_attrs = item
        .attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Inner(_)));
    let vis = &item.vis;
    let sig = &item.sig;
    Ok(quote! {
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #body
        }
    })
}
