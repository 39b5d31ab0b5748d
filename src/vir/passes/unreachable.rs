//! Unreachable-block elimination.
//!
//! Input: any valid function. Output: the layout holds only blocks
//! reachable from the entry (their instructions are dropped with them;
//! no reachable code can use their values, since a definition must
//! dominate its uses).

use crate::analysis::{reverse_postorder, Cfg};
use crate::ir::Function;

pub fn run(func: &mut Function) -> bool {
    let cfg = Cfg::compute(func);
    let mut reachable = vec![false; func.blocks.len()];
    for b in reverse_postorder(func, &cfg) {
        reachable[b.index()] = true;
    }
    let before = func.layout.len();
    func.layout.retain(|b| reachable[b.index()]);
    func.layout.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_module;
    use crate::write::print_module;

    #[test]
    fn drops_unreachable_cycle() {
        let mut m = parse_module(
            "function @f() arity 0 {
entry:
  %0 = nil
  ret %0
a:
  br b()
b:
  br a()
}
",
        )
        .unwrap();
        assert!(run(&mut m.funcs[0]));
        assert!(!run(&mut m.funcs[0]));
        assert_eq!(
            print_module(&m),
            "function @f() arity 0 {\nentry:\n  %0 = nil\n  ret %0\n}\n"
        );
    }
}
