//! [`Budget`]: the global allocator of the fuzzer and of the replay test, which refuses any allocation that would
//! take the heap over [`LIMIT`]. A library that sizes an allocation from untrusted input then gets an error from
//! `try_reserve` (fine) or aborts with "memory allocation of N bytes failed" (a bug, caught at once instead of
//! swapping the machine).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most bytes the heap may hold at once: 1 GiB.
pub const LIMIT: usize = 1 << 30;

/// The system allocator with a [`LIMIT`] on the bytes live at once. Install it with
/// `#[global_allocator] static ALLOC: oximl_fuzz::Budget = oximl_fuzz::Budget::new();`.
///
/// ```
/// use std::alloc::{GlobalAlloc, Layout};
/// let budget = oximl_fuzz::Budget::new();
/// let too_big = Layout::from_size_align(oximl_fuzz::LIMIT + 1, 8).unwrap();
/// assert!(unsafe { budget.alloc(too_big) }.is_null());
/// ```
#[derive(Debug, Default)]
pub struct Budget {
    live: AtomicUsize,
}

impl Budget {
    /// An allocator with nothing allocated yet.
    ///
    /// ```
    /// static ALLOC: oximl_fuzz::Budget = oximl_fuzz::Budget::new();
    /// # let _ = &ALLOC;
    /// ```
    pub const fn new() -> Budget {
        Budget { live: AtomicUsize::new(0) }
    }

    /// Takes `size` bytes from the budget, or refuses.
    fn take(&self, size: usize) -> bool {
        self.live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| live.checked_add(size).filter(|&n| n <= LIMIT))
            .is_ok()
    }

    fn give(&self, size: usize) {
        self.live.fetch_sub(size, Ordering::Relaxed);
    }

    /// Takes `size` bytes and calls `alloc`, or refuses; gives them back if `alloc` fails.
    fn within(&self, size: usize, alloc: impl FnOnce() -> *mut u8) -> *mut u8 {
        if !self.take(size) {
            return std::ptr::null_mut();
        }
        let p = alloc();
        if p.is_null() {
            self.give(size);
        }
        p
    }
}

// SAFETY: every call is forwarded to `System` unchanged; refusing (a null pointer) is allowed by `GlobalAlloc`.
unsafe impl GlobalAlloc for Budget {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received.
        self.within(layout.size(), || unsafe { System.alloc(layout) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received.
        self.within(layout.size(), || unsafe { System.alloc_zeroed(layout) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) };
        self.give(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !self.take(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded as received.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        match (p.is_null(), new_size > old) {
            (true, true) => self.give(new_size - old),
            (false, false) => self.give(old - new_size),
            _ => {}
        }
        p
    }
}
