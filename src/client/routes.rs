//! Commands → requests: the REST path (plain `/v1/...` for an agent, `/v1/hosts/H/...`
//! behind a gateway), the JSON body the agent validates, and how to show the answer.
//! Word forms follow the SPP CLI (`nfv 1 patch phy:0 ring:0`, `vf 2 port add ring:0 rx fwd1
//! add_vlantag 101 0`), so its users' habits carry over.

use crate::client::args::*;
use crate::client::exit::Failure;
use crate::client::http::Request;
use hyper::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

/// How to show a successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum View {
    Hosts,
    Processes,
    ClusterProcesses,
    CpuUsage,
    ClusterCpuUsage,
    CpuLayout,
    Primary,
    FlowList,
    /// A flow reply: `{"result": "success"|"error", "message": ...}`.
    FlowReply,
    Nfv,
    Vf,
    Mirror,
    Pcap,
    /// The body as it came.
    Raw,
    /// A cluster apply: per host.
    Apply,
    /// A 204: this line in table output.
    Done(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub(crate) request: Request,
    pub(crate) view: View,
}

/// Path segment characters left as they are.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_');

fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// `/v1` or `/v1/hosts/{host}`: where agent routes live.
pub(crate) fn base(host: Option<&str>) -> String {
    match host {
        Some(host) => format!("/v1/hosts/{}", segment(host)),
        None => "/v1".to_owned(),
    }
}

fn call(request: Request, view: View) -> Result<Call, Failure> {
    Ok(Call { request, view })
}

fn done(method: Method, path: String, body: Option<Value>, what: String) -> Result<Call, Failure> {
    let mut request = Request::new(method, path);
    if let Some(body) = body {
        request = request.with_json(body);
    }
    call(request, View::Done(what))
}

/// The request of every command that is one request.
pub(crate) fn for_command(command: &ClientCommand, host: Option<&str>) -> Result<Call, Failure> {
    let v1 = base(host);
    match command {
        ClientCommand::Get(get) => get_call(&get.what, &v1),
        ClientCommand::Primary { action } => primary(action.as_ref().unwrap_or(&PrimaryAction::Status), &v1),
        ClientCommand::Nfv { id, action } => nfv(*id, action.as_ref().unwrap_or(&NfvAction::Status), &v1),
        ClientCommand::Vf { id, action } => vf(*id, action.as_ref().unwrap_or(&VfAction::Status), &v1),
        ClientCommand::Mirror { id, action } => {
            mirror(*id, action.as_ref().unwrap_or(&MirrorAction::Status), &v1)
        }
        ClientCommand::Pcap { id, action } => pcap(*id, action.as_ref().unwrap_or(&PcapAction::Status), &v1),
        ClientCommand::Raw { method, path, data } => raw(method, path, data.as_deref()),
        other => Err(Failure::usage(format!("{other:?} is not a single request"))),
    }
}

fn get_call(what: &GetWhat, v1: &str) -> Result<Call, Failure> {
    match what {
        GetWhat::Hosts { name } => {
            let path = match name {
                Some(name) => format!("/v1/hosts/{}", segment(name)),
                None => "/v1/hosts".to_owned(),
            };
            call(Request::get(path), View::Hosts)
        }
        GetWhat::Processes(fanout) if fanout.all => {
            call(Request::get(cluster("processes", fanout)), View::ClusterProcesses)
        }
        GetWhat::Processes(_) => call(Request::get(format!("{v1}/processes")), View::Processes),
        GetWhat::CpuUsage(fanout) if fanout.all => {
            call(Request::get(cluster("cpu_usage", fanout)), View::ClusterCpuUsage)
        }
        GetWhat::CpuUsage(_) => call(Request::get(format!("{v1}/cpu_usage")), View::CpuUsage),
        GetWhat::CpuLayout => call(Request::get(format!("{v1}/cpu_layout")), View::CpuLayout),
    }
}

fn cluster(endpoint: &str, fanout: &Fanout) -> String {
    match &fanout.hosts {
        Some(hosts) => format!("/v1/cluster/{endpoint}?hosts={}", utf8_percent_encode(hosts, SEGMENT)),
        None => format!("/v1/cluster/{endpoint}"),
    }
}

fn start_stop(action: StartStop) -> Value {
    json!({"action": match action { StartStop::Start => "start", StartStop::Stop => "stop" }})
}

