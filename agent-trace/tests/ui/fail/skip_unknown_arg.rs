use agent_trace::traced;

#[traced(skip(secret, token))]
fn login(user: &str, password: &str) -> bool {
    user.len() == password.len()
}

fn main() {
    let _ = login("a", "b");
}
