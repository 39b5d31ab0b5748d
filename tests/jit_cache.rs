//! The JIT's object cache (docs/jit.md): `valk FILE` and the REPL's
//! prelude link a cached object when nothing changed, recompile when a
//! source (or a file it loads) changed, and survive a broken cache entry.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory with a cache directory inside.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("valk-jit-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    fn cache(&self) -> PathBuf {
        self.0.join("cache")
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Cached objects.
    fn objects(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.cache().join("jit")) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "o"))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `valk --jit ARGS` with the cache log on and every form compiled
/// (`VALK_TIER=1`): (stdout, cache log lines, exit status).
fn valk(s: &Scratch, args: &[&str]) -> (String, Vec<String>, i32) {
    valk_tier(s, Some("1"), args)
}

/// [`valk`] with `VALK_TIER` set to `tier` (unset: the default).
fn valk_tier(s: &Scratch, tier: Option<&str>, args: &[&str]) -> (String, Vec<String>, i32) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_valk"));
    match tier {
        Some(t) => c.env("VALK_TIER", t),
        None => c.env_remove("VALK_TIER"),
    };
    let out = c
        .arg("--jit")
        .args(args)
        .env("VALK_CACHE_DIR", s.cache())
        .env("VALK_CACHE_LOG", "1")
        .env_remove("VALK_JIT_OPT")
        .output()
        .expect("valk runs");
    let log = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("valk: JIT cache"))
        .map(|l| l.trim_start_matches("valk: JIT cache ").to_string())
        .collect();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        log,
        out.status.code().unwrap_or(-1),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn second_run_links_the_cached_object() {
    let s = Scratch::new("hit");
    let prog = s.write(
        "p.valk",
        "(define (sq x) (* x x))\n(display (map sq '(1 2 3)))\n",
    );
    let first = valk(&s, &[path(&prog)]);
    assert_eq!(first, ("(1 4 9)".into(), vec!["compiled".into()], 0));
    assert_eq!(s.objects().len(), 1);
    let second = valk(&s, &[path(&prog)]);
    assert_eq!(second, ("(1 4 9)".into(), vec!["hit".into()], 0));
}

/// Objects with DWARF (`valk -g`, docs/debugging.md) are cached under
/// keys of their own: neither kind is linked in place of the other.
#[test]
fn objects_with_dwarf_are_cached_apart() {
    let s = Scratch::new("dwarf");
    let prog = s.write("p.valk", "(define (sq x) (* x x))\n(display (sq 7))\n");
    let plain = valk(&s, &[path(&prog)]);
    assert_eq!(plain, ("49".into(), vec!["compiled".into()], 0));
    let debug = valk(&s, &["-g", path(&prog)]);
    assert_eq!(debug, ("49".into(), vec!["compiled".into()], 0));
    assert_eq!(s.objects().len(), 2);
    let again = valk(&s, &["-g", path(&prog)]);
    assert_eq!(again, ("49".into(), vec!["hit".into()], 0));
    let plain = valk(&s, &[path(&prog)]);
    assert_eq!(plain, ("49".into(), vec!["hit".into()], 0));
}

#[test]
fn editing_a_loaded_file_recompiles() {
    let s = Scratch::new("load");
    s.write("lib.valk", "(define (greeting) \"old\")\n");
    let prog = s.write("main.valk", "(load \"lib.valk\")\n(display (greeting))\n");
    assert_eq!(valk(&s, &[path(&prog)]).0, "old");
    assert_eq!(valk(&s, &[path(&prog)]).1, vec!["hit".to_string()]);
    s.write("lib.valk", "(define (greeting) \"new\")\n");
    let (out, log, code) = valk(&s, &[path(&prog)]);
    assert_eq!((out.as_str(), code), ("new", 0));
    assert_eq!(log, vec!["compiled".to_string()]);
}

#[test]
fn an_unusable_cached_object_is_replaced() {
    let s = Scratch::new("broken");
    let prog = s.write("p.valk", "(display (+ 40 2))\n");
    assert_eq!(valk(&s, &[path(&prog)]).0, "42");
    let objects = s.objects();
    assert_eq!(objects.len(), 1);
    // An ELF header and nothing sensible after it.
    std::fs::write(&objects[0], b"\x7fELF\x02\x01\x01 this is not an object").unwrap();
    let (out, log, code) = valk(&s, &[path(&prog)]);
    assert_eq!((out.as_str(), code), ("42", 0));
    assert_eq!(log, vec!["object unusable, recompiling", "compiled"]);
    // Not an ELF file at all: ignored, recompiled.
    for o in s.objects() {
        std::fs::write(o, b"junk").unwrap();
    }
    let (out, _, code) = valk(&s, &[path(&prog)]);
    assert_eq!((out.as_str(), code), ("42", 0));
}

