//! The export thread: drains the per-thread rings into batches and hands them to the lanes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::lane::{Lane, LaneMsg};
use super::queue::Queue;
use super::stats::LaneCounters;
use crate::diag::RateLimited;
use crate::model::ExportItem;
use crate::processor::TraceError;

/// Where a flush or shutdown result goes: an async waiter or a blocked thread.
pub(crate) enum Reply {
    Async(oneshot::Sender<Result<(), TraceError>>),
    Blocking(std::sync::mpsc::Sender<Result<(), TraceError>>),
}

impl Reply {
    fn send(self, r: Result<(), TraceError>) {
        match self {
            Reply::Async(tx) => {
                let _ = tx.send(r);
            }
            Reply::Blocking(tx) => {
                let _ = tx.send(r);
            }
        }
    }
}

pub(crate) enum Command {
    Flush(Reply),
    Shutdown(Duration, Reply),
}

pub(crate) struct LaneHandle {
    pub(crate) name: String,
    pub(crate) tx: mpsc::Sender<LaneMsg>,
    pub(crate) counters: Arc<LaneCounters>,
}

pub(crate) struct Worker {
    pub(crate) queue: Arc<Queue>,
    pub(crate) lanes: Vec<LaneHandle>,
    pub(crate) max_batch_size: usize,
    pub(crate) schedule_delay: Duration,
    /// Items taken from the rings and not yet handed to the lanes.
    pub(crate) pending: Arc<AtomicU64>,
}

static LANE_FULL: RateLimited = RateLimited::new("lane_full", Duration::from_secs(10));
static QUEUE_FULL: RateLimited = RateLimited::new("queue_full", Duration::from_secs(10));

fn queue_full_message(n: u64) -> String {
    format!("dropped {n} span(s) since the last report: a thread's queue was full (raise max_queue_size / OTEL_BSP_MAX_QUEUE_SIZE, or export faster)")
}

impl Worker {
    pub(crate) async fn run(
        self,
        lanes: Vec<Lane>,
        lane_rx: Vec<mpsc::Receiver<LaneMsg>>,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        let mut tasks = Vec::new();
        for (lane, rx) in lanes.into_iter().zip(lane_rx) {
            tasks.push(tokio::spawn(lane.run(rx)));
        }
        let mut tick = tokio::time::interval(self.schedule_delay);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let mut buf: Vec<ExportItem> = Vec::with_capacity(self.max_batch_size);
        let mut reported_drops = 0;
        loop {
            let mut partial = false;
            let cmd = tokio::select! {
                biased;
                c = commands.recv() => Some(c),
                _ = self.queue.notify.notified() => None,
                _ = tick.tick() => { partial = true; None }
            };
            // Producers only count drops; the warning is written here, once per interval.
            let drops = self.queue.counts().dropped_full;
            if drops > reported_drops {
                QUEUE_FULL.hit(drops - reported_drops, queue_full_message);
                reported_drops = drops;
            }
            if matches!(cmd, Some(Some(Command::Shutdown(..))) | Some(None)) {
                QUEUE_FULL.flush(queue_full_message);
            }
            match cmd {
                None => self.pump(&mut buf, partial),
                Some(Some(Command::Flush(reply))) => {
                    self.pump(&mut buf, true);
                    reply.send(self.tell_lanes(LaneMsg::Flush).await);
                }
                Some(Some(Command::Shutdown(timeout, reply))) => {
                    self.queue.close();
                    let work = async {
                        self.pump(&mut buf, true);
                        let r = self.tell_lanes(LaneMsg::Shutdown).await;
                        for t in tasks {
                            let _ = t.await;
                        }
                        r
                    };
                    // Past the timeout, what is still in flight stays counted as in flight.
                    let r = tokio::time::timeout(timeout, work).await.unwrap_or(Err(
                        TraceError::Timeout {
                            what: "shutdown",
                            timeout,
                        },
                    ));
                    reply.send(r);
                    return;
                }
                Some(None) => {
                    // Every handle is gone: deliver what is left and stop.
                    self.queue.close();
                    self.pump(&mut buf, true);
                    let _ = self.tell_lanes(LaneMsg::Shutdown).await;
                    for t in tasks {
                        let _ = t.await;
                    }
                    return;
                }
            }
        }
    }

    /// Moves queued items into full batches for the lanes; with `partial`, also the rest.
    fn pump(&self, buf: &mut Vec<ExportItem>, partial: bool) {
        loop {
            let room = self.max_batch_size - buf.len();
            let got = self.queue.drain_into(buf, room);
            self.pending.fetch_add(got as u64, Ordering::Relaxed);
            if buf.len() == self.max_batch_size {
                self.dispatch(buf);
                continue;
            }
            // Fewer than asked for: every ring is empty now.
            if partial && !buf.is_empty() {
                self.dispatch(buf);
            }
            return;
        }
    }

    fn dispatch(&self, buf: &mut Vec<ExportItem>) {
        let batch: Arc<[ExportItem]> = std::mem::take(buf).into();
        buf.reserve(self.max_batch_size);
        let n = batch.len() as u64;
        for lane in &self.lanes {
            LaneCounters::add(&lane.counters.in_flight, n);
            if lane.tx.try_send(LaneMsg::Batch(batch.clone())).is_err() {
                LaneCounters::sub(&lane.counters.in_flight, n);
                LaneCounters::add(&lane.counters.dropped, n);
                let name = lane.name.clone();
                LANE_FULL.hit(n, |c| {
                    format!("exporter {name} is not keeping up: dropped {c} item(s) since the last report (raise max_queue_size or check the exporter)")
                });
            }
        }
        self.pending.fetch_sub(n, Ordering::Relaxed);
    }

    async fn tell_lanes(
        &self,
        make: fn(oneshot::Sender<Result<(), String>>) -> LaneMsg,
    ) -> Result<(), TraceError> {
        let mut waits = Vec::new();
        for lane in &self.lanes {
            let (tx, rx) = oneshot::channel();
            if lane.tx.send(make(tx)).await.is_ok() {
                waits.push(rx);
            }
        }
        let mut errors = Vec::new();
        for rx in waits {
            match rx.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push("an exporter lane stopped".to_owned()),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(TraceError::Failed(errors.join("; ")))
        }
    }
}
