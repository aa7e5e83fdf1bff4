//! The JSON style of spp_vf, spp_mirror and spp_pcap (`docs/wire-protocol.md` §5.3.1): `"key": value`, `, `
//! between items, a space inside every bracket, `[  ]` for an empty array.
//!
//! The real processes build replies by string concatenation and insert strings without
//! escaping; so does this builder, because the simulator must be byte-identical.

use std::fmt::Write;

/// A JSON value in the spaced style.
#[derive(Clone, Debug)]
pub(crate) enum Sj {
    Obj(Vec<(&'static str, Sj)>),
    Arr(Vec<Sj>),
    Str(String),
    Int(i64),
}

impl Sj {
    pub(crate) fn str(s: impl Into<String>) -> Sj {
        Sj::Str(s.into())
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) {
        match self {
            Sj::Obj(members) => {
                out.push_str("{ ");
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "\"{key}\": ");
                    value.write_to(out);
                }
                out.push_str(" }");
            }
            Sj::Arr(items) => {
                out.push_str("[ ");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_to(out);
                }
                out.push_str(" ]");
            }
            Sj::Str(s) => {
                let _ = write!(out, "\"{s}\"");
            }
            Sj::Int(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }
}

fn results(result: Sj) -> (&'static str, Sj) {
    ("results", Sj::Arr(vec![result]))
}

fn success_entry() -> Sj {
    Sj::Obj(vec![("result", Sj::str("success"))])
}

/// `{ "results": [ { "result": "success" } ] }`
pub(crate) fn success() -> String {
    Sj::Obj(vec![results(success_entry())]).render()
}

/// The error envelope of §5.3.2 with `message`.
pub(crate) fn error(message: &str) -> String {
    let entry = Sj::Obj(vec![
        ("result", Sj::str("error")),
        ("error_details", Sj::Obj(vec![("message", Sj::str(message))])),
    ]);
    Sj::Obj(vec![results(entry)]).render()
}

/// The successful `status` envelope around `info`.
pub(crate) fn status(info: Sj) -> String {
    Sj::Obj(vec![results(success_entry()), ("info", info)]).render()
}

/// The `_get_client_id` reply of a spaced-style process.
pub(crate) fn client_id(id: u32, process_type: &str) -> String {
    Sj::Obj(vec![
        results(success_entry()),
        ("client_id", Sj::Int(i64::from(id))),
        ("process_type", Sj::str(process_type)),
    ])
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_byte_exact() {
        assert_eq!(success(), r#"{ "results": [ { "result": "success" } ] }"#);
        assert_eq!(
            error("Invalid value (command)"),
            r#"{ "results": [ { "result": "error", "error_details": { "message": "Invalid value (command)" } } ] }"#
        );
        assert_eq!(
            client_id(3, "mirror"),
            r#"{ "results": [ { "result": "success" } ], "client_id": 3, "process_type": "mirror" }"#
        );
    }

    #[test]
    fn empty_array_has_two_spaces() {
        assert_eq!(Sj::Obj(vec![("vhost", Sj::Arr(vec![]))]).render(), r#"{ "vhost": [  ] }"#);
    }
}
