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
//! it).
//!
//! ## Bursts: the overflow list and its global budget
//! A thread whose ring is full does not drop at once: it spills into its queue's locked
//! overflow list, borrowing one unit of a budget shared by every queue of the process
//! ([`OVERFLOW_BUDGET`] items); the export thread gives the unit back as it drains the item.
//! Only when the budget is spent is an item dropped (and counted). So a burst that outruns the
//! export thread for a moment (5,000 conversations ending their spans at once on 4 workers) is
//! absorbed, and the memory it can take stays bounded: rings of `max_queue_size` items per
//! producing thread, plus at most [`OVERFLOW_BUDGET`] items for the whole process. Once a
//! thread has spilled, its next items follow into the overflow list until the export thread
//! has drained what it spilled, so one thread's items keep their order. Pushes from a thread
//! whose thread-locals are already torn down go to the overflow list too.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rtrb::{Consumer, Producer, RingBuffer};
use tokio::sync::Notify;

use std::mem::MaybeUninit;

use crate::model::{ExportItem, SpanRecord, TraceRecord};

/// Drops counted by a producing thread, read by the export thread. Single writer: the update
/// is a plain load + store, no locked instruction. (What a ring accepted needs no producer-side
/// counter: it is what the export thread drained plus what is still in the ring.)
#[derive(Default)]
struct RingDrops(AtomicU64);

/// A ring cell: an item on a cache-line boundary. A 192-byte record then takes three lines of
/// the ring, not four (a ring's buffer, from the allocator, starts 16 bytes past a line), and
/// those lines are what moves between the producing core and the export thread's.
#[repr(C, align(64))]
struct Cell64(ExportItem);

struct Ring {
    consumer: Consumer<Cell64>,
    drops: Arc<RingDrops>,
    drained: u64,
    /// What `drained` must reach for a flush in progress: what the ring held when it began.
    flush_target: u64,
}

struct Local {
    queue_id: usize,
    producer: Producer<Cell64>,
    drops: Arc<RingDrops>,
    since_check: u32,
    /// The overflow sequence number just past this thread's last spilled item (0: none
    /// waiting). While the export thread has not drained that far, this thread keeps spilling
    /// so its items stay in order.
    spilled_until: u64,
    queue: Arc<Queue>,
}

/// Items every queue of the process may hold in its overflow list, all queues together: about
/// 12 MiB of records (192 bytes each) plus what they point to (names, attributes). A burst
/// that would need more drops the excess, counted in `dropped_queue_full`.
pub(crate) const OVERFLOW_BUDGET: usize = 65_536;

/// Units of [`OVERFLOW_BUDGET`] lent out now.
static OVERFLOW_IN_USE: AtomicUsize = AtomicUsize::new(0);

/// Takes one unit of the overflow budget; `false` when it is spent.
fn borrow_one() -> bool {
    OVERFLOW_IN_USE
        .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
            (n < OVERFLOW_BUDGET).then_some(n + 1)
        })
        .is_ok()
}

fn give_back(n: usize) {
    if n > 0 {
        OVERFLOW_IN_USE.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Items that did not fit in their thread's ring, oldest first. Sequence numbers count every
/// item ever pushed: `pushed` is the next one, `drained` the first not yet drained.
#[derive(Default)]
struct Overflow {
    items: VecDeque<ExportItem>,
    pushed: u64,
    drained: u64,
    /// What `drained` must reach for a flush in progress.
    flush_target: u64,
    /// Items that found no ring and no budget (threads whose locals were torn down).
    dropped: u64,
}

/// What a push enqueues, made only once there is room for it: a closure that returns the item,
/// or [`TakeSpan`], which moves a span record from its slot straight into the ring's cell (one
/// copy of the record, where building the item first and then writing it costs three).
pub(crate) trait ItemSource {
    /// Writes the item into `cell`; `false` (and `cell` left as it was) when there is none.
    fn write_to(self, cell: &mut MaybeUninit<ExportItem>) -> bool;
    /// The item as a value (for the overflow list).
    fn into_item(self) -> Option<ExportItem>;
}

impl<F: FnOnce() -> Option<ExportItem>> ItemSource for F {
    #[inline]
    fn write_to(self, cell: &mut MaybeUninit<ExportItem>) -> bool {
        match self() {
            Some(item) => {
                cell.write(item);
                true
            }
            None => false,
        }
    }

    #[inline]
    fn into_item(self) -> Option<ExportItem> {
        self()
    }
}

/// A copy of a trace record, made straight into the ring's cell (see [`ItemSource`]).
pub(crate) struct CloneTrace<'a>(pub(crate) &'a TraceRecord);

impl ItemSource for CloneTrace<'_> {
    #[inline]
    fn write_to(self, cell: &mut MaybeUninit<ExportItem>) -> bool {
        cell.write(ExportItem::Trace(self.0.clone()));
        true
    }

    #[inline]
    fn into_item(self) -> Option<ExportItem> {
        Some(ExportItem::Trace(self.0.clone()))
    }
}

