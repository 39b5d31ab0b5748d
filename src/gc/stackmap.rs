//! LLVM stack maps (`.llvm_stackmaps`, format version 3) for compiled code:
//! the parser, the translation of statepoint records into per-call-site
//! root plans, and the process-wide table the frame walker
//! ([`super::frames`]) consults, keyed by return address.
//!
//! x86-64 Linux only: DWARF register 6 is RBP and 7 is RSP.
//!
//! Section layout (all little-endian, see LLVM's "Stack maps and patch
//! points" document):
//!
//! ```text
//! header      u8 version (3), u8 0, u16 0
//!             u32 NumFunctions, u32 NumConstants, u32 NumRecords
//! functions   NumFunctions x { u64 address, u64 stack size, u64 record count }
//! constants   NumConstants x u64
//! records     NumRecords x {
//!               u64 id, u32 instruction offset, u16 0, u16 NumLocations,
//!               NumLocations x { u8 kind, u8 0, u16 size, u16 dwarf reg,
//!                                u16 0, i32 offset or small constant },
//!               padding to 8, u16 0, u16 NumLiveOuts,
//!               NumLiveOuts x { u16 dwarf reg, u8 0, u8 size },
//!               padding to 8 }
//! ```
//!
//! Records follow the functions in order: function `i` owns the next
//! `record count` records. The return address of a call site is the
//! function address plus the record's instruction offset.
//!
//! A statepoint record lists three constants (calling convention, flags,
//! number of deopt locations), the deopt locations, then the GC pointers as
//! (base, derived) location pairs, and finally one `Direct` location per
//! GC alloca. The number of pairs is not recorded; Valk code has no GC
//! allocas (the statepoint rewriter needs SSA values anyway), so every
//! location after the deopt ones must belong to a pair and a `Direct` one
//! is rejected.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Once, RwLock, RwLockReadGuard};

/// DWARF register numbers (x86-64).
pub const DWARF_RBP: u16 = 6;
pub const DWARF_RSP: u16 = 7;

/// One location of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The value is in a register.
    Register { reg: u16, size: u16 },
    /// The value is the address `reg + offset` (an alloca).
    Direct { reg: u16, offset: i32 },
    /// The value is in memory at `reg + offset` (a spill slot).
    Indirect { reg: u16, offset: i32, size: u16 },
    /// A small constant (sign-extended).
    Constant(i64),
    /// A constant from the section's constant pool (already looked up).
    ConstIndex(u64),
}

