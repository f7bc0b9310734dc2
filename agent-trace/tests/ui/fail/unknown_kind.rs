use agent_trace::traced;

#[traced(kind = "tool")]
async fn lookup(id: u64) -> u64 {
    id
}

fn main() {
    let _ = lookup(1);
}
