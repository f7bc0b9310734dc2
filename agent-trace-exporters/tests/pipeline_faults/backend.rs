//! A real OTLP/HTTP receiver on 127.0.0.1 whose answers a test can script.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

/// What the receiver answers to one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    RetryAfter(u16, u64),
    Hang(Duration),
}

#[derive(Default)]
pub struct Seen {
    pub script: Mutex<VecDeque<Answer>>,
    /// While set, every request gets 503.
    pub failing: AtomicBool,
    /// Span ids of accepted requests.
    pub span_ids: Mutex<Vec<[u8; 8]>>,
    /// Arrival time and status of every request.
    pub arrivals: Mutex<Vec<(Instant, u16)>>,
}

impl Seen {
    pub fn arrivals(&self) -> Vec<(Instant, u16)> {
        self.arrivals.lock().unwrap().clone()
    }

    pub fn ids(&self) -> Vec<[u8; 8]> {
        self.span_ids.lock().unwrap().clone()
    }
}

pub struct Backend {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Backend {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts a receiver; on `addr` if given (to bring a "dead" backend back).
    pub async fn start(addr: Option<SocketAddr>) -> Backend {
        let listener = tokio::net::TcpListener::bind(addr.unwrap_or(([127, 0, 0, 1], 0).into()))
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(seen.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Backend {
            addr,
            seen,
            stop: Some(tx),
        }
    }

    /// A loopback address where nothing listens (connections are refused).
    pub async fn dead_address() -> SocketAddr {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        l.local_addr().unwrap()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn receive(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = if seen.failing.load(Ordering::SeqCst) {
        Some(Answer::Status(503))
    } else {
        seen.script.lock().unwrap().pop_front()
    };
    let status = match answer {
        None => 200,
        Some(Answer::Status(s)) | Some(Answer::RetryAfter(s, _)) => s,
        Some(Answer::Hang(_)) => 0,
    };
    seen.arrivals.lock().unwrap().push((Instant::now(), status));
    match answer {
        Some(Answer::Status(s)) => {
            (StatusCode::from_u16(s).unwrap(), "scripted failure").into_response()
        }
        Some(Answer::RetryAfter(s, secs)) => (
            StatusCode::from_u16(s).unwrap(),
            [("retry-after", secs.to_string())],
            "slow down",
        )
            .into_response(),
        Some(Answer::Hang(d)) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, "too late").into_response()
        }
        None => {
            assert_eq!(
                headers.get("content-type").and_then(|v| v.to_str().ok()),
                Some("application/x-protobuf")
            );
            let req = ExportTraceServiceRequest::decode(body).expect("a valid OTLP protobuf body");
            let mut ids = seen.span_ids.lock().unwrap();
            for rs in req.resource_spans {
                for ss in rs.scope_spans {
                    for span in ss.spans {
                        ids.push(span.span_id.as_slice().try_into().expect("8-byte span id"));
                    }
                }
            }
            StatusCode::OK.into_response()
        }
    }
}
