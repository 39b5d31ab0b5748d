const LIB: &str = "rug/GMP";
include!("body.rs");
