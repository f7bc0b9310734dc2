use agent_trace::traced;

#[traced]
async fn count(items: Vec<u8>) -> usize {
    if items.is_empty() {
        return "none";
    }
    items.len() as u32
}

#[traced]
fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = text.parse()?;
    n
}

fn main() {
    let _ = count(Vec::new());
    let _ = parse("1");
}
