//! Profiles four requests through the support agents and prints the report as a table, then
//! as JSON.
//!
//! ```text
//! cargo run -p agent-trace-toolkit --example profiler
//! ```

mod support;

use agent_trace::TracerProvider;
use agent_trace_toolkit::profiler::AgentProfiler;

#[tokio::main]
async fn main() {
    let profiler = AgentProfiler::new();
    let provider = TracerProvider::builder()
        .with_processor(profiler.clone())
        .build();
    let (answers, report) = profiler
        .profile(async {
            let mut answers = Vec::new();
            for q in support::QUESTIONS {
                answers.push(
                    provider
                        .trace("customer-support")
                        .run(support::triage(q))
                        .await,
                );
            }
            answers
        })
        .await;
    println!("{} answers\n", answers.iter().filter(|a| a.is_ok()).count());
    println!("{report}\n");
    println!("{}", report.to_json());
}
