//! One semispace: a contiguous, 8-byte aligned region obtained from the
//! system allocator (large requests become lazily committed mappings).

use std::alloc::{alloc, dealloc, Layout};

pub struct Space {
    start: *mut u8,
    size: usize,
    /// Allocation top, valid after a collection has filled this space.
    pub top: u64,
}

impl Space {
    /// `None` when the system refuses the memory.
    pub fn new(size: usize) -> Option<Space> {
        let size = size.div_ceil(4096) * 4096;
        let layout = Layout::from_size_align(size, 4096).ok()?;
        // SAFETY: `layout` has a non-zero size (callers ask for at least
        // 64 KiB; rounded up to a page) and a valid alignment.
        let start = unsafe { alloc(layout) };
        if start.is_null() {
            return None;
        }
        Some(Space {
            start,
            size,
            top: start as u64,
        })
    }
    pub fn start(&self) -> u64 {
        self.start as u64
    }
    pub fn end(&self) -> u64 {
        self.start as u64 + self.size as u64
    }
    pub fn size(&self) -> usize {
        self.size
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        // SAFETY: `start` came from `alloc` in `new` with this very layout
        // (the rounded size, page alignment, checked valid there), and the
        // space is freed only here.
        unsafe {
            dealloc(
                self.start,
                Layout::from_size_align_unchecked(self.size, 4096),
            )
        }
    }
}
