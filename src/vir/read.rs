//! The parser for the VIR text format printed by `write.rs`.
//!
//! Forward references to values, blocks and functions are allowed (blocks
//! and loops are not in dominance order in general). Comments run from
//! `;` to the end of the line; the `; preds:` comments the printer adds
//! are ignored. The parser checks syntax and name resolution only; run
//! the validator for everything else.

use crate::entity::{Block, ConstId, FuncId, GlobalId, Inst, Loc, Value};
use crate::ir::{
    BlockCall, BlockData, ConstData, Function, GlobalData, InstData, Module, Signature, ValueData,
    ValueDef,
};
use crate::ops::{parse_mnemonic, ArgCount, Imm, Layout, MnemonicError, Op};
use crate::write::is_name_char;
use std::collections::HashMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.col, self.msg)
    }
}

impl std::error::Error for ParseError {}

type PResult<T> = Result<T, ParseError>;

/// Parse a whole module.
pub fn parse_module(text: &str) -> PResult<Module> {
    let mut p = Parser {
        s: text.chars().collect(),
        pos: 0,
        module: Module::new(),
        func_ids: HashMap::new(),
        defined_funcs: Vec::new(),
        consts: HashMap::new(),
    };
    p.prescan_functions()?;
    p.module_body()?;
    if let Some(i) = p.defined_funcs.iter().position(|d| !d) {
        let name = p.module.funcs[i].name.clone();
        return Err(ParseError {
            line: 1,
            col: 1,
            msg: format!("function @{name} is declared but has no body"),
        });
    }
    Ok(p.module)
}

/// Parse a module holding exactly one function and return it.
pub fn parse_function(text: &str) -> PResult<Function> {
    let mut m = parse_module(text)?;
    if m.funcs.len() != 1 {
        return Err(ParseError {
            line: 1,
            col: 1,
            msg: format!("expected exactly one function, found {}", m.funcs.len()),
        });
    }
    Ok(m.funcs.remove(0))
}

struct Parser {
    s: Vec<char>,
    pos: usize,
    module: Module,
    func_ids: HashMap<String, FuncId>,
    defined_funcs: Vec<bool>,
    /// Constant labels as written (`#N`) to ids.
    consts: HashMap<u64, ConstId>,
}

/// Per-function name resolution state.
struct FuncState {
    values: HashMap<String, Value>,
    /// Values referenced but not (yet) defined, with the first use position.
    pending_values: HashMap<Value, usize>,
    blocks: HashMap<String, Block>,
    /// Blocks referenced but not (yet) labelled, with the first use position.
    pending_blocks: HashMap<Block, usize>,
    current: Option<Block>,
}

fn is_anon(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_digit())
}

fn is_anon_block(name: &str) -> bool {
    name.len() > 1 && name.starts_with('b') && is_anon(&name[1..])
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || "()\";|".contains(c)
}

impl Parser {
    // ---- low-level scanning ----

    fn err<T>(&self, pos: usize, msg: impl Into<String>) -> PResult<T> {
        let mut line = 1;
        let mut col = 1;
        for &c in &self.s[..pos.min(self.s.len())] {
            if c == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        Err(ParseError {
            line,
            col,
            msg: msg.into(),
        })
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.pos + k).copied()
    }

