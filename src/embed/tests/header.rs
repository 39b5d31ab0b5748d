//! `include/valk.h` is generated from this crate by cbindgen and checked in
//! (so that building libvalk does not build cbindgen); this test fails when
//! it is stale. `UPDATE_GOLDEN=1` rewrites it (docs/embedding.md).

use std::path::Path;

#[test]
fn valk_h_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates valk.h");
    let mut text = Vec::new();
    bindings.write(&mut text);
    let text = String::from_utf8(text).expect("UTF-8 header");
    let path = crate_dir.join("../../include/valk.h");
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).expect("write include/valk.h");
        return;
    }
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        old == text,
        "include/valk.h is stale: run UPDATE_GOLDEN=1 cargo test --release -p valk_embed --test header"
    );
}
