use agent_trace::traced;

#[traced(kind = agent)]
async fn support(question: String) -> String {
    question
}

fn main() {
    let _ = support(String::new());
}
