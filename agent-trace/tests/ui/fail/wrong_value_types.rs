use agent_trace::traced;

#[traced(name = lookup, input = "yes", output = 1, err(true), skip = "id", tools = "search")]
fn lookup(id: u64) -> u64 {
    id
}

#[traced(kind = "agent", tools = ["search", 3], crate = "agent_trace")]
fn agent() {}

#[traced(skip_all = true, model)]
fn other() {}

fn main() {
    let _ = lookup(1);
    agent();
    other();
}
