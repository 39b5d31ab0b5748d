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
        unsafe {
            dealloc(
                self.start,
                Layout::from_size_align_unchecked(self.size, 4096),
            )
        }
    }
}
