//! Shared libraries and symbols: `dlopen`/`dlsym` with a cache per library
//! name and per (library, symbol), so only the first lookup pays
//! (docs/ffi.md, "Libraries and symbols").

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::sync::Mutex;

struct Tables {
    /// Open libraries by the name they were opened with, in opening order.
    libraries: Vec<(String, usize)>,
    /// Symbol addresses by (library handle, 0 for the process; name).
    symbols: BTreeMap<(usize, String), usize>,
}

static TABLES: Mutex<Tables> = Mutex::new(Tables {
    libraries: Vec::new(),
    symbols: BTreeMap::new(),
});

fn tables() -> std::sync::MutexGuard<'static, Tables> {
    TABLES.lock().unwrap_or_else(|e| e.into_inner())
}

/// The last `dlerror` text, or `default`.
fn dl_error(default: &str) -> String {
    // SAFETY: `dlerror` returns NULL or a NUL-terminated message owned by
    // libc, read at once.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        default.to_string()
    } else {
        // SAFETY: see above.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

/// Opens shared library `name` (as `dlopen` finds it: a soname such as
/// `libz.so.1`, or a path), once; its symbols become visible to later
/// lookups in the process (`RTLD_GLOBAL`). Returns the handle or the
/// system's reason.
pub fn open(name: &str) -> Result<usize, String> {
    if let Some(&(_, h)) = tables().libraries.iter().find(|(n, _)| n == name) {
        return Ok(h);
    }
    let c = CString::new(name).map_err(|_| "name contains a NUL character".to_string())?;
    // SAFETY: `c` is a NUL-terminated name; flags are valid.
    let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if h.is_null() {
        return Err(dl_error("cannot open the library"));
    }
    tables().libraries.push((name.to_string(), h as usize));
    Ok(h as usize)
}

/// Whether `handle` is a library [`open`] returned.
pub fn is_library(handle: usize) -> bool {
    tables().libraries.iter().any(|&(_, h)| h == handle)
}

/// The address of `symbol` in library `handle` (0: the process, which
/// includes every library opened with [`open`]).
pub fn symbol(handle: usize, symbol: &str) -> Result<usize, String> {
    let key = (handle, symbol.to_string());
    if let Some(&a) = tables().symbols.get(&key) {
        return Ok(a);
    }
    let c = CString::new(symbol).map_err(|_| "name contains a NUL character".to_string())?;
    let h = if handle == 0 {
        libc::RTLD_DEFAULT
    } else {
        handle as *mut libc::c_void
    };
    // SAFETY: clears a stale error before the lookup (a symbol may
    // legitimately be NULL only for odd libraries; NULL is treated as
    // missing).
    unsafe { libc::dlerror() };
    // SAFETY: `h` is RTLD_DEFAULT or a handle from `dlopen`; `c` is a
    // NUL-terminated name.
    let a = unsafe { libc::dlsym(h, c.as_ptr()) };
    if a.is_null() {
        return Err(dl_error("symbol not found"));
    }
    tables().symbols.insert(key, a as usize);
    Ok(a as usize)
}

/// `symbol` looked up in the process, then in each opened library (in
/// opening order).
pub fn symbol_anywhere(name: &str) -> Result<usize, String> {
    let first = symbol(0, name);
    if first.is_ok() {
        return first;
    }
    let libs: Vec<usize> = tables().libraries.iter().map(|&(_, h)| h).collect();
    for h in libs {
        if let Ok(a) = symbol(h, name) {
            return Ok(a);
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libc_and_libm_symbols() {
        assert!(symbol(0, "strlen").is_ok());
        let m = open("libm.so.6").expect("libm");
        assert_eq!(open("libm.so.6"), Ok(m), "cached");
        assert!(is_library(m));
        assert!(symbol(m, "cos").is_ok());
        assert!(symbol_anywhere("cos").is_ok());
    }

    #[test]
    fn missing_library_and_symbol() {
        let e = open("libno-such-valk-library.so").unwrap_err();
        assert!(e.contains("libno-such-valk-library.so"), "{e}");
        assert!(symbol(0, "no_such_valk_symbol").is_err());
    }
}
