// The bundled-GMP program, against Debian's libgmp 6.2.1 (see Cargo.toml).
const LIB: &str = "rug1.19/sysGMP6.2.1";
include!("../../gmp-bundled/src/body.rs");
