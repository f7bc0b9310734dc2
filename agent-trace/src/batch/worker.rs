//! The export thread: drains the per-thread rings into batches and hands them to the lanes;
//! answers flush and shutdown requests by their deadline, with every drop since the last flush.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::lane::inbox::{Inbox, Refused};
use super::lane::LaneMsg;
use super::queue::Queue;
use super::stats::LaneCounters;
use crate::diag::{emit, Diagnostic, RateLimited};
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
    /// Flush everything queued, answering by `deadline` (`bound` after the call).
    Flush {
        deadline: Instant,
        bound: Duration,
        reply: Reply,
    },
    /// Drain, flush, shut the exporters down and stop, answering by `deadline`.
    Shutdown {
        deadline: Instant,
        bound: Duration,
        reply: Reply,
    },
}

pub(crate) struct LaneHandle {
    pub(crate) name: String,
    pub(crate) inbox: Inbox,
    pub(crate) counters: Arc<LaneCounters>,
    /// The last wait for room in this lane timed out: until it has room again, batches for it
    /// are dropped at once instead of making the export thread wait on it each time.
    pub(crate) stalled: AtomicBool,
    /// The lane's `dropped` count when the last flush ended: a flush reports the drops since.
    pub(crate) reported_drops: AtomicU64,
}

pub(crate) struct Worker {
    pub(crate) queue: Arc<Queue>,
    pub(crate) lanes: Vec<Arc<LaneHandle>>,
    pub(crate) max_batch_size: usize,
    pub(crate) schedule_delay: Duration,
    /// How long the worker waits for room in a full lane before dropping a batch for it.
    pub(crate) lane_full_timeout: Duration,
    /// How long the last drain waits for the lanes when every handle is gone.
    pub(crate) flush_timeout: Duration,
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
    /// The drain loop. It never calls into an exporter (the lanes run on threads of their
    /// own) and never waits on a lane for more than `lane_full_timeout`; a flush waits for the
    /// lanes on a task of its own, so draining goes on meanwhile.
    pub(crate) async fn run(self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut buf: Vec<ExportItem> = Vec::with_capacity(self.max_batch_size);
        let mut reported_drops = 0;
        // The queue's drops already reported by a flush.
        let mut flushed_drops = 0;
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
                    let got = self.pump(&mut buf, false, None).await;
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
                        self.dispatch(&mut buf, None).await;
                        oldest_partial = None;
                    }
                }
                Wake::Command(Command::Flush {
                    deadline,
                    bound,
                    reply,
                }) => {
                    // Everything queued before this call, and no more: a flush under steady
                    // load ends.
                    self.queue.mark_flush();
                    self.pump_mode(&mut buf, true, true, Some(deadline)).await;
                    oldest_partial = None;
                    let asked = self.ask_lanes(LaneMsg::Flush);
                    let queue_drops = self.queue.counts().dropped_full;
                    let new_queue_drops = queue_drops.saturating_sub(flushed_drops);
                    flushed_drops = queue_drops;
                    tokio::spawn(async move {
                        let r = answer(asked, deadline, bound, "force_flush", new_queue_drops);
                        reply.send(r.await);
                    });
                }
                Wake::Command(Command::Shutdown {
                    deadline,
                    bound,
                    reply,
                }) => {
                    QUEUE_FULL.flush(queue_full_message);
                    reply.send(self.finish(&mut buf, deadline, bound).await);
                    return;
                }
                Wake::HandlesGone => {
                    QUEUE_FULL.flush(queue_full_message);
                    // Deliver what is left and stop.
                    let bound = self.flush_timeout;
                    let _ = self.finish(&mut buf, Instant::now() + bound, bound).await;
                    return;
                }
            }
        }
    }

    /// Closes the queue, hands the lanes everything left in it and shuts them down, waiting
    /// for them until `deadline`. Past it, what is still in flight stays counted as in
    /// flight, and a lane still busy ends on its own once it is done.
    async fn finish(
        &self,
        buf: &mut Vec<ExportItem>,
        deadline: Instant,
        bound: Duration,
    ) -> Result<(), TraceError> {
        self.queue.close();
        self.pump(buf, true, Some(deadline)).await;
        let asked = self.ask_lanes(LaneMsg::Shutdown);
        answer(asked, deadline, bound, "shutdown", 0).await
    }

    /// Sends each lane a flush or shutdown request (never waiting) and notes its drops so far.
    fn ask_lanes(&self, make: fn(oneshot::Sender<Result<(), String>>) -> LaneMsg) -> Vec<Asked> {
        self.lanes
            .iter()
            .map(|lane| {
                let baseline = lane.reported_drops.load(Ordering::Relaxed);
                let (tx, rx) = oneshot::channel();
                let rx = lane.inbox.control(make(tx)).then_some(rx);
                Asked {
                    lane: lane.clone(),
                    baseline,
                    rx,
                }
            })
            .collect()
    }

    /// Moves queued items into full batches for the lanes; with `partial`, also the rest.
    /// Returns how many items it took from the queue.
    async fn pump(
        &self,
        buf: &mut Vec<ExportItem>,
        partial: bool,
        deadline: Option<Instant>,
    ) -> usize {
        self.pump_mode(buf, partial, false, deadline).await
    }

    async fn pump_mode(
        &self,
        buf: &mut Vec<ExportItem>,
        partial: bool,
        flushing: bool,
        deadline: Option<Instant>,
    ) -> usize {
        let mut total = 0;
        loop {
            let room = self.max_batch_size - buf.len();
            let got = self.queue.drain_into(buf, room, flushing);
            total += got;
            self.pending.fetch_add(got as u64, Ordering::Relaxed);
            if buf.len() == self.max_batch_size {
                self.dispatch(buf, deadline).await;
                continue;
            }
            // Fewer than asked for: every ring is empty now.
            if partial && !buf.is_empty() {
                self.dispatch(buf, deadline).await;
            }
            return total;
        }
    }

    /// Hands a batch to every lane. A lane whose inbox is full gets up to `lane_full_timeout`
    /// (and not past `deadline`) to make room (the other lanes run meanwhile, on their own
    /// threads, and producers keep filling their rings); one still full is stalled: the batch
    /// is dropped for it and counted, and so are the next ones, without waiting, until it has
    /// room again.
    async fn dispatch(&self, buf: &mut Vec<ExportItem>, deadline: Option<Instant>) {
        let batch = Arc::new(std::mem::replace(
            buf,
            Vec::with_capacity(self.max_batch_size),
        ));
        let n = batch.len() as u64;
        // The last lane gets this reference itself: then the lane that finishes last holds
        // the only one and can hand the batch's boxes back (`model::recycle`).
        let mut batch = Some(batch);
        let last = self.lanes.len().saturating_sub(1);
        for (i, lane) in self.lanes.iter().enumerate() {
            let this = if i == last {
                batch.take()
            } else {
                batch.clone()
            };
            let Some(this) = this else { break };
            LaneCounters::add(&lane.counters.in_flight, n);
            let sent = match lane.inbox.try_batch(LaneMsg::Batch(this)) {
                Ok(()) => {
                    lane.stalled.store(false, Ordering::Relaxed);
                    true
                }
                Err((Refused::Full, _)) if lane.stalled.load(Ordering::Relaxed) => false,
                Err((Refused::Full, msg)) => {
                    let mut until = Instant::now() + self.lane_full_timeout;
                    if let Some(d) = deadline {
                        until = until.min(d);
                    }
                    let sent = lane.inbox.batch_until(msg, until).await;
                    lane.stalled.store(!sent, Ordering::Relaxed);
                    sent
                }
                Err((Refused::Closed, _)) => false,
            };
            if !sent {
                LaneCounters::sub(&lane.counters.in_flight, n);
                let wait = self.lane_full_timeout;
                lane.counters.drop_items(n, || {
                    format!("its queue of batches stayed full for {wait:?} (the exporter is stuck or slower than the spans come)")
                });
                let name = lane.name.clone();
                LANE_FULL.hit(n, |c| {
                    format!("exporter {name} is not keeping up: dropped {c} item(s) since the last report (its queue of batches stayed full for {wait:?}: the backend is slow or down, or the exporter is stuck; see its export errors, or raise lane_full_timeout for short bursts)")
                });
            }
        }
        self.pending.fetch_sub(n, Ordering::Relaxed);
    }
}