impl Location {
    fn constant_value(self) -> Option<u64> {
        match self {
            Location::Constant(c) => Some(c as u64),
            Location::ConstIndex(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    pub address: u64,
    pub stack_size: u64,
    pub record_count: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveOut {
    pub reg: u16,
    pub size: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    pub offset: u32,
    pub locations: Vec<Location>,
    pub live_outs: Vec<LiveOut>,
}

/// A parsed section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackMapSection {
    pub functions: Vec<Function>,
    pub constants: Vec<u64>,
    pub records: Vec<Record>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackMapError {
    /// The section ends before offset `at`.
    Truncated {
        at: usize,
    },
    BadVersion(u8),
    BadLocationKind {
        record: usize,
        kind: u8,
    },
    /// A `ConstIndex` location names a constant that does not exist.
    BadConstIndex {
        record: usize,
        index: u32,
    },
    /// The functions' record counts do not add up to the record count.
    RecordCountMismatch {
        functions: u64,
        records: u64,
    },
    /// A record does not have the statepoint shape.
    NotStatepoint {
        ra: u64,
        why: &'static str,
    },
    /// A GC pointer lives somewhere the walker cannot update.
    UnsupportedLocation {
        ra: u64,
        index: usize,
        location: Location,
    },
}

impl fmt::Display for StackMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use StackMapError::*;
        match self {
            Truncated { at } => write!(f, "stack map section truncated at byte {at}"),
            BadVersion(v) => write!(f, "unsupported stack map version {v} (expected 3)"),
            BadLocationKind { record, kind } => {
                write!(f, "stack map record {record}: unknown location kind {kind}")
            }
            BadConstIndex { record, index } => {
                write!(
                    f,
                    "stack map record {record}: constant index {index} out of range"
                )
            }
            RecordCountMismatch { functions, records } => write!(
                f,
                "stack map functions own {functions} records but the section has {records}"
            ),
            NotStatepoint { ra, why } => {
                write!(f, "stack map record at {ra:#x} is not a statepoint: {why}")
            }
            UnsupportedLocation {
                ra,
                index,
                location,
            } => write!(
                f,
                "stack map record at {ra:#x}: GC location #{index} ({location:?}) is not \
                 supported (only spill slots addressed from RSP or RBP are; GC values \
                 must not stay in registers or allocas)"
            ),
        }
    }
}

impl std::error::Error for StackMapError {}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], StackMapError> {
        let end = self.pos + N;
        let s = self
            .b
            .get(self.pos..end)
            .ok_or(StackMapError::Truncated { at: end })?;
        self.pos = end;
        Ok(s.try_into().expect("slice of length N"))
    }
    fn u8(&mut self) -> Result<u8, StackMapError> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, StackMapError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, StackMapError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn i32(&mut self) -> Result<i32, StackMapError> {
        Ok(i32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, StackMapError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn align8(&mut self) -> Result<(), StackMapError> {
        let to = self.pos.next_multiple_of(8);
        if to > self.b.len() {
            return Err(StackMapError::Truncated { at: to });
        }
        self.pos = to;
        Ok(())
    }
}

/// Parses a whole section. Trailing bytes after the last record are
/// ignored (a linker may pad the section).
pub fn parse(bytes: &[u8]) -> Result<StackMapSection, StackMapError> {
    let mut r = Reader { b: bytes, pos: 0 };
    let version = r.u8()?;
    if version != 3 {
        return Err(StackMapError::BadVersion(version));
    }
    r.u8()?;
    r.u16()?;
    let nfun = r.u32()? as usize;
    let ncon = r.u32()? as usize;
    let nrec = r.u32()? as usize;
    // Counts are untrusted: grow the vectors as entries are actually read.
    let mut sec = StackMapSection::default();
    for _ in 0..nfun {
        sec.functions.push(Function {
            address: r.u64()?,
            stack_size: r.u64()?,
            record_count: r.u64()?,
        });
    }
    for _ in 0..ncon {
        sec.constants.push(r.u64()?);
    }
    for ri in 0..nrec {
        let id = r.u64()?;
        let offset = r.u32()?;
        r.u16()?;
        let nloc = r.u16()? as usize;
        let mut locations = Vec::new();
        for _ in 0..nloc {
            let kind = r.u8()?;
            r.u8()?;
            let size = r.u16()?;
            let reg = r.u16()?;
            r.u16()?;
            let off = r.i32()?;
            locations.push(match kind {
                1 => Location::Register { reg, size },
                2 => Location::Direct { reg, offset: off },
                3 => Location::Indirect {
                    reg,
                    offset: off,
                    size,
                },
                4 => Location::Constant(off as i64),
                5 => {
                    let c = sec.constants.get(off as u32 as usize).copied().ok_or(
                        StackMapError::BadConstIndex {
                            record: ri,
                            index: off as u32,
                        },
                    )?;
                    Location::ConstIndex(c)
                }
                _ => return Err(StackMapError::BadLocationKind { record: ri, kind }),
            });
        }
        r.align8()?;
        r.u16()?;
        let nlive = r.u16()? as usize;
        let mut live_outs = Vec::new();
        for _ in 0..nlive {
            let reg = r.u16()?;
            r.u8()?;
            let size = r.u8()?;
            live_outs.push(LiveOut { reg, size });
        }
        r.align8()?;
        sec.records.push(Record {
            id,
            offset,
            locations,
            live_outs,
        });
    }
    let owned: u64 = sec
        .functions
        .iter()
        .fold(0u64, |a, f| a.saturating_add(f.record_count));
    if owned != sec.records.len() as u64 {
        return Err(StackMapError::RecordCountMismatch {
            functions: owned,
            records: sec.records.len() as u64,
        });
    }
    Ok(sec)
}

/// The length in bytes of the section starting at `p`, computed from its
/// counts (the section carries no total length).
///
/// # Safety
/// `p` must point at a complete, well-formed stack map section.
pub unsafe fn section_len(p: *const u8) -> usize {
    // SAFETY: (both readers) every offset read lies inside the section,
    // which is complete and well formed (this function's contract); the
    // reads are unaligned-safe byte arrays.
    let rd16 = |o: usize| u16::from_le_bytes(unsafe { p.add(o).cast::<[u8; 2]>().read() });
    // SAFETY: as above.
    let rd32 = |o: usize| u32::from_le_bytes(unsafe { p.add(o).cast::<[u8; 4]>().read() });
    let nfun = rd32(4) as usize;
    let ncon = rd32(8) as usize;
    let nrec = rd32(12) as usize;
    let mut pos = 16 + 24 * nfun + 8 * ncon;
    for _ in 0..nrec {
        let nloc = rd16(pos + 14) as usize;
        pos = (pos + 16 + 12 * nloc).next_multiple_of(8);
        let nlive = rd16(pos + 2) as usize;
        pos = (pos + 4 + 4 * nlive).next_multiple_of(8);
    }
    pos
}

// ---------------------------------------------------------------------------
// Root plans

/// Which register a frame slot is addressed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameReg {
    /// The stack pointer at the call site (the value RSP has right after
    /// the call returns, before any callee-popped arguments are re-pushed).
    Sp,
    /// The frame's RBP.
    Fp,
}

/// A stack slot of a compiled frame holding a GC value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    pub reg: FrameReg,
    pub offset: i32,
}

