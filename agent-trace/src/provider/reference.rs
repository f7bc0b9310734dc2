//! [`ProviderRef`]: a provider's state behind a reference count, or a plain pointer once the
//! provider is pinned for the process.

use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::ProviderInner;

/// A counted reference to a provider's state, or a plain one once the provider is pinned
/// (global or leaked): then cloning and dropping it touch no shared counter.
///
/// The pointer comes from `Arc::into_raw`. While `pinned` is false, each `ProviderRef` owns one
/// strong count. Pinning adds one count that is never released, then sets `pinned`; from then
/// on refs neither add nor release counts. A ref that added a count before the pin and is
/// dropped after it leaves that count behind, which only leaks what pinning keeps anyway.
pub(crate) struct ProviderRef {
    pub(super) ptr: NonNull<ProviderInner>,
}

// SAFETY: ProviderRef is an `Arc<ProviderInner>` (or a `&'static` once pinned); ProviderInner
// is Send + Sync (atomics and `Arc<dyn TracingProcessor>` with `Send + Sync` bounds).
unsafe impl Send for ProviderRef {}
// SAFETY: as above.
unsafe impl Sync for ProviderRef {}

impl ProviderRef {
    pub(super) fn new(inner: ProviderInner) -> ProviderRef {
        let raw = Arc::into_raw(Arc::new(inner)) as *mut ProviderInner;
        ProviderRef {
            // SAFETY: Arc::into_raw never returns null.
            ptr: unsafe { NonNull::new_unchecked(raw) },
        }
    }

    /// A ref to a pinned provider, which owns no count.
    ///
    /// # Safety
    /// `ptr` must point to a provider whose `pin` has completed.
    pub(super) unsafe fn from_pinned(ptr: NonNull<ProviderInner>) -> ProviderRef {
        ProviderRef { ptr }
    }

    /// Gives up this ref without releasing its count (see [`ProviderRef::from_raw`]).
    #[inline]
    pub(crate) fn into_raw(self) -> NonNull<ProviderInner> {
        std::mem::ManuallyDrop::new(self).ptr
    }

    /// Takes back a ref given up with [`ProviderRef::into_raw`].
    ///
    /// # Safety
    /// `ptr` must come from `into_raw`, and be taken back at most once.
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: NonNull<ProviderInner>) -> ProviderRef {
        ProviderRef { ptr }
    }

    /// Keeps the provider for the rest of the process.
    pub(super) fn pin(&self) {
        if self.is_pinned() {
            return;
        }
        // SAFETY: `self` owns a count, so the allocation is live; the extra count is leaked
        // on purpose (see the type's docs).
        unsafe { Arc::increment_strong_count(self.ptr.as_ptr()) };
        self.pinned.store(true, Ordering::Release);
    }
}

impl std::ops::Deref for ProviderRef {
    type Target = ProviderInner;

    #[inline]
    fn deref(&self) -> &ProviderInner {
        // SAFETY: a ProviderRef owns a strong count, or the provider is pinned (never freed).
        unsafe { self.ptr.as_ref() }
    }
}

impl Clone for ProviderRef {
    #[inline]
    fn clone(&self) -> ProviderRef {
        if !self.is_pinned() {
            // SAFETY: `self` owns a count, so the allocation is live.
            unsafe { Arc::increment_strong_count(self.ptr.as_ptr()) };
        }
        ProviderRef { ptr: self.ptr }
    }
}

impl Drop for ProviderRef {
    #[inline]
    fn drop(&mut self) {
        if !self.is_pinned() {
            // SAFETY: `self` owns one count, released exactly once here.
            unsafe { Arc::decrement_strong_count(self.ptr.as_ptr()) };
        }
    }
}
