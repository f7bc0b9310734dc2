use agent_trace::traced;

#[traced(kind = "generation", model = "gpt-4o", tools = ["search"])]
async fn complete(prompt: String) -> String {
    prompt
}

#[traced(handoffs = ["billing"])]
fn route() {}

fn main() {
    let _ = complete(String::new());
    route();
}
