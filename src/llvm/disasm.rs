//! Disassembly of JIT code for the REPL's `,disasm` (docs/repl.md).
//!
//! JIT functions are internal symbols with no size the REPL can look up,
//! so a function's end is found from its code: it ends at the `ret`,
//! `ud2` or unconditional jump after which no branch seen so far lands
//! (LLVM lays a function's blocks out contiguously).

use llvm_sys::disassembler::*;
use std::ffi::{c_char, CStr};

/// One disassembled function.
pub struct Listing {
    /// (address, instruction text) in order.
    pub lines: Vec<(u64, String)>,
    /// Targets of unconditional jumps that leave the function (tail calls).
    pub exits: Vec<u64>,
}

/// What an instruction does to control flow (x86-64 encodings).
enum Flow {
    Next,
    Branch(u64),
    Jump(u64),
    Call(u64),
    End,
}

fn flow(bytes: &[u8], pc: u64) -> Flow {
    let mut i = 0;
    // Segment, operand-size and rep prefixes (`rep ret`, `notrack jmp`).
    while i < bytes.len() && matches!(bytes[i], 0x2e | 0x3e | 0x66 | 0xf2 | 0xf3) {
        i += 1;
    }
    let b = &bytes[i..];
    let n = bytes.len() as u64;
    let rel8 = |k: usize| pc.wrapping_add(n).wrapping_add(b[k] as i8 as i64 as u64);
    let rel32 = |k: usize| {
        let d = i32::from_le_bytes([b[k], b[k + 1], b[k + 2], b[k + 3]]);
        pc.wrapping_add(n).wrapping_add(d as i64 as u64)
    };
    match b {
        [0xc3, ..] | [0xc2, ..] | [0x0f, 0x0b, ..] => Flow::End,
        [0xeb, _, ..] => Flow::Jump(rel8(1)),
        [0xe9, _, _, _, _, ..] => Flow::Jump(rel32(1)),
        [0xe8, _, _, _, _, ..] => Flow::Call(rel32(1)),
        [0x70..=0x7f, _, ..] => Flow::Branch(rel8(1)),
        [0x0f, 0x80..=0x8f, _, _, _, _, ..] => Flow::Branch(rel32(2)),
        // `jmp *...` (FF /4, FF /5): an indirect tail call.
        [0xff, m, ..] if matches!((m >> 3) & 7, 4 | 5) => Flow::End,
        _ => Flow::Next,
    }
}

/// Disassembles the function whose code starts at `code[0]`, which is at
/// address `base`; `name_of` names call and jump targets (runtime
/// functions). Stops at the function's end or the end of `code`.
pub fn disassemble(code: &[u8], base: u64, name_of: &dyn Fn(u64) -> Option<String>) -> Listing {
    let mut out = Listing {
        lines: Vec::new(),
        exits: Vec::new(),
    };
    // SAFETY: initialising LLVM's X86 target components is idempotent; the
    // context is created, used on `code` (a slice we own a borrow of) and
    // disposed of here; the output buffer is ours and NUL-terminated.
    unsafe {
        llvm_sys::target::LLVMInitializeX86TargetInfo();
        llvm_sys::target::LLVMInitializeX86TargetMC();
        llvm_sys::target::LLVMInitializeX86Disassembler();
        let dc = LLVMCreateDisasm(
            c"x86_64-pc-linux-gnu".as_ptr(),
            std::ptr::null_mut(),
            0,
            None,
            None,
        );
        if dc.is_null() {
            return out;
        }
        LLVMSetDisasmOptions(dc, LLVMDisassembler_Option_PrintImmHex);
        let mut furthest = base;
        let mut off = 0usize;
        let mut buf = [0 as c_char; 256];
        while off < code.len() {
            let pc = base + off as u64;
            let n = LLVMDisasmInstruction(
                dc,
                code.as_ptr().add(off) as *mut u8,
                (code.len() - off) as u64,
                pc,
                buf.as_mut_ptr(),
                buf.len(),
            );
            if n == 0 {
                out.lines.push((pc, format!("(.byte 0x{:02x})", code[off])));
                break;
            }
            let mut text = CStr::from_ptr(buf.as_ptr())
                .to_string_lossy()
                .trim()
                .replace('\t', " ");
            let next = pc + n as u64;
            let f = flow(&code[off..off + n], pc);
            let inside = |t: u64| t >= base && t < base + code.len() as u64;
            let mut end = false;
            match f {
                Flow::Branch(t) => {
                    if inside(t) {
                        furthest = furthest.max(t);
                    }
                    text.push_str(&format!("  ; -> 0x{t:x}"));
                }
                Flow::Call(t) => match name_of(t) {
                    Some(name) => text.push_str(&format!("  ; {name}")),
                    None => text.push_str(&format!("  ; -> 0x{t:x}")),
                },
                Flow::Jump(t) => {
                    if t >= base && t < next {
                        text.push_str(&format!("  ; -> 0x{t:x}"));
                        end = next > furthest;
                    } else if next > furthest {
                        // Nothing lands after this jump: a tail call.
                        match name_of(t) {
                            Some(name) => text.push_str(&format!("  ; tail call {name}")),
                            None => text.push_str(&format!("  ; tail call 0x{t:x}")),
                        }
                        out.exits.push(t);
                        end = true;
                    } else {
                        if inside(t) {
                            furthest = furthest.max(t);
                        }
                        text.push_str(&format!("  ; -> 0x{t:x}"));
                    }
                }
                Flow::End => end = next > furthest,
                Flow::Next => {}
            }
            out.lines.push((pc, text));
            off += n;
            if end {
                break;
            }
        }
        LLVMDisasmDispose(dc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_last_return_and_follows_branches() {
        // cmp rsi,1; jne +1; ret; xor eax,eax; ret; int3
        let code = [
            0x48, 0x83, 0xfe, 0x01, 0x75, 0x01, 0xc3, 0x31, 0xc0, 0xc3, 0xcc,
        ];
        let l = disassemble(&code, 0x1000, &|_| None);
        assert_eq!(l.lines.len(), 5, "{:?}", l.lines);
        assert!(l.lines[0].1.starts_with("cmp"), "{:?}", l.lines);
        assert!(l.lines[4].1.starts_with("ret"), "{:?}", l.lines);
        assert!(l.exits.is_empty());
    }

    #[test]
    fn a_final_jump_is_a_tail_call() {
        // test edi,edi; jmp 0x2000
        let code = [0x85, 0xff, 0xe9, 0xf9, 0x0f, 0x00, 0x00, 0xcc];
        let l = disassemble(&code, 0x1000, &|a| (a == 0x2000).then(|| "g".to_string()));
        assert_eq!(l.lines.len(), 2);
        assert!(l.lines[1].1.ends_with("tail call g"), "{:?}", l.lines);
        assert_eq!(l.exits, vec![0x2000]);
    }
}
