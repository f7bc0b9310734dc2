//! Generic functions, with and without bounds, plus where clauses and lifetimes.
use agent_trace::traced;
use std::fmt::Debug;

#[traced]
fn debug_only<T: Debug>(value: T) -> T {
    value
}

#[traced]
fn no_bounds<T>(value: T, n: usize) -> Vec<T>
where
    T: Clone,
{
    vec![value; n]
}

#[traced]
fn fully_generic<T, U>(t: T, _u: U) -> T {
    t
}

#[traced]
async fn async_generic<T: Send>(value: T) -> Option<T> {
    Some(value)
}

#[traced]
fn with_lifetimes<'a, 'b: 'a>(a: &'a str, _b: &'b str) -> &'a str {
    a
}

#[traced]
fn const_generic<const N: usize>(arr: [u8; N]) -> usize {
    arr.len()
}

fn main() {
    assert_eq!(debug_only(3), 3);
    assert_eq!(no_bounds("x", 2).len(), 2);
    struct Opaque;
    let _ = fully_generic(Opaque, Opaque);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(rt.block_on(async_generic(Opaque)).is_some());
    assert_eq!(with_lifetimes("a", "b"), "a");
    assert_eq!(const_generic([1, 2, 3]), 3);
}
