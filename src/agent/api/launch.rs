//! `PUT /v1/primary/launch`: the body becomes `launch {id} {proc_name} {eal} -- {app}`
//! with options in the original's fixed order (`docs/compatibility.md` §5).

use crate::agent::api::body::Fields;
use crate::agent::api::validate::{int_or_digits_at_most, is_printable};
use crate::agent::command::{Command, Verb, token_count};
use crate::agent::error::ApiError;
use crate::proc_type::ProcType;
use serde_json::{Map, Value};

const EAL_OPTIONS: &[&str] = &[
    "-c",
    "-l",
    "--lcores",
    "--master-lcore",
    "-s",
    "-b",
    "--pci-blacklist",
    "-w",
    "--pci-whitelist",
    "--vdev",
    "-d",
    "--no-pci",
    "--proc-type",
    "-n",
    "-r",
    "-m",
    "--in-memory",
    "--iova-mode",
    "--no-shconf",
    "--no-huge",
    "--log-level",
    "--file-prefix",
    "--create-uio-dev",
    "--vmware-tsc-map",
    "--no-hpet",
    "--vfio-intr",
    "--base-virtaddr",
    "--legacy-mem",
    "--socket-mem",
    "--socket-limit",
    "--single-file-segments",
    "--huge-dir",
    "--huge-unlink",
    "--match-allocations",
    "--syslog",
];

fn app_options(proc_name: &str) -> &'static [&'static str] {
    match proc_name {
        "spp_nfv" => &["-n", "-s", "--vhost-client"],
        "spp_pcap" => &["--client-id", "-s", "-c", "--out-dir", "--fsize"],
        _ => &["--client-id", "-s", "--vhost-client"],
    }
}

/// The launch command for a request body, validated in the spec's order.
pub(crate) fn command(fields: &Fields) -> Result<Command, ApiError> {
    fields.require(&["client_id", "proc_name", "eal", "app"])?;
    let id = int_or_digits_at_most(fields.value("client_id"), 1023)
        .ok_or_else(|| ApiError::invalid("client_id", fields.value("client_id")))?;
    let proc_name = fields.choice("proc_name", &["spp_nfv", "spp_vf", "spp_mirror", "spp_pcap"])?;
    let eal = options(fields, "eal", EAL_OPTIONS)?;
    let app = options(fields, "app", app_options(proc_name))?;
    let eal_map = fields.value("eal").as_object().into_iter().flatten();
    let has = |key: &str| eal_map.clone().any(|(k, _)| k == key);
    if !["-c", "-l", "--lcores"].iter().any(|k| has(k)) {
        return Err(ApiError::required("eal: -c, -l or --lcores"));
    }
    if !has("--proc-type") {
        return Err(ApiError::required("eal: --proc-type"));
    }
    let head = format!("{id} {proc_name} {eal} --");
    // Blame the part that pushes the command over the primary's 47 tokens.
    let blamed = if token_count(&head) > 45 { "eal" } else { "app" };
    fields.command(ProcType::Primary, Verb::Launch, &format!("{head} {app}"), blamed)
}

/// The options of `key` that `known` lists, in that order: `name [value]`.
fn options(fields: &Fields, key: &str, known: &[&str]) -> Result<String, ApiError> {
    let invalid = || ApiError::invalid(key, fields.value(key));
    let map: &Map<String, Value> = fields.value(key).as_object().ok_or_else(invalid)?;
    let mut words = Vec::new();
    for (name, value) in map {
        if !is_printable(name) || !option_value(value).is_some_and(|v| is_printable(&v)) {
            return Err(invalid());
        }
    }
    for name in known {
        let Some(value) = map.get(*name) else { continue };
        words.push((*name).to_owned());
        match option_value(value) {
            Some(v) if !v.is_empty() => words.push(v),
            _ => {}
        }
    }
    Ok(words.join(" "))
}

