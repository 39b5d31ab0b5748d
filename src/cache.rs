//! The compile cache, and `valkc run` built on it (see docs/cache.md).
//!
//! `valkc run FILE ARGS...` compiles FILE (with everything it `load`s)
//! into an executable kept under the user's cache directory and then
//! replaces itself with that executable. The next run of the same FILE
//! re-hashes the sources listed in a small per-file manifest and, when
//! nothing changed, executes the cached program without expanding,
//! lowering or initialising LLVM.
//!
//! The directory, hashing and atomic-write helpers it shares with the
//! JIT's object cache are in [`crate::store`].

use crate::pipeline::{self, PipelineError};
use crate::prelude;
use crate::store::{
    cache_subdir, compiler_identity, is_hash, log_enabled, sha256_hex, temp_path_in, write_atomic,
    TEMP_PREFIX,
};
use crate::syntax::source::SourceMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Library files the compile looked for and did not find: one that
    /// appears would be imported instead (docs/libraries.md).
    absent: Vec<PathBuf>,
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
        for path in &self.absent {
            let p = path.to_str().filter(|p| one_line(p))?;
            out.push_str(&format!("absent {p}\n"));
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
        let mut absent = Vec::new();
        for line in lines {
            if let Some(path) = line.strip_prefix("absent ") {
                absent.push(PathBuf::from(path));
                continue;
            }
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
            absent,
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
    // Another library search path may find other libraries: another entry.
    let search: Vec<u8> = crate::expand::library_search_path()
        .iter()
        .flat_map(|d| [d.as_os_str().as_encoded_bytes(), b"\0"].concat())
        .collect();
    let key = sha256_hex(&[
        b"valk-run-manifest 1",
        canonical.as_os_str().as_encoded_bytes(),
        name.as_bytes(),
        opt.as_bytes(),
        &search,
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
    if let Some(p) = m.absent.iter().find(|p| p.exists()) {
        return Lookup::Miss(format!("{} appeared", p.display()), Some(m.exe));
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
    // file read by `load`, `include` or `import`, in order (only the
    // reader adds files).
    let mut files = sources.files().iter();
    let prelude = files.next()?;
    if !prelude::is_prelude(&prelude.name, &prelude.text) {
        return None;
    }
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for (i, f) in files.enumerate() {
        if i == 0 && f.name != name {
            return None;
        }
        if f.name.starts_with("<lib>/") {
            // An installed library: part of the compiler, whose identity
            // the key already holds (docs/libraries.md).
            continue;
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
/// to record (None if they cannot be) and the library files looked for
/// and not found.
fn build(name: &str, opt: u32, exe: &Path, scratch: &Path) -> Result<Built, PipelineError> {
    let p = pipeline::lower_file(name, opt)?;
    let files = compiled_sources(&p.sources, name);
    let absent = p.absent.clone();
    let obj_path = temp_path_in(scratch, "obj").map_err(|e| {
        PipelineError(format!(
            "error: cannot write in {}: {e}\n",
            scratch.display()
        ))
    })?;
    pipeline::link_program(&p, opt, exe, &obj_path).map(|()| (files, absent))
}

/// What [`build`] records: the sources (None when they cannot be listed)
/// and the library files looked for and not found.
type Built = (Option<Vec<(String, PathBuf)>>, Vec<PathBuf>);

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

/// How `valkc run` ended when it did not become the program: the binary
/// exits (or dies) the same way. The library never ends the process itself.
#[derive(Debug)]
pub enum RunEnd {
    /// The program ran as a child process and exited with this status.
    Exited(i32),
    /// The program ran as a child process and was killed by this signal.
    Signaled(i32),
    /// Compiling or starting the program failed (rendered like
    /// `valkc compile`'s errors).
    Failed(PipelineError),
}

/// Replaces this process with the program (Unix), so that its output,
/// signals and exit status are exactly the program's. Returns only on
/// failure (elsewhere: runs it as a child and says how it ended).
fn exec(exe: &Path, name: &str, args: &[OsString]) -> Result<RunEnd, io::Error> {
    let mut cmd = program_command(exe, name, args);
    #[cfg(unix)]
    {
        Err(std::os::unix::process::CommandExt::exec(&mut cmd))
    }
    #[cfg(not(unix))]
    {
        cmd.status().map(|s| RunEnd::Exited(s.code().unwrap_or(1)))
    }
}

/// Runs the program as a child, removes `cleanup` (a file or directory),
/// and says how the child ended. Used when the executable is not kept in
/// the cache.
fn run_and_remove(exe: &Path, name: &str, args: &[OsString], cleanup: &Path) -> RunEnd {
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
            return RunEnd::Failed(PipelineError(format!(
                "error: cannot run {}: {e}\n",
                exe.display()
            )));
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
                return RunEnd::Signaled(sig);
            }
            RunEnd::Exited(s.code().unwrap_or(1))
        }
        Err(e) => RunEnd::Failed(PipelineError(format!(
            "error: cannot wait for {}: {e}\n",
            exe.display()
        ))),
    }
}

/// Compiles into a private temporary directory, runs, removes it: the
/// path taken when the cache cannot be used.
fn run_uncached(name: &str, opt: u32, args: &[OsString]) -> RunEnd {
    let base = std::env::temp_dir();
    let dir = match temp_path_in(&base, "valk-run").and_then(|p| {
        std::fs::remove_file(&p)?;
        std::fs::create_dir(&p)?;
        Ok(p)
    }) {
        Ok(d) => d,
        Err(e) => {
            return RunEnd::Failed(PipelineError(format!(
                "error: cannot create a temporary directory in {}: {e}\n",
                base.display()
            )))
        }
    };
    let exe = dir.join("program");
    match build(name, opt, &exe, &dir) {
        Ok(_) => run_and_remove(&exe, name, args, &dir),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            RunEnd::Failed(e)
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
    valk_runtime::eprintln_quiet!(
        "warning: valkc run: {what}; compiling into a temporary directory"
    );
}

/// `valkc run`: runs `name` with `args`, compiling it at level `opt` only
/// when it (or a file it loads) changed since the executable in the cache
/// was built. On success the process becomes the program; otherwise the
/// result says how the program or the attempt ended.
pub fn run(name: &str, opt: u32, args: &[OsString]) -> RunEnd {
    let log = log_enabled();
    let say = |msg: &str| {
        if log {
            valk_runtime::eprintln_quiet!("valk cache: {msg}");
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
    // Link flags (`-l`, `-L`) and `-g` change the executable too.
    let mut identity = compiler_identity();
    for f in valk_llvm::link_flags() {
        identity.push(' ');
        identity.push_str(&f);
    }
    if crate::pipeline::debug_info() {
        identity.push_str(" -g");
    }
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
                match exec(&exe, name, args) {
                    Ok(end) => return end,
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return RunEnd::Failed(PipelineError(format!(
                            "error: cannot run {}: {e}\n",
                            exe.display()
                        )))
                    }
                    Err(_) => {}
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
    let (files, absent) = match build(name, opt, &tmp, &dir) {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return RunEnd::Failed(e);
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
        absent,
    };
    if let Some(text) = m.render() {
        let _ = write_atomic(&manifest, text.as_bytes());
    }
    if let Some(prev) = previous.filter(|p| *p != key) {
        let _ = std::fs::remove_file(dir.join(exe_name(&prev)));
    }
    let _ = io::Write::flush(&mut io::stderr());
    match exec(&exe, name, args) {
        Ok(end) => end,
        // A concurrent run of an edited version replaced this entry.
        Err(e) if e.kind() == io::ErrorKind::NotFound => run_uncached(name, opt, args),
        Err(e) => RunEnd::Failed(PipelineError(format!(
            "error: cannot run {}: {e}\n",
            exe.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        crate::store::test_dir(&format!("cache-unit-{tag}"))
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
            absent: vec![PathBuf::from("/x/foo/bar.sld")],
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
        crate::pipeline::expand_program(&mut sm, name, &text).unwrap();
        let files = compiled_sources(&sm, name).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].1, std::fs::canonicalize(&main).unwrap());
        assert_eq!(files[1].1, std::fs::canonicalize(&lib).unwrap());
        assert_eq!(files[1].0, file_hash(&lib).unwrap());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