/// `patch SRC DST` or `patch reset`.
fn patch(owner: &str, path: String, src: &str, dst: Option<&str>) -> Result<Call, Failure> {
    match (src, dst) {
        ("reset", None) => done(Method::DELETE, path, None, format!("{owner}: patches reset")),
        (src, Some(dst)) => done(
            Method::PUT,
            path,
            Some(json!({"src": src, "dst": dst})),
            format!("{owner}: patched {src} -> {dst}"),
        ),
        (src, None) => Err(Failure::usage(format!("patch {src}: give SRC DST, or `patch reset`"))),
    }
}

fn primary(action: &PrimaryAction, v1: &str) -> Result<Call, Failure> {
    let p = format!("{v1}/primary");
    match action {
        PrimaryAction::Status => call(Request::get(format!("{p}/status")), View::Primary),
        PrimaryAction::Clear => {
            done(Method::DELETE, format!("{p}/status"), None, "primary: counters cleared".into())
        }
        PrimaryAction::Forward { action } => {
            let what = format!(
                "primary: forwarding {}",
                if *action == StartStop::Start { "started" } else { "stopped" }
            );
            done(Method::PUT, format!("{p}/forward"), Some(start_stop(*action)), what)
        }
        PrimaryAction::Add { port, rx, tx } => {
            let mut body = json!({"action": "add", "port": port});
            if let (Some(rx), Some(tx)) = (rx, tx) {
                body["rx"] = json!(rx);
                body["tx"] = json!(tx);
            }
            done(Method::PUT, format!("{p}/ports"), Some(body), format!("primary: added {port}"))
        }
        PrimaryAction::Del { port } => done(
            Method::PUT,
            format!("{p}/ports"),
            Some(json!({"action": "del", "port": port})),
            format!("primary: deleted {port}"),
        ),
        PrimaryAction::Patch { src, dst } => patch("primary", format!("{p}/patches"), src, dst.as_deref()),
        PrimaryAction::Launch { proc_type, client_id, options } => {
            let body = launch_body(proc_type, *client_id, options)?;
            let what = format!("primary: launched {proc_type} {client_id}");
            done(Method::PUT, format!("{p}/launch"), Some(body), what)
        }
        PrimaryAction::Flow { action } => flow(action, &p),
        PrimaryAction::Exit => done(Method::DELETE, p, None, "primary: exit sent".into()),
    }
}

fn flow(action: &FlowAction, p: &str) -> Result<Call, Failure> {
    let rules = format!("{p}/flow_rules");
    match action {
        FlowAction::List => call(Request::get(format!("{p}/status")), View::FlowList),
        FlowAction::Validate { port_id, rule } => {
            let request = Request::new(Method::POST, format!("{rules}/port_id/{port_id}/validate"));
            call(request.with_json(json!({"rule": flow_rule(rule)?})), View::FlowReply)
        }
        FlowAction::Create { port_id, rule } => {
            let request = Request::new(Method::POST, format!("{rules}/port_id/{port_id}"));
            call(request.with_json(json!({"rule": flow_rule(rule)?})), View::FlowReply)
        }
        FlowAction::Destroy { port_id, rule } if rule.eq_ignore_ascii_case("all") => {
            call(Request::new(Method::DELETE, format!("{rules}/port_id/{port_id}")), View::FlowReply)
        }
        FlowAction::Destroy { port_id, rule } => {
            let rule: u64 =
                rule.parse().map_err(|_| Failure::usage(format!("rule {rule:?}: a number or `all`")))?;
            call(Request::new(Method::DELETE, format!("{rules}/{rule}/port_id/{port_id}")), View::FlowReply)
        }
    }
}