/// Moves the span record out of a span's slot (see [`ItemSource`]).
pub(crate) struct TakeSpan<'a>(pub(crate) &'a mut Option<SpanRecord>);

impl ItemSource for TakeSpan<'_> {
    #[inline]
    fn write_to(self, cell: &mut MaybeUninit<ExportItem>) -> bool {
        let Some(record) = self.0.as_ref() else {
            return false;
        };
        // SAFETY: the record is read once, straight into the cell, and the slot is then
        // overwritten with `None` without dropping what it held, so the record has exactly one
        // owner (the cell) afterwards; nothing between the two can panic.
        unsafe {
            cell.as_mut_ptr()
                .write(ExportItem::Span(std::ptr::read(record)));
            std::ptr::write(self.0, None);
        }
        true
    }

    #[inline]
    fn into_item(self) -> Option<ExportItem> {
        self.0.take().map(ExportItem::Span)
    }
}

/// Writes `make`'s item into the next cell of a ring; `make` back when the ring is full.
#[inline(always)]
fn write_one<S: ItemSource>(producer: &mut Producer<Cell64>, make: S) -> Result<(), S> {
    let Ok(mut chunk) = producer.write_chunk_uninit(1) else {
        return Err(make);
    };
    let (first, _) = chunk.as_mut_slices();
    if let Some(cell) = first.first_mut() {
        // SAFETY: `Cell64` is `repr(C)` with the item as its only field, at offset 0; an
        // uninitialized `Cell64` is an uninitialized item followed by padding.
        let item = unsafe { &mut *cell.as_mut_ptr().cast::<MaybeUninit<ExportItem>>() };
        if make.write_to(item) {
            // SAFETY: `write_to` initialized the one slot of the chunk.
            unsafe { chunk.commit(1) };
        }
    }
    Ok(())
}

/// How often (in pushes) a producer looks at its ring's fill level.
const CHECK_EVERY: u32 = 64;

thread_local! {
    /// This thread's rings, one per queue it pushed to. Boxed, so a `Local` stays where it is
    /// while the list grows: [`HOT`] points into it.
    static LOCAL: RefCell<Locals> = const { RefCell::new(Locals(Vec::new())) };
    /// The queue id and `Local` of this thread's last push: the fast path of the next one (one
    /// plain thread-local load, where `LOCAL` pays its destructor-registration check, a borrow
    /// flag and a search). Null until set, and reset before `LOCAL` lets any `Local` go, so a
    /// non-null pointer is always live. It has no destructor, so it stays readable while the
    /// thread's other thread-locals are torn down.
    static HOT: Cell<(usize, *mut Local)> = const { Cell::new((0, std::ptr::null_mut())) };
}

// Boxed on purpose (clippy's `vec_box` notwithstanding): `HOT` points at a `Local`, which
// must not move when the list grows.
#[allow(clippy::vec_box)]
struct Locals(Vec<Box<Local>>);

