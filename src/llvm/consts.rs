//! Encodings of a module's tables for the start-up code
//! (`valk_runtime::rt::init_consts` / `init_globals` / `init_builtins`
//! decode them).

use valk_runtime::rt::const_tag as tag;
use valk_vir::ConstData;

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

/// Appends the encoding of one constant.
pub fn encode_const(out: &mut Vec<u8>, c: &ConstData) {
    match c {
        ConstData::Int(n) => {
            out.push(tag::INT);
            out.extend(n.to_le_bytes());
        }
        ConstData::Float(x) => {
            out.push(tag::FLOAT);
            out.extend(x.to_bits().to_le_bytes());
        }
        ConstData::Number(text) => {
            out.push(tag::NUMBER);
            put_str(out, text);
        }
        ConstData::Bool(b) => {
            out.push(tag::BOOL);
            out.push(*b as u8);
        }
        ConstData::Char(c) => {
            out.push(tag::CHAR);
            out.extend((*c as u32).to_le_bytes());
        }
        ConstData::Str(s) => {
            out.push(tag::STR);
            put_str(out, s);
        }
        ConstData::Symbol(s) => {
            out.push(tag::SYMBOL);
            put_str(out, s);
        }
        ConstData::List(items, tail) => {
            out.push(tag::LIST);
            out.extend((items.len() as u32).to_le_bytes());
            for it in items {
                encode_const(out, it);
            }
            match tail {
                Some(t) => {
                    out.push(1);
                    encode_const(out, t);
                }
                None => out.push(0),
            }
        }
        ConstData::Vector(items) => {
            out.push(tag::VECTOR);
            out.extend((items.len() as u32).to_le_bytes());
            for it in items {
                encode_const(out, it);
            }
        }
        ConstData::Bytevector(b) => {
            out.push(tag::BYTEVECTOR);
            out.extend((b.len() as u32).to_le_bytes());
            out.extend(b);
        }
    }
}

/// Names as `u32 length, UTF-8 bytes` each.
pub fn encode_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names {
        put_str(&mut out, n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_nested_data() {
        let mut out = Vec::new();
        encode_const(
            &mut out,
            &ConstData::List(
                vec![ConstData::Int(1)],
                Some(Box::new(ConstData::Bool(true))),
            ),
        );
        assert_eq!(
            out,
            vec![
                tag::LIST,
                1,
                0,
                0,
                0,
                tag::INT,
                1,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                1,
                tag::BOOL,
                1
            ]
        );
        assert_eq!(encode_names(["ab"]), vec![2, 0, 0, 0, b'a', b'b']);
    }
}
