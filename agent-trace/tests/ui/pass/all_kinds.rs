//! Every kind and every option.
use agent_trace::traced;

#[traced(kind = "agent", name = "Support", tools = ["lookup", "refund"], handoffs = ["billing"])]
async fn agent(q: String) -> Result<Vec<String>, String> {
    Ok(vec![q])
}

#[traced(kind = "function", skip(secret), output = false)]
fn function(query: &str, secret: &str) -> usize {
    query.len() + secret.len()
}

#[traced(kind = "generation", model = "gpt-4o-mini", input, output)]
async fn generation(prompt: &str) -> String {
    prompt.to_uppercase()
}

#[traced(kind = "response", skip_all)]
fn response(id: u64) -> u64 {
    id
}

#[traced(kind = "handoff", err = false)]
fn handoff(to: &str) -> Result<(), String> {
    Err(to.to_owned())
}

#[traced(kind = "custom", input = true, output = true, err = true)]
fn custom(a: u8) -> u8 {
    a
}

#[traced(kind = "guardrail", input = false, output = false)]
fn guardrail(text: &str) -> bool {
    text.is_empty()
}

#[traced(kind = "transcription", model = "whisper-1")]
async fn transcription(audio: Vec<u8>) -> String {
    format!("{} bytes", audio.len())
}

#[traced(kind = "speech", model = "tts-1", output)]
async fn speech(text: String) -> Vec<u8> {
    text.into_bytes()
}

#[traced(kind = "speech_group")]
async fn speech_group() {}

#[traced(kind = "mcp_tools", name = "list tools")]
async fn mcp_tools(server: &str) -> Vec<String> {
    vec![server.to_owned()]
}

#[traced(kind = "agent")]
fn agent_unit() {}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(agent("q".into()).await.unwrap(), vec!["q".to_owned()]);
        assert_eq!(generation("hi").await, "HI");
        assert_eq!(transcription(vec![1, 2]).await, "2 bytes");
        assert_eq!(speech("ab".into()).await, vec![97, 98]);
        speech_group().await;
        assert_eq!(mcp_tools("srv").await.len(), 1);
    });
    assert_eq!(function("ab", "c"), 3);
    assert_eq!(response(4), 4);
    assert!(handoff("billing").is_err());
    assert_eq!(custom(1), 1);
    assert!(guardrail(""));
    agent_unit();
}
