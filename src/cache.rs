//! The compile cache, and `valkc run` built on it (see docs/cache.md).
//!
//! `valkc run FILE ARGS...` compiles FILE (with everything it `load`s)
//! into an executable kept under the user's cache directory and then
//! replaces itself with that executable. The next run of the same FILE
//! re-hashes the sources listed in a small per-file manifest and, when
//! nothing changed, executes the cached program without expanding,
//! lowering or initialising LLVM.
//!
//! The helpers ([`cache_dir`], [`cache_subdir`], [`write_atomic`],
//! [`temp_path_in`], [`sha256_hex`], [`compiler_identity`]) are meant to be
//! reused by other caches (e.g. JIT objects), each in its own subdirectory.

use crate::aot::{self, AotError};
use crate::syntax::source::SourceMap;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
/// executable and the runtime library it links executables with.
pub fn compiler_identity() -> String {
    let runtime = match valk_llvm::find_runtime_lib() {
        Some(p) => format!("{} {}", p.display(), stamp(&p)),
        None => "none".into(),
    };
    format!("{}; runtime {runtime}", executable_identity())
}

/// True when `VALK_CACHE_LOG` asks for one line per run saying whether
/// the cache was hit.
pub fn log_enabled() -> bool {
    matches!(std::env::var("VALK_CACHE_LOG").as_deref(), Ok(v) if !v.is_empty() && v != "0")
}

// ----- manifests ----------------------------------------------------------

const MANIFEST_MAGIC: &str = "valk-run-manifest 1";

/// What a cached executable was built from: the sources (canonical path and
/// SHA-256 of the text compiled; the main file first, then the files it
/// `load`s) and the executable's key.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Manifest {
    opt: u32,
    /// FILE as given on the command line (it appears in diagnostics
    /// embedded in the executable).
    name: String,
    exe: String,
    files: Vec<(String, PathBuf)>,
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Manifest {
    /// The text form, or None when a name or path cannot be written on one
    /// line (such programs are compiled every time).
    fn render(&self) -> Option<String> {
        let one_line = |s: &str| !s.contains(['\n', '\r']);
        let mut out = format!(
            "{MANIFEST_MAGIC}\nopt {}\nexe {}\nname {}\n",
            self.opt, self.exe, self.name
        );
        if !one_line(&self.name) {
            return None;
        }
        for (hash, path) in &self.files {
            let p = path.to_str().filter(|p| one_line(p))?;
            out.push_str(&format!("file {hash} {p}\n"));
        }
        out.push_str("end\n");
        Some(out)
    }

    /// Parses a manifest; anything unexpected (truncation, corruption, an
    /// older format) gives None.
    fn parse(text: &str) -> Option<Manifest> {
        let body = text.strip_suffix("end\n")?;
        let mut lines = body.lines();
        if lines.next()? != MANIFEST_MAGIC {
            return None;
        }
        let opt = lines.next()?.strip_prefix("opt ")?.parse().ok()?;
        let exe = lines.next()?.strip_prefix("exe ")?.to_string();
        let name = lines.next()?.strip_prefix("name ")?.to_string();
        if !is_hash(&exe) || opt > 3 {
            return None;
        }
        let mut files = Vec::new();
        for line in lines {
            let (hash, path) = line.strip_prefix("file ")?.split_once(' ')?;
            if !is_hash(hash) || path.is_empty() {
                return None;
            }
            files.push((hash.to_string(), PathBuf::from(path)));
        }
        if files.is_empty() {
            return None;
        }
        Some(Manifest {
            opt,
            name,
            exe,
            files,
        })
    }
}

/// The key of an executable: everything its machine code depends on.
fn exe_key(identity: &str, opt: u32, name: &str, files: &[(String, PathBuf)]) -> String {
    let opt = opt.to_string();
    let mut parts: Vec<&[u8]> = vec![
        b"valk-run-exe 1",
        identity.as_bytes(),
        opt.as_bytes(),
        name.as_bytes(),
    ];
    for (hash, path) in files {
        parts.push(path.as_os_str().as_encoded_bytes());
        parts.push(hash.as_bytes());
    }
    sha256_hex(&parts)
}

/// File name of the manifest of one main file, compiled at one level and
/// named one way on the command line.
fn manifest_name(canonical: &Path, name: &str, opt: u32) -> String {
    let opt = opt.to_string();
    let key = sha256_hex(&[
        b"valk-run-manifest 1",
        canonical.as_os_str().as_encoded_bytes(),
        name.as_bytes(),
        opt.as_bytes(),
    ]);
    format!("{key}.manifest")
}

