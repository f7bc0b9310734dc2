use agent_trace::traced;

#[traced(name = "a", name = "b")]
fn lookup(id: u64) -> u64 {
    id
}

fn main() {
    let _ = lookup(1);
}