/// A flush or shutdown request sent to one lane.
struct Asked {
    lane: Arc<LaneHandle>,
    /// The lane's drops already reported by an earlier flush.
    baseline: u64,
    /// The lane's answer; `None` if the lane is gone.
    rx: Option<oneshot::Receiver<Result<(), String>>>,
}

/// Waits for the lanes' answers until `deadline` and tells the truth: `Ok` only if every lane
/// answered without error and no item was dropped since the last flush. Lanes that did not
/// answer in time make it [`TraceError::Timeout`] (named in a diagnostic), drops alone
/// [`TraceError::Dropped`], anything else [`TraceError::Failed`] with every reason.
async fn answer(
    mut asked: Vec<Asked>,
    deadline: Instant,
    bound: Duration,
    what: &'static str,
    queue_drops: u64,
) -> Result<(), TraceError> {
    let mut errors = Vec::new();
    let mut late = Vec::new();
    for a in asked.iter_mut() {
        let name = &a.lane.name;
        let Some(rx) = a.rx.take() else {
            errors.push(lane_stopped(name));
            continue;
        };
        match tokio::time::timeout_at(deadline.into(), rx).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => errors.push(e),
            Ok(Err(_)) => errors.push(lane_stopped(name)),
            Err(_) => {
                let in_flight = a.lane.counters.in_flight.load(Ordering::Relaxed);
                late.push(format!("exporter {name} did not finish within {bound:?} ({in_flight} item(s) in flight: its export hangs, blocks or is slow; they are dropped and counted once it gives them up)"));
            }
        }
    }
    let mut dropped = queue_drops;
    let mut drops = Vec::new();
    if queue_drops > 0 {
        drops.push(format!("{queue_drops} item(s) dropped since the last flush because a producing thread's queue was full and the process's overflow budget was spent (counted in stats().dropped_queue_full; raise max_queue_size / OTEL_BSP_MAX_QUEUE_SIZE, or export faster)"));
    }
    for a in &asked {
        let now = a.lane.counters.dropped.load(Ordering::Relaxed);
        a.lane.reported_drops.fetch_max(now, Ordering::Relaxed);
        let n = now.saturating_sub(a.baseline);
        if n > 0 {
            dropped += n;
            let why = a.lane.counters.last_drop().unwrap_or_default();
            drops.push(format!(
                "exporter {}: {n} item(s) dropped instead of delivered since the last flush (last reason: {why}; counted in stats().exporters[..].dropped_export_failed)",
                a.lane.name
            ));
        }
    }
    if !late.is_empty() {
        emit(Diagnostic {
            key: "flush_timeout",
            message: format!("{what}: {}", late.join("; ")),
            count: 1,
        });
        if errors.is_empty() && drops.is_empty() {
            return Err(TraceError::Timeout {
                what,
                timeout: bound,
            });
        }
    }
    if errors.is_empty() && late.is_empty() {
        if drops.is_empty() {
            return Ok(());
        }
        return Err(TraceError::Dropped {
            dropped,
            message: drops.join("; "),
        });
    }
    errors.extend(late);
    errors.extend(drops);
    Err(TraceError::Failed(errors.join("; ")))
}

