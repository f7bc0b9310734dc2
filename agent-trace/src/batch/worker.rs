//! The export thread: drains the per-thread rings into batches and hands them to the lanes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// The last wait for room in this lane timed out: until it has room again, batches for it
    /// are dropped at once instead of making the export thread wait on it each time.
    pub(crate) stalled: AtomicBool,
}

pub(crate) struct Worker {
    pub(crate) queue: Arc<Queue>,
    pub(crate) lanes: Vec<LaneHandle>,
    pub(crate) max_batch_size: usize,
    pub(crate) schedule_delay: Duration,
    /// How long the worker waits for room in a full lane before dropping a batch for it.
    pub(crate) lane_full_timeout: Duration,
    /// Items taken from the rings and not yet handed to the lanes.
    pub(crate) pending: Arc<AtomicU64>,
}

/// Why the export thread woke up.
enum Wake {
    /// A flush or shutdown request.
    Command(Command),
    /// Every [`BatchProcessor`](super::BatchProcessor) handle is gone.
    HandlesGone,
    /// A producer found its ring filled to the trigger ratio, full, or its thread exiting.
    Producers,
    /// The drain timer.
    Timer,
}

static LANE_FULL: RateLimited = RateLimited::new("lane_full", Duration::from_secs(10));
static QUEUE_FULL: RateLimited = RateLimited::new("queue_full", Duration::from_secs(10));

/// The export thread's drain interval while spans flow.
const MIN_POLL: Duration = Duration::from_millis(1);
/// Its drain interval when idle.
const MAX_IDLE_POLL: Duration = Duration::from_millis(100);

fn queue_full_message(n: u64) -> String {
    format!("dropped {n} span(s) since the last report: a thread's queue was full (raise max_queue_size / OTEL_BSP_MAX_QUEUE_SIZE, or export faster)")
}

impl Worker {
    pub(crate) async fn run(
        self,
        lanes: Vec<(Lane, mpsc::Receiver<LaneMsg>)>,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        let tasks: Vec<_> = lanes
            .into_iter()
            .map(|(lane, rx)| tokio::spawn(lane.run(rx)))
            .collect();
        let mut buf: Vec<ExportItem> = Vec::with_capacity(self.max_batch_size);
        let mut reported_drops = 0;
        let mut poll = MIN_POLL;
        let mut oldest_partial: Option<Instant> = None;
        loop {
            let wake = tokio::select! {
                biased;
                c = commands.recv() => c.map_or(Wake::HandlesGone, Wake::Command),
                _ = self.queue.notify.notified() => Wake::Producers,
                _ = tokio::time::sleep(poll) => Wake::Timer,
            };
            // Producers only count drops; the warning is written here, once per interval.
            let drops = self.queue.counts().dropped_full;
            if drops > reported_drops {
                QUEUE_FULL.hit(drops - reported_drops, queue_full_message);
                reported_drops = drops;
            }
            match wake {
                Wake::Producers | Wake::Timer => {
                    // Poll often while spans flow, back off when idle.
                    let got = self.pump(&mut buf, false).await;
                    poll = if got == 0 {
                        (poll * 2).min(MAX_IDLE_POLL)
                    } else {
                        MIN_POLL
                    };
                    // A partial batch waits at most `schedule_delay`.
                    if buf.is_empty() {
                        oldest_partial = None;
                    } else if oldest_partial.get_or_insert_with(Instant::now).elapsed()
                        >= self.schedule_delay
                    {
                        self.dispatch(&mut buf).await;
                        oldest_partial = None;
                    }
                }
                Wake::Command(Command::Flush(reply)) => {
                    self.pump_for_flush(&mut buf).await;
                    oldest_partial = None;
                    reply.send(self.tell_lanes(LaneMsg::Flush).await);
                }
                Wake::Command(Command::Shutdown(timeout, reply)) => {
                    QUEUE_FULL.flush(queue_full_message);
                    // `finish` closes the queue on its first poll, which `timeout` always makes.
                    // Past the timeout, what is still in flight stays counted as in flight.
                    let r = tokio::time::timeout(timeout, self.finish(&mut buf, tasks))
                        .await
                        .unwrap_or(Err(TraceError::Timeout {
                            what: "shutdown",
                            timeout,
                        }));
                    reply.send(r);
                    return;
                }
                Wake::HandlesGone => {
                    QUEUE_FULL.flush(queue_full_message);
                    // Deliver what is left and stop.
                    let _ = self.finish(&mut buf, tasks).await;
                    return;
                }
            }
        }
    }

    /// Closes the queue, hands the lanes everything left in it, shuts them down and waits for
    /// them to end.
    async fn finish(
        &self,
        buf: &mut Vec<ExportItem>,
        tasks: Vec<tokio::task::JoinHandle<()>>,
    ) -> Result<(), TraceError> {
        self.queue.close();
        self.pump(buf, true).await;
        let r = self.tell_lanes(LaneMsg::Shutdown).await;
        for t in tasks {
            let _ = t.await;
        }
        r
    }

    /// Moves queued items into full batches for the lanes; with `partial`, also the rest.
    /// Returns how many items it took from the queue.
    async fn pump(&self, buf: &mut Vec<ExportItem>, partial: bool) -> usize {
        self.pump_mode(buf, partial, false).await
    }

