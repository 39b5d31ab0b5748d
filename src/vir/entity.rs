//! Entity references: typed `u32` indices into per-function (values,
//! instructions, blocks) or per-module (functions, globals, constants,
//! runtime builtins) tables. Copyable, hashable and cheap; the tables own the data.

use std::fmt;

macro_rules! entity {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The index into the owning table.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
            /// The entity at table index `i`.
            #[inline]
            pub fn new(i: usize) -> Self {
                $name(i as u32)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

entity!(
    /// An SSA value of a function: a block parameter or an instruction result.
    Value,
    "v"
);
entity!(
    /// An instruction of a function.
    Inst,
    "inst"
);
entity!(
    /// A basic block of a function.
    Block,
    "block"
);
entity!(
    /// A function of a module.
    FuncId,
    "func"
);
entity!(
    /// A global variable (a named value cell) of a module.
    GlobalId,
    "global"
);
entity!(
    /// A runtime builtin named in a module's builtin table (`call_runtime`).
    BuiltinId,
    "builtin"
);
entity!(
    /// A heap constant (string, symbol, quoted datum) of a module.
    ConstId,
    "const"
);

/// A source location id attached to an instruction. The lowering keeps a
/// table from ids to spans; VIR only carries the number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Loc(pub u32);

impl Loc {
    /// No location.
    pub const NONE: Loc = Loc(u32::MAX);

    /// Locations with this bit set index the module's table of inlined
    /// locations (`Module::inlined`); the others are the lowering's.
    const INLINED: u32 = 1 << 31;

    pub fn is_none(self) -> bool {
        self == Loc::NONE
    }

    /// Entry `i` of the module's inlined-location table.
    pub fn inlined(i: usize) -> Loc {
        Loc(Loc::INLINED | i as u32)
    }

    /// The index in the inlined-location table, for such a location.
    pub fn inlined_index(self) -> Option<usize> {
        (!self.is_none() && self.0 & Loc::INLINED != 0).then_some((self.0 & !Loc::INLINED) as usize)
    }
}

impl fmt::Display for Loc {
    /// `!N` (the lowering's) or `!iN` (inlined); nothing for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_none(), self.inlined_index()) {
            (true, _) => Ok(()),
            (false, Some(i)) => write!(f, "!i{i}"),
            (false, None) => write!(f, "!{}", self.0),
        }
    }
}

impl Default for Loc {
    fn default() -> Self {
        Loc::NONE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_index_and_print() {
        let v = Value::new(7);
        assert_eq!(v.index(), 7);
        assert_eq!(format!("{v:?} {}", Block(3)), "v7 block3");
        assert!(Loc::default().is_none());
        assert!(!Loc(0).is_none());
    }
}
