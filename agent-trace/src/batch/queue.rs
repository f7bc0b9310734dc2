//! The hand-off from instrumented threads to the export thread.
//!
//! Each thread that ends spans gets its own single-producer ring per processor (`rtrb`): a span
//! end is one copy of the record into the ring and one release store, into memory no other core
//! writes, so producers on different cores never contend. The export thread drains every ring
//! on its own adaptive timer (often while spans flow, rarely when idle), when a producer finds
//! its ring filled to the builder's `export_trigger_ratio` of its capacity (default 0.7; a
//! producer looks every 64 pushes) or full, and on flush — so partial rings of idle threads
//! are reached too, and a busy producer wakes the export thread only when it must (a wake-up
//! is a syscall). A ring
//! outlives its thread: what a thread pushed before it exited is still drained (fastrace loses
//! it). Pushes from a thread whose thread-locals are already torn down go to a small locked
//! overflow list instead.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rtrb::{Consumer, Producer, RingBuffer};
use tokio::sync::Notify;

use crate::model::ExportItem;

/// Drops counted by a producing thread, read by the export thread. Single writer: the update
/// is a plain load + store, no locked instruction. (What a ring accepted needs no producer-side
/// counter: it is what the export thread drained plus what is still in the ring.)
#[derive(Default)]
struct RingDrops(AtomicU64);

struct Ring {
    consumer: Consumer<ExportItem>,
    drops: Arc<RingDrops>,
    drained: u64,
    /// What `drained` must reach for a flush in progress: what the ring held when it began.
    flush_target: u64,
}

struct Local {
    queue_id: usize,
    producer: Producer<ExportItem>,
    drops: Arc<RingDrops>,
    since_check: u32,
    queue: Arc<Queue>,
}

/// How often (in pushes) a producer looks at its ring's fill level.
const CHECK_EVERY: u32 = 64;

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
    /// A producer wakes the export thread once its ring holds this many items.
    wake_at: usize,
    registry: Mutex<Registry>,
    overflow: Mutex<Vec<ExportItem>>,
    overflow_pushed: AtomicU64,
    overflow_dropped: AtomicU64,
    dropped_closed: AtomicU64,
    closed: AtomicBool,
    pub(crate) notify: Notify,
}

impl Queue {
    pub(crate) fn new(ring_capacity: usize, wake_at: usize) -> Arc<Queue> {
        Arc::new(Queue {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ring_capacity: ring_capacity.max(1),
            wake_at: wake_at.clamp(1, ring_capacity.max(1)),
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

    /// Enqueues the item `make` gives without blocking; `make` runs only once there is room
    /// (so a span record left behind is dropped by its owner). Never fails: an item that does
    /// not fit is counted as dropped.
    #[inline]
    pub(crate) fn push_with(self: &Arc<Self>, make: impl FnOnce() -> Option<ExportItem>) {
        if self.closed.load(Ordering::Relaxed) {
            self.dropped_closed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut make = Some(make);
        let _ = LOCAL.try_with(|locals| {
            let Ok(mut locals) = locals.try_borrow_mut() else {
                return;
            };
            let idx = match locals.iter().position(|l| l.queue_id == self.id) {
                Some(i) => i,
                None => {
                    // Rings of processors that were shut down are of no use any more: let
                    // them go, so a thread that outlives many providers does not keep them.
                    locals.retain(|l| !l.queue.closed.load(Ordering::Relaxed));
                    locals.push(self.register());
                    locals.len() - 1
                }
            };
            let local = &mut locals[idx];
            let Ok(mut chunk) = local.producer.write_chunk_uninit(1) else {
                make = None;
                let d = &local.drops.0;
                d.store(d.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                self.notify.notify_one();
                return;
            };
            let (first, _) = chunk.as_mut_slices();
            if let (Some(cell), Some(item)) = (first.first_mut(), make.take().and_then(|m| m())) {
                cell.write(item);
                // SAFETY: the one slot of the chunk was initialized just above.
                unsafe { chunk.commit(1) };
            }
            local.since_check += 1;
            if local.since_check >= CHECK_EVERY {
                local.since_check = 0;
                if self.ring_capacity - local.producer.slots() >= self.wake_at {
                    self.notify.notify_one();
                }
            }
        });
        // This thread's locals are gone (it is exiting): the shared overflow list instead.
        if let Some(item) = make.and_then(|m| m()) {
            self.push_overflow(item);
        }
    }

    #[cold]
    fn register(self: &Arc<Self>) -> Local {
        let (producer, consumer) = RingBuffer::new(self.ring_capacity);
        let drops = Arc::new(RingDrops::default());
        self.registry().rings.push(Ring {
            consumer,
            drops: drops.clone(),
            drained: 0,
            flush_target: 0,
        });
        Local {
            queue_id: self.id,
            producer,
            drops,
            since_check: 0,
            queue: self.clone(),
        }
    }

    fn push_overflow(&self, item: ExportItem) {
        let mut o = self.overflow.lock().unwrap_or_else(|p| p.into_inner());
        if o.len() >= self.ring_capacity {
            self.overflow_dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            o.push(item);
            self.overflow_pushed.fetch_add(1, Ordering::Relaxed);
        }
        // The export thread's timer picks these up; wake it early only when they pile up.
        if o.len() >= self.wake_at {
            self.notify.notify_one();
        }
    }

    /// Marks what every ring holds now: a flush drains exactly that (see
    /// [`Queue::drain_into`]), so producers that keep pushing cannot make it run forever.
    pub(crate) fn mark_flush(&self) {
        for ring in self.registry().rings.iter_mut() {
            ring.flush_target = ring.drained + ring.consumer.slots() as u64;
        }
    }

    /// Moves up to `max` queued items into `out`; returns how many. With `flushing`, only
    /// items queued before the last [`Queue::mark_flush`].
    pub(crate) fn drain_into(
        &self,
        out: &mut Vec<ExportItem>,
        max: usize,
        flushing: bool,
    ) -> usize {
        let start = out.len();
        let mut guard = self.registry();
        let reg = &mut *guard;
        for ring in reg.rings.iter_mut() {
            let room = max - (out.len() - start);
            if room == 0 {
                break;
            }
            let mut n = ring.consumer.slots().min(room);
            if flushing {
                n = n.min(ring.flush_target.saturating_sub(ring.drained) as usize);
            }
            if n == 0 {
                continue;
            }
            if let Ok(chunk) = ring.consumer.read_chunk(n) {
                out.extend(chunk);
                ring.drained += n as u64;
            }
        }
        let (retired_pushed, retired_dropped) =
            (&mut reg.retired_pushed, &mut reg.retired_dropped_full);
        reg.rings.retain(|r| {
            let keep = !(r.consumer.is_abandoned() && r.consumer.is_empty());
            if !keep {
                *retired_pushed += r.drained;
                *retired_dropped += r.drops.0.load(Ordering::Relaxed);
            }
            keep
        });
        drop(guard);
        // The overflow list after the rings: trace records end after their spans.
        let room = max - (out.len() - start);
        let mut o = self.overflow.lock().unwrap_or_else(|p| p.into_inner());
        let n = o.len().min(room);
        out.extend(o.drain(..n));
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
            let in_ring = r.consumer.slots() as u64;
            c.enqueued += r.drained + in_ring;
            c.dropped_full += r.drops.0.load(Ordering::Relaxed);
            c.in_rings += in_ring;
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
