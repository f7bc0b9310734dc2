//! What rule matching decided for a callsite, when the decision did not look at any value.
//!
//! Most `tracing` spans (HTTP clients, databases, `#[instrument]` functions) declare none of
//! the fields the rules' conditions read, so which rule types them follows from their name and
//! target alone — the same for every span of that callsite. Matching walks every rule and looks
//! fields up by name; the cache remembers the answer per callsite instead, in a direct-mapped
//! table of atomics: one load and a compare on a hit, nothing locked, and a collision only
//! costs the matching again. Decisions that read a value (a GenAI span's
//! `gen_ai.operation.name`) are never cached.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::Metadata;

/// Slots of the table (a power of two).
const SLOTS: usize = 256;

/// Low bits of an entry: the decision (`0` = no rule, `n` = rule `n - 1`).
const DECISION_BITS: u32 = 16;
const DECISION_MASK: u64 = (1 << DECISION_BITS) - 1;

/// The per-callsite decisions of one layer.
pub(crate) struct Callsites {
    /// `callsite key << 16 | decision`; zero when empty (no callsite has key zero).
    slots: Box<[AtomicU64]>,
}

impl Callsites {
    pub(crate) fn new() -> Callsites {
        Callsites {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The rule for a span of `meta`'s callsite: remembered, or from `matching`, which also
    /// says whether its answer holds for every span of the callsite (it read no value).
    #[inline]
    pub(crate) fn rule(
        &self,
        meta: &'static Metadata<'static>,
        matching: impl FnOnce() -> (Option<usize>, bool),
    ) -> Option<usize> {
        let Some(key) = key(meta) else {
            return matching().0;
        };
        let slot = &self.slots[(key as usize ^ (key >> 8) as usize) & (SLOTS - 1)];
        let entry = slot.load(Ordering::Relaxed);
        if entry >> DECISION_BITS == key {
            return match entry & DECISION_MASK {
                0 => None,
                n => Some(n as usize - 1),
            };
        }
        let (rule, same_for_callsite) = matching();
        let decision = rule.map_or(0, |i| i as u64 + 1);
        if same_for_callsite && decision <= DECISION_MASK {
            slot.store(key << DECISION_BITS | decision, Ordering::Relaxed);
        }
        rule
    }
}

/// A callsite's key: its metadata's address (static, unique per callsite: two `Metadata`
/// values never overlap and each is over 8 bytes) without the low 3 bits, which keeps it
/// unique; never zero. `None` for an address past 2^51 (5-level paging, 52-bit arm64), whose
/// key would not fit the entry's 48 bits: such callsites are matched every time.
#[inline]
fn key(meta: &'static Metadata<'static>) -> Option<u64> {
    let key = (meta as *const Metadata<'static> as usize as u64) >> 3;
    (key < 1 << 48).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    static A: Metadata<'static> = tracing_core::metadata! {
        name: "a",
        target: "t",
        level: tracing_core::Level::INFO,
        fields: &[],
        callsite: &CS,
        kind: tracing_core::metadata::Kind::SPAN,
    };
    struct Cs;
    static CS: Cs = Cs;
    impl tracing_core::Callsite for Cs {
        fn set_interest(&self, _: tracing_core::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            &A
        }
    }

    #[test]
    fn a_decision_that_read_no_value_is_remembered() {
        let c = Callsites::new();
        assert_eq!(c.rule(&A, || (Some(3), true)), Some(3));
        assert_eq!(c.rule(&A, || panic!("remembered")), Some(3));
        let none = Callsites::new();
        assert_eq!(none.rule(&A, || (None, true)), None);
        assert_eq!(none.rule(&A, || panic!("remembered")), None);
    }

    #[test]
    fn a_decision_that_read_a_value_is_not() {
        let c = Callsites::new();
        assert_eq!(c.rule(&A, || (Some(1), false)), Some(1));
        assert_eq!(c.rule(&A, || (Some(2), false)), Some(2));
    }
}