/// `[group N] [priority N] [transfer] ingress|egress pattern A / B / end actions C / end`
/// (testpmd's words, as the SPP CLI takes them) → the `rule` object.
pub(crate) fn flow_rule(words: &[String]) -> Result<Value, Failure> {
    let bad = |why: &str| Failure::usage(format!("flow rule: {why}"));
    let mut rule = Map::new();
    let mut words = words.iter().map(String::as_str).peekable();
    let number = |word: Option<&str>, key: &str| -> Result<Value, Failure> {
        word.and_then(|w| w.parse::<u64>().ok())
            .map(|n| json!(n))
            .ok_or_else(|| bad(&format!("{key} needs a number")))
    };
    loop {
        match words.next() {
            Some("group") => {
                rule.insert("group".into(), number(words.next(), "group")?);
            }
            Some("priority") => {
                rule.insert("priority".into(), number(words.next(), "priority")?);
            }
            Some("transfer") => {
                rule.insert("transfer".into(), json!(true));
            }
            Some(direction @ ("ingress" | "egress")) => {
                rule.insert("direction".into(), json!(direction));
                break;
            }
            Some(other) => return Err(bad(&format!("unexpected {other:?}; give ingress or egress"))),
            None => return Err(bad("give ingress or egress")),
        }
    }
    for list in ["pattern", "actions"] {
        if words.next() != Some(list) {
            return Err(bad(&format!("{list} missing")));
        }
        let mut items = Vec::new();
        let mut item: Vec<&str> = Vec::new();
        for word in words.by_ref() {
            match word {
                "/" => items.push(std::mem::take(&mut item).join(" ")),
                "end" => break,
                word => item.push(word),
            }
        }
        if !item.is_empty() {
            items.push(item.join(" "));
        }
        rule.insert(list.into(), json!(items));
    }
    match words.next() {
        Some(extra) => Err(bad(&format!("unexpected {extra:?} after the actions"))),
        None => Ok(Value::Object(rule)),
    }
}

/// `nfv` or `spp_nfv`, then EAL options, `--`, application options → the launch body.
pub(crate) fn launch_body(proc_type: &str, client_id: u32, options: &[String]) -> Result<Value, Failure> {
    let name = if proc_type.starts_with("spp_") { proc_type.to_owned() } else { format!("spp_{proc_type}") };
    let split = options.iter().position(|o| o == "--").unwrap_or(options.len());
    let (eal, app) = (&options[..split], options.get(split + 1..).unwrap_or_default());
    Ok(json!({
        "client_id": client_id,
        "proc_name": name,
        "eal": option_map(eal)?,
        "app": option_map(app)?,
    }))
}

/// `-l 1,2 --no-pci -m 512` → `{"-l": "1,2", "--no-pci": null, "-m": "512"}`.
fn option_map(words: &[String]) -> Result<Value, Failure> {
    let mut map = Map::new();
    let mut words = words.iter().peekable();
    while let Some(word) = words.next() {
        if !word.starts_with('-') {
            return Err(Failure::usage(format!("launch: {word:?} is not an option (they start with -)")));
        }
        let value = words.next_if(|next| !next.starts_with('-')).map_or(Value::Null, |v| json!(v));
        map.insert(word.clone(), value);
    }
    Ok(Value::Object(map))
}

fn nfv(id: i64, action: &NfvAction, v1: &str) -> Result<Call, Failure> {
    let p = format!("{v1}/nfvs/{id}");
    let owner = format!("nfv {id}");
    match action {
        NfvAction::Status => call(Request::get(p), View::Nfv),
        NfvAction::Forward | NfvAction::Stop => {
            let action =
                if matches!(action, NfvAction::Forward) { StartStop::Start } else { StartStop::Stop };
            let what = format!(
                "{owner}: forwarding {}",
                if action == StartStop::Start { "started" } else { "stopped" }
            );
            done(Method::PUT, format!("{p}/forward"), Some(start_stop(action)), what)
        }
        NfvAction::Add { port } | NfvAction::Del { port } => {
            let verb = if matches!(action, NfvAction::Add { .. }) { "add" } else { "del" };
            let what = format!("{owner}: {verb} {port} done");
            done(Method::PUT, format!("{p}/ports"), Some(json!({"action": verb, "port": port})), what)
        }
        NfvAction::Patch { src, dst } => patch(&owner, format!("{p}/patches"), src, dst.as_deref()),
        NfvAction::Exit => done(Method::DELETE, p, None, format!("{owner}: exit sent")),
    }
}

fn add_del(action: AddDel) -> &'static str {
    match action {
        AddDel::Add => "add",
        AddDel::Del => "del",
    }
}

fn dir(dir: Dir) -> &'static str {
    match dir {
        Dir::Rx => "rx",
        Dir::Tx => "tx",
    }
}

/// The body of a component port change; `vlan` only for a vf's attach.
fn port_body(action: AddDel, port: &str, direction: Dir, vlan: Option<Value>) -> Value {
    let mut body = json!({
        "action": if action == AddDel::Add { "attach" } else { "detach" },
        "port": port,
        "dir": dir(direction),
    });
    if let Some(vlan) = vlan {
        body["vlan"] = vlan;
    }
    body
}

