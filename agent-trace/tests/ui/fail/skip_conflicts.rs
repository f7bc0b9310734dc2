use agent_trace::traced;

#[traced(skip_all, skip(id))]
fn lookup(id: u64) -> u64 {
    id
}

#[traced(skip_all, input)]
fn other(id: u64) -> u64 {
    id
}

fn main() {
    let _ = lookup(1);
    let _ = other(1);
}
