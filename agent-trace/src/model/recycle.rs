//! Generation data boxes handed back by the export side to the threads that start spans.
//!
//! A generation span's data is boxed ([`SpanData::Generation`]): about 180 bytes, too large
//! for the enum every span carries. The span starts on an instrumented thread, and its record
//! is dropped on an export lane's thread once every exporter has it. With glibc's allocator
//! that split is slow: a chunk of that size is past glibc's per-thread fast bins, so the lane
//! thread's `free` takes the arena lock and the producing thread's next `malloc` finds its own
//! cache empty and takes the lock and the sorted bins too (about 190 instructions, and the lock's
//! cache line moving between the two cores). Measured in the settled bench
//! (`cargo bench -p agent-trace-benches --bench settled`), that cost most of the gap between a
//! generation span and a plain one; an allocator with per-thread cross-thread free lists
//! (mimalloc) closed most of it.
//!
//! So the lane that drops a batch last gives the emptied boxes back to a process-wide pool
//! ([`give_back`]), and a thread starting a generation span takes one from its own small
//! cache, refilled from the pool [`REFILL`] at a time ([`generation_box`]): one lock per
//! batch on the export side and per [`REFILL`] spans on the producing side, and no allocator
//! call on either. Memory stays bounded: at most [`POOL_CAP`] boxes in the pool and
//! [`REFILL`] per thread; past that, boxes are freed as before.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::{ExportItem, GenerationSpanData, SpanData};

/// Emptied boxes the pool keeps at most: about 190 KB.
const POOL_CAP: usize = 1024;

/// Boxes a thread takes from the pool at once (and keeps at most).
const REFILL: usize = 32;

/// Emptied boxes waiting for a thread that starts a generation span.
struct Pool {
    // Boxed on purpose (clippy's `vec_box` notwithstanding): the boxes are what is reused.
    #[allow(clippy::vec_box)]
    boxes: Mutex<Vec<Box<GenerationSpanData>>>,
    /// `boxes.len()`, readable without the lock: a thread whose cache is empty looks here
    /// before it locks, so an empty pool (no batch processor, or exports still under way)
    /// costs one load.
    len: AtomicUsize,
    cap: usize,
}

static POOL: Pool = Pool::new(POOL_CAP);

thread_local! {
    #[allow(clippy::vec_box)]
    static CACHE: RefCell<Vec<Box<GenerationSpanData>>> = const { RefCell::new(Vec::new()) };
}

/// An empty generation data box: one handed back by an export lane if this thread has one,
/// else a new one.
#[inline]
pub(crate) fn generation_box() -> Box<GenerationSpanData> {
    CACHE
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            if let Some(b) = c.pop() {
                return Some(b);
            }
            POOL.refill(&mut c)
        })
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Drops a batch that no exporter holds any more, keeping its generation data boxes (emptied)
/// for the threads that start spans, as far as the pool has room.
pub(crate) fn give_back(items: Vec<ExportItem>) {
    POOL.give_back(items);
}

impl Pool {
    const fn new(cap: usize) -> Pool {
        Pool {
            boxes: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
            cap,
        }
    }

    #[allow(clippy::vec_box)]
    fn boxes(&self) -> MutexGuard<'_, Vec<Box<GenerationSpanData>>> {
        self.boxes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves up to [`REFILL`] boxes into an empty cache and returns one of them.
    #[cold]
    #[inline(never)]
    #[allow(clippy::vec_box)]
    fn refill(&self, cache: &mut Vec<Box<GenerationSpanData>>) -> Option<Box<GenerationSpanData>> {
        if self.len.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut p = self.boxes();
        let from = p.len().saturating_sub(REFILL);
        cache.extend(p.drain(from..));
        self.len.store(p.len(), Ordering::Relaxed);
        drop(p);
        cache.pop()
    }

    fn give_back(&self, items: Vec<ExportItem>) {
        let room = self.cap.saturating_sub(self.len.load(Ordering::Relaxed));
        if room == 0 {
            return;
        }
        let mut kept = Vec::new();
        for item in items {
            if kept.len() == room {
                break;
            }
            if let ExportItem::Span(record) = item {
                if let SpanData::Generation(mut data) = record.data {
                    // Drops what the span recorded here, where it was dropped before.
                    *data = GenerationSpanData::default();
                    kept.push(data);
                }
            }
        }
        if kept.is_empty() {
            return;
        }
        let mut p = self.boxes();
        kept.truncate(self.cap.saturating_sub(p.len()));
        p.append(&mut kept);
        self.len.store(p.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SpanRecord, Usage};
    use crate::TraceId;

    fn generation(model: &str) -> ExportItem {
        let mut data = SpanData::empty(crate::SpanKind::Generation);
        if let SpanData::Generation(g) = &mut data {
            g.model = Some(model.to_owned().into());
            g.usage = Some(Usage::tokens(3, 4));
            g.input = Some(serde_json::json!([{"role": "user", "content": "hi"}]));
        }
        ExportItem::Span(SpanRecord::new(TraceId::random(), None, data))
    }

    fn address(item: &ExportItem) -> *const GenerationSpanData {
        match item {
            ExportItem::Span(r) => match &r.data {
                SpanData::Generation(g) => &**g,
                _ => unreachable!("only generation spans here"),
            },
            ExportItem::Trace(_) => unreachable!("only spans here"),
        }
    }

    #[test]
    fn boxes_given_back_come_out_empty_in_batches_and_the_pool_stays_bounded() {
        let pool = Pool::new(40);
        let items: Vec<_> = (0..50).map(|_| generation("gpt")).collect();
        let kept: Vec<_> = items.iter().take(40).map(address).collect();
        pool.give_back(items);
        assert_eq!(pool.len.load(Ordering::Relaxed), 40);
        assert_eq!(pool.boxes().len(), 40);
        // A refill takes the newest REFILL boxes at once, each emptied.
        let mut cache = Vec::new();
        let first = pool.refill(&mut cache).expect("the pool has boxes");
        assert_eq!(cache.len(), REFILL - 1);
        assert_eq!(pool.len.load(Ordering::Relaxed), 40 - REFILL);
        cache.push(first);
        for b in &cache {
            assert_eq!(**b, GenerationSpanData::default());
            assert!(kept.contains(&(&**b as *const GenerationSpanData)));
        }
        // Full: what is given back now is freed.
        pool.give_back((0..REFILL + 5).map(|_| generation("m")).collect());
        assert_eq!(pool.boxes().len(), 40);
        // Empty: a refill finds nothing, without a box made up.
        let pool = Pool::new(4);
        assert!(pool.refill(&mut Vec::new()).is_none());
    }

    #[test]
    fn a_thread_starting_generation_spans_gets_empty_boxes() {
        // Whatever the process-wide pool holds (other tests share it), the box is empty.
        give_back((0..8).map(|_| generation("gpt")).collect());
        std::thread::spawn(|| {
            for _ in 0..8 {
                assert_eq!(*generation_box(), GenerationSpanData::default());
            }
        })
        .join()
        .unwrap();
    }
}
