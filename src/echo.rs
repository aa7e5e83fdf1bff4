//! Client input quoted back in bodies, headers and logs: cut short and made printable
//! ASCII, so a 60 KB path or a control character cannot bloat an answer, break a header
//! or forge a log line. Every echo of request data goes through `echo`.

use std::fmt::Write;

/// Characters of the input kept; more are cut and marked with `...`.
pub(crate) const ECHO_CHARS: usize = 64;

/// `value` cut to `ECHO_CHARS` characters, with every byte outside printable ASCII and
/// every `"` or `\` percent-encoded: safe inside a quoted header parameter (RFC 6750
/// allows neither quote nor backslash there) and on one log line.
pub(crate) fn echo(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(ECHO_CHARS) + 3);
    let mut chars = value.chars();
    for c in chars.by_ref().take(ECHO_CHARS) {
        if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
            out.push(c);
        } else {
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                // Writing to a String cannot fail.
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_printable_values_stay_as_they_are() {
        assert_eq!(echo("compute-1"), "compute-1");
        assert_eq!(echo("/v1/hosts/a b"), "/v1/hosts/a b");
        assert_eq!(echo(""), "");
    }

    #[test]
    fn control_characters_quotes_and_non_ascii_are_encoded() {
        assert_eq!(echo("a\r\nb"), "a%0D%0Ab");
        assert_eq!(echo(r#"k"id\"#), "k%22id%5C");
        assert_eq!(echo("é\t\u{7f}"), "%C3%A9%09%7F");
    }

    #[test]
    fn long_values_are_cut_at_64_characters_and_marked() {
        let exact = "x".repeat(ECHO_CHARS);
        assert_eq!(echo(&exact), exact);
        assert_eq!(echo(&"x".repeat(10_000)), format!("{exact}..."));
        // Characters, not bytes: a multi-byte character is never split.
        let wide = "é".repeat(100);
        assert_eq!(echo(&wide), format!("{}...", "%C3%A9".repeat(ECHO_CHARS)));
    }
}
