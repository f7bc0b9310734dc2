//! Native `async fn` in traits: default methods and implementations.
use agent_trace::traced;

trait Agent {
    fn name(&self) -> &'static str;

    #[traced(kind = "agent")]
    async fn run(&self, question: String) -> String {
        format!("{} answers {question}", self.name())
    }

    async fn plan(&self, steps: u8) -> Vec<u8>;
}

struct Planner;

impl Agent for Planner {
    fn name(&self) -> &'static str {
        "planner"
    }

    #[traced(kind = "agent", name = "Planner.plan", tools = ["search"], handoffs = ["writer"])]
    async fn plan(&self, steps: u8) -> Vec<u8> {
        (0..steps).collect()
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(Planner.run("q".into()).await, "planner answers q");
        assert_eq!(Planner.plan(3).await, vec![0, 1, 2]);
    });
}
