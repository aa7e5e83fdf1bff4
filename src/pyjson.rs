//! JSON text exactly as Python's `json.dumps` writes it with default arguments.
//!
//! The original spp-ctl re-serialized every reply that way, and clients compare bytes:
//! `", "` and `": "` separators, every non-ASCII code point as a lower-case `\uXXXX`
//! escape (surrogate pairs above U+FFFF). Member order is kept (`preserve_order`).

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, Serializer};
use std::io::{self, Write};

/// Serializes `value` the way Python's `json.dumps(value)` does.
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(256);
    let mut ser = Serializer::with_formatter(&mut out, PythonFormatter);
    // Writing into a Vec cannot fail, and a serde_json::Value (or our derived types)
    // always serializes; an error here would be a bug, not input.
    value.serialize(&mut ser).expect("serializing JSON into memory cannot fail");
    // The formatter only ever emits ASCII.
    String::from_utf8(out).expect("Python-style JSON is pure ASCII")
}

struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        if fragment.is_ascii() {
            return CompactFormatter.write_string_fragment(w, fragment);
        }
        let mut units = [0u16; 2];
        for c in fragment.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn separators_and_order_match_python() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"client-id":1,"status":"idling","lcores":[1,2],"patches":[]}"#).unwrap();
        assert_eq!(to_string(&v), r#"{"client-id": 1, "status": "idling", "lcores": [1, 2], "patches": []}"#);
    }

    #[test]
    fn escapes_match_python() {
        let v = json!("a\"b\\c\n\r\t\u{8}\u{c}\u{1}/\u{7f}\u{e9}\u{20ac}\u{1f600}");
        let expected = "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001/\u{7f}\\u00e9\\u20ac\\ud83d\\ude00\"";
        assert_eq!(to_string(&v), expected);
    }

    #[test]
    fn large_counters_keep_precision() {
        let v: serde_json::Value = serde_json::from_str(r#"{"rx":18446744073709551615,"d":-5}"#).unwrap();
        assert_eq!(to_string(&v), r#"{"rx": 18446744073709551615, "d": -5}"#);
    }
}