impl Slot {
    /// The slot's address in a frame whose call-site SP and FP are given.
    #[inline]
    pub fn addr(self, sp: u64, fp: u64) -> u64 {
        let base = match self.reg {
            FrameReg::Sp => sp,
            FrameReg::Fp => fp,
        };
        base.wrapping_add(self.offset as i64 as u64)
    }
}

/// What the collector must do for one call site: rebase every derived
/// slot (distinct derived slots, each with its base slot), then update
/// every base slot once. The order matters: a derived pointer's offset is
/// computed from its base's old value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafePoint {
    /// Start address of the function containing the call.
    pub function: u64,
    /// The function's fixed frame size (from the function record).
    pub frame_size: u64,
    /// The record's ID: the call's site (docs/debugging.md, "Backtraces").
    pub id: u64,
    /// (base slot, derived slot) with the two distinct.
    pub derived: Vec<(Slot, Slot)>,
    /// Every slot holding a base value, each once.
    pub bases: Vec<Slot>,
}

impl SafePoint {
    pub fn is_empty(&self) -> bool {
        self.derived.is_empty() && self.bases.is_empty()
    }
}

fn gc_slot(ra: u64, index: usize, loc: Location) -> Result<Option<Slot>, StackMapError> {
    let unsupported = || StackMapError::UnsupportedLocation {
        ra,
        index,
        location: loc,
    };
    match loc {
        Location::Indirect { reg, offset, .. } => {
            let reg = match reg {
                DWARF_RSP => FrameReg::Sp,
                DWARF_RBP => FrameReg::Fp,
                _ => return Err(unsupported()),
            };
            Ok(Some(Slot { reg, offset }))
        }
        // Constants (null, fixnum literals) never move.
        Location::Constant(_) | Location::ConstIndex(_) => Ok(None),
        Location::Register { .. } | Location::Direct { .. } => Err(unsupported()),
    }
}