fn exe_name(key: &str) -> String {
    format!("{key}.exe")
}

fn file_hash(path: &Path) -> io::Result<String> {
    Ok(sha256_hex(&[&std::fs::read(path)?]))
}

enum Lookup {
    Hit(PathBuf),
    /// Why not, and the key of the previous executable of this main file.
    Miss(String, Option<String>),
}

/// The fast path: is there an up-to-date executable for this main file?
fn lookup(
    dir: &Path,
    manifest: &Path,
    identity: &str,
    canonical: &Path,
    name: &str,
    opt: u32,
) -> Lookup {
    let text = match std::fs::read(manifest) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Lookup::Miss("not compiled before".into(), None)
        }
        Err(e) => return Lookup::Miss(format!("cannot read the manifest: {e}"), None),
    };
    let m = match std::str::from_utf8(&text).ok().and_then(Manifest::parse) {
        Some(m) if m.opt == opt && m.name == name && m.files[0].1 == canonical => m,
        _ => return Lookup::Miss("manifest unreadable".into(), None),
    };
    for (hash, path) in &m.files {
        match file_hash(path) {
            Ok(h) if h == *hash => {}
            _ => return Lookup::Miss(format!("{} changed", path.display()), Some(m.exe)),
        }
    }
    if exe_key(identity, opt, name, &m.files) != m.exe {
        return Lookup::Miss("compiler changed".into(), Some(m.exe));
    }
    let exe = dir.join(exe_name(&m.exe));
    if !exe.is_file() {
        return Lookup::Miss("executable missing".into(), Some(m.exe));
    }
    Lookup::Hit(exe)
}

