//! Methods taking `&self`, `&mut self` and `self`, sync and async.
use agent_trace::traced;

#[derive(Debug, Default)]
struct Agent {
    name: String,
    calls: u32,
}

impl Agent {
    #[traced]
    fn name(&self) -> &str {
        &self.name
    }

    #[traced]
    fn bump(&mut self, by: u32) -> &mut u32 {
        self.calls += by;
        &mut self.calls
    }

    #[traced]
    fn into_name(self) -> String {
        self.name
    }

    #[traced(kind = "agent")]
    async fn run(&self, question: String) -> String {
        format!("{}: {question}", self.name)
    }

    #[traced]
    async fn run_mut(&mut self) -> u32 {
        self.calls += 1;
        self.calls
    }

    #[traced]
    async fn consume(self, extra: u32) -> u32 {
        self.calls + extra
    }

    #[traced]
    fn new_self(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            calls: 0,
        }
    }
}

fn main() {
    let mut a = Agent::new_self("a");
    assert_eq!(a.name(), "a");
    *a.bump(2) += 1;
    assert_eq!(a.calls, 3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(a.run("q".into()).await, "a: q");
        assert_eq!(a.run_mut().await, 4);
    });
    let b = Agent::default();
    assert_eq!(rt.block_on(b.consume(1)), 1);
    assert_eq!(a.into_name(), "a");
}