fn lane_stopped(name: &str) -> String {
    format!("exporter {name}: its lane stopped, its batches are counted as dropped (a bug in agent-trace: please report it)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::lane::inbox::inbox;
    use crate::model::{SpanData, SpanRecord};

    fn worker(inbox: Inbox) -> Worker {
        Worker {
            queue: Queue::new(16, 8),
            lanes: vec![Arc::new(LaneHandle {
                name: "slow".into(),
                inbox,
                counters: Arc::new(LaneCounters::default()),
                stalled: AtomicBool::new(false),
                reported_drops: AtomicU64::new(0),
            })],
            max_batch_size: 4,
            schedule_delay: Duration::from_secs(1),
            lane_full_timeout: Duration::from_millis(20),
            flush_timeout: Duration::from_secs(1),
            pending: Arc::new(AtomicU64::new(0)),
        }
    }

    fn one_item() -> Vec<ExportItem> {
        let r = SpanRecord::new(crate::TraceId::random(), None, SpanData::custom("s"));
        vec![ExportItem::Span(r)]
    }

    #[tokio::test]
    async fn a_full_lane_is_waited_for_once_then_skipped_until_it_has_room() {
        let (tx, mut rx) = inbox(1);
        let w = worker(tx);
        let lane = &w.lanes[0];
        let dropped = || lane.counters.dropped.load(Ordering::Relaxed);

        w.dispatch(&mut one_item(), None).await; // fills the lane
        assert_eq!(dropped(), 0);
        w.dispatch(&mut one_item(), None).await; // waits, then drops
        assert_eq!(dropped(), 1);
        assert!(lane.stalled.load(Ordering::Relaxed));
        w.dispatch(&mut one_item(), None).await; // stalled: dropped without waiting
        assert_eq!(dropped(), 2);

        // The lane takes its batch: it has room again and is no longer stalled.
        assert!(matches!(rx.recv().await, Some(LaneMsg::Batch(_))));
        w.dispatch(&mut one_item(), None).await;
        assert_eq!(dropped(), 2);
        assert!(!lane.stalled.load(Ordering::Relaxed));
        assert_eq!(lane.counters.in_flight.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_flush_reports_drops_once_and_a_silent_lane_by_its_deadline() {
        let (tx, mut rx) = inbox(1);
        let w = worker(tx);
        w.dispatch(&mut one_item(), None).await;
        w.dispatch(&mut one_item(), None).await; // dropped: the lane is full
                                                 // The lane never answers: the flush ends by its deadline, naming the drop.
        let asked = w.ask_lanes(LaneMsg::Flush);
        let soon = Instant::now() + Duration::from_millis(50);
        let r = answer(asked, soon, Duration::from_millis(50), "force_flush", 0).await;
        match r {
            Err(TraceError::Failed(text)) => {
                assert!(text.contains("did not finish"), "{text}");
                assert!(text.contains("1 item(s) dropped"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        // The lane answers the next one: the drop was reported already, so it is Ok.
        let asked = w.ask_lanes(LaneMsg::Flush);
        let lane = tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if let LaneMsg::Flush(reply) = msg {
                    let _ = reply.send(Ok(()));
                }
            }
        });
        let later = Instant::now() + Duration::from_secs(10);
        let r = answer(asked, later, Duration::from_secs(10), "force_flush", 0).await;
        assert_eq!(r, Ok(()));
        drop(w);
        lane.await.unwrap();
    }
}
