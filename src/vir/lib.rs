//! VIR: Valk's SSA intermediate representation.
