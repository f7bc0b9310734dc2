use agent_trace::traced;

#[traced]
struct Agent {
    name: String,
}

trait Tool {
    #[traced]
    fn call(&self, input: String) -> String;
}

fn main() {
    let a = Agent {
        name: String::new(),
    };
    let _ = a.name;
}
