//! The large-object space: objects of at least [`LARGE_MIN`] bytes get a
//! mapping of their own and are never copied. A major collection marks the
//! reachable ones and unmaps the rest; a minor collection scans the ones
//! allocated since the previous collection as roots, since their fields
//! were initialised without the write barrier (docs/gc.md, "Large
//! objects").

use super::space::Space;
use std::collections::BTreeMap;

/// Requests of this many bytes or more (header included) are large.
pub const LARGE_MIN: usize = 32 << 10;

struct LargeObject {
    space: Space,
    marked: bool,
}

#[derive(Default)]
pub struct LargeSpace {
    /// By header address.
    objects: BTreeMap<u64, LargeObject>,
    /// Header addresses of the objects allocated since the last collection.
    pub young: Vec<u64>,
    /// Bytes in use (mapped, page-rounded).
    pub bytes: usize,
    /// Bytes allocated since the last major collection.
    pub bytes_since_major: usize,
}

impl LargeSpace {
    /// A fresh object of `bytes` bytes; `None` when the system refuses.
    pub fn alloc(&mut self, bytes: usize) -> Option<*mut u64> {
        let space = Space::new(bytes)?;
        let a = space.start();
        self.bytes += space.size();
        self.bytes_since_major += space.size();
        self.objects.insert(
            a,
            LargeObject {
                space,
                marked: false,
            },
        );
        self.young.push(a);
        Some(a as *mut u64)
    }

    pub fn contains(&self, header: u64) -> bool {
        self.objects.contains_key(&header)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Marks the object whose header is at `header`: `Some(true)` the first
    /// time, `Some(false)` if already marked, `None` if no large object
    /// starts there.
    pub fn mark(&mut self, header: u64) -> Option<bool> {
        let o = self.objects.get_mut(&header)?;
        Some(!std::mem::replace(&mut o.marked, true))
    }

    pub fn is_marked(&self, header: u64) -> bool {
        self.objects.get(&header).is_some_and(|o| o.marked)
    }

    /// After a major collection: unmaps the unmarked objects and clears the
    /// marks. Returns the bytes freed.
    pub fn sweep(&mut self) -> usize {
        let before = self.bytes;
        self.objects
            .retain(|_, o| std::mem::replace(&mut o.marked, false));
        self.bytes = self.objects.values().map(|o| o.space.size()).sum();
        self.young.clear();
        self.bytes_since_major = 0;
        before - self.bytes
    }

    /// Header addresses of every large object.
    pub fn headers(&self) -> impl Iterator<Item = u64> + '_ {
        self.objects.keys().copied()
    }
}
