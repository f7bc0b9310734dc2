//! Detection of functions already rewritten by `#[async_trait]`.
//!
//! `#[async_trait]` (0.1.x) turns
//!
//! ```text
//! async fn f(&self, x: u8) -> T { body }
//! ```
//!
//! into
//!
//! ```text
//! fn f<'life0, 'async_trait>(&'life0 self, x: u8)
//!     -> Pin<Box<dyn Future<Output = T> + Send + 'async_trait>>
//! where Self: 'async_trait, 'life0: 'async_trait
//! {
//!     Box::pin(async move {
//!         if let Some(__ret) = None::<T> { return __ret; }
//!         let __self = self;
//!         let x = x;
//!         let __ret: T = { body /* with `self` replaced by `__self` */ };
//!         __ret
//!     })
//! }
//! ```
//!
//! Because `#[async_trait]` sits on the surrounding `impl`/`trait`, it always
//! runs before `#[traced]` on one of its methods, so `#[traced]` only ever sees
//! the rewritten form. We recognise it by its return type
//! (`Pin<Box<dyn Future<Output = T> ..>>`) and its final statement
//! (`Box::pin(async move { .. })`), and instrument the inner async block.
//! The same detection also covers hand-written functions of that shape,
//! including ones returning a boxed-future alias such as `BoxFuture<'a, T>`.

use syn::{Block, Expr, ExprAsync, ExprCall, ItemFn, Stmt, Type};

use crate::types::{boxed_future_output, future_alias_output};

/// A function in `#[async_trait]` form.
pub(crate) struct AsyncTraitFn<'a> {
    /// `T` of `Future<Output = T>`.
    pub(crate) output: &'a Type,
}

/// `Box::pin(async move { .. })` as the last statement of `block`?
fn boxed_async_call(block: &Block) -> Option<(&ExprCall, &ExprAsync)> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segs: Vec<_> = func.path.segments.iter().map(|s| &s.ident).collect();
    let [.., boxed, pin] = segs.as_slice() else {
        return None;
    };
    if *boxed != "Box" || *pin != "pin" || call.args.len() != 1 {
        return None;
    }
    match call.args.first() {
        Some(Expr::Async(fut)) if fut.capture.is_some() => Some((call, fut)),
        _ => None,
    }
}

/// Recognises the `#[async_trait]` shape (see the module docs).
pub(crate) fn detect(item: &ItemFn) -> Option<AsyncTraitFn<'_>> {
    if item.sig.asyncness.is_some() {
        return None;
    }
    let syn::ReturnType::Type(_, ret) = &item.sig.output else {
        return None;
    };
    let output = boxed_future_output(ret).or_else(|| future_alias_output(ret))?;
    boxed_async_call(&item.block)?;
    Some(AsyncTraitFn { output })
}

/// Splits the block into the statements before the final
/// `Box::pin(async move { .. })`, the `Box::pin` path and the async block.
pub(crate) fn split(block: &Block) -> Option<(&[Stmt], &Expr, &ExprAsync)> {
    let (call, fut) = boxed_async_call(block)?;
    let before = &block.stmts[..block.stmts.len() - 1];
    Some((before, &call.func, fut))
}

/// Whether `name` is a positional argument invented by `#[async_trait]` for a
/// pattern argument (`__arg0`, `__arg1`, ...); those are not captured.
pub(crate) fn is_positional_arg(name: &str) -> bool {
    name.strip_prefix("__arg")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}
