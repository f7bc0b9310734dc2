//! Plain `fn`: `return`, `?`, references, `unsafe`, `extern`, attributes kept.
use agent_trace::traced;

/// Doc comments are kept.
#[traced]
#[inline]
#[must_use]
pub fn add(a: i32, b: i32) -> i32 {
    if a == 0 {
        return b;
    }
    a + b
}

#[traced]
fn parse(text: &str) -> Result<i32, std::num::ParseIntError> {
    let n: i32 = text.trim().parse()?;
    Ok(n * 2)
}

#[traced]
fn first_word(text: &str) -> &str {
    text.split(' ').next().unwrap_or("")
}

#[traced]
fn unit(v: &mut Vec<u8>) {
    v.push(1);
}

#[traced]
unsafe fn read(p: *const u8) -> u8 {
    *p
}

#[traced]
extern "C" fn c_abi(x: u32) -> u32 {
    x + 1
}

#[traced(kind = "custom")]
fn impl_return(n: u8) -> impl std::fmt::Display {
    n
}

#[traced]
fn inner_attr() -> u8 {
    #![allow(unused_variables)]
    let unused = 1;
    2
}

#[traced]
fn boxed_error(text: &str) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    let n: u8 = text.parse()?;
    if n == 0 {
        Err("zero")?;
    }
    Ok(n)
}

#[traced]
fn conditional_arg(#[cfg(any())] hidden: u8, shown: u8) -> u8 {
    shown
}

#[traced]
fn r#type(r#in: u8) -> u8 {
    r#in
}

#[traced]
#[allow(dead_code)]
fn never_returns(code: i32) -> ! {
    std::process::exit(code)
}

#[traced]
fn panics(x: u8) -> u8 {
    panic!("never {x}")
}

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    assert!(std::panic::catch_unwind(|| panics(1)).is_err());
    let _ = std::panic::take_hook();
    assert_eq!(boxed_error("3").unwrap(), 3);
    assert!(boxed_error("0").is_err());
    assert_eq!(conditional_arg(1), 1);
    assert_eq!(r#type(1), 1);
    let _ = add(1, 2);
    assert_eq!(parse("21").unwrap(), 42);
    assert!(parse("x").is_err());
    assert_eq!(first_word("hello world"), "hello");
    let mut v = Vec::new();
    unit(&mut v);
    let x = 5u8;
    assert_eq!(unsafe { read(&x) }, 5);
    assert_eq!(c_abi(1), 2);
    assert_eq!(impl_return(3).to_string(), "3");
    assert_eq!(inner_attr(), 2);
}