    /// Skip spaces, tabs and comments, not newlines.
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == ';' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
            } else if c != '\n' && c.is_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Skip whitespace, newlines and comments.
    fn skip_ws_nl(&mut self) {
        loop {
            self.skip_ws();
            if self.peek() == Some('\n') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> PResult<()> {
        if self.eat(c) {
            Ok(())
        } else {
            let found = self.describe_here();
            self.err(self.pos, format!("expected `{c}`, found {found}"))
        }
    }

    fn describe_here(&self) -> String {
        match self.peek() {
            None => "end of input".into(),
            Some('\n') => "end of line".into(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn end_of_line(&mut self) -> PResult<()> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some('\n') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => {
                let found = self.describe_here();
                self.err(self.pos, format!("expected end of line, found {found}"))
            }
        }
    }

    /// A word of lowercase letters, digits, `_` and `.` (keywords,
    /// mnemonics).
    fn word(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            self.pos += 1;
        }
        self.s[start..self.pos].iter().collect()
    }

    fn name_chars(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_name_char) {
            self.pos += 1;
        }
        self.s[start..self.pos].iter().collect()
    }

    /// `@name`, `$name`, or the quoted forms `@"..."`, `$"..."`.
    fn sigil_name(&mut self, sigil: char, what: &str) -> PResult<String> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() != Some(sigil) {
            let found = self.describe_here();
            return self.err(
                start,
                format!("expected {what} (`{sigil}name`), found {found}"),
            );
        }
        self.pos += 1;
        let name = if self.peek() == Some('"') {
            self.string()?
        } else {
            self.name_chars()
        };
        if name.is_empty() {
            return self.err(start, format!("empty {what} name"));
        }
        Ok(name)
    }

    fn string(&mut self) -> PResult<String> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() != Some('"') {
            let found = self.describe_here();
            return self.err(start, format!("expected a string, found {found}"));
        }
        self.pos += 1;
        self.escaped_until('"', start)
    }

    /// Characters up to the closing `close`, with `\` escapes.
    fn escaped_until(&mut self, close: char, start: usize) -> PResult<String> {
        let mut out = String::new();
        loop {
            match self.peek() {
                None | Some('\n') => return self.err(start, "unterminated string"),
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    let at = self.pos;
                    self.pos += 1;
                    let c = self.peek();
                    self.pos += 1;
                    match c {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some('r') => out.push('\r'),
                        Some('\\') => out.push('\\'),
                        Some('"') => out.push('"'),
                        Some('|') => out.push('|'),
                        Some('u') if self.peek() == Some('{') => {
                            self.pos += 1;
                            let hs = self.pos;
                            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                                self.pos += 1;
                            }
                            let hex: String = self.s[hs..self.pos].iter().collect();
                            if self.peek() != Some('}') {
                                return self.err(at, "bad \\u{...} escape");
                            }
                            self.pos += 1;
                            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                Some(c) => out.push(c),
                                None => return self.err(at, "bad \\u{...} escape"),
                            }
                        }
                        _ => return self.err(at, "unknown escape"),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn int(&mut self) -> PResult<i64> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == Some('-') || self.peek() == Some('+') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let tok: String = self.s[start..self.pos].iter().collect();
        match tok.parse::<i64>() {
            Ok(n) => Ok(n),
            Err(_) if tok.is_empty() => {
                let found = self.describe_here();
                self.err(start, format!("expected an integer, found {found}"))
            }
            Err(_) => self.err(start, format!("bad integer `{tok}`")),
        }
    }

    fn u32(&mut self) -> PResult<u32> {
        let start = self.pos;
        let n = self.int()?;
        u32::try_from(n).or_else(|_| self.err(start, format!("{n} is out of range")))
    }

    /// A token up to whitespace or one of `,()!;`.
    fn raw_token(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && !",()!;".contains(c))
        {
            self.pos += 1;
        }
        self.s[start..self.pos].iter().collect()
    }

    fn flonum(&mut self) -> PResult<f64> {
        let start = self.pos;
        let tok = self.raw_token();
        match parse_float(&tok) {
            Some(x) => Ok(x),
            None => self.err(start, format!("bad flonum `{tok}`")),
        }
    }

    // ---- datums ----

    fn datum(&mut self) -> PResult<ConstData> {
        self.skip_ws_nl();
        let start = self.pos;
        match self.peek() {
            None => self.err(start, "expected a datum, found end of input"),
            Some('(') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws_nl();
                    match self.peek() {
                        Some(')') => {
                            self.pos += 1;
                            return Ok(ConstData::List(items, None));
                        }
                        Some('.') if self.peek_at(1).is_some_and(is_delimiter) => {
                            if items.is_empty() {
                                return self.err(self.pos, "`.` at the start of a list");
                            }
                            self.pos += 1;
                            let tail = self.datum()?;
                            self.skip_ws_nl();
                            if self.peek() != Some(')') {
                                return self.err(self.pos, "expected `)` after the dotted tail");
                            }
                            self.pos += 1;
                            return Ok(ConstData::List(items, Some(Box::new(tail))));
                        }
                        None => return self.err(start, "unterminated list"),
                        _ => items.push(self.datum()?),
                    }
                }
            }
            Some('"') => Ok(ConstData::Str(self.string()?)),
            Some('|') => {
                self.pos += 1;
                Ok(ConstData::Symbol(self.escaped_until('|', start)?))
            }
            Some('\'') => {
                self.pos += 1;
                let d = self.datum()?;
                Ok(ConstData::List(
                    vec![ConstData::Symbol("quote".into()), d],
                    None,
                ))
            }
            Some('#') => self.hash_datum(),
            Some(_) => {
                while self.peek().is_some_and(|c| !is_delimiter(c)) {
                    self.pos += 1;
                }
                let tok: String = self.s[start..self.pos].iter().collect();
                if tok.is_empty() {
                    let found = self.describe_here();
                    return self.err(start, format!("expected a datum, found {found}"));
                }
                if let Ok(n) = tok.parse::<i64>() {
                    if crate::ir::fits_fixnum(n) {
                        return Ok(ConstData::Int(n));
                    }
                }
                let numeric_start = tok.starts_with(|c: char| c.is_ascii_digit())
                    || (tok.len() > 1
                        && tok.starts_with(['+', '-', '.'])
                        && tok[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.'));
                let digits = tok.strip_prefix(['+', '-']).unwrap_or(&tok);
                if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
                    // An integer beyond fixnums: a bignum (docs/numbers.md).
                    return Ok(ConstData::Number(tok));
                }
                if let Some(x) = parse_float(&tok) {
                    return Ok(ConstData::Float(x));
                }
                // Other numbers keep their text (docs/numbers.md); a
                // complex number may start with an infinity or NaN.
                let naninf = ["+inf.0", "-inf.0", "+nan.0", "-nan.0"]
                    .iter()
                    .any(|p| tok.len() > p.len() && tok.starts_with(p));
                if naninf
                    || (numeric_start
                        && tok.chars().all(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '/' | '@')
                        }))
                {
                    return Ok(ConstData::Number(tok));
                }
                if numeric_start {
                    return self.err(start, format!("bad number `{tok}`"));
                }
                Ok(ConstData::Symbol(tok))
            }
        }
    }

    /// `#t #f #\c #(...) #u8(...)`.
    fn hash_datum(&mut self) -> PResult<ConstData> {
        let start = self.pos;
        self.pos += 1;
        match self.peek() {
            Some('(') => match self.datum()? {
                ConstData::List(items, None) => Ok(ConstData::Vector(items)),
                _ => self.err(start, "a vector cannot have a dotted tail"),
            },
            Some('\\') => {
                self.pos += 1;
                Ok(ConstData::Char(self.char_body(start)?))
            }
            _ => {
                let w = self.name_chars();
                match w.as_str() {
                    "t" | "true" => Ok(ConstData::Bool(true)),
                    "f" | "false" => Ok(ConstData::Bool(false)),
                    "u8" if self.peek() == Some('(') => {
                        let items = match self.datum()? {
                            ConstData::List(items, None) => items,
                            _ => return self.err(start, "bad bytevector"),
                        };
                        let mut bytes = Vec::new();
                        for d in items {
                            match d {
                                ConstData::Int(n) if (0..=255).contains(&n) => bytes.push(n as u8),
                                _ => return self.err(start, "bytevector elements must be bytes"),
                            }
                        }
                        Ok(ConstData::Bytevector(bytes))
                    }
                    _ => self.err(start, format!("unknown `#{w}` syntax")),
                }
            }
        }
    }

    /// After `#\`: one character, a name (`space`) or `xHEX`.
    fn char_body(&mut self, start: usize) -> PResult<char> {
        let Some(first) = self.peek() else {
            return self.err(start, "expected a character after `#\\`");
        };
        self.pos += 1;
        let rest_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        if self.pos == rest_start {
            return Ok(first);
        }
        let word: String = self.s[rest_start - 1..self.pos].iter().collect();
        let named = match word.as_str() {
            "space" => Some(' '),
            "newline" => Some('\n'),
            "tab" => Some('\t'),
            "return" => Some('\r'),
            "null" | "nul" => Some('\0'),
            w if w.starts_with('x') => u32::from_str_radix(&w[1..], 16)
                .ok()
                .and_then(char::from_u32),
            _ => None,
        };
        match named {
            Some(c) => Ok(c),
            None => self.err(start, format!("unknown character `#\\{word}`")),
        }
    }

    // ---- module level ----

    /// Declare every function named on a `function` line, so calls can
    /// refer to functions defined later and ids follow text order.
    fn prescan_functions(&mut self) -> PResult<()> {
        let mut line_start = 0;
        while line_start < self.s.len() {
            let mut i = line_start;
            while i < self.s.len() && self.s[i] != '\n' && self.s[i].is_whitespace() {
                i += 1;
            }
            let kw: Vec<char> = "function".chars().collect();
            if self.s[i..].starts_with(&kw)
                && self.s.get(i + kw.len()).is_some_and(|c| c.is_whitespace())
            {
                self.pos = i + kw.len();
                let at = self.pos;
                let name = self.sigil_name('@', "function")?;
                if self.func_ids.contains_key(&name) {
                    return self.err(at, format!("function @{name} is defined twice"));
                }
                let id = self
                    .module
                    .add_function(Function::new(&name, Signature::fixed(0)));
                self.func_ids.insert(name, id);
                self.defined_funcs.push(false);
            }
            while i < self.s.len() && self.s[i] != '\n' {
                i += 1;
            }
            line_start = i + 1;
        }
        self.pos = 0;
        Ok(())
    }

    fn module_body(&mut self) -> PResult<()> {
        loop {
            self.skip_ws_nl();
            if self.peek().is_none() {
                return Ok(());
            }
            let start = self.pos;
            let kw = self.word();
            match kw.as_str() {
                "global" => {
                    let name = self.sigil_name('$', "global")?;
                    if self.module.global_by_name(&name).is_some() {
                        return self.err(start, format!("global ${name} is declared twice"));
                    }
                    self.module.globals.push(GlobalData { name });
                    self.end_of_line()?;
                }
                "const" => {
                    self.expect('#')?;
                    let at = self.pos;
                    let label = self.int()?;
                    if label < 0 || self.consts.contains_key(&(label as u64)) {
                        return self.err(
                            at,
                            format!("constant #{label} is defined twice or negative"),
                        );
                    }
                    self.expect('=')?;
                    let d = self.datum()?;
                    self.module.consts.push(d);
                    self.consts
                        .insert(label as u64, ConstId::new(self.module.consts.len() - 1));
                    self.end_of_line()?;
                }
                "inlined" => {
                    let at = self.pos;
                    let l = self.loc()?;
                    if l.inlined_index() != Some(self.module.inlined.len()) {
                        return self.err(
                            at,
                            "inlined locations must be numbered !i0, !i1, ... in order",
                        );
                    }
                    self.skip_ws();
                    self.expect('=')?;
                    let loc = self.loc()?;
                    self.skip_ws();
                    if self.word() != "at" {
                        return self.err(at, "expected `inlined !iN = LOC at LOC`");
                    }
                    let at_loc = self.loc()?;
                    self.module
                        .inlined
                        .push(crate::ir::InlinedLoc { loc, at: at_loc });
                    self.end_of_line()?;
                }
                "function" => self.function()?,
                "" => {
                    let found = self.describe_here();
                    return self.err(
                        start,
                        format!(
                            "expected `global`, `const`, `inlined` or `function`, found {found}"
                        ),
                    );
                }
                w => {
                    return self.err(
                        start,
                        format!("expected `global`, `const`, `inlined` or `function`, found `{w}`"),
                    )
                }
            }
        }
    }

    /// `!N` or `!iN`.
    fn loc(&mut self) -> PResult<Loc> {
        self.skip_ws();
        self.expect('!')?;
        self.loc_number()
    }

    /// A location after its `!`.
    fn loc_number(&mut self) -> PResult<Loc> {
        if self.eat('i') {
            Ok(Loc::inlined(self.u32()? as usize))
        } else {
            Ok(Loc(self.u32()?))
        }
    }

    fn func_ref(&mut self) -> PResult<FuncId> {
        self.skip_ws();
        let at = self.pos;
        let name = self.sigil_name('@', "function")?;
        match self.func_ids.get(&name) {
            Some(&id) => Ok(id),
            None => self.err(at, format!("unknown function @{name}")),
        }
    }

    fn global_ref(&mut self) -> PResult<GlobalId> {
        self.skip_ws();
        let at = self.pos;
        let name = self.sigil_name('$', "global")?;
        match self.module.global_by_name(&name) {
            Some(g) => Ok(g),
            None => self.err(at, format!("undeclared global ${name}")),
        }
    }

    fn const_ref(&mut self) -> PResult<ConstId> {
        self.skip_ws();
        let at = self.pos;
        self.expect('#')?;
        let n = self.int()?;
        match u64::try_from(n).ok().and_then(|n| self.consts.get(&n)) {
            Some(&c) => Ok(c),
            None => self.err(at, format!("undefined constant #{n}")),
        }
    }

    // ---- functions ----

    fn function(&mut self) -> PResult<()> {
        let at = self.pos;
        let name = self.sigil_name('@', "function")?;
        let Some(&id) = self.func_ids.get(&name) else {
            return self.err(at, "`function` must start a line");
        };
        if std::mem::replace(&mut self.defined_funcs[id.index()], true) {
            return self.err(at, format!("function @{name} is defined twice"));
        }
        // Parameters are names until the signature is known.
        self.expect('(')?;
        let mut params = Vec::new();
        if !self.eat(')') {
            loop {
                self.skip_ws();
                let p_at = self.pos;
                params.push((self.value_name()?, p_at));
                if self.eat(')') {
                    break;
                }
                self.expect(',')?;
            }
        }
        let kw_at = self.pos;
        if self.word() != "arity" {
            return self.err(kw_at, "expected `arity`");
        }
        let required = self.u32()?;
        let mut sig = Signature::fixed(required);
        loop {
            let save = self.pos;
            match self.word().as_str() {
                "rest" if !sig.rest => sig.rest = true,
                "closure" if !sig.closure => sig.closure = true,
                "" => break,
                w => return self.err(save, format!("unexpected `{w}` in function header")),
            }
        }
        self.expect('{')?;
        self.end_of_line()?;
        if params.len() != sig.param_count() {
            return self.err(
                at,
                format!(
                    "function @{name} lists {} parameters but its signature needs {}",
                    params.len(),
                    sig.param_count()
                ),
            );
        }
        let mut func = Function::new(&name, sig);
        let mut st = FuncState {
            values: HashMap::new(),
            pending_values: HashMap::new(),
            blocks: HashMap::new(),
            pending_blocks: HashMap::new(),
            current: None,
        };
        let entry_params = func.params().to_vec();
        for ((pname, p_at), v) in params.into_iter().zip(entry_params) {
            if st.values.insert(pname.clone(), v).is_some() {
                return self.err(p_at, format!("value %{pname} is defined twice"));
            }
            if !is_anon(&pname) {
                func.set_value_name(v, &pname);
            }
        }
        // The entry block is laid out by `Function::new`; the first label
        // names it.
        func.layout.clear();
        loop {
            self.skip_ws_nl();
            match self.peek() {
                None => {
                    return self.err(self.pos, format!("function @{name} is not closed by `}}`"))
                }
                Some('}') => {
                    self.pos += 1;
                    self.end_of_line()?;
                    break;
                }
                Some('%') => self.instruction(&mut func, &mut st)?,
                _ => {
                    // A label (`name:` or `name(%a, %b):`) or an instruction
                    // without result.
                    let save = self.pos;
                    let w = self.name_chars();
                    self.skip_ws();
                    if !w.is_empty() && matches!(self.peek(), Some(':') | Some('(')) {
                        self.label(&mut func, &mut st, w, save)?;
                    } else {
                        self.pos = save;
                        self.instruction(&mut func, &mut st)?;
                    }
                }
            }
        }
        if func.layout.is_empty() {
            return self.err(at, format!("function @{name} has no blocks"));
        }
        if let Some((_, &p)) = st.pending_values.iter().min_by_key(|(_, &p)| p) {
            let v = st
                .pending_values
                .iter()
                .find(|(_, &q)| q == p)
                .map(|(v, _)| *v);
            let vname = st
                .values
                .iter()
                .find(|(_, &x)| Some(x) == v)
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            return self.err(p, format!("value %{vname} is used but never defined"));
        }
        if let Some((&b, &p)) = st.pending_blocks.iter().min_by_key(|(_, &p)| p) {
            let bname = st
                .blocks
                .iter()
                .find(|(_, &x)| x == b)
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            return self.err(p, format!("block `{bname}` is used but has no label"));
        }
        self.module.funcs[id.index()] = func;
        Ok(())
    }

    /// The name after `%` (anonymous numbers included).
    fn value_name(&mut self) -> PResult<String> {
        self.skip_ws();
        let at = self.pos;
        if self.peek() != Some('%') {
            let found = self.describe_here();
            return self.err(at, format!("expected a value (`%name`), found {found}"));
        }
        self.pos += 1;
        let n = self.name_chars();
        if n.is_empty() {
            return self.err(at, "empty value name");
        }
        Ok(n)
    }

    /// A value use: resolves or creates a forward reference.
    fn value_use(&mut self, func: &mut Function, st: &mut FuncState) -> PResult<Value> {
        self.skip_ws();
        let at = self.pos;
        let n = self.value_name()?;
        if let Some(&v) = st.values.get(&n) {
            return Ok(v);
        }
        let v = Value::new(func.values.len());
        func.values.push(ValueData {
            def: ValueDef::Param(Block(u32::MAX), 0),
            name: (!is_anon(&n)).then_some(n.clone()),
        });
        st.values.insert(n, v);
        st.pending_values.insert(v, at);
        Ok(v)
    }

    /// A value definition (result or block parameter).
    fn value_def(
        &mut self,
        func: &mut Function,
        st: &mut FuncState,
        name: &str,
        def: ValueDef,
        at: usize,
    ) -> PResult<Value> {
        let v = match st.values.get(name) {
            Some(&v) => {
                if st.pending_values.remove(&v).is_none() {
                    return self.err(at, format!("value %{name} is defined twice"));
                }
                v
            }
            None => {
                let v = Value::new(func.values.len());
                func.values.push(ValueData {
                    def,
                    name: (!is_anon(name)).then(|| name.to_string()),
                });
                st.values.insert(name.to_string(), v);
                v
            }
        };
        func.values[v.index()].def = def;
        Ok(v)
    }

    fn block_ref(
        &mut self,
        func: &mut Function,
        st: &mut FuncState,
        name: &str,
        at: usize,
    ) -> Block {
        if let Some(&b) = st.blocks.get(name) {
            return b;
        }
        let b = Block::new(func.blocks.len());
        func.blocks.push(BlockData {
            name: (!is_anon_block(name)).then(|| name.to_string()),
            ..BlockData::default()
        });
        st.blocks.insert(name.to_string(), b);
        st.pending_blocks.insert(b, at);
        b
    }

    fn label(
        &mut self,
        func: &mut Function,
        st: &mut FuncState,
        name: String,
        at: usize,
    ) -> PResult<()> {
        let is_entry = func.layout.is_empty();
        let b = if is_entry {
            if st.blocks.contains_key(&name) {
                return self.err(at, "the entry block cannot be a branch target");
            }
            let e = Block::new(0);
            func.blocks[0].name = (!is_anon_block(&name)).then(|| name.clone());
            st.blocks.insert(name.clone(), e);
            e
        } else {
            let b = self.block_ref(func, st, &name, at);
            if st.pending_blocks.remove(&b).is_none() {
                return self.err(at, format!("block `{name}` is labelled twice"));
            }
            b
        };
        func.layout.push(b);
        if self.eat('(') {
            if is_entry {
                return self.err(
                    at,
                    "the entry block's parameters are written in the function header",
                );
            }
            if !self.eat(')') {
                loop {
                    self.skip_ws();
                    let p_at = self.pos;
                    let pname = self.value_name()?;
                    let n = func.blocks[b.index()].params.len();
                    let v = self.value_def(func, st, &pname, ValueDef::Param(b, n), p_at)?;
                    func.blocks[b.index()].params.push(v);
                    if self.eat(')') {
                        break;
                    }
                    self.expect(',')?;
                }
            }
        }
        self.expect(':')?;
        self.end_of_line()?;
        st.current = Some(b);
        Ok(())
    }

    fn value_list_until_close(
        &mut self,
        func: &mut Function,
        st: &mut FuncState,
    ) -> PResult<Vec<Value>> {
        let mut out = Vec::new();
        if self.eat(')') {
            return Ok(out);
        }
        loop {
            out.push(self.value_use(func, st)?);
            if self.eat(')') {
                return Ok(out);
            }
            self.expect(',')?;
        }
    }

    /// Comma-separated values up to the end of the line or a `!loc`.
    fn value_list_to_eol(
        &mut self,
        func: &mut Function,
        st: &mut FuncState,
    ) -> PResult<Vec<Value>> {
        let mut out = Vec::new();
        self.skip_ws();
        if matches!(self.peek(), None | Some('\n') | Some('!')) {
            return Ok(out);
        }
        loop {
            out.push(self.value_use(func, st)?);
            if !self.eat(',') {
                return Ok(out);
            }
        }
    }

    fn target(&mut self, func: &mut Function, st: &mut FuncState) -> PResult<BlockCall> {
        self.skip_ws();
        let at = self.pos;
        let name = self.name_chars();
        if name.is_empty() {
            let found = self.describe_here();
            return self.err(at, format!("expected a block label, found {found}"));
        }
        let block = self.block_ref(func, st, &name, at);
        self.expect('(')?;
        let args = self.value_list_until_close(func, st)?;
        Ok(BlockCall { block, args })
    }

    fn instruction(&mut self, func: &mut Function, st: &mut FuncState) -> PResult<()> {
        self.skip_ws();
        let start = self.pos;
        let Some(block) = st.current else {
            return self.err(start, "instruction before the first block label");
        };
        let result_name = if self.peek() == Some('%') {
            let n = self.value_name()?;
            self.expect('=')?;
            Some(n)
        } else {
            None
        };
        self.skip_ws();
        let m_at = self.pos;
        let mnemonic = self.word();
        if mnemonic.is_empty() {
            let found = self.describe_here();
            return self.err(
                m_at,
                format!("expected an instruction or a block label, found {found}"),
            );
        }
        let (code, mut imm) = match parse_mnemonic(&mnemonic) {
            Ok(x) => x,
            Err(MnemonicError::Unknown) => {
                return self.err(m_at, format!("unknown opcode `{mnemonic}`"))
            }
            Err(MnemonicError::UnknownType(t)) => {
                return self.err(m_at, format!("unknown type `{t}`"))
            }
            Err(MnemonicError::UnknownKind(k)) => {
                return self.err(m_at, format!("unknown object kind `{k}`"))
            }
        };
        let info = code.info();
        let mut args = Vec::new();
        let mut targets = Vec::new();
        // The operands, in the opcode's layout (see `ops::Layout`).
        match info.layout {
            Layout::Bare => {}
            Layout::Values => args = self.value_list_to_eol(func, st)?,
            Layout::Imm => self.imm_operand(&mut imm)?,
            Layout::ValuesImm => {
                args.push(self.value_use(func, st)?);
                self.expect(',')?;
                self.imm_operand(&mut imm)?;
            }
            Layout::Store => {
                args.push(self.value_use(func, st)?);
                self.expect(',')?;
                self.imm_operand(&mut imm)?;
                self.expect(',')?;
                args.push(self.value_use(func, st)?);
            }
            Layout::ImmValues => {
                self.imm_operand(&mut imm)?;
                let n = match info.args {
                    ArgCount::Exact(n) | ArgCount::AtLeast(n) => n,
                };
                for _ in 0..n {
                    self.expect(',')?;
                    args.push(self.value_use(func, st)?);
                }
            }
            Layout::ImmCall => {
                self.imm_operand(&mut imm)?;
                self.expect('(')?;
                args = self.value_list_until_close(func, st)?;
            }
            Layout::ValueCall => {
                args.push(self.value_use(func, st)?);
                self.expect('(')?;
                args.extend(self.value_list_until_close(func, st)?);
            }
            Layout::Br => targets.push(self.target(func, st)?),
            Layout::BrIf => {
                args.push(self.value_use(func, st)?);
                self.expect(',')?;
                targets.push(self.target(func, st)?);
                self.expect(',')?;
                targets.push(self.target(func, st)?);
            }
            Layout::Switch => {
                args.push(self.value_use(func, st)?);
                let mut cases = Vec::new();
                let mut case_targets = Vec::new();
                loop {
                    self.expect(',')?;
                    self.skip_ws();
                    let at = self.pos;
                    if self.word() == "default" {
                        self.expect(':')?;
                        targets.push(self.target(func, st)?);
                        break;
                    }
                    self.pos = at;
                    cases.push(self.int()?);
                    self.expect(':')?;
                    case_targets.push(self.target(func, st)?);
                }
                targets.extend(case_targets);
                imm = Imm::Cases(cases);
            }
        }
        let Some(op) = Op::from_imm(code, imm) else {
            return self.err(m_at, format!("bad immediate for `{mnemonic}`"));
        };
        let mut loc = Loc::NONE;
        if self.eat('!') {
            loc = self.loc_number()?;
        }
        self.end_of_line()?;
        if result_name.is_some() && !op.has_result() {
            return self.err(start, format!("`{mnemonic}` produces no value"));
        }
        let inst = Inst::new(func.insts.len());
        let result = if op.has_result() {
            Some(match &result_name {
                Some(n) => self.value_def(func, st, n, ValueDef::Result(inst), start)?,
                None => {
                    let v = Value::new(func.values.len());
                    func.values.push(ValueData {
                        def: ValueDef::Result(inst),
                        name: None,
                    });
                    v
                }
            })
        } else {
            None
        };
        func.insts.push(InstData {
            op,
            args,
            targets,
            result,
            loc,
        });
        func.blocks[block.index()].insts.push(inst);
        Ok(())
    }

    /// The immediate of `ffi_call`: `LIB "SYM" (T ...) -> T`.
    fn foreign(&mut self) -> PResult<crate::ir::Foreign> {
        self.skip_ws();
        let at = self.pos;
        let lib = if self.peek() == Some('#') {
            match self.datum()? {
                ConstData::Bool(false) => None,
                _ => return self.err(at, "expected a library name or `#f`"),
            }
        } else {
            Some(self.string()?)
        };
        let sym = self.string()?;
        let ty = |p: &mut Self| {
            p.skip_ws();
            let at = p.pos;
            let w = p.word();
            match crate::ir::FfiTy::from_name(&w) {
                Some(t) => Ok(t),
                None => p.err(at, format!("unknown C type `{w}`")),
            }
        };
        self.expect('(')?;
        let mut args = Vec::new();
        while !self.eat(')') {
            args.push(ty(self)?);
        }
        self.expect('-')?;
        self.expect('>')?;
        let ret = ty(self)?;
        Ok(crate::ir::Foreign {
            lib,
            sym,
            args,
            ret,
        })
    }

    /// The operand part of an immediate, written over the placeholder
    /// `parse_mnemonic` left in `imm`.
    fn imm_operand(&mut self, imm: &mut Imm) -> PResult<()> {
        match imm {
            Imm::I64(n) => *n = self.int()?,
            Imm::F64(bits) => *bits = self.flonum()?.to_bits(),
            Imm::Char(c) => {
                self.skip_ws();
                let at = self.pos;
                match self.datum()? {
                    ConstData::Char(x) => *c = x,
                    _ => return self.err(at, "expected a character like `#\\a`"),
                }
            }
            Imm::Bool(b) => {
                self.skip_ws();
                let at = self.pos;
                match self.datum()? {
                    ConstData::Bool(x) => *b = x,
                    _ => return self.err(at, "expected `#t` or `#f`"),
                }
            }
            Imm::Const(c) => *c = self.const_ref()?,
            Imm::TyWho(_, who) => *who = self.string()?,
            Imm::Field(n) => *n = self.u32()?,
            Imm::Global(g, _) => *g = self.global_ref()?,
            Imm::Func(f) => *f = self.func_ref()?,
            Imm::Builtin(b) => {
                let name = self.string()?;
                *b = self.module.builtin(&name);
            }
            Imm::Foreign(ff) => **ff = self.foreign()?,
            Imm::None
            | Imm::Ty(_)
            | Imm::Fx(..)
            | Imm::Fl(..)
            | Imm::Cmp(..)
            | Imm::Alloc(..)
            | Imm::Cases(_) => {}
        }
        Ok(())
    }
}

/// Decimal float syntax plus `+inf.0 -inf.0 +nan.0`; rejects Rust's
/// `inf`/`NaN` words so that symbols stay symbols.
fn parse_float(tok: &str) -> Option<f64> {
    match tok {
        "+inf.0" => return Some(f64::INFINITY),
        "-inf.0" => return Some(f64::NEG_INFINITY),
        "+nan.0" | "-nan.0" => return Some(f64::NAN),
        _ => {}
    }
    let ok = tok
        .chars()
        .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
        && tok.chars().any(|c| c.is_ascii_digit());
    if ok {
        tok.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