impl Drop for Locals {
    fn drop(&mut self) {
        // The thread is exiting: no fast-path pointer may outlive the rings.
        HOT.with(|h| h.set((0, std::ptr::null_mut())));
    }
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
    overflow: Mutex<Overflow>,
    /// `Overflow::drained`, readable by producers without the lock.
    overflow_drained: AtomicU64,
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
            overflow: Mutex::new(Overflow::default()),
            overflow_drained: AtomicU64::new(0),
            dropped_closed: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            notify: Notify::new(),
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn overflow(&self) -> MutexGuard<'_, Overflow> {
        self.overflow.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops accepting items; later pushes are counted as `dropped_closed`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Enqueues the item `make` gives without blocking; `make` runs only once there is room
    /// (so a span record left behind is dropped by its owner). Never fails: an item that fits
    /// neither in the ring nor in the overflow budget is counted as dropped.
    #[inline]
    pub(crate) fn push_with(self: &Arc<Self>, make: impl ItemSource) {
        if self.closed.load(Ordering::Relaxed) {
            self.dropped_closed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let (id, local) = HOT.with(Cell::get);
        if id == self.id && !local.is_null() {
            // SAFETY: HOT is non-null only while the boxed `Local` it points to is in this
            // thread's `LOCAL` (it is reset before any is removed or the list is dropped), and
            // only this thread reaches it. Nothing below re-enters `push_with` (`make` moves or
            // clones a record), so this is the only reference for the call.
            self.push_local(unsafe { &mut *local }, make);
            return;
        }
        self.push_slow(make);
    }

    /// The first push of this thread to this queue, or after it pushed to another queue.
    #[cold]
    #[inline(never)]
    fn push_slow(self: &Arc<Self>, make: impl ItemSource) {
        let mut make = Some(make);
        let _ = LOCAL.try_with(|locals| {
            let Ok(mut locals) = locals.try_borrow_mut() else {
                return;
            };
            let idx = match locals.0.iter().position(|l| l.queue_id == self.id) {
                Some(i) => i,
                None => {
                    // Rings of processors that were shut down are of no use any more: let
                    // them go, so a thread that outlives many providers does not keep them.
                    HOT.with(|h| h.set((0, std::ptr::null_mut())));
                    locals.0.retain(|l| !l.queue.closed.load(Ordering::Relaxed));
                    locals.0.push(Box::new(self.register()));
                    locals.0.len() - 1
                }
            };
            // One raw pointer for both `HOT` and this push: a reference used after the pointer
            // was stored would invalidate the pointer (the next fast path goes through it).
            let local: *mut Local = &mut *locals.0[idx];
            HOT.with(|h| h.set((self.id, local)));
            if let Some(m) = make.take() {
                // SAFETY: `local` points into the boxed `Local` the borrow above holds.
                self.push_local(unsafe { &mut *local }, m);
            }
        });
        // This thread's locals are gone (it is exiting): the shared overflow list instead.
        if let Some(item) = make.and_then(ItemSource::into_item) {
            self.push_overflow(item);
        }
    }

    #[inline(always)]
    fn push_local(&self, local: &mut Local, make: impl ItemSource) {
        if local.spilled_until != 0 {
            if local.spilled_until > self.overflow_drained.load(Ordering::Acquire) {
                // Older items of this thread still wait in the overflow list: follow them.
                self.spill(local, make);
                return;
            }
            local.spilled_until = 0;
        }
        if let Err(make) = write_one(&mut local.producer, make) {
            self.spill(local, make);
            return;
        }
        local.since_check += 1;
        if local.since_check >= CHECK_EVERY {
            local.since_check = 0;
            if self.ring_capacity - local.producer.slots() >= self.wake_at {
                self.notify.notify_one();
            }
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
            spilled_until: 0,
            queue: self.clone(),
        }
    }

    /// The ring of `local` is full, or its older items wait in the overflow list: the item goes
    /// to the overflow list if the process's budget allows, else it is dropped and counted.
    #[cold]
    #[inline(never)]
    fn spill(&self, local: &mut Local, make: impl ItemSource) {
        if !borrow_one() {
            if local.spilled_until == 0 {
                // Nothing of this thread is waiting: the ring, if it has room again.
                if write_one(&mut local.producer, make).is_ok() {
                    return;
                }
            }
            let d = &local.drops.0;
            d.store(d.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            self.notify.notify_one();
            return;
        }
        let Some(item) = make.into_item() else {
            give_back(1);
            return;
        };
        local.spilled_until = self.push_borrowed(item);
        // Past half the budget, producers outrun the export thread: on a machine with no core
        // to spare, this one gives its time slice up so the export thread can drain before the
        // budget runs out (it does not wait; the span is already queued).
        if OVERFLOW_IN_USE.load(Ordering::Relaxed) > OVERFLOW_BUDGET / 2 {
            std::thread::yield_now();
        }
    }

    /// Appends an item whose budget unit is already taken; returns the sequence number just
    /// past it.
    fn push_borrowed(&self, item: ExportItem) -> u64 {
        let mut o = self.overflow();
        o.items.push_back(item);
        o.pushed += 1;
        let (until, len) = (o.pushed, o.items.len());
        drop(o);
        // The export thread's timer picks these up; wake it at the first and then now and then.
        if len == 1 || len % 512 == 0 {
            self.notify.notify_one();
        }
        until
    }

    /// A push from a thread whose locals are gone (it is exiting).
    fn push_overflow(&self, item: ExportItem) {
        if borrow_one() {
            self.push_borrowed(item);
        } else {
            self.overflow().dropped += 1;
            self.notify.notify_one();
        }
    }

    /// Marks what every ring and the overflow list hold now: a flush drains exactly that (see
    /// [`Queue::drain_into`]), so producers that keep pushing cannot make it run forever.
    pub(crate) fn mark_flush(&self) {
        for ring in self.registry().rings.iter_mut() {
            ring.flush_target = ring.drained + ring.consumer.slots() as u64;
        }
        let mut o = self.overflow();
        o.flush_target = o.pushed;
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
                out.extend(chunk.into_iter().map(|c| c.0));
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
        // The overflow list after the rings: a thread spills only what comes after what its
        // ring holds, and trace records end after their spans.
        let room = max - (out.len() - start);
        let mut o = self.overflow();
        let mut n = o.items.len().min(room);
        if flushing {
            n = n.min(o.flush_target.saturating_sub(o.drained) as usize);
        }
        if n > 0 {
            out.extend(o.items.drain(..n));
            o.drained += n as u64;
            self.overflow_drained.store(o.drained, Ordering::Release);
            give_back(n);
            // After a burst, give the memory back too.
            if o.items.is_empty() && o.items.capacity() > 4096 {
                o.items = VecDeque::new();
            }
        }
        out.len() - start
    }

    /// Current totals. `enqueued` counts every item accepted (rings and overflow).
    pub(crate) fn counts(&self) -> QueueCounts {
        let reg = self.registry();
        let o = self.overflow();
        let mut c = QueueCounts {
            enqueued: reg.retired_pushed + o.pushed,
            dropped_full: reg.retired_dropped_full + o.dropped,
            dropped_closed: self.dropped_closed.load(Ordering::Relaxed),
            in_rings: o.items.len() as u64,
        };
        drop(o);
        for r in &reg.rings {
            let in_ring = r.consumer.slots() as u64;
            c.enqueued += r.drained + in_ring;
            c.dropped_full += r.drops.0.load(Ordering::Relaxed);
            c.in_rings += in_ring;
        }
        drop(reg);
        c
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // Items never drained (an export thread that could not start, a shutdown past its
        // deadline) give their budget back.
        give_back(self.overflow().items.len());
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // The thread is exiting: make sure the export thread looks at what it left behind.
        self.queue.notify.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanData;

    fn item() -> ExportItem {
        ExportItem::Span(SpanRecord::new(
            crate::TraceId::random(),
            None,
            SpanData::custom("s"),
        ))
    }

    fn span_id(i: &ExportItem) -> crate::SpanId {
        match i {
            ExportItem::Span(s) => s.id,
            ExportItem::Trace(_) => unreachable!("only spans are pushed here"),
        }
    }

    fn slot() -> Option<SpanRecord> {
        match item() {
            ExportItem::Span(s) => Some(s),
            ExportItem::Trace(_) => unreachable!("item() makes spans"),
        }
    }

    /// The thread-local fast path (`HOT`) across queue switches, a queue closed while this
    /// thread holds its ring, and a thread that exits: every record moved in once, counted once.
    /// (Run under Miri too: the fast path's pointer must stay valid across pushes.)
    #[test]
    fn moved_records_are_counted_once_across_queue_switches_closes_and_thread_exits() {
        let a = Queue::new(4, 2);
        let b = Queue::new(4, 2);
        for i in 0..12 {
            let q = if i % 3 == 0 { &a } else { &b };
            let mut s = slot();
            q.push_with(TakeSpan(&mut s));
            if i == 6 {
                a.close();
                // A new queue registers while `a`'s ring is dropped from this thread's list.
                let c = Queue::new(4, 2);
                c.push_with(|| Some(item()));
                assert_eq!(c.counts().enqueued, 1);
            }
            // Taken by the queue, or (closed) left for its owner to drop.
            assert_eq!(s.is_none(), i != 9, "push {i}");
        }
        let b2 = b.clone();
        std::thread::spawn(move || {
            for _ in 0..6 {
                let mut s = slot();
                b2.push_with(TakeSpan(&mut s));
                assert!(s.is_none());
            }
        })
        .join()
        .unwrap();
        let (ca, cb) = (a.counts(), b.counts());
        assert_eq!((ca.enqueued, ca.dropped_closed), (3, 1), "{ca:?}");
        assert_eq!((cb.enqueued, cb.dropped_full), (14, 0), "{cb:?}");
        let mut out = Vec::new();
        while b.drain_into(&mut out, 3, false) > 0 {}
        while a.drain_into(&mut out, 3, false) > 0 {}
        assert_eq!(out.len(), 17);
    }

    #[test]
    fn a_full_ring_spills_into_the_overflow_list_and_keeps_the_threads_order() {
        let q = Queue::new(16, 8);
        let mut pushed = Vec::new();
        let push = |q: &Arc<Queue>, pushed: &mut Vec<crate::SpanId>| {
            let i = item();
            pushed.push(span_id(&i));
            q.push_with(|| Some(i));
        };
        for _ in 0..40 {
            push(&q, &mut pushed);
        }
        let c = q.counts();
        assert_eq!((c.enqueued, c.dropped_full, c.in_rings), (40, 0, 40));
        // Part of the ring drained: the ring has room, but this thread's spilled items are
        // still waiting, so the next item follows them.
        let mut out = Vec::new();
        assert_eq!(q.drain_into(&mut out, 10, false), 10);
        push(&q, &mut pushed);
        while q.drain_into(&mut out, 7, false) > 0 {}
        let drained: Vec<_> = out.iter().map(span_id).collect();
        assert_eq!(drained, pushed);
        // Everything drained: the thread is back on its ring.
        push(&q, &mut pushed);
        assert_eq!(q.overflow().items.len(), 0);
        assert_eq!(q.counts().in_rings, 1);
    }

    #[test]
    fn past_the_global_budget_items_are_dropped_and_counted() {
        let q = Queue::new(16, 8);
        let total = 16 + OVERFLOW_BUDGET as u64 + 100;
        for _ in 0..total {
            q.push_with(|| Some(item()));
        }
        let c = q.counts();
        // Other tests of this process may hold part of the budget at the same time.
        assert!(c.enqueued <= 16 + OVERFLOW_BUDGET as u64, "{c:?}");
        assert!(c.dropped_full >= 100, "{c:?}");
        assert_eq!(c.enqueued + c.dropped_full, total, "{c:?}");
        assert_eq!(c.in_rings, c.enqueued);
        // Draining gives the budget back: the next burst is absorbed again.
        let mut out = Vec::new();
        while q.drain_into(&mut out, 4096, false) > 0 {
            out.clear();
        }
        for _ in 0..100 {
            q.push_with(|| Some(item()));
        }
        assert_eq!(q.counts().dropped_full, c.dropped_full);
    }

    #[test]
    fn a_flush_drains_the_overflow_list_only_up_to_its_mark() {
        let q = Queue::new(16, 8);
        for _ in 0..30 {
            q.push_with(|| Some(item()));
        }
        q.mark_flush();
        for _ in 0..5 {
            q.push_with(|| Some(item()));
        }
        let mut out = Vec::new();
        while q.drain_into(&mut out, 4, true) > 0 {}
        assert_eq!(out.len(), 30);
        assert_eq!(q.counts().in_rings, 5);
    }
}
