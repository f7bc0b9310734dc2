//! Helpers shared by the integration tests: a writer the console tests read back, and (with
//! the `http` feature) a loopback HTTP receiver for the OTLP and OpenAI exporters.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

/// A writer the test can read back.
#[derive(Clone, Default)]
pub struct SharedBuf(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    /// Everything written so far, then clears it.
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// A loopback HTTP receiver for the OTLP and OpenAI exporters.
#[cfg(feature = "http")]
pub mod loopback {
    use std::collections::VecDeque;
    use std::io::Read;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::body::Bytes;
    use axum::extract::{ConnectInfo, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};

    /// One request as the receiver saw it (body un-gzipped).
    #[derive(Debug, Clone)]
    pub struct Seen {
        pub peer: SocketAddr,
        pub headers: HeaderMap,
        pub body: Vec<u8>,
    }

    impl Seen {
        /// The body as JSON.
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).unwrap()
        }
    }

    /// A canned answer: status, extra headers, body, delay before answering.
    pub type Answer = (u16, Vec<(&'static str, String)>, String, Duration);

    /// A loopback HTTP receiver that records every request.
    #[derive(Clone)]
    pub struct Receiver {
        pub seen: Arc<Mutex<Vec<Seen>>>,
        /// Canned answers, used in order; `fallback` when empty.
        pub answers: Arc<Mutex<VecDeque<Answer>>>,
        /// Status and body of the answer when no canned answer is left.
        fallback: (u16, &'static str),
    }

    async fn handle(
        State(r): State<Receiver>,
        ConnectInfo(peer): ConnectInfo<SocketAddr>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let mut body = body.to_vec();
        if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .unwrap();
            body = out;
        }
        r.seen.lock().unwrap().push(Seen {
            peer,
            headers,
            body,
        });
        let answer = r.answers.lock().unwrap().pop_front();
        let (status, extra, text, delay) = answer.unwrap_or_else(|| {
            let (status, text) = r.fallback;
            (status, vec![], text.to_owned(), Duration::ZERO)
        });
        tokio::time::sleep(delay).await;
        let mut response = (StatusCode::from_u16(status).unwrap(), text).into_response();
        for (k, v) in extra {
            response.headers_mut().insert(k, v.parse().unwrap());
        }
        response
    }

    /// Serves POSTs to `path` on 127.0.0.1 (on the current tokio runtime).
    async fn serve(path: &str, fallback: (u16, &'static str)) -> (Receiver, SocketAddr) {
        let r = Receiver {
            seen: Arc::default(),
            answers: Arc::default(),
            fallback,
        };
        let app = axum::Router::new()
            .route(path, axum::routing::post(handle))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        (r, addr)
    }

    /// An OTLP/HTTP collector at `{base}/v1/traces` answering 200 unless told otherwise;
    /// returns the base URL.
    pub async fn otlp_receiver() -> (Receiver, String) {
        let (r, addr) = serve("/v1/traces", (200, "")).await;
        (r, format!("http://{addr}"))
    }

    /// The body the OpenAI receiver answers with.
    pub const OPENAI_ERROR_BODY: &str = "{\"error\":\"nope\"}";

    /// An OpenAI traces-ingest endpoint answering 204 unless told otherwise; returns its full
    /// URL.
    pub async fn openai_receiver() -> (Receiver, String) {
        let (r, addr) = serve("/v1/traces/ingest", (204, OPENAI_ERROR_BODY)).await;
        (r, format!("http://{addr}/v1/traces/ingest"))
    }

    /// A loopback port nothing listens on (bound, then released).
    pub fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        port
    }
}