/// A string, an integer, or null/"" for a flag; anything else is refused.
fn option_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(body: &str) -> Result<String, String> {
        command(&Fields::from_json(body)).map(String::from).map_err(|e| e.to_string())
    }

    #[test]
    fn the_spec_example_byte_for_byte() {
        let body = r#"{"client_id": 5, "proc_name": "spp_nfv", "eal": {"-l": "1,2", "--proc-type": "secondary", "-m": 512, "--no-pci": null}, "app": {"-s": "127.0.0.1:6666", "-n": 5, "--vhost-client": ""}}"#;
        assert_eq!(
            launch(body),
            Ok("launch 5 spp_nfv -l 1,2 --no-pci --proc-type secondary -m 512 -- -n 5 -s 127.0.0.1:6666 --vhost-client".into())
        );
    }

    #[test]
    fn what_the_spp_cli_sends_and_an_empty_app() {
        let body = r#"{"client_id": "3", "proc_name": "spp_pcap", "eal": {"--proc-type": "secondary", "-l": "4-6", "--unknown": "x"}, "app": {"-c": "phy:0 nq 1", "--client-id": "3", "-s": "127.0.0.1:6666"}}"#;
        assert_eq!(
            launch(body),
            Ok("launch 3 spp_pcap -l 4-6 --proc-type secondary -- --client-id 3 -s 127.0.0.1:6666 -c phy:0 nq 1".into())
        );
        let bare = r#"{"client_id": 2, "proc_name": "spp_vf", "eal": {"-c": "0x6", "--proc-type": "secondary"}, "app": {}}"#;
        assert_eq!(launch(bare), Ok("launch 2 spp_vf -c 0x6 --proc-type secondary -- ".into()));
    }

    #[test]
    fn validation_in_order() {
        let ok_eal = r#""eal": {"-l": "1", "--proc-type": "secondary"}"#;
        assert_eq!(launch(r#"{}"#), Err("key(client_id) required.".into()));
        assert_eq!(launch(r#"{"client_id": 1}"#), Err("key(proc_name) required.".into()));
        assert_eq!(
            launch(r#"{"client_id": 1, "proc_name": "spp_nfv", "app": {}}"#),
            Err("key(eal) required.".into())
        );
        let with = |id: &str, name: &str, eal: &str, app: &str| {
            launch(&format!(r#"{{"client_id": {id}, "proc_name": {name}, {eal}, "app": {app}}}"#))
        };
        assert_eq!(with("1024", r#""spp_nfv""#, ok_eal, "{}"), Err("invalid key(client_id): 1024.".into()));
        assert_eq!(with("true", r#""spp_nfv""#, ok_eal, "{}"), Err("invalid key(client_id): true.".into()));
        assert_eq!(with("\"1a\"", r#""spp_nfv""#, ok_eal, "{}"), Err("invalid key(client_id): 1a.".into()));
        assert_eq!(
            with("1", r#""spp_primary""#, ok_eal, "{}"),
            Err("invalid key(proc_name): spp_primary.".into())
        );
        assert_eq!(with("1", r#""spp_nfv""#, r#""eal": []"#, "{}"), Err("invalid key(eal): [].".into()));
        assert_eq!(
            with("1", r#""spp_nfv""#, r#""eal": {"-l": true}"#, "{}"),
            Err(r#"invalid key(eal): {"-l":true}."#.into())
        );
        assert_eq!(
            with("1", r#""spp_nfv""#, ok_eal, r#"{"-s": 1.5}"#),
            Err(r#"invalid key(app): {"-s":1.5}."#.into())
        );
        assert_eq!(
            with("1", r#""spp_nfv""#, r#""eal": {"--proc-type": "secondary"}"#, "{}"),
            Err("key(eal: -c, -l or --lcores) required.".into())
        );
        assert_eq!(
            with("1", r#""spp_nfv""#, r#""eal": {"-l": "1"}"#, "{}"),
            Err("key(eal: --proc-type) required.".into())
        );
        assert_eq!(
            with("1", r#""spp_nfv""#, r#""eal": {"-l": "1\n", "--proc-type": "secondary"}"#, "{}"),
            Err("invalid key(eal): {\"-l\":\"1\\n\",\"--proc-type\":\"secondary\"}.".into())
        );
    }

    #[test]
    fn more_than_47_tokens_are_refused() {
        let many = (0..50).map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
        let body = format!(
            r#"{{"client_id": 1, "proc_name": "spp_nfv", "eal": {{"-l": "1", "--proc-type": "secondary"}}, "app": {{"-s": "{many}"}}}}"#
        );
        assert!(launch(&body).unwrap_err().starts_with("invalid key(app): "));
    }
}