/// `add_vlantag ID PCP`, `del_vlantag` or nothing → the `vlan` object.
pub(crate) fn vlan(words: &[String]) -> Result<Value, Failure> {
    let number = |word: &str, key: &str| {
        word.parse::<u32>()
            .map_err(|_| Failure::usage(format!("add_vlantag: {key} {word:?} is not a number")))
    };
    match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => Ok(json!({})),
        ["del_vlantag"] => Ok(json!({"operation": "del"})),
        ["add_vlantag", id, pcp] => {
            Ok(json!({"operation": "add", "id": number(id, "id")?, "pcp": number(pcp, "pcp")?}))
        }
        other => Err(Failure::usage(format!(
            "port: {:?}: give `add_vlantag ID PCP` or `del_vlantag`",
            other.join(" ")
        ))),
    }
}

fn component_path(p: &str, name: &str) -> String {
    format!("{p}/components/{}", segment(name))
}

fn vf(id: i64, action: &VfAction, v1: &str) -> Result<Call, Failure> {
    let p = format!("{v1}/vfs/{id}");
    let owner = format!("vf {id}");
    match action {
        VfAction::Status => call(Request::get(p), View::Vf),
        VfAction::Component { action: VfComponent::Start { name, core, kind } } => {
            component_start(&owner, &p, name, *core, kind)
        }
        VfAction::Component { action: VfComponent::Stop { name } } => component_stop(&owner, &p, name),
        VfAction::Port { action, port, dir: direction, name, vlan: words } => {
            let vlan = if *action == AddDel::Add { Some(vlan(words)?) } else { None };
            component_port(&owner, &p, name, port_body(*action, port, *direction, vlan))
        }
        VfAction::ClassifierTable { action, kind, values } => {
            let (vid, mac, port) = match (kind.as_str(), values.as_slice()) {
                ("mac", [mac, port]) => (None, mac, port),
                ("vlan", [vid, mac, port]) => (Some(vid), mac, port),
                _ => {
                    return Err(Failure::usage(
                        "classifier_table: give `mac MAC PORT` or `vlan VID MAC PORT`".to_owned(),
                    ));
                }
            };
            let mut body =
                json!({"action": add_del(*action), "type": kind, "mac_address": mac, "port": port});
            if let Some(vid) = vid {
                body["vlan"] = vid.parse::<u64>().map_or_else(|_| json!(vid), |n| json!(n));
            }
            let what = format!("{owner}: classifier_table {} {kind} {}", add_del(*action), values.join(" "));
            done(Method::PUT, format!("{p}/classifier_table"), Some(body), what)
        }
        VfAction::Exit => done(Method::DELETE, p, None, format!("{owner}: exit sent")),
    }
}

fn component_start(owner: &str, p: &str, name: &str, core: u32, kind: &str) -> Result<Call, Failure> {
    let body = json!({"name": name, "core": core, "type": kind});
    let what = format!("{owner}: component {name} started on core {core}");
    done(Method::POST, format!("{p}/components"), Some(body), what)
}

fn component_stop(owner: &str, p: &str, name: &str) -> Result<Call, Failure> {
    done(Method::DELETE, component_path(p, name), None, format!("{owner}: component {name} stopped"))
}

fn component_port(owner: &str, p: &str, name: &str, body: Value) -> Result<Call, Failure> {
    let what = format!(
        "{owner}: {} {} {} {name}",
        body["action"].as_str().unwrap_or_default(),
        body["port"].as_str().unwrap_or_default(),
        body["dir"].as_str().unwrap_or_default()
    );
    done(Method::PUT, format!("{}/ports", component_path(p, name)), Some(body), what)
}

fn mirror(id: i64, action: &MirrorAction, v1: &str) -> Result<Call, Failure> {
    let p = format!("{v1}/mirrors/{id}");
    let owner = format!("mirror {id}");
    match action {
        MirrorAction::Status => call(Request::get(p), View::Mirror),
        MirrorAction::Component { action: MirrorComponent::Start { name, core } } => {
            component_start(&owner, &p, name, *core, "mirror")
        }
        MirrorAction::Component { action: MirrorComponent::Stop { name } } => {
            component_stop(&owner, &p, name)
        }
        MirrorAction::Port { action, port, dir: direction, name } => {
            component_port(&owner, &p, name, port_body(*action, port, *direction, None))
        }
        MirrorAction::Exit => done(Method::DELETE, p, None, format!("{owner}: exit sent")),
    }
}

