use agent_trace::traced;

#[traced(model = "gpt-4o-mini")]
fn lookup(id: u64) -> u64 {
    id
}

fn main() {
    let _ = lookup(1);
}
