//! Helpers that inspect or rewrite types of the instrumented signature.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{GenericArgument, PathArguments, ReturnType, Type, TypeParamBound};

/// Strips any number of surrounding parentheses / invisible groups.
fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => peel(&p.elem),
        Type::Group(g) => peel(&g.elem),
        other => other,
    }
}

/// `()` (also for an omitted return type).
pub(crate) fn is_unit(ty: &Type) -> bool {
    matches!(peel(ty), Type::Tuple(t) if t.elems.is_empty())
}

/// The return type, or `None` for `-> ()` / no return type.
pub(crate) fn non_unit_return(output: &ReturnType) -> Option<&Type> {
    match output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) if is_unit(ty) => None,
        ReturnType::Type(_, ty) => Some(ty),
    }
}

/// The generic arguments of the last path segment named `name`, if `ty` is such a path.
fn last_segment_args<'a>(
    ty: &'a Type,
    name: &str,
) -> Option<&'a syn::punctuated::Punctuated<GenericArgument, syn::Token![,]>> {
    let Type::Path(path) = peel(ty) else {
        return None;
    };
    let seg = path.path.segments.last()?;
    if seg.ident != name {
        return None;
    }
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => Some(&a.args),
        _ => None,
    }
}

fn first_type_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    last_segment_args(ty, name)?.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `T` for `Result<T, E>` (any path ending in `Result`, e.g. `io::Result<T>`).
pub(crate) fn result_ok_type(ty: &Type) -> Option<&Type> {
    first_type_arg(ty, "Result")
}

/// `T` from a `Future<Output = T>` bound in the list.
fn future_output_in_bounds<'a>(
    bounds: impl IntoIterator<Item = &'a TypeParamBound>,
) -> Option<&'a Type> {
    bounds.into_iter().find_map(|b| {
        let TypeParamBound::Trait(t) = b else {
            return None;
        };
        let seg = t.path.segments.last()?;
        if seg.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &seg.arguments else {
            return None;
        };
        args.args.iter().find_map(|a| match a {
            GenericArgument::AssocType(at) if at.ident == "Output" => Some(&at.ty),
            _ => None,
        })
    })
}

/// `T` for `impl Future<Output = T> + ...`.
pub(crate) fn impl_future_output(ty: &Type) -> Option<&Type> {
    match peel(ty) {
        Type::ImplTrait(it) => future_output_in_bounds(&it.bounds),
        _ => None,
    }
}

/// `T` for `Pin<Box<dyn Future<Output = T> + ...>>` (the shape `#[async_trait]` emits).
pub(crate) fn boxed_future_output(ty: &Type) -> Option<&Type> {
    let boxed = first_type_arg(ty, "Pin")?;
    let inner = first_type_arg(boxed, "Box")?;
    match peel(inner) {
        Type::TraitObject(obj) => future_output_in_bounds(&obj.bounds),
        _ => None,
    }
}

/// `T` for a boxed-future alias such as `futures::future::BoxFuture<'a, T>` or
/// `LocalBoxFuture<'a, T>` (any path whose last segment ends in `Future`; its
/// last type argument is taken as the output).
pub(crate) fn future_alias_output(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = peel(ty) else {
        return None;
    };
    let seg = path.path.segments.last()?;
    if !seg.ident.to_string().ends_with("Future") {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().rev().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Replaces every `impl Trait` with `_`, so the type can annotate a `let`.
pub(crate) fn replace_impl_trait_with_infer(ty: &mut Type) {
    struct Replace;
    impl VisitMut for Replace {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(it) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](syn::spanned::Spanned::span(&it.impl_token)),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    Replace.visit_type_mut(ty);
}

/// Renders a type compactly, e.g. `Vec<String>`, `&'a str`, `Option<(u8, u8)>`.
pub(crate) fn tidy_type(ty: &Type) -> String {
    let mut out = String::new();
    render(ty.to_token_stream(), &mut out);
    out
}

fn push_word(out: &mut String, word: &str) {
    let glue = out
        .chars()
        .last()
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    let starts = word
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    if glue && starts {
        out.push(' ');
    }
    out.push_str(word);
}

fn render(tokens: TokenStream, out: &mut String) {
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Ident(i) => push_word(out, &i.to_string()),
            TokenTree::Literal(l) => push_word(out, &l.to_string()),
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                render(g.stream(), out);
                out.push_str(close);
            }
            TokenTree::Punct(p) => {
                let c = p.as_char();
                let joint_next = p.spacing() == Spacing::Joint
                    && matches!(iter.peek(), Some(TokenTree::Punct(_)));
                match c {
                    ',' | ';' => out.push_str(&format!("{c} ")),
                    '+' | '=' => out.push_str(&format!(" {c} ")),
                    '-' if joint_next => {
                        out.push_str(" -");
                    }
                    '>' if out.ends_with(" -") => out.push_str("> "),
                    _ => out.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tidy(s: &str) -> String {
        tidy_type(&syn::parse_str(s).unwrap())
    }

    #[test]
    fn tidy_forms() {
        assert_eq!(tidy("Vec < String >"), "Vec<String>");
        assert_eq!(tidy("&'a str"), "&'a str");
        assert_eq!(
            tidy("std::collections::HashMap<String, u8>"),
            "std::collections::HashMap<String, u8>"
        );
        assert_eq!(
            tidy("Box<dyn Fn(u8) -> u8 + Send>"),
            "Box<dyn Fn(u8) -> u8 + Send>"
        );
        assert_eq!(tidy("(u8, [u8; 4])"), "(u8, [u8; 4])");
    }

    #[test]
    fn detects_shapes() {
        let t: Type = syn::parse_str("io::Result<Vec<u8>>").unwrap();
        assert_eq!(tidy_type(result_ok_type(&t).unwrap()), "Vec<u8>");
        let t: Type = syn::parse_str("impl Future<Output = u8> + Send").unwrap();
        assert_eq!(tidy_type(impl_future_output(&t).unwrap()), "u8");
        let t: Type = syn::parse_str(
            "::core::pin::Pin<Box<dyn ::core::future::Future<Output = String> + ::core::marker::Send + 'async_trait>>",
        )
        .unwrap();
        assert_eq!(tidy_type(boxed_future_output(&t).unwrap()), "String");
        let t: Type = syn::parse_str("BoxFuture<'a, Result<u8, E>>").unwrap();
        assert_eq!(tidy_type(future_alias_output(&t).unwrap()), "Result<u8, E>");
        let mut t: Type = syn::parse_str("Result<impl Debug, E>").unwrap();
        replace_impl_trait_with_infer(&mut t);
        assert_eq!(tidy_type(&t), "Result<_, E>");
    }
}
