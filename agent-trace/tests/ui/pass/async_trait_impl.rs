//! Methods of `#[async_trait]` traits and impls.
use agent_trace::traced;
use async_trait::async_trait;

#[async_trait]
trait Tool: Sync {
    async fn call(&self, input: String) -> Result<String, String>;

    #[traced(kind = "custom")]
    async fn describe(&self, verbose: bool) -> String {
        if verbose {
            return "a tool".to_owned();
        }
        String::new()
    }
}

struct Echo {
    prefix: String,
}

#[async_trait]
impl Tool for Echo {
    #[traced(name = "echo")]
    async fn call(&self, input: String) -> Result<String, String> {
        if input.is_empty() {
            return Err("empty".into());
        }
        let n: usize = input.len();
        Ok(format!("{}{input}{n}", self.prefix))
    }
}

struct Other;

#[async_trait]
impl Tool for Other {
    #[allow(unused_mut)]
    #[traced(skip(input))]
    async fn call(&self, mut input: String) -> Result<String, String> {
        input.push('!');
        Ok(input)
    }

    #[traced]
    #[allow(clippy::needless_return)]
    async fn describe(&self, _verbose: bool) -> String {
        return "other".to_owned();
    }
}

#[async_trait]
trait Mutating {
    async fn step(&mut self, (a, b): (u8, u8), _: u8) -> u8;
    async fn take(self) -> u8;
}

struct Counter(u8);

#[async_trait]
impl Mutating for Counter {
    #[traced]
    async fn step(&mut self, (a, b): (u8, u8), _: u8) -> u8 {
        self.0 += a + b;
        self.0
    }

    #[traced(kind = "agent", tools = ["t"])]
    async fn take(self) -> u8 {
        self.0
    }
}

#[async_trait(?Send)]
trait Local {
    async fn local(&self, n: std::rc::Rc<u8>) -> u8;
}

#[async_trait(?Send)]
impl Local for Counter {
    #[traced(kind = "custom")]
    async fn local(&self, n: std::rc::Rc<u8>) -> u8 {
        *n + self.0
    }
}

/// Hand-written boxed future (the shape `#[async_trait]` produces).
#[traced]
fn boxed(
    n: u64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, String>> + Send>> {
    Box::pin(async move {
        if n == 0 {
            return Err("zero".to_owned());
        }
        Ok(n)
    })
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Hand-written boxed future behind a type alias.
#[traced]
fn aliased(text: &str) -> BoxFuture<'_, usize> {
    Box::pin(async move { text.len() })
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let echo = Echo { prefix: ">".into() };
        assert_eq!(echo.call("hi".into()).await.unwrap(), ">hi2");
        assert!(echo.call(String::new()).await.is_err());
        assert_eq!(echo.describe(true).await, "a tool");
        let dynamic: Box<dyn Tool> = Box::new(Other);
        assert_eq!(dynamic.call("x".into()).await.unwrap(), "x!");
        assert_eq!(dynamic.describe(false).await, "other");
        let mut c = Counter(0);
        assert_eq!(c.step((1, 2), 0).await, 3);
        assert_eq!(c.local(std::rc::Rc::new(1)).await, 4);
        assert_eq!(c.take().await, 3);
        assert_eq!(boxed(2).await, Ok(2));
        assert!(boxed(0).await.is_err());
        assert_eq!(aliased("abc").await, 3);
    });
}
