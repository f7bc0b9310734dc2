//! `crate = path` for re-exports of agent_trace.
mod reexport {
    pub use agent_trace;
}

#[agent_trace::traced(crate = reexport::agent_trace)]
async fn via_module(x: u8) -> u8 {
    x
}

#[agent_trace::traced(crate = ::agent_trace, kind = "custom")]
fn absolute(x: u8) -> u8 {
    x
}

#[agent_trace::traced(crate = crate::reexport::agent_trace)]
fn crate_relative() {}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(via_module(1)), 1);
    assert_eq!(absolute(2), 2);
    crate_relative();
}
