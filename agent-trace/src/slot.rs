//! Where a running span keeps its record: a heap slot, reused through a small per-thread free
//! list, so a [`Span`](crate::Span) is one pointer.
//!
//! Why a slot and not the record inline in the span: a span inline was 208 bytes, and every
//! move of it (into `in_scope`, into a future, out of a constructor) could cost a copy of all
//! of them — the compiler calls `memcpy` for a value that size when it cannot place it where
//! it ends up — and a span that records nothing still took 208 bytes of stack or of its
//! future. One pointer moves in a register, and a span that records nothing is a null pointer,
//! so the checks in front of every span start can be inlined into the caller. The record also
//! keeps one address for its whole life, which the live-span pointer of
//! [`current_span`](crate::current_span) relies on.
//!
//! Why a free list and not the allocator alone: the slot a span ends with is usually the one
//! the next span starts with, on the same thread (a child ends, its sibling starts), so the
//! list hands back memory that is hot in this core's cache, in a few instructions. Slots are
//! freed normally past [`KEEP`] per thread, and with the thread's other thread-locals when it
//! exits.

use std::cell::RefCell;

use crate::model::SpanRecord;
use crate::provider::ProviderRef;

/// A running span's record and its provider (both `Some` from start to end; both `None` in
/// the free list).
pub(crate) struct Slot {
    /// The record; the last processor moves it out at the span's end.
    pub(crate) record: Option<SpanRecord>,
    /// The provider the span ends into.
    pub(crate) provider: Option<ProviderRef>,
}

/// Free slots kept per thread. Enough for a deep stack of nested spans ending and starting
/// again; a burst of spans ending on a thread (futures finishing at once) frees the rest.
const KEEP: usize = 64;

thread_local! {
    /// Boxed on purpose (clippy's `vec_box` notwithstanding): the boxes are what is reused.
    #[allow(clippy::vec_box)]
    static FREE: RefCell<Vec<Box<Slot>>> = const { RefCell::new(Vec::new()) };
}

impl Slot {
    /// An empty slot: a free one of this thread's, or a new one. The caller fills it in place
    /// (a record built first and then moved in would be copied).
    #[inline(always)]
    pub(crate) fn take() -> Box<Slot> {
        FREE.try_with(|f| f.try_borrow_mut().ok().and_then(|mut f| f.pop()))
            .ok()
            .flatten()
            .unwrap_or_else(Slot::new_empty)
    }

    #[cold]
    #[inline(never)]
    fn new_empty() -> Box<Slot> {
        Box::new(Slot {
            record: None,
            provider: None,
        })
    }

    /// Puts `record` and `provider` into a slot from [`take`](Slot::take).
    #[inline(always)]
    pub(crate) fn fill(&mut self, record: SpanRecord, provider: ProviderRef) {
        debug_assert!(self.record.is_none() && self.provider.is_none());
        // SAFETY: both fields are valid to write; a slot from `take` holds `None` in both (the
        // free list keeps only emptied slots), so nothing is lost by not dropping them, which
        // spares two calls of out-of-line drop glue that would find nothing to drop.
        unsafe {
            std::ptr::write(&mut self.record, Some(record));
            std::ptr::write(&mut self.provider, Some(provider));
        }
    }

    /// A slot holding `record` and `provider` (for tests).
    #[cfg(test)]
    fn new(record: SpanRecord, provider: ProviderRef) -> Box<Slot> {
        let mut slot = Slot::take();
        slot.fill(record, provider);
        slot
    }

    /// Gives an emptied slot back to this thread's free list (or frees it).
    #[inline]
    pub(crate) fn recycle(mut slot: Box<Slot>) {
        // Whatever is left (a record no processor took) is dropped here, not kept.
        if slot.record.is_some() {
            slot.record = None;
        }
        if slot.provider.is_some() {
            slot.provider = None;
        }
        let _ = FREE.try_with(move |f| {
            if let Ok(mut f) = f.try_borrow_mut() {
                if f.len() < KEEP {
                    f.push(slot);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanData;
    use crate::{TraceId, TracerProvider};

    fn provider_ref() -> ProviderRef {
        TracerProvider::builder().build().inner.clone()
    }

    #[test]
    fn a_recycled_slot_is_reused_empty() {
        let r = SpanRecord::new(TraceId::random(), None, SpanData::custom("x"));
        let slot = Slot::new(r, provider_ref());
        let addr = &*slot as *const Slot;
        Slot::recycle(slot);
        let r = SpanRecord::new(TraceId::random(), None, SpanData::custom("y"));
        let again = Slot::new(r, provider_ref());
        assert_eq!(
            &*again as *const Slot, addr,
            "the freed slot is handed out next"
        );
        assert_eq!(again.record.as_ref().unwrap().data.name(), Some("y"));
        Slot::recycle(again);
    }

    #[test]
    fn the_free_list_is_bounded() {
        let slots: Vec<_> = (0..KEEP + 10)
            .map(|_| {
                let r = SpanRecord::new(TraceId::random(), None, SpanData::custom("x"));
                Slot::new(r, provider_ref())
            })
            .collect();
        for s in slots {
            Slot::recycle(s);
        }
        assert_eq!(FREE.with(|f| f.borrow().len()), KEEP);
        assert!(FREE.with(|f| f
            .borrow()
            .iter()
            .all(|s| s.record.is_none() && s.provider.is_none())));
    }
}