/// The root plan of one statepoint record whose return address is `ra`.
pub fn safepoint_of(
    rec: &Record,
    ra: u64,
    function: &Function,
) -> Result<SafePoint, StackMapError> {
    let locs = &rec.locations;
    let header: Option<Vec<u64>> = locs.iter().take(3).map(|l| l.constant_value()).collect();
    let header = match header {
        Some(h) if h.len() == 3 => h,
        _ => {
            return Err(StackMapError::NotStatepoint {
                ra,
                why: "it does not start with three constants",
            })
        }
    };
    let ndeopt = header[2] as usize;
    let first_gc = 3usize.saturating_add(ndeopt);
    if first_gc > locs.len() {
        return Err(StackMapError::NotStatepoint {
            ra,
            why: "its deopt count exceeds its locations",
        });
    }
    let gc = &locs[first_gc..];
    if !gc.len().is_multiple_of(2) {
        // An odd tail means GC allocas (Direct locations) follow the pairs.
        let index = first_gc + gc.len() - 1;
        return Err(StackMapError::UnsupportedLocation {
            ra,
            index,
            location: locs[index],
        });
    }
    let mut sp = SafePoint {
        function: function.address,
        frame_size: function.stack_size,
        id: rec.id,
        ..SafePoint::default()
    };
    for (k, pair) in gc.chunks_exact(2).enumerate() {
        let bi = first_gc + 2 * k;
        let base = gc_slot(ra, bi, pair[0])?;
        let derived = gc_slot(ra, bi + 1, pair[1])?;
        let (Some(base), Some(derived)) = (base, derived) else {
            // A constant base or derived value is not a heap reference.
            continue;
        };
        if base != derived && !sp.derived.iter().any(|&(_, d)| d == derived) {
            sp.derived.push((base, derived));
        }
        if !sp.bases.contains(&base) {
            sp.bases.push(base);
        }
    }
    // A slot must be either a base or a derived slot, never both: visiting
    // it both ways would forward it twice.
    if let Some(&(_, d)) = sp.derived.iter().find(|(_, d)| sp.bases.contains(d)) {
        let index = first_gc;
        return Err(StackMapError::UnsupportedLocation {
            ra,
            index,
            location: Location::Indirect {
                reg: match d.reg {
                    FrameReg::Sp => DWARF_RSP,
                    FrameReg::Fp => DWARF_RBP,
                },
                offset: d.offset,
                size: 8,
            },
        });
    }
    Ok(sp)
}

