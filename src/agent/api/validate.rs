//! Grammars of request values (`docs/compatibility.md` §6): resource UIDs, the port types each
//! route accepts, component names, MAC addresses and bounded integers.

use crate::agent::api::body::Fields;
use crate::agent::error::ApiError;
use serde_json::Value;

/// Every port type of the original (`PORT_TYPES`).
pub(crate) const ALL_PORTS: &[&str] = &["phy", "ring", "vhost", "pcap", "nullpmd", "tap", "memif", "pipe"];
/// What the primary can add and delete without corrupting itself.
pub(crate) const PRIMARY_PORTS: &[&str] = &["ring", "vhost", "pcap", "memif", "nullpmd", "pipe"];
/// What spp_nfv can add and delete without corrupting itself.
pub(crate) const NFV_PORTS: &[&str] = &["ring", "vhost", "pcap", "memif", "nullpmd"];
/// The only types spp_vf and spp_mirror understand.
pub(crate) const VF_PORTS: &[&str] = &["phy", "vhost", "ring"];

/// The type of a valid UID (`type:index` or `phy:indexnqqueue`), else `None`.
pub(crate) fn uid_type(uid: &str) -> Option<&str> {
    let (ty, rest) = uid.split_once(':')?;
    if !ALL_PORTS.contains(&ty) {
        return None;
    }
    let (index, queue) = match rest.split_once("nq") {
        Some((index, queue)) if ty == "phy" => (index, Some(queue)),
        Some(_) => return None,
        None => (rest, None),
    };
    (decimal_u16(index) && queue.is_none_or(decimal_u16)).then_some(ty)
}

/// `0` or a number without leading zeros, at most 65535.
fn decimal_u16(s: &str) -> bool {
    let canonical = s == "0" || (!s.starts_with('0') && !s.is_empty() && s.len() <= 5);
    canonical && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u32>().is_ok_and(|n| n <= 65535)
}

/// The UID under `key`, of one of the `allowed` types.
pub(crate) fn uid<'a>(fields: &'a Fields, key: &str, allowed: &[&str]) -> Result<&'a str, ApiError> {
    let value = fields.str(key)?;
    match uid_type(value) {
        Some(ty) if allowed.contains(&ty) => Ok(value),
        _ => Err(ApiError::invalid(key, fields.value(key))),
    }
}

/// Component names: 1–31 bytes of `[A-Za-z0-9_.:-]` (the processes keep 32-byte fields,
/// split commands on spaces and print names into JSON unescaped).
pub(crate) fn is_name(name: &str) -> bool {
    (1..=31).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
}

/// Six groups of one or two hex digits separated by `:`.
pub(crate) fn is_mac(mac: &str) -> bool {
    let groups: Vec<&str> = mac.split(':').collect();
    groups.len() == 6
        && groups.iter().all(|g| (1..=2).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A JSON integer (not a float, not a boolean) in `0..=max`.
pub(crate) fn int_at_most(value: &Value, max: u64) -> Option<u64> {
    value.as_u64().filter(|n| *n <= max)
}

/// An integer, or a string of decimal digits, in `0..=max` (what the SPP CLI sends).
pub(crate) fn int_or_digits_at_most(value: &Value, max: u64) -> Option<u64> {
    match value {
        Value::String(s) if !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok().filter(|n| *n <= max)
        }
        other => int_at_most(other, max),
    }
}

/// Printable ASCII only: no control characters reach a process.
pub(crate) fn is_printable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uid_grammar_of_the_spec() {
        for ok in ["phy:0", "ring:12", "phy:1nq3", "pipe:0", "vhost:65535", "nullpmd:3", "phy:0nq0"] {
            assert!(uid_type(ok).is_some(), "{ok}");
        }
        for bad in [
            "ring0",
            "ring:",
            "ring: 1",
            "ring:-1",
            "ring:01",
            "ring:1_0",
            "ring:0nq1",
            "phy:0 nq 1",
            "phy:0nq",
            "RING:1",
            "ring:65536",
            "ring:1x",
            "udp:1",
            "phy:0nq01",
            ":1",
            "ring:١",
            "ring:+1",
        ] {
            assert!(uid_type(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn per_route_type_sets() {
        let body = Fields::from_json(r#"{"p": "phy:0", "t": "tap:1", "q": "pipe:2", "n": 5}"#);
        assert_eq!(uid(&body, "q", PRIMARY_PORTS).unwrap(), "pipe:2");
        assert_eq!(uid(&body, "p", PRIMARY_PORTS).unwrap_err().to_string(), "invalid key(p): phy:0.");
        assert_eq!(uid(&body, "q", NFV_PORTS).unwrap_err().to_string(), "invalid key(q): pipe:2.");
        assert_eq!(uid(&body, "t", VF_PORTS).unwrap_err().to_string(), "invalid key(t): tap:1.");
        assert_eq!(uid(&body, "n", ALL_PORTS).unwrap_err().to_string(), "invalid key(n): 5.");
    }

    #[test]
    fn names_and_macs() {
        for ok in ["fwd0_tx", "cls", "mgr1", "mr0", "mirror_0", "forward_1_tx", "a.b:c-d", &"x".repeat(31)] {
            assert!(is_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a\"b", &"x".repeat(32), "é", "a/b"] {
            assert!(!is_name(bad), "{bad}");
        }
        for ok in ["FA:16:3E:7D:CC:35", "fa:16:3e:7d:cc:35", "0:1:2:3:4:5"] {
            assert!(is_mac(ok), "{ok}");
        }
        for bad in [
            "fa-16-3e-7d-cc-35",
            "fa16.3e7d.cc35",
            "fa163e7dcc35",
            "fa:16:3e:7d:cc",
            "fa:16:3e:7d:cc:35:00",
            "fa:16:3e:7d:cc:356",
            "zz:16:3e:7d:cc:35",
            "default",
        ] {
            assert!(!is_mac(bad), "{bad}");
        }
    }

    #[test]
    fn integers_refuse_floats_booleans_and_padding() {
        assert_eq!(int_at_most(&json!(7), 7), Some(7));
        for bad in [json!(8), json!(-1), json!(1.0), json!(true), json!("1"), json!(null)] {
            assert_eq!(int_at_most(&bad, 7), None, "{bad}");
        }
        assert_eq!(int_or_digits_at_most(&json!("475"), 4095), Some(475));
        assert_eq!(int_or_digits_at_most(&json!(475), 4095), Some(475));
        for bad in
            [json!(" 475"), json!("4096"), json!("-1"), json!(""), json!(475.0), json!(false), json!("0x10")]
        {
            assert_eq!(int_or_digits_at_most(&bad, 4095), None, "{bad}");
        }
    }
}