#[test]
fn the_repl_prelude_is_cached() {
    let s = Scratch::new("prelude");
    let first = valk(&s, &["-e", "(fold-left + 0 '(1 2 3))"]);
    assert_eq!(first, ("6\n".into(), vec!["compiled".into()], 0));
    let second = valk(&s, &["-e", "(fold-left + 0 '(1 2 3 4))"]);
    assert_eq!(second, ("10\n".into(), vec!["hit".into()], 0));
}

/// By default `valk FILE` runs a program whose object is not cached at
/// once, tiered, while another process compiles it whole into the cache;
/// the next run links that object (docs/tiering.md, "Defaults").
#[test]
fn default_run_fills_the_cache_in_the_background() {
    let s = Scratch::new("fill");
    let prog = s.write(
        "p.valk",
        "(define (sq x) (* x x))\n(display (map sq '(1 2 3)))\n",
    );
    let first = valk_tier(&s, None, &[path(&prog)]);
    assert_eq!(first, ("(1 4 9)".into(), vec![], 0));
    // The prelude's object and the program's.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while s.objects().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(s.objects().len(), 2, "the cache was not filled");
    let second = valk_tier(&s, None, &[path(&prog)]);
    assert_eq!(second, ("(1 4 9)".into(), vec!["hit".into()], 0));
}

/// The REPL's background cache filler is reaped when it ends: a long
/// session does not collect zombie processes (docs/tiering.md, "Defaults").
#[test]
fn the_repl_reaps_its_cache_filler() {
    use std::io::Write;
    let s = Scratch::new("reap");
    let mut repl = Command::new(env!("CARGO_BIN_EXE_valk"))
        .env_remove("VALK_TIER")
        .env("VALK_CACHE_DIR", s.cache())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("valk runs");
    let pid = repl.id();
    let mut stdin = repl.stdin.take().unwrap();
    writeln!(stdin, "(+ 1 2)").unwrap();
    // The prelude's object is not cached: a filler compiles it. Wait until
    // the REPL has no child left, neither running nor a zombie.
    let children = || -> Vec<char> {
        let mut states = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces.
            let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
                continue;
            };
            let mut f = rest.split(' ');
            let state = f.next().and_then(|x| x.chars().next());
            let ppid = f.next().and_then(|x| x.parse::<u32>().ok());
            if let (Some(st), Some(pp)) = (state, ppid) {
                if pp == pid {
                    states.push(st);
                }
            }
        }
        states
    };
    let start = std::time::Instant::now();
    let mut saw_filler = false;
    let mut left = children();
    while start.elapsed() < std::time::Duration::from_secs(120) {
        left = children();
        saw_filler |= !left.is_empty();
        if saw_filler && left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(stdin);
    let out = repl.wait_with_output().unwrap();
    assert!(saw_filler, "no cache filler was started");
    assert!(left.is_empty(), "children left (states {left:?})");
    assert_eq!(s.objects().len(), 1, "the filler cached the prelude");
    assert!(String::from_utf8_lossy(&out.stdout).contains('3'));
}

/// The default path of a program that is not cached (the prelude's object
/// and the program's forms expanded once, the forms interpreted and tiered
/// up) gives the corpus output.
#[test]
fn default_uncached_run_matches_the_corpus() {
    let s = Scratch::new("tiered");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
    for name in ["tier-cross-calls", "control-tail-capture"] {
        let prog = root.join(format!("{name}.valk"));
        let expected = std::fs::read_to_string(root.join(format!("{name}.out"))).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_valk"))
            .arg(&prog)
            .env_remove("VALK_TIER")
            .env("VALK_TIER_CALLS", "20")
            .env("VALK_CACHE_DIR", s.cache().join(name))
            .output()
            .expect("valk runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{name}");
        assert!(out.status.success(), "{name}: {out:?}");
    }
}