/// Every call site of a parsed section as (return address, plan).
pub fn safepoints(sec: &StackMapSection) -> Result<Vec<(u64, SafePoint)>, StackMapError> {
    let mut out = Vec::with_capacity(sec.records.len());
    let mut recs = sec.records.iter();
    for f in &sec.functions {
        for _ in 0..f.record_count {
            let rec = recs.next().ok_or(StackMapError::RecordCountMismatch {
                functions: f.record_count,
                records: sec.records.len() as u64,
            })?;
            let ra = f.address.wrapping_add(rec.offset as u64);
            out.push((ra, safepoint_of(rec, ra, f)?));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// The process-wide table

/// Return addresses are already well distributed in their low bits apart
/// from alignment; a multiplicative hash is enough and much cheaper than
/// SipHash.
#[derive(Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub type Table = HashMap<u64, SafePoint, BuildHasherDefault<AddrHasher>>;

static TABLE: RwLock<Option<Table>> = RwLock::new(None);
static INSTALL_WALKER: Once = Once::new();

/// Read access to the table of every registered call site (`None` before
/// the first registration).
pub fn table() -> RwLockReadGuard<'static, Option<Table>> {
    TABLE.read().unwrap_or_else(|e| e.into_inner())
}

/// The plan for return address `ra`, if it is a registered call site.
pub fn lookup(ra: u64) -> Option<SafePoint> {
    table().as_ref().and_then(|t| t.get(&ra).cloned())
}

/// Whether `ra` is the return address of a registered call site.
pub fn is_compiled_return_address(ra: u64) -> bool {
    table().as_ref().is_some_and(|t| t.contains_key(&ra))
}

/// Parses a relocated section (the bytes as loaded, with function
/// addresses final) and adds its call sites to the table. Installs the
/// compiled-frame walker on first use. Returns the number of call sites
/// added. Nothing is added when the section is rejected.
pub fn register_stackmaps_bytes(bytes: &[u8]) -> Result<usize, StackMapError> {
    let sec = parse(bytes)?;
    let sites = safepoints(&sec)?;
    let n = sites.len();
    {
        let mut t = TABLE.write().unwrap_or_else(|e| e.into_inner());
        let t = t.get_or_insert_with(Table::default);
        t.reserve(n);
        t.extend(sites);
    }
    INSTALL_WALKER.call_once(|| super::set_stack_walker(super::frames::walk_compiled_frames));
    Ok(n)
}

/// [`register_stackmaps_bytes`] for a section given by its start address
/// (a loaded object's `.llvm_stackmaps`); its length follows from its
/// counts.
///
/// # Safety
/// `section` must point at a complete stack map section that stays
/// readable during this call.
pub unsafe fn register_stackmaps(section: *const u8) -> Result<usize, StackMapError> {
    // SAFETY: the section is complete and readable (this function's
    // contract), so its computed length is in bounds.
    let bytes = unsafe { std::slice::from_raw_parts(section, section_len(section)) };
    register_stackmaps_bytes(bytes)
}

/// [`register_stackmaps`] with an explicit length (as the JIT's memory
/// manager knows it).
///
/// # Safety
/// `section..section + len` must be readable.
pub unsafe fn register_stackmaps_len(
    section: *const u8,
    len: usize,
) -> Result<usize, StackMapError> {
    // SAFETY: `len` readable bytes (this function's contract).
    register_stackmaps_bytes(unsafe { std::slice::from_raw_parts(section, len) })
}

/// C entry for AOT executables: `valk_register_stackmaps(valk_stackmaps)`
/// at start-up. A malformed section is a fatal error: running the program
/// without its roots would corrupt the heap.
///
/// # Safety
/// As [`register_stackmaps`].
#[no_mangle]
pub unsafe extern "C" fn valk_register_stackmaps(section: *const u8) {
    // SAFETY: this function's contract is `register_stackmaps`'s.
    if let Err(e) = unsafe { register_stackmaps(section) } {
        crate::error::fatal(&format!("internal error: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (kind, size, dwarf register, offset or constant)
    type Loc = (u8, u16, u16, i32);
    /// (id, instruction offset, locations, live-outs as (register, size))
    type Rec = (u64, u32, Vec<Loc>, Vec<(u16, u8)>);

    /// Builds sections byte by byte, the way LLVM lays them out.
    #[derive(Default)]
    struct Builder {
        functions: Vec<(u64, u64, u64)>,
        constants: Vec<u64>,
        records: Vec<Rec>,
    }

    impl Builder {
        fn bytes(&self) -> Vec<u8> {
            let mut b = vec![3u8, 0, 0, 0];
            b.extend((self.functions.len() as u32).to_le_bytes());
            b.extend((self.constants.len() as u32).to_le_bytes());
            b.extend((self.records.len() as u32).to_le_bytes());
            for &(a, s, n) in &self.functions {
                b.extend(a.to_le_bytes());
                b.extend(s.to_le_bytes());
                b.extend(n.to_le_bytes());
            }
            for c in &self.constants {
                b.extend(c.to_le_bytes());
            }
            for (id, off, locs, lives) in &self.records {
                b.extend(id.to_le_bytes());
                b.extend(off.to_le_bytes());
                b.extend(0u16.to_le_bytes());
                b.extend((locs.len() as u16).to_le_bytes());
                for &(kind, size, reg, o) in locs {
                    b.extend([kind, 0]);
                    b.extend(size.to_le_bytes());
                    b.extend(reg.to_le_bytes());
                    b.extend(0u16.to_le_bytes());
                    b.extend(o.to_le_bytes());
                }
                b.resize(b.len().next_multiple_of(8), 0);
                b.extend(0u16.to_le_bytes());
                b.extend((lives.len() as u16).to_le_bytes());
                for &(reg, size) in lives {
                    b.extend(reg.to_le_bytes());
                    b.extend([0, size]);
                }
                b.resize(b.len().next_multiple_of(8), 0);
            }
            b
        }
    }

    const C0: Loc = (4, 8, 0, 0);
    fn ind(reg: u16, off: i32) -> Loc {
        (3, 8, reg, off)
    }
    fn sp(offset: i32) -> Slot {
        Slot {
            reg: FrameReg::Sp,
            offset,
        }
    }

    fn sample() -> Builder {
        Builder {
            functions: vec![(0x1000, 24, 1), (0x2000, 56, 2)],
            constants: vec![0xdead_beef_0000],
            records: vec![
                (
                    0xABCD_EF00,
                    52,
                    vec![C0, C0, C0, ind(7, 0), ind(7, 0), ind(7, 8), ind(7, 8)],
                    vec![],
                ),
                (
                    7,
                    79,
                    // One deopt location, then: a derived pair sharing its base
                    // with a plain pair, a repeated pair, an RBP slot and a
                    // constant (null) pair.
                    vec![
                        C0,
                        C0,
                        (4, 8, 0, 1),
                        (5, 8, 0, 0),
                        ind(7, 8),
                        ind(7, 0),
                        ind(7, 8),
                        ind(7, 8),
                        ind(7, 8),
                        ind(7, 0),
                        ind(6, -16),
                        ind(6, -16),
                        C0,
                        C0,
                    ],
                    vec![(3, 8), (12, 8)],
                ),
                (9, 10, vec![C0, C0, C0], vec![]),
            ],
        }
    }

    #[test]
    fn parses_llvm_layout() {
        let bytes = sample().bytes();
        let sec = parse(&bytes).unwrap();
        assert_eq!(sec.functions.len(), 2);
        assert_eq!(
            sec.functions[1],
            Function {
                address: 0x2000,
                stack_size: 56,
                record_count: 2
            }
        );
        assert_eq!(sec.constants, vec![0xdead_beef_0000]);
        assert_eq!(sec.records.len(), 3);
        let r = &sec.records[1];
        assert_eq!((r.id, r.offset), (7, 79));
        assert_eq!(r.locations[3], Location::ConstIndex(0xdead_beef_0000));
        assert_eq!(
            r.locations[10],
            Location::Indirect {
                reg: DWARF_RBP,
                offset: -16,
                size: 8
            }
        );
        assert_eq!(
            r.live_outs,
            vec![LiveOut { reg: 3, size: 8 }, LiveOut { reg: 12, size: 8 }]
        );
        // SAFETY: `bytes` is a complete section built above.
        assert_eq!(unsafe { section_len(bytes.as_ptr()) }, bytes.len());
        // Linker padding after the last record is ignored.
        let mut padded = bytes.clone();
        padded.extend([0u8; 16]);
        assert_eq!(parse(&padded).unwrap(), sec);
    }

    #[test]
    fn plans_visit_derived_slots_then_each_base_once() {
        let sec = parse(&sample().bytes()).unwrap();
        let sites = safepoints(&sec).unwrap();
        let ras: Vec<u64> = sites.iter().map(|s| s.0).collect();
        assert_eq!(ras, vec![0x1000 + 52, 0x2000 + 79, 0x2000 + 10]);
        let a = &sites[0].1;
        assert!(a.derived.is_empty());
        assert_eq!(a.bases, vec![sp(0), sp(8)]);
        assert_eq!(a.frame_size, 24);
        let b = &sites[1].1;
        assert_eq!(b.derived, vec![(sp(8), sp(0))]);
        assert_eq!(
            b.bases,
            vec![
                sp(8),
                Slot {
                    reg: FrameReg::Fp,
                    offset: -16
                }
            ]
        );
        assert_eq!(b.function, 0x2000);
        assert!(sites[2].1.is_empty());
        assert_eq!(sp(-8).addr(0x100, 0x200), 0xf8);
        assert_eq!(
            Slot {
                reg: FrameReg::Fp,
                offset: 16
            }
            .addr(0x100, 0x200),
            0x210
        );
    }

    #[test]
    fn rejects_bad_sections_with_clear_errors() {
        let good = sample().bytes();
        for cut in [0, 3, 15, 16, 40, good.len() - 1] {
            let e = parse(&good[..cut]).unwrap_err();
            assert!(matches!(e, StackMapError::Truncated { .. }), "{cut}: {e}");
        }
        let mut v2 = good.clone();
        v2[0] = 2;
        assert_eq!(parse(&v2).unwrap_err(), StackMapError::BadVersion(2));
        let mut kind = good.clone();
        kind[16 + 48 + 8 + 16] = 9;
        assert!(matches!(
            parse(&kind).unwrap_err(),
            StackMapError::BadLocationKind { record: 0, kind: 9 }
        ));
        let mut counts = sample();
        counts.functions[0].2 = 5;
        assert!(matches!(
            parse(&counts.bytes()).unwrap_err(),
            StackMapError::RecordCountMismatch { .. }
        ));
        // Absurd counts fail as truncation, not as a huge allocation.
        let mut huge = good.clone();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            parse(&huge).unwrap_err(),
            StackMapError::Truncated { .. }
        ));
    }

    #[test]
    fn rejects_gc_values_outside_spill_slots() {
        let one = |locs: Vec<Loc>| {
            let b = Builder {
                functions: vec![(0x4000, 8, 1)],
                constants: vec![],
                records: vec![(1, 4, locs, vec![])],
            };
            safepoints(&parse(&b.bytes()).unwrap())
        };
        // A GC value in a register (callee-saved register allocation).
        let e = one(vec![C0, C0, C0, (1, 8, 3, 0), (1, 8, 3, 0)]).unwrap_err();
        assert!(matches!(
            e,
            StackMapError::UnsupportedLocation { index: 3, .. }
        ));
        assert!(e.to_string().contains("not supported"), "{e}");
        // A GC alloca after the pairs.
        let e = one(vec![C0, C0, C0, ind(7, 0), ind(7, 0), (2, 8, 7, 16)]).unwrap_err();
        assert!(matches!(
            e,
            StackMapError::UnsupportedLocation { index: 5, .. }
        ));
        // A slot addressed from another register.
        let e = one(vec![C0, C0, C0, ind(3, 0), ind(3, 0)]).unwrap_err();
        assert!(matches!(
            e,
            StackMapError::UnsupportedLocation { index: 3, .. }
        ));
        // Not a statepoint.
        let e = one(vec![C0, ind(7, 0)]).unwrap_err();
        assert!(matches!(e, StackMapError::NotStatepoint { .. }));
        let e = one(vec![C0, C0, (4, 8, 0, 5)]).unwrap_err();
        assert!(matches!(e, StackMapError::NotStatepoint { .. }));
        // Deopt locations may be anything: they are not roots.
        let ok = one(vec![
            C0,
            C0,
            (4, 8, 0, 1),
            (1, 8, 3, 0),
            ind(7, 0),
            ind(7, 0),
        ])
        .unwrap();
        assert_eq!(ok[0].1.bases, vec![sp(0)]);
    }
}