    /// Everything queued before this call, and no more: a flush under steady load ends.
    async fn pump_for_flush(&self, buf: &mut Vec<ExportItem>) {
        self.queue.mark_flush();
        self.pump_mode(buf, true, true).await;
    }

    async fn pump_mode(&self, buf: &mut Vec<ExportItem>, partial: bool, flushing: bool) -> usize {
        let mut total = 0;
        loop {
            let room = self.max_batch_size - buf.len();
            let got = self.queue.drain_into(buf, room, flushing);
            total += got;
            self.pending.fetch_add(got as u64, Ordering::Relaxed);
            if buf.len() == self.max_batch_size {
                self.dispatch(buf).await;
                continue;
            }
            // Fewer than asked for: every ring is empty now.
            if partial && !buf.is_empty() {
                self.dispatch(buf).await;
            }
            return total;
        }
    }

    /// Hands a batch to every lane. A lane whose queue is full gets up to `lane_full_timeout`
    /// to make room (the other lanes run meanwhile, and producers keep filling their rings);
    /// one still full is stalled: the batch is dropped for it and counted, and so are the next
    /// ones, without waiting, until it has room again.
    async fn dispatch(&self, buf: &mut Vec<ExportItem>) {
        let batch = Arc::new(std::mem::replace(
            buf,
            Vec::with_capacity(self.max_batch_size),
        ));
        let n = batch.len() as u64;
        for lane in &self.lanes {
            LaneCounters::add(&lane.counters.in_flight, n);
            let sent = match lane.tx.try_send(LaneMsg::Batch(batch.clone())) {
                Ok(()) => {
                    lane.stalled.store(false, Ordering::Relaxed);
                    true
                }
                Err(mpsc::error::TrySendError::Full(_)) if lane.stalled.load(Ordering::Relaxed) => {
                    false
                }
                Err(mpsc::error::TrySendError::Full(msg)) => {
                    let waited =
                        tokio::time::timeout(self.lane_full_timeout, lane.tx.send(msg)).await;
                    let sent = matches!(waited, Ok(Ok(())));
                    lane.stalled.store(!sent, Ordering::Relaxed);
                    sent
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            };
            if !sent {
                LaneCounters::sub(&lane.counters.in_flight, n);
                LaneCounters::add(&lane.counters.dropped, n);
                let name = lane.name.clone();
                let wait = self.lane_full_timeout;
                LANE_FULL.hit(n, |c| {
                    format!("exporter {name} is not keeping up: dropped {c} item(s) since the last report (its queue of batches stayed full for {wait:?}: the backend is slow or down; see its export errors, or raise lane_full_timeout for short bursts)")
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
        let mut errors = Vec::new();
        for lane in &self.lanes {
            let (tx, rx) = oneshot::channel();
            if lane.tx.send(make(tx)).await.is_ok() {
                waits.push((&lane.name, rx));
            } else {
                // Calls into exporters are isolated from panics, so this is a bug of ours; a
                // lane that is gone must not make a flush look successful.
                errors.push(lane_stopped(&lane.name));
            }
        }
        for (name, rx) in waits {
            match rx.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push(lane_stopped(name)),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(TraceError::Failed(errors.join("; ")))
        }
    }
}

fn lane_stopped(name: &str) -> String {
    format!("exporter {name}: its lane stopped, its batches are counted as dropped (a bug in agent-trace: please report it)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SpanData, SpanRecord};

    fn worker(tx: mpsc::Sender<LaneMsg>) -> Worker {
        Worker {
            queue: Queue::new(16, 8),
            lanes: vec![LaneHandle {
                name: "slow".into(),
                tx,
                counters: Arc::new(LaneCounters::default()),
                stalled: AtomicBool::new(false),
            }],
            max_batch_size: 4,
            schedule_delay: Duration::from_secs(1),
            lane_full_timeout: Duration::from_millis(20),
            pending: Arc::new(AtomicU64::new(0)),
        }
    }

    fn one_item() -> Vec<ExportItem> {
        let r = SpanRecord::new(crate::TraceId::random(), None, SpanData::custom("s"));
        vec![ExportItem::Span(r)]
    }

    #[tokio::test]
    async fn a_full_lane_is_waited_for_once_then_skipped_until_it_has_room() {
        let (tx, mut rx) = mpsc::channel(1);
        let w = worker(tx);
        let lane = &w.lanes[0];
        let dropped = || lane.counters.dropped.load(Ordering::Relaxed);

        w.dispatch(&mut one_item()).await; // fills the lane
        assert_eq!(dropped(), 0);
        w.dispatch(&mut one_item()).await; // waits, then drops
        assert_eq!(dropped(), 1);
        assert!(lane.stalled.load(Ordering::Relaxed));
        w.dispatch(&mut one_item()).await; // stalled: dropped without waiting
        assert_eq!(dropped(), 2);

        // The lane takes its batch: it has room again and is no longer stalled.
        assert!(matches!(rx.recv().await, Some(LaneMsg::Batch(_))));
        w.dispatch(&mut one_item()).await;
        assert_eq!(dropped(), 2);
        assert!(!lane.stalled.load(Ordering::Relaxed));
        assert_eq!(lane.counters.in_flight.load(Ordering::Relaxed), 2);
    }
}
