//! The on-disk store shared by Valk's caches (the JIT's object cache,
//! `valkc run`'s executables; see docs/cache.md): where the cache lives,
//! content hashing, atomic writes and temporary files, and the identity of
//! the compiler that produced an entry. Each cache keeps its entries in
//! its own subdirectory ([`cache_subdir`]).

use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The cache root: `$VALK_CACHE_DIR` if set, else `$XDG_CACHE_HOME/valk`
/// (only when that is an absolute path, as the XDG spec requires), else
/// `$HOME/.cache/valk`. Empty variables count as unset. Nothing is created.
pub fn cache_dir() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok();
    cache_dir_from(|name| std::env::var_os(name), cwd.as_deref())
}

/// [`cache_dir`] with the environment and the working directory given
/// (testable without touching the process environment).
fn cache_dir_from(var: impl Fn(&str) -> Option<OsString>, cwd: Option<&Path>) -> Option<PathBuf> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = var("VALK_CACHE_DIR") {
        // Executables are run by path: keep it independent of the cwd.
        return if d.is_absolute() {
            Some(d)
        } else {
            cwd.map(|c| c.join(d))
        };
    }
    if let Some(x) = var("XDG_CACHE_HOME") {
        if x.is_absolute() {
            return Some(x.join("valk"));
        }
    }
    let home = var("HOME")?;
    home.is_absolute().then(|| home.join(".cache").join("valk"))
}

/// `cache_dir()/name`, created (with its parents) if needed.
pub fn cache_subdir(name: &str) -> io::Result<PathBuf> {
    let root = cache_dir().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "no cache directory (set VALK_CACHE_DIR, XDG_CACHE_HOME or HOME)",
        )
    })?;
    let dir = root.join(name);
    std::fs::create_dir_all(&dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    Ok(dir)
}

/// Prefix of the temporary files of [`temp_path_in`]; files with it that
/// are old enough are leftovers of killed processes.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Reserves a new, empty file in `dir` with a name no other process or
/// thread can get (`.tmp-<stem>-<pid>-<counter>-<nanos>`, created with
/// `create_new`). Rename it into place or remove it when done.
pub fn temp_path_in(dir: &Path, stem: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = dir.join(format!("{TEMP_PREFIX}{stem}-{pid}-{n}-{nanos}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Writes `bytes` to `path` atomically: readers see the old file or the
/// whole new one, never a partial one (temporary file in the same
/// directory, then `rename`; not fsync'ed: a crash may lose the entry,
/// which only costs a recompile).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = temp_path_in(dir, &stem)?;
    let r = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Lowercase hex SHA-256 of a sequence of parts. Each part is preceded by
/// its length, so part boundaries matter: `["ab", "c"]` and `["a", "bc"]`
/// give different hashes.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Size and modification time of a file, as text (a cheap stand-in for
/// its hash: a rebuild rewrites the file).
fn stamp(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) => {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .unwrap_or_default();
            format!("{} {}.{:09}", m.len(), t.as_secs(), t.subsec_nanos())
        }
        Err(_) => "missing".into(),
    }
}

/// Identifies the running executable: the crate version plus its size and
/// mtime (they change when it is rebuilt; hashing it would cost far more
/// than a cache hit saves). Enough for code the JIT caches, since the
/// runtime it links against is inside the executable.
pub fn executable_identity() -> String {
    let exe = std::env::current_exe()
        .map(|p| stamp(&p))
        .unwrap_or_else(|_| "unknown".into());
    format!("valk {}; executable {exe}", env!("CARGO_PKG_VERSION"))
}

/// Identifies the compiler that produced a cached executable: the running
/// executable and the runtime libraries it links executables with (with
/// the evaluator for programs that use `eval`, docs/libraries.md).
pub fn compiler_identity() -> String {
    let lib = |p: Option<PathBuf>| match p {
        Some(p) => format!("{} {}", p.display(), stamp(&p)),
        None => "none".into(),
    };
    format!(
        "{}; runtime {}; eval {}",
        executable_identity(),
        lib(valk_llvm::find_runtime_lib()),
        lib(valk_llvm::find_eval_lib())
    )
}

/// True when `VALK_CACHE_LOG` asks for one line per run saying whether
/// the cache was hit.
pub fn log_enabled() -> bool {
    valk_runtime::host::env_flag("VALK_CACHE_LOG")
}

/// Is `s` a hash as [`sha256_hex`] writes it?
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh directory for one unit test (`valk-<tag>-<pid>-<nanos>` in the
/// system's temporary directory).
#[cfg(test)]
pub(crate) fn test_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "valk-{tag}-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        test_dir(&format!("store-unit-{tag}"))
    }

    #[test]
    fn sha256_known_value_and_boundaries() {
        // SHA-256 of the empty string, hashed as one empty part: the part
        // is its 8-byte length prefix (all zeros).
        let mut h = Sha256::new();
        h.update([0u8; 8]);
        assert_eq!(sha256_hex(&[b""]), hex(&h.finalize()));
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(sha256_hex(&[b"ab", b"c"]), sha256_hex(&[b"a", b"bc"]));
        assert_eq!(sha256_hex(&[b"x", b"y"]), sha256_hex(&[b"x", b"y"]));
        assert!(is_hash(&sha256_hex(&[b"x"])));
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let d = temp_dir("atomic");
        let p = d.join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
        // A missing directory is an error, not a panic.
        assert!(write_atomic(&d.join("no/such/dir/f"), b"x").is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn write_atomic_concurrent_writers() {
        let d = temp_dir("race");
        let p = d.join("f");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let p = p.clone();
                std::thread::spawn(move || {
                    let body = vec![b'a' + i as u8; 100_000];
                    for _ in 0..20 {
                        write_atomic(&p, &body).unwrap();
                        let got = std::fs::read(&p).unwrap();
                        // Always some writer's whole content.
                        assert_eq!(got.len(), 100_000);
                        assert!(got.iter().all(|&b| b == got[0]));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn temp_paths_are_unique() {
        let d = temp_dir("temps");
        let a = temp_path_in(&d, "x").unwrap();
        let b = temp_path_in(&d, "x").unwrap();
        assert_ne!(a, b);
        assert!(a.is_file() && b.is_file());
        assert!(a
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(TEMP_PREFIX));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn cache_dir_precedence() {
        fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
            move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        }
        let cwd = Some(Path::new("/cwd"));
        let all = [
            ("VALK_CACHE_DIR", "/c/valk"),
            ("XDG_CACHE_HOME", "/xdg"),
            ("HOME", "/home/u"),
        ];
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(cache_dir_from(env(&all), cwd), p("/c/valk"));
        let rel = [("VALK_CACHE_DIR", "rel/c"), ("HOME", "/home/u")];
        assert_eq!(cache_dir_from(env(&rel), cwd), p("/cwd/rel/c"));
        let xdg = [
            ("VALK_CACHE_DIR", ""),
            ("XDG_CACHE_HOME", "/xdg"),
            ("HOME", "/home/u"),
        ];
        assert_eq!(cache_dir_from(env(&xdg), cwd), p("/xdg/valk"));
        let bad_xdg = [("XDG_CACHE_HOME", "relative"), ("HOME", "/home/u")];
        assert_eq!(cache_dir_from(env(&bad_xdg), cwd), p("/home/u/.cache/valk"));
        assert_eq!(cache_dir_from(env(&[]), cwd), None);
        assert_eq!(cache_dir_from(env(&[("HOME", "")]), cwd), None);
    }
}