fn pcap(id: i64, action: &PcapAction, v1: &str) -> Result<Call, Failure> {
    let p = format!("{v1}/pcaps/{id}");
    let owner = format!("pcap {id}");
    match action {
        PcapAction::Status => call(Request::get(p), View::Pcap),
        PcapAction::Start => done(
            Method::PUT,
            format!("{p}/capture"),
            Some(start_stop(StartStop::Start)),
            format!("{owner}: capture started"),
        ),
        PcapAction::Stop => done(
            Method::PUT,
            format!("{p}/capture"),
            Some(start_stop(StartStop::Stop)),
            format!("{owner}: capture stopped"),
        ),
        PcapAction::Exit => done(Method::DELETE, p, None, format!("{owner}: exit sent")),
    }
}

fn raw(method: &str, path: &str, data: Option<&str>) -> Result<Call, Failure> {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::usage(format!("method {method:?}: not an HTTP method")))?;
    if !path.starts_with('/') {
        return Err(Failure::usage(format!("path {path:?}: must start with /")));
    }
    let mut request = Request::new(method, path);
    request.body = match data {
        Some(file) if file.starts_with('@') => Some(
            std::fs::read_to_string(&file[1..])
                .map_err(|e| Failure::local(format!("{}: {e}", &file[1..])))?,
        ),
        Some(body) => Some(body.to_owned()),
        None => None,
    };
    call(request, View::Raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn flow_rules_in_testpmd_words() {
        let rule = flow_rule(&words(
            "group 1 priority 2 transfer ingress pattern eth dst is 11:22:33:44:55:66 / vlan vid is 100 / end \
             actions queue index 1 / of_pop_vlan / end",
        ))
        .unwrap();
        assert_eq!(
            rule.to_string(),
            r#"{"group":1,"priority":2,"transfer":true,"direction":"ingress","pattern":["eth dst is 11:22:33:44:55:66","vlan vid is 100"],"actions":["queue index 1","of_pop_vlan"]}"#
        );
        let bad = |text: &str| flow_rule(&words(text)).unwrap_err().message;
        assert_eq!(bad("pattern eth / end"), "flow rule: unexpected \"pattern\"; give ingress or egress");
        assert_eq!(bad("group x ingress"), "flow rule: group needs a number");
        assert_eq!(bad("egress pattern eth / end"), "flow rule: actions missing");
        assert_eq!(
            bad("egress pattern eth / end actions drop / end more"),
            "flow rule: unexpected \"more\" after the actions"
        );
    }

    #[test]
    fn launch_options_split_at_the_double_dash() {
        let body =
            launch_body("nfv", 3, &words("-l 1,2 --no-pci --proc-type secondary -- -n 3 --vhost-client"))
                .unwrap();
        assert_eq!(
            body.to_string(),
            r#"{"client_id":3,"proc_name":"spp_nfv","eal":{"-l":"1,2","--no-pci":null,"--proc-type":"secondary"},"app":{"-n":"3","--vhost-client":null}}"#
        );
        assert_eq!(launch_body("spp_vf", 2, &[]).unwrap()["app"], json!({}));
        assert_eq!(
            launch_body("nfv", 3, &words("1,2")).unwrap_err().message,
            "launch: \"1,2\" is not an option (they start with -)"
        );
    }

    #[test]
    fn vlan_words_and_paths_behind_a_gateway() {
        assert_eq!(vlan(&[]).unwrap(), json!({}));
        assert_eq!(vlan(&words("del_vlantag")).unwrap(), json!({"operation": "del"}));
        assert_eq!(
            vlan(&words("add_vlantag 101 3")).unwrap(),
            json!({"operation": "add", "id": 101, "pcp": 3})
        );
        assert_eq!(vlan(&words("add_vlantag 101")).unwrap_err().code, crate::client::exit::Code::Usage);
        assert_eq!(base(Some("compute-1")), "/v1/hosts/compute-1");
        assert_eq!(base(Some("a b/c")), "/v1/hosts/a%20b%2Fc");
        assert_eq!(base(None), "/v1");
    }
}
