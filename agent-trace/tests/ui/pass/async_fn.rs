//! `async fn`: free functions, `return`, `?`, unit return, patterns and `mut` args.
use agent_trace::traced;

#[derive(Debug)]
struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

#[traced]
async fn lookup_invoice(customer: &str, invoice_id: u64) -> Result<String, MyError> {
    if invoice_id == 0 {
        return Err(MyError);
    }
    Ok(format!("{customer}-{invoice_id}"))
}

#[traced]
async fn question_mark(id: u64) -> Result<usize, MyError> {
    let s = lookup_invoice("acme", id).await?;
    Ok(s.len())
}

#[traced]
async fn unit_return(mut counter: u32) {
    counter += 1;
    if counter > 10 {
        return;
    }
    let _ = counter;
}

#[traced]
async fn patterns((a, b): (u8, u8), _: u8, mut c: String) -> String {
    c.push_str(&format!("{a}{b}"));
    c
}

#[traced]
async fn borrows<'a>(text: &'a str, _n: &mut Vec<u8>) -> &'a str {
    &text[1..]
}

#[traced]
pub(crate) async fn impl_trait_arg(x: impl std::fmt::Debug + Send) -> impl std::fmt::Debug {
    x
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(lookup_invoice("acme", 7).await.unwrap(), "acme-7");
        assert!(question_mark(0).await.is_err());
        assert_eq!(question_mark(7).await.unwrap(), 6);
        unit_return(3).await;
        assert_eq!(patterns((1, 2), 3, "x".into()).await, "x12");
        assert_eq!(borrows("abc", &mut Vec::new()).await, "bc");
        let _ = impl_trait_arg(1).await;
    });
}
