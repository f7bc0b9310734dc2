//! The hand-off from instrumented threads to the export thread.
//!
//! Each thread that ends spans gets its own single-producer ring per processor (`rtrb`): a span
//! end is one write and one release store into memory no other core writes, so producers on
//! different cores never contend. The export thread drains every ring — on a wake-up sent after
//! each `max_batch_size` pushes, on its timer, and on flush — so partial rings of idle threads
//! are reached too. A ring outlives its thread: what a thread pushed before it exited is still
//! drained (fastrace loses it). Pushes from a thread whose thread-locals are already torn down
//! go to a small locked overflow list instead.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rtrb::{Consumer, Producer, PushError, RingBuffer};
use tokio::sync::Notify;

use crate::model::ExportItem;

/// Counters a producing thread writes and the export thread reads. Single writer: updates are
/// plain load + store, no locked instruction.
#[derive(Default)]
struct RingCounters {
    pushed: AtomicU64,
    dropped_full: AtomicU64,
}

impl RingCounters {
    #[inline]
    fn bump(c: &AtomicU64) {
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
}

struct Ring {
    consumer: Consumer<ExportItem>,
    counters: Arc<RingCounters>,
}

struct Local {
    queue_id: usize,
    producer: Producer<ExportItem>,
    counters: Arc<RingCounters>,
    since_wake: u32,
    queue: Arc<Queue>,
}

thread_local! {
    static LOCAL: RefCell<Vec<Local>> = const { RefCell::new(Vec::new()) };
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

#[derive(Default)]
struct Registry {
    rings: Vec<Ring>,
    /// Counters of rings whose thread exited and that were drained and removed.
    retired_pushed: u64,
    retired_dropped_full: u64,
}

/// Queue totals at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct QueueCounts {
    pub(crate) enqueued: u64,
    pub(crate) dropped_full: u64,
    pub(crate) dropped_closed: u64,
    pub(crate) in_rings: u64,
}

pub(crate) struct Queue {
    id: usize,
    ring_capacity: usize,
    wake_every: u32,
    registry: Mutex<Registry>,
    overflow: Mutex<Vec<ExportItem>>,
    overflow_pushed: AtomicU64,
    overflow_dropped: AtomicU64,
    dropped_closed: AtomicU64,
    closed: AtomicBool,
    pub(crate) notify: Notify,
}

impl Queue {
    pub(crate) fn new(ring_capacity: usize, wake_every: usize) -> Arc<Queue> {
        Arc::new(Queue {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ring_capacity: ring_capacity.max(1),
            wake_every: wake_every.clamp(1, u32::MAX as usize) as u32,
            registry: Mutex::new(Registry::default()),
            overflow: Mutex::new(Vec::new()),
            overflow_pushed: AtomicU64::new(0),
            overflow_dropped: AtomicU64::new(0),
            dropped_closed: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            notify: Notify::new(),
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops accepting items; later pushes are counted as `dropped_closed`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Enqueues an item without blocking. Never fails: an item that does not fit is dropped and
    /// counted.
    #[inline]
    pub(crate) fn push(self: &Arc<Self>, item: ExportItem) {
        if self.closed.load(Ordering::Relaxed) {
            self.dropped_closed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut item = Some(item);
        let _ = LOCAL.try_with(|locals| {
            let Ok(mut locals) = locals.try_borrow_mut() else {
                return;
            };
            let idx = match locals.iter().position(|l| l.queue_id == self.id) {
                Some(i) => i,
                None => {
                    locals.push(self.register());
                    locals.len() - 1
                }
            };
            let local = &mut locals[idx];
            let Some(it) = item.take() else { return };
            match local.producer.push(it) {
                Ok(()) => {
                    RingCounters::bump(&local.counters.pushed);
                    local.since_wake += 1;
                    if local.since_wake >= self.wake_every {
                        local.since_wake = 0;
                        self.notify.notify_one();
                    }
                }
                Err(PushError::Full(dropped)) => {
                    RingCounters::bump(&local.counters.dropped_full);
                    self.notify.notify_one();
                    drop(dropped);
                }
            }
        });
        if let Some(item) = item {
            self.push_overflow(item);
        }
    }

    #[cold]
    fn register(self: &Arc<Self>) -> Local {
        let (producer, consumer) = RingBuffer::new(self.ring_capacity);
        let counters = Arc::new(RingCounters::default());
        self.registry().rings.push(Ring {
            consumer,
            counters: counters.clone(),
        });
        Local {
            queue_id: self.id,
            producer,
            counters,
            since_wake: 0,
            queue: self.clone(),
        }
    }

    #[cold]
    fn push_overflow(&self, item: ExportItem) {
        let mut o = self.overflow.lock().unwrap_or_else(|p| p.into_inner());
        if o.len() >= self.ring_capacity {
            self.overflow_dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            o.push(item);
            self.overflow_pushed.fetch_add(1, Ordering::Relaxed);
        }
        drop(o);
        self.notify.notify_one();
    }

    /// Moves up to `max` queued items into `out`; returns how many.
    pub(crate) fn drain_into(&self, out: &mut Vec<ExportItem>, max: usize) -> usize {
        let start = out.len();
        {
            let mut o = self.overflow.lock().unwrap_or_else(|p| p.into_inner());
            let n = o.len().min(max);
            out.extend(o.drain(..n));
        }
        let mut reg = self.registry();
        let reg = &mut *reg;
        for ring in reg.rings.iter_mut() {
            let room = max - (out.len() - start);
            if room == 0 {
                break;
            }
            let n = ring.consumer.slots().min(room);
            if n == 0 {
                continue;
            }
            if let Ok(chunk) = ring.consumer.read_chunk(n) {
                out.extend(chunk);
            }
        }
        let (retired_pushed, retired_dropped) =
            (&mut reg.retired_pushed, &mut reg.retired_dropped_full);
        reg.rings.retain(|r| {
            let keep = !(r.consumer.is_abandoned() && r.consumer.is_empty());
            if !keep {
                *retired_pushed += r.counters.pushed.load(Ordering::Relaxed);
                *retired_dropped += r.counters.dropped_full.load(Ordering::Relaxed);
            }
            keep
        });
        out.len() - start
    }

    /// Current totals. `enqueued` counts every item accepted (rings and overflow).
    pub(crate) fn counts(&self) -> QueueCounts {
        let reg = self.registry();
        let mut c = QueueCounts {
            enqueued: reg.retired_pushed + self.overflow_pushed.load(Ordering::Relaxed),
            dropped_full: reg.retired_dropped_full + self.overflow_dropped.load(Ordering::Relaxed),
            dropped_closed: self.dropped_closed.load(Ordering::Relaxed),
            in_rings: 0,
        };
        for r in &reg.rings {
            c.enqueued += r.counters.pushed.load(Ordering::Relaxed);
            c.dropped_full += r.counters.dropped_full.load(Ordering::Relaxed);
            c.in_rings += r.consumer.slots() as u64;
        }
        drop(reg);
        c.in_rings += self
            .overflow
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len() as u64;
        c
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // The thread is exiting: make sure the export thread looks at what it left behind.
        self.queue.notify.notify_one();
    }
}
