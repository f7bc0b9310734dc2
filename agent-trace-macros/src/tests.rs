//! Unit tests of the expansion (compile-level behaviour is covered by the
//! `agent-trace/tests/ui` and `agent-trace/tests/macro_expansion.rs`).

use quote::quote;

use crate::args::TracedArgs;

fn expand(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let args: TracedArgs = syn::parse2(attr).expect("valid args");
    let item: syn::ItemFn = syn::parse2(item).expect("valid fn");
    crate::expand::expand(&args, &item)
        .expect("expands")
        .to_string()
}

fn args_error(attr: proc_macro2::TokenStream) -> String {
    match syn::parse2::<TracedArgs>(attr) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn async_fn_uses_traced_future_and_captures_args() {
    let out = expand(
        quote!(),
        quote!(
            async fn f(a: u8, (b, c): (u8, u8), _: u8, mut d: String, self_: u8) -> u8 {
                a
            }
        ),
    );
    // The span lives in a local of the function, started and its arguments captured out of
    // line, and the wrapper gets a pointer to it (a small poll frame per level of a recursion).
    assert!(
        out.contains(":: agent_trace :: __private :: traced_future_in (& mut __at_span"),
        "{out}"
    );
    assert!(
        out.contains("__private :: SpanState :: from (:: agent_trace :: __private :: start_span ("),
        "{out}"
    );
    assert!(
        out.contains("__private :: record_input (& mut __at_span"),
        "{out}"
    );
    assert!(out.contains("SpanKind :: Function"), "{out}");
    assert!(
        out.contains("(\"a\" , :: agent_trace :: __private :: capture ! (& a))"),
        "{out}"
    );
    assert!(out.contains("(\"d\" ,"), "{out}");
    assert!(out.contains("(\"self_\" ,"), "{out}");
    assert!(!out.contains("(\"b\" ,"), "{out}");
    assert!(out.contains(". await"), "{out}");
    assert!(out.contains("capture_output !"), "{out}");
    assert!(out.contains("capture_error !"), "{out}");
}

#[test]
fn sync_fn_and_defaults_per_kind() {
    let out = expand(
        quote!(kind = "agent", tools = ["t"], handoffs = ["h"]),
        quote!(
            fn f(a: u8) -> Result<Vec<String>, E> {
                todo!()
            }
        ),
    );
    assert!(out.contains("traced_sync"), "{out}");
    assert!(out.contains("SpanKind :: Agent"), "{out}");
    assert!(out.contains("Some (\"Vec<String>\")"), "{out}");
    assert!(out.contains("& [\"t\"]"), "{out}");
    assert!(
        !out.contains("capture !"),
        "agent: input off by default: {out}"
    );
    assert!(
        !out.contains("capture_output"),
        "agent: output off by default: {out}"
    );
    assert!(out.contains("capture_error"), "err on by default: {out}");
}

#[test]
fn unit_return_has_no_output_handling() {
    let out = expand(
        quote!(err, output),
        quote!(
            fn f() {}
        ),
    );
    assert!(!out.contains("capture_output"), "{out}");
    assert!(!out.contains("capture_error"), "{out}");
    assert!(out.contains("| _ , _ | { }"), "{out}");
}

#[test]
fn crate_path_and_name() {
    let out = expand(
        quote!(
            crate = my::reexport,
            name = "custom name",
            skip_all,
            kind = "generation",
            model = "m"
        ),
        quote!(
            fn f(a: u8) -> u8 {
                a
            }
        ),
    );
    assert!(
        out.contains("my :: reexport :: __private :: start_span"),
        "{out}"
    );
    assert!(!out.contains(":: agent_trace"), "{out}");
    assert!(out.contains("\"custom name\""), "{out}");
    assert!(out.contains("Some (\"m\")"), "{out}");
    assert!(!out.contains("capture !"), "{out}");
}

#[test]
fn impl_future_return() {
    let out = expand(
        quote!(),
        quote!(
            fn f(a: u8) -> impl Future<Output = u8> + Send {
                async move { a }
            }
        ),
    );
    assert!(out.contains("traced_future ("), "{out}");
    assert!(!out.contains(". await"), "{out}");
    assert!(out.contains("capture_output"), "{out}");
}

#[test]
fn async_trait_shape_keeps_box_pin() {
    let out = expand(
        quote!(),
        quote!(
            fn f<'life0, 'async_trait>(
                &'life0 self,
                __arg1: (u8, u8),
                x: u8,
            ) -> ::core::pin::Pin<
                Box<dyn ::core::future::Future<Output = u8> + ::core::marker::Send + 'async_trait>,
            >
            where
                Self: 'async_trait,
                'life0: 'async_trait,
            {
                Box::pin(async move {
                    let __self = self;
                    let x = x;
                    x
                })
            }
        ),
    );
    let pin = out.find("Box :: pin (").expect("Box::pin kept");
    let start = out.find("start_span").expect("span started");
    assert!(start < pin, "span starts before Box::pin: {out}");
    assert!(out.contains("(\"x\" ,"), "{out}");
    assert!(!out.contains("\"__arg1\""), "{out}");
    assert!(!out.contains(". await"), "{out}");
}

#[test]
fn option_errors() {
    assert!(args_error(quote!(kind = "tool")).contains("unknown span kind \"tool\""));
    assert!(args_error(quote!(level = 1)).contains("unknown option `level`"));
    assert!(args_error(quote!(name = "a", name = "b")).contains("duplicate option `name`"));
    assert!(args_error(quote!(model = "m")).contains("`model` is only allowed"));
    assert!(args_error(quote!(kind = "custom", tools = [])).contains("`tools` is only allowed"));
    assert!(args_error(quote!(kind = agent)).contains("expected a string literal"));
    let many = args_error(quote!(input = 1, output = "x", crate = "p"));
    assert_eq!(many.lines().count(), 3, "{many}");
}

#[test]
fn skip_must_name_arguments() {
    let args: TracedArgs = syn::parse2(quote!(skip(a, nope, self))).unwrap();
    let item: syn::ItemFn = syn::parse2(quote!(
        fn f(&self, a: u8) {}
    ))
    .unwrap();
    let err = crate::expand::expand(&args, &item).unwrap_err().to_string();
    assert!(err.contains("`nope`"), "{err}");
}

#[test]
fn const_fn_is_rejected() {
    let args: TracedArgs = syn::parse2(quote!()).unwrap();
    let item: syn::ItemFn = syn::parse2(quote!(
        const fn f() {}
    ))
    .unwrap();
    let err = crate::expand::expand(&args, &item).unwrap_err().to_string();
    assert!(err.contains("const fn"), "{err}");
}
