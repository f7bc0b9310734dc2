//! A lane's inbox, and the thread a lane runs on.
//!
//! Each lane runs on a thread of its own, with its own current-thread Tokio runtime: an
//! exporter that blocks its thread (`std::thread::sleep`, blocking IO inside `export`) or whose
//! future never completes stalls its own lane only. The export thread, which drains the
//! producers' queues, never runs exporter code and never waits on a full lane for more than
//! `lane_full_timeout`.
//!
//! The inbox holds at most `limit` batches. Flush and shutdown requests go through the same
//! channel, so that a lane answers them after the batches handed to it before, but they are
//! never refused nor waited for: a lane that is stuck cannot hold up a flush past its bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, Notify};

use super::{Lane, LaneMsg};
use crate::diag::{emit, Diagnostic};

/// What the two ends share: how many batches wait in the channel, and a signal for room.
#[derive(Default)]
struct Depth {
    batches: AtomicUsize,
    room: Notify,
}

/// Why a batch was not handed to a lane.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The lane holds its limit of batches.
    Full,
    /// The lane is gone (its thread could not start).
    Closed,
}

/// The export thread's end of a lane's inbox.
pub(crate) struct Inbox {
    tx: mpsc::UnboundedSender<LaneMsg>,
    depth: Arc<Depth>,
    limit: usize,
}

/// The lane's end.
pub(crate) struct InboxRx {
    rx: mpsc::UnboundedReceiver<LaneMsg>,
    depth: Arc<Depth>,
}

/// An inbox holding at most `limit` batches (at least 1).
pub(crate) fn inbox(limit: usize) -> (Inbox, InboxRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    let depth = Arc::new(Depth::default());
    (
        Inbox {
            tx,
            depth: depth.clone(),
            limit: limit.max(1),
        },
        InboxRx { rx, depth },
    )
}

impl Inbox {
    /// Hands a batch over if the lane has room, at once.
    pub(crate) fn try_batch(&self, msg: LaneMsg) -> Result<(), (Refused, LaneMsg)> {
        if self.depth.batches.load(Ordering::Acquire) >= self.limit {
            return Err((Refused::Full, msg));
        }
        // Only the export thread adds, so the check above cannot be overtaken.
        self.depth.batches.fetch_add(1, Ordering::AcqRel);
        self.tx.send(msg).map_err(|e| {
            self.depth.batches.fetch_sub(1, Ordering::AcqRel);
            (Refused::Closed, e.0)
        })
    }

    /// Hands a batch over, waiting until `deadline` at most for room.
    pub(crate) async fn batch_until(&self, mut msg: LaneMsg, deadline: Instant) -> bool {
        loop {
            let room = self.depth.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.try_batch(msg) {
                Ok(()) => return true,
                Err((Refused::Closed, _)) => return false,
                Err((Refused::Full, m)) => msg = m,
            }
            if tokio::time::timeout_at(deadline.into(), room)
                .await
                .is_err()
            {
                return false;
            }
        }
    }

    /// Sends a flush or shutdown request; never waits. False if the lane is gone.
    pub(crate) fn control(&self, msg: LaneMsg) -> bool {
        self.tx.send(msg).is_ok()
    }
}

impl InboxRx {
    /// The next message, `None` once the export thread is gone.
    pub(crate) async fn recv(&mut self) -> Option<LaneMsg> {
        let msg = self.rx.recv().await;
        if let Some(LaneMsg::Batch(_)) = &msg {
            self.depth.batches.fetch_sub(1, Ordering::AcqRel);
            self.depth.room.notify_one();
        }
        msg
    }
}

/// Starts `lane` on a thread of its own. If it cannot start, the inbox is closed: batches for
/// it are counted as dropped and a flush says so; a diagnostic says why.
pub(crate) fn spawn(lane: Lane, rx: InboxRx) {
    let name = lane.name();
    let thread_name = format!("agent-trace-lane-{name}");
    let spawned = std::thread::Builder::new()
        .name(thread_name)
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(lane.run(rx)),
                Err(e) => report_dead_lane(&lane.name(), &e),
            }
        });
    if let Err(e) = spawned {
        report_dead_lane(&name, &e);
    }
}

fn report_dead_lane(name: &str, e: &std::io::Error) {
    emit(Diagnostic {
        key: "export_thread",
        message: format!(
            "cannot start the export thread of exporter {name}: {e}; its items are counted as dropped"
        ),
        count: 1,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn batch() -> LaneMsg {
        LaneMsg::Batch(Arc::new(Vec::new()))
    }

    #[tokio::test]
    async fn a_full_inbox_refuses_batches_but_takes_requests_and_has_room_after_a_recv() {
        let (tx, mut rx) = inbox(2);
        assert!(tx.try_batch(batch()).is_ok());
        assert!(tx.try_batch(batch()).is_ok());
        assert!(matches!(tx.try_batch(batch()), Err((Refused::Full, _))));
        let (reply, _) = tokio::sync::oneshot::channel();
        assert!(tx.control(LaneMsg::Flush(reply)));
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(!tx.batch_until(batch(), soon).await);
        assert!(matches!(rx.recv().await, Some(LaneMsg::Batch(_))));
        let later = Instant::now() + Duration::from_secs(5);
        assert!(tx.batch_until(batch(), later).await);
        assert!(matches!(rx.recv().await, Some(LaneMsg::Batch(_))));
        drop(rx);
        assert!(matches!(tx.try_batch(batch()), Err((Refused::Closed, _))));
    }
}
