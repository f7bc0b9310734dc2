use agent_trace::traced;

#[traced(kind "agent")]
fn a() {}

#[traced(, name = "x")]
fn b() {}

#[traced(name = "x" output)]
fn c() {}

fn main() {
    a();
    b();
    c();
}
