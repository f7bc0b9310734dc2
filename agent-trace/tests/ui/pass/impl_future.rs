//! `fn f() -> impl Future<Output = T>`.
use agent_trace::traced;
use std::future::Future;

#[traced]
fn fetch(id: u32) -> impl Future<Output = Result<u32, String>> {
    async move {
        if id == 0 {
            return Err("zero".to_owned());
        }
        Ok(id * 2)
    }
}

#[traced(kind = "custom", name = "borrowing")]
fn borrowing<'a>(text: &'a str) -> impl Future<Output = usize> + Send + 'a {
    async move { text.len() }
}

#[traced]
fn early_return(flag: bool) -> impl Future<Output = u8> {
    if flag {
        return std::future::ready(1);
    }
    std::future::ready(2)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(fetch(2).await, Ok(4));
        assert!(fetch(0).await.is_err());
        assert_eq!(borrowing("abc").await, 3);
        assert_eq!(early_return(true).await, 1);
    });
}
