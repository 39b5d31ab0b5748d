//! Names the shared library `libvalk.so` inside (its SONAME), the name
//! `./x install` gives it, so programs linked with `-lvalk` find it at run
//! time under that name (docs/embedding.md).

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvalk.so");
}