/// The source files a compiled program was built from, with the SHA-256
/// of the text actually compiled (not re-read: a file edited during the
/// compile then just misses next time). The main file comes first. None
/// when they cannot be listed reliably (the program is then not cached).
fn compiled_sources(sources: &SourceMap, name: &str) -> Option<Vec<(String, PathBuf)>> {
    // The source map holds the prelude, then the main file, then every
    // file read by `load`, in order (only the reader adds files).
    let mut files = sources.files().iter();
    let prelude = files.next()?;
    if prelude.name != "<prelude>" || prelude.text != crate::driver::PRELUDE {
        return None;
    }
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for (i, f) in files.enumerate() {
        if i == 0 && f.name != name {
            return None;
        }
        let path = std::fs::canonicalize(&f.name).ok()?;
        let entry = (sha256_hex(&[f.text.as_bytes()]), path);
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Compiles `name` into the executable `exe` (like `valkc compile`, same
/// diagnostics), using `scratch` for the object file. Returns the sources
/// to record, None if they cannot be.
fn build(
    name: &str,
    opt: u32,
    exe: &Path,
    scratch: &Path,
) -> Result<Option<Vec<(String, PathBuf)>>, AotError> {
    let p = aot::lower_file(name, opt)?;
    let files = compiled_sources(&p.sources, name);
    let obj_path = temp_path_in(scratch, "obj").map_err(|e| {
        AotError(format!(
            "error: cannot write in {}: {e}\n",
            scratch.display()
        ))
    })?;
    aot::link_program(&p, opt, exe, &obj_path).map(|()| files)
}

// ----- running ------------------------------------------------------------

fn program_command(exe: &Path, name: &str, args: &[OsString]) -> std::process::Command {
    let mut cmd = std::process::Command::new(exe);
    // `(command-line)` starts with the source file, as if it were a
    // script, rather than with the cache's file name.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::arg0(&mut cmd, name);
    #[cfg(not(unix))]
    let _ = name;
    cmd.args(args);
    cmd
}

/// Replaces this process with the program (Unix), so that its output,
/// signals and exit status are exactly the program's. Returns only on
/// failure.
fn exec(exe: &Path, name: &str, args: &[OsString]) -> io::Error {
    let mut cmd = program_command(exe, name, args);
    #[cfg(unix)]
    {
        std::os::unix::process::CommandExt::exec(&mut cmd)
    }
    #[cfg(not(unix))]
    {
        match cmd.status() {
            Ok(s) => std::process::exit(s.code().unwrap_or(1)),
            Err(e) => e,
        }
    }
}

/// Runs the program as a child, removes `cleanup` (a file or directory),
/// then exits as the child did (re-raising its signal). Used when the
/// executable is not kept in the cache.
fn run_and_remove(exe: &Path, name: &str, args: &[OsString], cleanup: &Path) -> AotError {
    let remove = || {
        if cleanup.is_dir() {
            let _ = std::fs::remove_dir_all(cleanup);
        } else {
            let _ = std::fs::remove_file(cleanup);
        }
    };
    let mut child = match program_command(exe, name, args).spawn() {
        Ok(c) => c,
        Err(e) => {
            remove();
            return AotError(format!("error: cannot run {}: {e}\n", exe.display()));
        }
    };
    // Terminal signals reach the whole process group: let the child
    // decide, and survive long enough to clean up.
    #[cfg(unix)]
    // SAFETY: setting a signal disposition to SIG_IGN has no
    // preconditions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    let status = child.wait();
    remove();
    match status {
        Ok(s) => {
            #[cfg(unix)]
            if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&s) {
                // SAFETY: restoring the default disposition and raising a
                // signal at ourselves have no preconditions.
                unsafe {
                    libc::signal(sig, libc::SIG_DFL);
                    libc::raise(sig);
                }
                std::process::exit(128 + sig);
            }
            std::process::exit(s.code().unwrap_or(1))
        }
        Err(e) => AotError(format!("error: cannot wait for {}: {e}\n", exe.display())),
    }
}

/// Compiles into a private temporary directory, runs, removes it: the
/// path taken when the cache cannot be used.
fn run_uncached(name: &str, opt: u32, args: &[OsString]) -> AotError {
    let base = std::env::temp_dir();
    let dir = match temp_path_in(&base, "valk-run").and_then(|p| {
        std::fs::remove_file(&p)?;
        std::fs::create_dir(&p)?;
        Ok(p)
    }) {
        Ok(d) => d,
        Err(e) => {
            return AotError(format!(
                "error: cannot create a temporary directory in {}: {e}\n",
                base.display()
            ))
        }
    };
    let exe = dir.join("program");
    match build(name, opt, &exe, &dir) {
        Ok(_) => run_and_remove(&exe, name, args, &dir),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            e
        }
    }
}

/// Removes temporary files in `dir` older than a day (left by processes
/// killed while compiling).
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let day = Duration::from_secs(24 * 3600);
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn warn_uncached(what: &str) {
    eprintln!("warning: valkc run: {what}; compiling into a temporary directory");
}

/// `valkc run`: runs `name` with `args`, compiling it at level `opt` only
/// when it (or a file it loads) changed since the executable in the cache
/// was built. On success the process becomes the program (or exits with
/// its status); the returned error is rendered like `valkc compile`'s.
pub fn run(name: &str, opt: u32, args: &[OsString]) -> AotError {
    let log = log_enabled();
    let say = |msg: &str| {
        if log {
            eprintln!("valk cache: {msg}");
        }
    };
    let dir = match cache_subdir("run") {
        Ok(d) => d,
        Err(e) => {
            warn_uncached(&format!("cannot use the cache directory: {e}"));
            say(&format!("compiling {name} (no cache)"));
            return run_uncached(name, opt, args);
        }
    };
    let identity = compiler_identity();
    // A main file that cannot be resolved is compiled anyway: the compiler
    // reports the error exactly as `valkc compile` does.
    let canonical = std::fs::canonicalize(name).ok();
    let manifest = canonical
        .as_ref()
        .map(|c| dir.join(manifest_name(c, name, opt)));
    let mut previous = None;
    if let (Some(c), Some(m)) = (&canonical, &manifest) {
        match lookup(&dir, m, &identity, c, name, opt) {
            Lookup::Hit(exe) => {
                say(&format!("hit {name}"));
                let e = exec(&exe, name, args);
                if e.kind() != io::ErrorKind::NotFound {
                    return AotError(format!("error: cannot run {}: {e}\n", exe.display()));
                }
                // Removed by a concurrent run since the lookup: rebuild.
                say(&format!("compiling {name} (executable vanished)"));
            }
            Lookup::Miss(why, prev) => {
                say(&format!("compiling {name} ({why})"));
                previous = prev;
            }
        }
    } else {
        say(&format!("compiling {name} (cannot resolve the file)"));
    }
    remove_stale_temps(&dir);
    let tmp = match temp_path_in(&dir, "exe") {
        Ok(t) => t,
        Err(e) => {
            warn_uncached(&format!("cannot write in {}: {e}", dir.display()));
            return run_uncached(name, opt, args);
        }
    };
    let files = match build(name, opt, &tmp, &dir) {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return e;
        }
    };
    let (Some(manifest), Some(files)) = (manifest, files) else {
        return run_and_remove(&tmp, name, args, &tmp);
    };
    let key = exe_key(&identity, opt, name, &files);
    let exe = dir.join(exe_name(&key));
    // Concurrent runs may each rename their own (identical) executable
    // here; either way the name always holds a complete file.
    if let Err(e) = std::fs::rename(&tmp, &exe) {
        warn_uncached(&format!("cannot write {}: {e}", exe.display()));
        return run_and_remove(&tmp, name, args, &tmp);
    }
    let m = Manifest {
        opt,
        name: name.to_string(),
        exe: key.clone(),
        files,
    };
    if let Some(text) = m.render() {
        let _ = write_atomic(&manifest, text.as_bytes());
    }
    if let Some(prev) = previous.filter(|p| *p != key) {
        let _ = std::fs::remove_file(dir.join(exe_name(&prev)));
    }
    let _ = io::stderr().flush();
    let e = exec(&exe, name, args);
    if e.kind() == io::ErrorKind::NotFound {
        // A concurrent run of an edited version replaced this entry.
        return run_uncached(name, opt, args);
    }
    AotError(format!("error: cannot run {}: {e}\n", exe.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "valk-cache-unit-{tag}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
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
    fn manifest_round_trip_and_corruption() {
        let m = Manifest {
            opt: 2,
            name: "dir/main file.valk".into(),
            exe: sha256_hex(&[b"exe"]),
            files: vec![
                (sha256_hex(&[b"a"]), PathBuf::from("/x/main file.valk")),
                (sha256_hex(&[b"b"]), PathBuf::from("/x/lib.valk")),
            ],
        };
        let text = m.render().unwrap();
        assert_eq!(Manifest::parse(&text), Some(m.clone()));
        // Every truncation is rejected.
        for cut in 0..text.len() {
            assert_eq!(Manifest::parse(&text[..cut]), None, "cut at {cut}");
        }
        assert_eq!(Manifest::parse(&text.replace("opt 2", "opt 9")), None);
        assert_eq!(Manifest::parse(&text.replace("exe ", "exe ../")), None);
        assert_eq!(Manifest::parse("garbage\nend\n"), None);
        // Names that do not fit on a line are not cacheable.
        let bad = Manifest {
            name: "a\nb".into(),
            ..m
        };
        assert_eq!(bad.render(), None);
    }

    #[test]
    fn keys_depend_on_everything() {
        let files = vec![(sha256_hex(&[b"a"]), PathBuf::from("/m.valk"))];
        let k = exe_key("id", 2, "m.valk", &files);
        assert_eq!(k, exe_key("id", 2, "m.valk", &files));
        assert_ne!(k, exe_key("id2", 2, "m.valk", &files));
        assert_ne!(k, exe_key("id", 3, "m.valk", &files));
        assert_ne!(k, exe_key("id", 2, "./m.valk", &files));
        let mut edited = files.clone();
        edited[0].0 = sha256_hex(&[b"b"]);
        assert_ne!(k, exe_key("id", 2, "m.valk", &edited));
        let mut more = files.clone();
        more.push((sha256_hex(&[b"c"]), PathBuf::from("/lib.valk")));
        assert_ne!(k, exe_key("id", 2, "m.valk", &more));
        let m = manifest_name(Path::new("/m.valk"), "m.valk", 2);
        assert_ne!(m, manifest_name(Path::new("/m.valk"), "m.valk", 0));
        assert!(m.ends_with(".manifest"));
    }

    #[test]
    fn compiled_sources_lists_main_then_loaded() {
        let d = temp_dir("sources");
        let main = d.join("main.valk");
        let lib = d.join("lib.valk");
        std::fs::write(&lib, "(define x 1)\n").unwrap();
        std::fs::write(&main, "(load \"lib.valk\")\n(display x)\n").unwrap();
        let name = main.to_str().unwrap();
        let text = std::fs::read_to_string(&main).unwrap();
        let mut sm = SourceMap::new();
        crate::lower::expand_program(&mut sm, name, &text).unwrap();
        let files = compiled_sources(&sm, name).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].1, std::fs::canonicalize(&main).unwrap());
        assert_eq!(files[1].1, std::fs::canonicalize(&lib).unwrap());
        assert_eq!(files[1].0, file_hash(&lib).unwrap());
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
