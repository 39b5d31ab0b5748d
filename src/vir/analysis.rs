//! CFG and dominator analyses, computed on demand from a function.

use crate::entity::Block;
use crate::ir::Function;

/// Predecessor and successor lists of the laid-out blocks, indexed by
/// `Block`. Each list holds distinct blocks; predecessors are in layout
/// order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cfg {
    pub preds: Vec<Vec<Block>>,
    pub succs: Vec<Vec<Block>>,
}

impl Cfg {
    pub fn compute(func: &Function) -> Cfg {
        let n = func.blocks.len();
        let mut preds = vec![Vec::new(); n];
        let mut succs = vec![Vec::new(); n];
        for &b in &func.layout {
            if b.index() >= n {
                continue;
            }
            for s in func.successors(b) {
                if s.index() < n {
                    succs[b.index()].push(s);
                    if !preds[s.index()].contains(&b) {
                        preds[s.index()].push(b);
                    }
                }
            }
        }
        Cfg { preds, succs }
    }

    pub fn preds(&self, b: Block) -> &[Block] {
        &self.preds[b.index()]
    }

    pub fn succs(&self, b: Block) -> &[Block] {
        &self.succs[b.index()]
    }
}

/// Blocks reachable from the entry in reverse postorder.
pub fn reverse_postorder(func: &Function, cfg: &Cfg) -> Vec<Block> {
    let n = func.blocks.len();
    let mut seen = vec![false; n];
    let mut post = Vec::new();
    let entry = func.entry();
    // Iterative DFS: (block, next successor index).
    let mut stack = vec![(entry, 0usize)];
    seen[entry.index()] = true;
    while let Some(top) = stack.last_mut() {
        let (b, i) = *top;
        if let Some(&s) = cfg.succs(b).get(i) {
            top.1 += 1;
            if !seen[s.index()] {
                seen[s.index()] = true;
                stack.push((s, 0));
            }
        } else {
            post.push(b);
            stack.pop();
        }
    }
    post.reverse();
    post
}

/// The dominator tree (Cooper, Harvey & Kennedy's iterative algorithm).
#[derive(Clone, Debug)]
pub struct DomTree {
    /// Immediate dominator per block; the entry is its own, unreachable
    /// blocks have none.
    idom: Vec<Option<Block>>,
    /// Position in reverse postorder (for the intersection walk).
    rpo_index: Vec<usize>,
    rpo: Vec<Block>,
}

impl DomTree {
    pub fn compute(func: &Function, cfg: &Cfg) -> DomTree {
        let n = func.blocks.len();
        let rpo = reverse_postorder(func, cfg);
        let mut rpo_index = vec![usize::MAX; n];
        for (i, b) in rpo.iter().enumerate() {
            rpo_index[b.index()] = i;
        }
        let mut idom: Vec<Option<Block>> = vec![None; n];
        let entry = func.entry();
        idom[entry.index()] = Some(entry);
        let mut changed = true;
        while changed {
            changed = false;
            for &b in rpo.iter().skip(1) {
                let mut new: Option<Block> = None;
                for &p in cfg.preds(b) {
                    if idom[p.index()].is_none() {
                        continue;
                    }
                    new = Some(match new {
                        None => p,
                        Some(q) => intersect(&idom, &rpo_index, p, q),
                    });
                }
                if new.is_some() && idom[b.index()] != new {
                    idom[b.index()] = new;
                    changed = true;
                }
            }
        }
        DomTree {
            idom,
            rpo_index,
            rpo,
        }
    }

    pub fn is_reachable(&self, b: Block) -> bool {
        self.idom.get(b.index()).is_some_and(|d| d.is_some())
    }

    /// The immediate dominator (`None` for the entry and unreachable blocks).
    pub fn idom(&self, b: Block) -> Option<Block> {
        match self.idom.get(b.index()).copied().flatten() {
            Some(d) if d != b => Some(d),
            _ => None,
        }
    }

    /// Does `a` dominate `b` (reflexive)? False when either is unreachable.
    pub fn dominates(&self, a: Block, b: Block) -> bool {
        if !self.is_reachable(a) || !self.is_reachable(b) {
            return false;
        }
        let mut x = b;
        loop {
            if x == a {
                return true;
            }
            // Dominators come earlier in reverse postorder.
            if self.rpo_index[x.index()] < self.rpo_index[a.index()] {
                return false;
            }
            match self.idom(x) {
                Some(d) => x = d,
                None => return false,
            }
        }
    }

    /// Reachable blocks in reverse postorder.
    pub fn rpo(&self) -> &[Block] {
        &self.rpo
    }
}

fn intersect(idom: &[Option<Block>], rpo_index: &[usize], mut a: Block, mut b: Block) -> Block {
    while a != b {
        while rpo_index[a.index()] > rpo_index[b.index()] {
            a = idom[a.index()].unwrap_or(a);
        }
        while rpo_index[b.index()] > rpo_index[a.index()] {
            b = idom[b.index()].unwrap_or(b);
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::FunctionBuilder;
    use crate::ir::Signature;

    /// entry -> a, b; a -> c; b -> c; c -> a (loop); d unreachable.
    #[test]
    fn diamond_with_loop() {
        let mut f = Function::new("f", Signature::fixed(1));
        let mut bl = FunctionBuilder::new(&mut f);
        let x = bl.param(0);
        let (a, b, c, d) = (
            bl.create_block(),
            bl.create_block(),
            bl.create_block(),
            bl.create_block(),
        );
        bl.br_if(x, a, &[], b, &[]);
        bl.switch_to_block(a);
        bl.br(c, &[]);
        bl.switch_to_block(b);
        bl.br(c, &[]);
        bl.switch_to_block(c);
        bl.br_if(x, a, &[], d, &[]);
        bl.switch_to_block(d);
        bl.ret(x);
        let e = f.entry();
        let cfg = Cfg::compute(&f);
        assert_eq!(cfg.preds(c), &[a, b]);
        assert_eq!(cfg.preds(a), &[e, c]);
        assert_eq!(cfg.succs(e), &[a, b]);
        let dom = DomTree::compute(&f, &cfg);
        assert_eq!(dom.idom(c), Some(e));
        assert_eq!(dom.idom(a), Some(e));
        assert_eq!(dom.idom(d), Some(c));
        assert!(dom.dominates(e, d) && dom.dominates(c, d) && !dom.dominates(a, c));
        assert!(dom.dominates(a, a));
        assert_eq!(dom.rpo()[0], e);
        assert_eq!(dom.rpo().len(), 5);
    }

    #[test]
    fn unreachable_blocks_have_no_dominator() {
        let mut f = Function::new("f", Signature::fixed(0));
        let mut bl = FunctionBuilder::new(&mut f);
        let dead = bl.create_block();
        let u = bl.unspecified();
        bl.ret(u);
        bl.switch_to_block(dead);
        bl.ret(u);
        let cfg = Cfg::compute(&f);
        let dom = DomTree::compute(&f, &cfg);
        assert!(!dom.is_reachable(dead));
        assert!(!dom.dominates(f.entry(), dead));
    }
}
