//! A contiguous, page-aligned region of the heap: the nursery, an old
//! semispace, or one large object. Each is its own anonymous mapping,
//! committed lazily by the kernel as pages are touched and returned to the
//! system when the space is dropped (docs/gc.md, "Spaces").

pub struct Space {
    start: *mut u8,
    size: usize,
    /// Allocation top: the next free byte of a space filled by bumping.
    pub top: u64,
}

const PAGE: usize = 4096;
/// Spaces at least this large ask for transparent huge pages.
const HUGE: usize = 4 << 20;

impl Space {
    /// `None` when the system refuses the memory.
    pub fn new(size: usize) -> Option<Space> {
        let size = size.max(PAGE).div_ceil(PAGE) * PAGE;
        // SAFETY: an anonymous private mapping at an address the kernel
        // chooses; no existing memory is affected. NORESERVE: a large old
        // space costs nothing until its pages are used.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return None;
        }
        if size >= HUGE {
            // Transparent huge pages where the system offers them: a major
            // collection fills a fresh old space, and one fault per 2 MiB
            // instead of per 4 KiB is most of its cost (docs/gc.md,
            // "Measurements"). Advice only: failure changes nothing.
            // SAFETY: the mapping just made, whole.
            unsafe { libc::madvise(start, size, libc::MADV_HUGEPAGE) };
        }
        Some(Space {
            start: start as *mut u8,
            size,
            top: start as u64 + 8,
        })
    }
    pub fn start(&self) -> u64 {
        self.start as u64
    }
    /// Where objects begin: the first word is left unused, so that the
    /// address of a pair (the word before its car, docs/gc.md "Objects")
    /// lies inside the space even for a pair allocated first.
    pub fn first(&self) -> u64 {
        self.start as u64 + 8
    }
    pub fn end(&self) -> u64 {
        self.start as u64 + self.size as u64
    }
    pub fn size(&self) -> usize {
        self.size
    }
    /// Bytes used below `top`.
    pub fn used(&self) -> usize {
        (self.top - self.start()) as usize
    }
    /// Bytes free above `top`.
    pub fn free(&self) -> usize {
        (self.end() - self.top) as usize
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        // SAFETY: `start` and `size` describe the mapping made in `new`,
        // unmapped only here.
        unsafe { libc::munmap(self.start as *mut libc::c_void, self.size) };
    }
}
