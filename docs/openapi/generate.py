#!/usr/bin/env python3
"""Writes agent.json and gateway.json (OpenAPI 3.1) next to this file.

The JSON files are what the binary serves (include_str!); edit this generator, run it,
then reference.py (docs/api-reference.md), and commit all three. `.ci/openapi-check.sh`
fails when the committed files differ from their output.
Sources: shared spec rest-api-v1.md and gateway.md, the routers in src/agent/api and
src/gateway/routes.rs.
"""
import json
import os

N16 = "(0|[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"


def uid(types, phy_queue=True, what="port UID"):
    """A resource UID (rest-api-v1 §7.2) restricted to `types`."""
    alts = []
    if "phy" in types:
        alts.append("phy:" + N16 + (f"(nq{N16})?" if phy_queue else ""))
    rest = [t for t in types if t != "phy"]
    if rest:
        alts.append("(" + "|".join(rest) + "):" + N16)
    return {
        "type": "string",
        "pattern": "^(" + "|".join(alts) + ")$",
        "description": f"{what}: one of {', '.join(types)}, index 0…65535 without leading zeros"
        + (", phy optionally with `nq<queue>`" if "phy" in types and phy_queue else ""),
        "examples": [t + ":0" for t in types][:3],
    }


ALL_TYPES = ["phy", "ring", "vhost", "pcap", "nullpmd", "tap", "memif", "pipe"]
U32 = {"type": "integer", "minimum": 0, "maximum": 4294967295}
TEXT = {"type": "string"}
INT_ARRAY = {"type": "array", "items": {"type": "integer"}}
PRINTABLE = "^[ -~]*$"
FLOW_U32 = {**U32, "description": "Written without a fraction or exponent (`1.0` is refused)"}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def text_response(description, *examples):
    content = {"schema": TEXT}
    if examples:
        content["examples"] = {f"e{i}": {"value": e} for i, e in enumerate(examples, 1)}
    return {"description": description, "content": {"text/plain": content}}


def json_response(description, schema, example=None):
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}}


def body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def obj(required, props, **extra):
    return {"type": "object", "required": required, "properties": props, **extra}


def enum(*values):
    return {"type": "string", "enum": list(values)}


def param(name, schema, where="path", description=None):
    p = {"name": name, "in": where, "required": where == "path", "schema": schema}
    if description:
        p["description"] = description
    return p


def op(summary, tag, responses, scope, params=None, request=None, optional_auth=False):
    o = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        o["parameters"] = params
    if request:
        o["requestBody"] = request
    if scope:
        sec = [{"bearerJWT": [scope]}]
        o["security"] = ([{}] + sec) if optional_auth else sec
    else:
        o["security"] = []
    return o


def document(title, description, server, paths, schemas):
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": description},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }


def write(name, doc):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


SECURITY_SCHEMES = {
    "bearerJWT": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT with a space-separated `scope` claim: `spp:read` allows GET/HEAD, "
        "`spp:write` allows PUT/POST/DELETE and implies read, `spp:admin` implies both. An optional "
        "`hosts` claim (names or globs) limits the hosts a token reaches. 401 for a missing, invalid "
        "or expired token (`WWW-Authenticate: Bearer error=\"invalid_token\"`), 403 for scope or "
        "host denial (`error=\"insufficient_scope\"`).",
    }
}


def challenged(response, error):
    """`response` with the RFC 6750 `WWW-Authenticate` header the auth layer always sets."""
    header = {"description": f"`Bearer realm=\"spp-ctl\"`, then {error}", "required": True,
              "schema": {"type": "string", "pattern": "^Bearer realm=\"spp-ctl\""}}
    return {**response, "headers": {"WWW-Authenticate": header}}


UNAUTHORIZED = challenged(text_response(
    "Missing, malformed, expired or otherwise invalid bearer token (when authentication is on)",
    "missing bearer token", "malformed token: expected \"Bearer <token>\"", "token expired",
    "token signature does not verify"), "`error=\"invalid_token\"` unless no token was sent")
FORBIDDEN_READ = challenged(text_response("The token lacks the scope or host", "insufficient scope: spp:read needed",
                                          "token does not allow host compute-2"), "`error=\"insufficient_scope\"`")
FORBIDDEN_WRITE = challenged(text_response("The token lacks the scope or host", "insufficient scope: spp:write needed",
                                           "token does not allow host compute-2"), "`error=\"insufficient_scope\"`")
PLAIN_OK = {"description": "Plain text", "content": {"text/plain": {"schema": TEXT}}}
METRICS = {"description": "Prometheus text exposition format",
           "content": {"text/plain; version=0.0.4; charset=utf-8": {"schema": TEXT}}}
OPENAPI_OK = json_response("This document", {"type": "object"})
READYZ_503 = text_response("Shutting down (draining)", "shutting down")


def sse_op(summary, tag, stream, resume, **kw):
    """A never-ending `text/event-stream` GET, resumable with `Last-Event-ID` (or the query)."""
    return op(summary, tag, {
        "200": {"description": "`text/event-stream`, never ending: `retry: 1000`, then " + stream,
                "content": {"text/event-stream": {"schema": TEXT}}},
        "401": UNAUTHORIZED, "403": FORBIDDEN_READ}, "spp:read",
        [param("Last-Event-ID", TEXT, "header", resume),
         param("last_event_id", TEXT, "query", "The same as `Last-Event-ID`")], **kw)


def probes(tag):
    return {
        "/healthz": {"get": op("Liveness", tag, {"200": text_response("Alive", "ok")}, None)},
        "/readyz": {"get": op("Readiness: 503 once shutdown begins", tag,
                              {"200": text_response("Serving", "ready"), "503": READYZ_503}, None)},
        "/metrics": {"get": op("Prometheus metrics", tag, {"200": METRICS}, None)},
        "/openapi.json": {"get": op("This OpenAPI document", tag, {"200": OPENAPI_OK}, None)},
    }


# ---------------------------------------------------------------- agent API v1

def agent():
    ERR_500 = text_response("Unexpected internal failure", "Internal Server Error")

    def proc_errors(proc):
        return {
            "502": text_response("The process answered something unusable",
                                 f"invalid reply from {proc}: reply is not JSON"),
            "503": text_response("Connection to the process lost, or its command queue is full",
                                 f"connection to {proc} lost", f"{proc} is busy"),
            "504": text_response("The command deadline expired", f"{proc} did not reply within 3000 ms"),
        }

    def not_found(proc):
        if proc == "primary":
            return text_response("No primary connected", "primary not found.")
        return text_response("No secondary of this type with that id", "sec_id 3 not found.")

    def read(summary, tag, schema, proc, params=None, example=None):
        responses = {"200": json_response("Result", schema, example), "401": UNAUTHORIZED,
                     "403": FORBIDDEN_READ}
        if proc:
            responses["404"] = not_found(proc)
            responses.update(proc_errors(proc))
        responses["500"] = ERR_500
        return op(summary, tag, responses, "spp:read", params, optional_auth=True)

    def write_op(summary, tag, proc, params=None, schema=None, errors=(), ok="204"):
        responses = {}
        if ok == "204":
            responses["204"] = {"description": "Done (no body); also the answer of a dry run"}
        else:
            responses["200"] = json_response("The primary's flow reply, `success` or `error`", ref("FlowReply"))
            responses["204"] = {"description": "Dry run: valid, nothing sent (no body)"}
        examples = list(errors)
        if schema is not None:
            examples.append("Not in json format.")
        examples.append("invalid dry_run: maybe")
        responses["400"] = text_response("Invalid request or the process reported an error", *examples)
        params = list(params or []) + [DRY_RUN]
        responses["401"] = UNAUTHORIZED
        responses["403"] = FORBIDDEN_WRITE
        responses["404"] = not_found(proc)
        if schema is not None:
            responses["413"] = text_response("Body larger than the limit (default 1 MiB)",
                                             "Request entity too large.")
        responses.update(proc_errors(proc))
        responses["500"] = ERR_500
        return op(summary, tag, responses, "spp:write", params, body(schema) if schema else None,
                  optional_auth=True)

    def exit_op(summary, tag, proc, params=None):
        o = write_op(summary, tag, proc, params)
        o["description"] = "An EOF or timeout after `exit` still counts as success (204)."
        # The process is gone afterwards: later calls for it answer 404 (.ci/schemathesis.sh
        # fuzzes these operations last).
        o["x-spp-terminates"] = True
        return o

    def secondary(tag, proc, schema):
        """The `/v1/<group>/{id}` item: status and exit."""
        status = read(f"{tag} status", tag, schema, proc, [ID])
        status["responses"]["400"] = text_response("The process reported an error",
                                                   "command error: error occur")
        return {"get": status, "delete": exit_op(f"Terminate a {tag}", tag, proc, [ID])}

    ID = param("id", {"type": "integer"}, description="Client id (decimal; `-?[0-9]+`, `01` is 1)")
    DRY_RUN = param("dry_run", {"type": "boolean", "default": False}, "query",
                    "`true`: validate everything, send nothing, answer 204 (or the 4xx the real call "
                    "gives); the audit event and the `command` event say `dry_run`")
    NAME_P = param("name", ref("ComponentName"), description="Component name (percent-decoded)")
    PORT_ID = param("port_id", {"type": "integer", "minimum": 0, "maximum": 65535},
                    description="phy port id (an ethdev port id: 0…65535)")
    RULE_ID = param("rule_id", U32, description="Flow rule id")

    action_start_stop = obj(["action"], {"action": enum("start", "stop")})
    patch_body = obj(["src", "dst"], {"src": ref("AnyUid"), "dst": ref("AnyUid")})
    cmd_err = "command error: Invalid value (port)"

    vf_ports_body = obj(["action", "port", "dir"], {
        "action": enum("attach", "detach"), "port": ref("VfUid"), "dir": enum("rx", "tx"),
        "vlan": {"oneOf": [{"type": "null"}, ref("VlanTag")],
                 "description": "Only for `attach`; absent, `null` or `{}` mean no tag"}})
    mirror_ports_body = obj(["action", "port", "dir"], {
        "action": enum("attach", "detach"), "port": ref("VfUid"), "dir": enum("rx", "tx"),
        "vlan": {"description": "Ignored by the mirror"}})

    def processes_op():
        o = read("Connected processes (registry; primary first)", "processes",
                 {"type": "array", "items": ref("ProcessEntry")}, None,
                 [param("wait_for", {"type": "string", "pattern": "^(primary|(nfv|vf|mirror|pcap):[0-9]+)"
                                     "(,(primary|(nfv|vf|mirror|pcap):[0-9]+))*$"}, "query",
                        "Answer only once every process named is attached (e.g. `nfv:1,vf:2`)"),
                  param("timeout", {"type": "string", "default": "30s"}, "query",
                        "How long `wait_for` waits (humantime, at most 300s)")],
                 example=[{"type": "primary"}, {"type": "nfv", "client-id": 1}])
        o["responses"]["400"] = text_response("Bad `wait_for` or `timeout`", "invalid wait_for: nfv:x",
                                              "invalid timeout: 10m")
        o["responses"]["503"] = text_response("The agent began shutting down while waiting",
                                              "the agent is shutting down")
        o["responses"]["504"] = text_response("`wait_for`: some processes were still missing at the timeout",
                                              "timed out waiting for nfv:1, vf:2")
        return o

    def events_op():
        o = sse_op("Event stream (Server-Sent Events)", "events",
                   "events `id: <n>`, `event: <type>`, `data: <one-line JSON>` (types "
                   "`process-attached`, `process-detached`, `command`, `forwarding`, "
                   "`port-added`, `port-removed`; `reset` and `dropped` carry no id) "
                   "and `: keep-alive` comments every 15 s. See docs/events.md.",
                   "Resume after this id: buffered events after it first, or `reset` when it is "
                   "no longer buffered", optional_auth=True)
        o["description"] = ("A consumer that falls behind by more than its queue is sent `dropped` and "
                            "disconnected; reconnect with `Last-Event-ID`.")
        return o

    def components_body(types):
        return obj(["name", "core", "type"], {"name": ref("ComponentName"),
                                              "core": {"type": "integer", "minimum": 0, "maximum": 1023},
                                              "type": enum(*types)})

    paths = {
        "/v1/processes": {"get": processes_op()},
        "/v1/events": {"get": events_op()},
        "/v1/cpu_usage": {"get": read("Lcores used by every process that answered", "processes",
                                      {"type": "array", "items": ref("CpuUsage")}, None)},
        "/v1/cpu_layout": {"get": read("CPU topology of the host", "processes",
                                       {"type": "array", "items": ref("CpuSocket")}, None)},
        "/v1/primary/status": {
            "get": read("Primary status", "primary", ref("PrimaryStatus"), "primary"),
            "delete": write_op("Clear the primary's port counters", "primary", "primary"),
        },
        "/v1/primary/forward": {"put": write_op(
            "Start or stop the primary's forwarder", "primary", "primary", schema=action_start_stop,
            errors=["key(action) required.", "invalid key(action): go."])},
        "/v1/primary/ports": {"put": write_op(
            "Add or delete a primary port", "primary", "primary",
            schema={**obj(["action", "port"], {
                "action": enum("add", "del"), "port": ref("PrimaryUid"),
                "rx": {"description": "Ring UID; required for `add` of a pipe, ignored otherwise"},
                "tx": {"description": "Ring UID; required for `add` of a pipe, ignored otherwise"}}),
                "if": {"properties": {"action": {"const": "add"}, "port": {"pattern": "^pipe:"}},
                       "required": ["action", "port"]},
                "then": {"required": ["rx", "tx"], "properties": {"rx": ref("RingUid"), "tx": ref("RingUid")}}},
            errors=["key(port) required.", "invalid key(port): phy:0.", "key(rx) required.",
                    "command error: add ring:9 failed"])},
        "/v1/primary/patches": {
            "put": write_op("Patch two ports in the primary", "primary", "primary", schema=patch_body,
                            errors=["key(dst) required.", "invalid key(src): ring:01.",
                                    "command error: patch ring:0 ring:9 failed"]),
            "delete": write_op("Reset the primary's patches", "primary", "primary"),
        },
        "/v1/primary/launch": {"put": write_op(
            "Launch a secondary process through the primary", "primary", "primary",
            schema=ref("LaunchRequest"),
            errors=["key(client_id) required.", "invalid key(proc_name): spp_foo.",
                    "key(eal: -c, -l or --lcores) required.", "key(eal: --proc-type) required."])},
        "/v1/primary": {"delete": exit_op("Terminate the primary", "primary", "primary")},
        "/v1/primary/": {"delete": exit_op("Terminate the primary (same as without the slash)",
                                           "primary", "primary")},
        "/v1/primary/flow_rules/port_id/{port_id}/validate": {"post": write_op(
            "Validate a flow rule", "flow", "primary", [PORT_ID], ref("FlowRequest"),
            ["key(rule) required.", "key(direction) required.", "invalid key(direction): both.",
             "invalid key(port_id): -1."], ok="200")},
        "/v1/primary/flow_rules/port_id/{port_id}": {
            "post": write_op("Create a flow rule", "flow", "primary", [PORT_ID], ref("FlowRequest"),
                             ["key(pattern) required.", "invalid key(actions): [1]."], ok="200"),
            "delete": write_op("Destroy every flow rule of a port", "flow", "primary", [PORT_ID],
                               errors=["invalid key(port_id): -1."], ok="200"),
        },
        "/v1/primary/flow_rules/{rule_id}/port_id/{port_id}": {"delete": write_op(
            "Destroy one flow rule", "flow", "primary", [RULE_ID, PORT_ID],
            errors=["invalid key(rule_id): 4294967296."], ok="200")},
        "/v1/primary/flow_rule/port_id/{port_id}": {"delete": write_op(
            "Destroy every flow rule of a port (alias spelled as in the published docs)", "flow",
            "primary", [PORT_ID], errors=["invalid key(port_id): -1."], ok="200")},
        "/v1/primary/flow_rule/{rule_id}/port_id/{port_id}": {"delete": write_op(
            "Destroy one flow rule (alias spelled as in the published docs)", "flow", "primary",
            [RULE_ID, PORT_ID], errors=["invalid key(rule_id): 4294967296."], ok="200")},
        "/v1/nfvs/{id}": secondary("nfv", "nfv(1)", ref("NfvStatus")),
        "/v1/nfvs/{id}/forward": {"put": write_op(
            "Start or stop an nfv's forwarding", "nfv", "nfv(1)", [ID], action_start_stop,
            ["key(action) required.", "invalid key(action): go."])},
        "/v1/nfvs/{id}/ports": {"put": write_op(
            "Add or delete an nfv port", "nfv", "nfv(1)", [ID],
            obj(["action", "port"], {"action": enum("add", "del"), "port": ref("NfvUid")}),
            ["key(port) required.", "invalid key(port): phy:0.", "command error: add vhost:1 failed"])},
        "/v1/nfvs/{id}/patches": {
            "put": write_op("Patch two ports in an nfv", "nfv", "nfv(1)", [ID], patch_body,
                            ["key(src) required.", "command error: patch ring:0 ring:9 failed"]),
            "delete": write_op("Reset an nfv's patches", "nfv", "nfv(1)", [ID]),
        },
        "/v1/pcaps/{id}": secondary("pcap", "pcap(4)", ref("PcapStatus")),
        "/v1/pcaps/{id}/capture": {"put": write_op(
            "Start or stop capturing", "pcap", "pcap(4)", [ID], action_start_stop,
            ["key(action) required.", "invalid key(action): pause."])},
        "/v1/vfs/{id}/classifier_table": {"put": write_op(
            "Add or delete a classifier table entry", "vf", "vf(2)", [ID], ref("ClassifierRequest"),
            ["key(mac_address) required.", "key(vlan) required.", "invalid key(mac_address): fa-16-3e-7d-cc-35.",
             cmd_err])},
    }
    for group, tag, proc, types, ports_body in (
            ("vfs", "vf", "vf(2)", ["forward", "merge", "classifier"], vf_ports_body),
            ("mirrors", "mirror", "mirror(3)", ["mirror"], mirror_ports_body)):
        base = f"/v1/{group}/{{id}}"
        paths[base] = secondary(tag, proc, ref("VfStatus"))
        paths[base + "/components"] = {"post": write_op(
            f"Start a {tag} component", tag, proc, [ID], components_body(types),
            ["key(name) required.", "invalid key(name): a b.", "invalid key(core): true.",
             "invalid key(type): classifier_mac.", "command error: Invalid value (component name)",
             "command error: error occur"])}
        paths[base + "/components/{name}"] = {"delete": write_op(
            f"Stop a {tag} component", tag, proc, [ID, NAME_P], errors=["invalid key(name): a b."])}
        paths[base + "/components/{name}/ports"] = {"put": write_op(
            f"Attach or detach a {tag} component port", tag, proc, [ID, NAME_P], ports_body,
            ["key(dir) required.", "invalid key(port): pcap:0.",
             'invalid key(vlan): {"operation": "add"}.', cmd_err])}
    paths["/info"] = {"get": op("Agent identity (used by the gateway's DNS discovery)", "health",
                                {"200": json_response("Identity", ref("AgentInfo"))}, None)}
    paths.update(probes("health"))

    vlan_id = {"type": "integer", "minimum": 0, "maximum": 4095}
    schemas = {
        "AnyUid": uid(ALL_TYPES),
        "PrimaryUid": uid(["ring", "vhost", "pcap", "memif", "nullpmd", "pipe"]),
        "NfvUid": uid(["ring", "vhost", "pcap", "memif", "nullpmd"]),
        "VfUid": uid(["phy", "vhost", "ring"]),
        "RingUid": uid(["ring"], what="ring UID"),
        "ComponentName": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,31}$", "examples": ["fwd0_tx"]},
        "VlanTag": {
            "type": "object",
            "description": "`{}`, `{\"operation\": \"none\"}`, `{\"operation\": \"del\"}`, or "
                           "`{\"operation\": \"add\", \"id\": 0…4095, \"pcp\": 0…7}`",
            "properties": {"operation": enum("none", "add", "del"), "id": vlan_id,
                           "pcp": {"type": "integer", "minimum": 0, "maximum": 7}},
            "if": {"properties": {"operation": {"const": "add"}}, "required": ["operation"]},
            "then": {"required": ["id", "pcp"]},
        },
        "ClassifierRequest": {
            **obj(["action", "type", "port", "mac_address"], {
                "action": enum("add", "del"), "type": enum("mac", "vlan"), "port": ref("VfUid"),
                "mac_address": {"type": "string",
                                "pattern": "^(default|[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){5})$"},
                "vlan": {"description": "Required when `type` is `vlan`: 0…4095, an integer or a string of "
                                        "at most 10 decimal digits; ignored when `type` is `mac`"}}),
            "if": {"properties": {"type": {"const": "vlan"}}, "required": ["type"]},
            "then": {"required": ["vlan"], "properties": {"vlan": {"oneOf": [
                vlan_id, {"type": "string", "maxLength": 10,
                          "pattern": "^0*([0-9]{1,3}|40[0-8][0-9]|409[0-5])$"}]}}},
        },
        "LaunchOptions": {"type": "object", "additionalProperties": {
            "oneOf": [{"type": "string", "pattern": PRINTABLE},
                      {"type": "integer", "minimum": -2**63, "maximum": 2**64 - 1}, {"type": "null"}],
            "description": "Printable ASCII; `null` or `\"\"` for a flag"},
            "propertyNames": {"pattern": PRINTABLE},
            "description": "Option name → value, emitted in the fixed order of rest-api-v1 §4.9 (other "
                           "names are ignored); the whole command must stay within 47 tokens"},
        "LaunchRequest": obj(["client_id", "proc_name", "eal", "app"], {
            "client_id": {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 1023},
                                    {"type": "string", "maxLength": 10,
                                     "pattern": "^0*([0-9]{1,3}|10[01][0-9]|102[0-3])$"}],
                          "description": "0…1023, an integer or a string of at most 10 decimal digits"},
            "proc_name": enum("spp_nfv", "spp_vf", "spp_mirror", "spp_pcap"),
            "eal": {**ref("LaunchOptions"),
                    "description": "EAL options; one of `-c`, `-l`, `--lcores` and `--proc-type` required",
                    "required": ["--proc-type"],
                    "anyOf": [{"required": ["-c"]}, {"required": ["-l"]}, {"required": ["--lcores"]}]},
            "app": ref("LaunchOptions")},
            example={"client_id": 5, "proc_name": "spp_nfv",
                     "eal": {"-l": "1,2", "--proc-type": "secondary", "-m": 512, "--no-pci": None},
                     "app": {"-s": "127.0.0.1:6666", "-n": 5, "--vhost-client": ""}}),
        "FlowRequest": obj(["rule"], {"rule": obj(["direction", "pattern", "actions"], {
            "group": FLOW_U32, "priority": FLOW_U32, "direction": enum("ingress", "egress"),
            "transfer": {"type": "boolean"},
            "pattern": {"type": "array", "items": {"type": "string", "pattern": PRINTABLE}},
            "actions": {"type": "array", "items": {"type": "string", "pattern": PRINTABLE}}},
            description="The command built from it must stay within 47 tokens")},
            example={"rule": {"group": 0, "priority": 0, "direction": "ingress", "transfer": True,
                              "pattern": ["eth dst is 11:22:33:44:55:66 type mask 0xffff"],
                              "actions": ["queue index 1"]}}),
        "FlowReply": obj(["result", "message"], {"result": enum("success", "error"), "message": TEXT,
                                                 "rule_id": TEXT},
                         example={"result": "success", "message": "Flow rule #0 created", "rule_id": "0"}),
        "ProcessEntry": obj(["type"], {"type": enum("primary", "nfv", "vf", "mirror", "pcap"),
                                       "client-id": {"type": "integer"}}),
        "CpuUsage": obj(["proc-type", "master-lcore", "lcores"], {
            "proc-type": enum("primary", "nfv", "vf", "mirror", "pcap"), "client-id": {"type": "integer"},
            "master-lcore": {"type": "integer"}, "lcores": INT_ARRAY}),
        "CpuSocket": obj(["socket_id", "cores"], {"socket_id": {"type": "integer"}, "cores": {
            "type": "array", "items": obj(["core_id", "lcores"], {"core_id": {"type": "integer"},
                                                               "lcores": INT_ARRAY})}}),
        "PrimaryStatus": obj(["lcores", "phy_ports", "ring_ports", "pipes"], {
            "master-lcore": {"type": "integer"}, "lcores": INT_ARRAY, "forwarder": {"type": "object"},
            "phy_ports": {"type": "array", "items": {"type": "object"}},
            "ring_ports": {"type": "array", "items": {"type": "object"}},
            "pipes": {"type": "array", "items": {"type": "object"}}}),
        "NfvStatus": obj(["client-id", "status", "ports", "patches"], {
            "client-id": {"type": "integer"}, "status": TEXT, "master-lcore": {"type": "integer"},
            "lcores": INT_ARRAY, "ports": {"type": "array", "items": TEXT},
            "patches": {"type": "array", "items": obj(["src", "dst"], {"src": TEXT, "dst": TEXT})}}),
        "VfStatus": obj(["client-id", "ports", "master-lcore", "components"], {
            "client-id": {"type": "integer"}, "ports": {"type": "array", "items": TEXT},
            "master-lcore": {"type": "integer"},
            "components": {"type": "array", "items": {"type": "object"}},
            "classifier_table": {"type": "array", "items": {"type": "object"},
                                 "description": "spp_vf only"}}),
        "PcapStatus": obj(["client-id", "status", "master-lcore", "core"], {
            "client-id": {"type": "integer"}, "status": enum("idle", "running"),
            "master-lcore": {"type": "integer"}, "core": {"type": "array", "items": {"type": "object"}}}),
        "AgentInfo": obj(["host", "version", "uptime_s", "processes"], {
            "host": TEXT, "version": TEXT, "uptime_s": {"type": "integer", "minimum": 0},
            "processes": {"type": "integer", "minimum": 0}}),
    }
    return document("spp-ctl agent API v1", ("The SPP controller's REST API (rest-api-v1.md). Errors are one line of "
                                "`text/plain`; JSON bodies are serialized as Python's `json.dumps`. Unknown "
                                "paths answer 404 `Not found: '<path>'`, other methods of a known path 405 "
                                "`Method not allowed.` with `Allow`. HEAD is accepted wherever GET is. "
                                "Authentication is off by default; with `[auth]` every `/v1` call needs a "
                                "bearer JWT."), "http://127.0.0.1:7777", paths, schemas)


# ---------------------------------------------------------------- gateway

def gateway():
    HOST = param("host", ref("HostName"))
    BAD_HOST = text_response(
        "Invalid host name",
        "invalid host name \"a b\": expected dot-separated labels of [A-Za-z0-9_-]{1,63}, at most 253 bytes")
    UNKNOWN = text_response("Unknown host", "unknown host compute-9")
    HOSTS_Q = param("hosts", TEXT, "query", "Comma-separated host names: only these hosts")
    IDEMPOTENCY_KEY = param("Idempotency-Key", {"type": "string", "pattern": "^[!-~]{1,128}$"}, "header",
                            "Run at most once per subject, key and host (or `cluster` for apply); "
                            "replicas do not share keys")
    REPLAYED = {"description": "`true` when this is the stored answer of an earlier request with the "
                               "same `Idempotency-Key`", "schema": enum("true")}
    IN_PROGRESS = text_response("The first request with this `Idempotency-Key` is still running",
                                "request with this Idempotency-Key is in progress")
    REUSED = text_response("The `Idempotency-Key` was used for a different method, path or body",
                           "Idempotency-Key reused with a different request")
    BAD_KEY = "invalid Idempotency-Key: expected 1 to 128 visible ASCII characters"

    def cluster_events():
        o = sse_op("Every reachable host's event stream, merged (Server-Sent Events)", "cluster",
                   "each agent's events with `\"host\"` added to the data object, `host-up`/`host-down` "
                   "(data `host`, `time`, `error` when down) from the health checks, and "
                   "`: keep-alive` comments every 15 s. The id is the last id seen per "
                   "host, hosts sorted: `compute-1=17,compute-2=9`.",
                   "A merged id (`compute-1=17,compute-2=9`): every host resumes after its id; unknown "
                   "hosts are ignored, hosts missing start with live events")
        o["description"] = ("Only the hosts the token's `hosts` claim allows. The gateway follows each agent "
                            "with its own connection, reconnecting with backoff and `Last-Event-ID`; an "
                            "agent that restarted (ids from 1 again) is recognised and read from the start "
                            "of its buffer.")
        return o

    def cluster_apply():
        o = op("Apply operations to many hosts: dry run, canary, parallel limit", "cluster", {
            "200": {**json_response("The plan ran (even if operations failed): per host the results of "
                                    "its operations in order, up to the first failure", ref("ApplyReport")),
                    "headers": {"Idempotent-Replayed": REPLAYED}},
            "400": text_response("Invalid plan (nothing ran)", "invalid plan: hosts: unknown host compute-9",
                                 "invalid plan: operations[0].method: \"GET\": expected PUT, POST or DELETE",
                                 BAD_KEY),
            "401": UNAUTHORIZED,
            "403": text_response("The token lacks write scope, or a named host, or allows none of the "
                                 "selected hosts", "insufficient scope: spp:write needed",
                                 "token does not allow host compute-2",
                                 "the token allows none of the selected hosts"),
            "409": IN_PROGRESS, "413": text_response("Body larger than the limit", "Request entity too large."),
            "422": REUSED}, "spp:write", [IDEMPOTENCY_KEY], body(ref("ApplyPlan")))
        o["description"] = ("Hosts are the names and globs of `hosts`: a name the token's `hosts` claim does "
                            "not allow is a 403, a glob reaches only the hosts it allows; hosts run in name "
                            "order. The first `canary` hosts run first; if any "
                            "fails, no other host is attempted. Then the rest, at most `max_parallel` "
                            "hosts at a time; with `halt_on_error` no host starts after a failure. A "
                            "host's operations run in order; the first with a status of 400 or more ends "
                            "its list. `dry_run` adds `dry_run=true` to every operation (the agents "
                            "validate and send nothing). Every operation is an audit event with the "
                            "token's subject; the caller's token goes to each agent.")
        return o

    def fanout(summary, key, item):
        return op(summary, "cluster", {
            "200": json_response("Results of the hosts that answered, then the failures",
                                 obj([key, "errors"], {
                                     key: {"type": "array", "items": item},
                                     "errors": {"type": "array", "items": ref("HostFailure")}})),
            "401": UNAUTHORIZED, "403": FORBIDDEN_READ}, "spp:read", [HOSTS_Q])

    def proxied(method, scope):
        forbidden = FORBIDDEN_READ if scope == "spp:read" else FORBIDDEN_WRITE
        passthrough = {"description": "The agent's answer, unchanged (see the agent API v1)",
                       "content": {"application/json": {"schema": {}}, "text/plain": {"schema": TEXT}}}
        if method == "GET":
            passthrough["description"] += ("; for `{rest}` = `events`, the agent's event stream as it comes "
                                           "(ids unchanged, no deadline once the head is in)")
            passthrough["content"]["text/event-stream"] = {"schema": TEXT}
        o = op(f"{method} /v1/{{rest}} on agent {{host}}", "proxy", {
            "200": passthrough,
            "204": {"description": "The agent's answer: done (no body)"},
            "400": text_response("Invalid host name, unreadable body, or the agent's 400",
                                 "invalid host name \"a b\": expected dot-separated labels of "
                                 "[A-Za-z0-9_-]{1,63}, at most 253 bytes", "key(port) required."),
            "401": UNAUTHORIZED, "403": forbidden,
            "404": text_response("Unknown host, or the agent's 404", "unknown host compute-9",
                                 "sec_id 3 not found.", "Not found: '/nothing'"),
            "405": text_response("The agent's 405", "Method not allowed."),
            "413": text_response("Body larger than the limit", "Request entity too large."),
            "500": text_response("The agent's 500", "Internal Server Error"),
            "502": text_response("The agent cannot be reached or answered badly (or the agent's 502)",
                                 "host compute-1: cannot connect: Connection refused (os error 111)"),
            "503": text_response("The host is down (fails fast), or the agent's 503",
                                 "host compute-1 is down: cannot connect: Connection refused (os error 111)",
                                 "primary is busy"),
            "504": text_response("The agent did not answer within the request deadline",
                                 "host compute-1: no answer within 15000 ms"),
        }, scope, [HOST, param("rest", TEXT, description=(
            "The agent path after `/v1/`; it may contain `/` (e.g. `nfvs/1/ports`), the query string "
            "is forwarded too"))], body({}) if method in ("PUT", "POST") else None)
        if "requestBody" in o:
            o["requestBody"]["required"] = False
        if scope == "spp:write":
            o["parameters"].append(IDEMPOTENCY_KEY)
            for code in ("200", "204"):
                o["responses"][code]["headers"] = {"Idempotent-Replayed": REPLAYED}
            o["responses"]["409"] = IN_PROGRESS
            o["responses"]["422"] = REUSED
            o["responses"]["400"]["content"]["text/plain"]["examples"]["e3"] = {"value": BAD_KEY}
        else:
            o["parameters"].append(param("Last-Event-ID", TEXT, "header",
                                         "Passed on to the agent (`events`: resume after this id)"))
        o["description"] = ("Forwarded to the agent as `/v1/{rest}` with the same method, query, body and "
                            "content type; any other method is forwarded the same way. GET/HEAD are "
                            "retried only when the request never reached the agent. A `wait_for` query "
                            "(`processes?wait_for=nfv:1&timeout=30s`) gets the wait's timeout and 5 s more "
                            "as its deadline; `dry_run=true` goes to the agent unchanged.")
        if scope == "spp:write":
            o["description"] += (" With `Idempotency-Key`, the request runs at most once per token subject, "
                                 "key and host within `idempotency.ttl` (10 min); a repeat gets the stored "
                                 "status, content type and body with `Idempotent-Replayed: true`. Keys are "
                                 "kept in this replica's memory only.")
        return o

    paths = {
        "/v1/hosts": {"get": op("Hosts the token may reach", "hosts", {
            "200": json_response("Inventory", {"type": "array", "items": ref("Host")}),
            "401": UNAUTHORIZED, "403": FORBIDDEN_READ}, "spp:read")},
        "/v1/hosts/{host}": {"get": op("One host", "hosts", {
            "200": json_response("The host's entry", ref("Host")), "400": BAD_HOST,
            "401": UNAUTHORIZED, "403": FORBIDDEN_READ, "404": UNKNOWN}, "spp:read", [HOST])},
        "/v1/hosts/{host}/{rest}": {
            "get": proxied("GET", "spp:read"), "put": proxied("PUT", "spp:write"),
            "post": proxied("POST", "spp:write"), "delete": proxied("DELETE", "spp:write")},
        "/v1/cluster/processes": {"get": fanout("`/v1/processes` of every (or the chosen) host",
                                                "processes", ref("HostProcess"))},
        "/v1/cluster/cpu_usage": {"get": fanout("`/v1/cpu_usage` of every (or the chosen) host",
                                                "cpu_usage", ref("HostCpuUsage"))},
        "/v1/cluster/events": {"get": cluster_events()},
        "/v1/cluster/apply": {"post": cluster_apply()},
    }
    paths.update(probes("health"))
    schemas = {
        "HostName": {"type": "string", "maxLength": 253,
                     "pattern": "^[A-Za-z0-9_-]{1,63}(\\.[A-Za-z0-9_-]{1,63})*$", "examples": ["compute-1"]},
        "Host": obj(["host", "url", "state", "last_check", "latency_ms", "error", "processes"], {
            "host": TEXT, "url": TEXT, "state": enum("up", "down", "unknown"),
            "last_check": {"type": ["string", "null"], "description": "RFC 3339"},
            "latency_ms": {"type": ["integer", "null"], "minimum": 0},
            "error": {"type": ["string", "null"]},
            "processes": {"type": ["integer", "null"], "minimum": 0}}),
        "HostFailure": obj(["host", "error"], {"host": TEXT, "error": TEXT}),
        "ApplyPlan": obj(["hosts", "operations"], {
            "hosts": {"type": "array", "minItems": 1, "description": "Host names and globs (`*`, `?`)",
                      "items": {"type": "string", "pattern": "^[A-Za-z0-9._*?-]{1,253}$"}},
            "operations": {"type": "array", "minItems": 1, "maxItems": 64, "items": obj(["method", "path"], {
                "method": enum("PUT", "POST", "DELETE"),
                "path": {"type": "string", "pattern": "^/v1/", "description": "Agent path, query allowed"},
                "body": {"description": "JSON sent as the request body; none when absent"}},
                additionalProperties=False)},
            "dry_run": {"type": "boolean", "default": False},
            "canary": {"type": "integer", "minimum": 0, "default": 0},
            "max_parallel": {"type": "integer", "minimum": 1, "maximum": 256, "default": 1},
            "halt_on_error": {"type": "boolean", "default": True}}, additionalProperties=False,
            example={"hosts": ["compute-*"], "operations": [
                {"method": "PUT", "path": "/v1/nfvs/1/patches", "body": {"src": "ring:0", "dst": "vhost:1"}},
                {"method": "PUT", "path": "/v1/nfvs/1/forward", "body": {"action": "start"}}],
                "dry_run": False, "canary": 1, "max_parallel": 4, "halt_on_error": True}),
        "ApplyReport": obj(["dry_run", "succeeded", "failed", "hosts", "not_attempted"], {
            "dry_run": {"type": "boolean"},
            "succeeded": {"type": "array", "items": TEXT},
            "failed": {"type": "array", "items": TEXT},
            "hosts": {"type": "object", "additionalProperties": obj(["phase", "operations"], {
                "phase": enum("canary", "rollout"),
                "operations": {"type": "array", "items": obj(["method", "path", "status", "body"], {
                    "method": TEXT, "path": TEXT, "status": {"type": "integer"},
                    "body": {"description": "The agent's JSON, its text, or null when empty"}})}})},
            "not_attempted": {"type": "object", "additionalProperties": TEXT,
                              "description": "Host → why (`canary failed: compute-1`, "
                                             "`halted: compute-2 failed`)"}}),
        "HostProcess": obj(["host", "type"], {"host": TEXT, "type": TEXT, "client-id": {"type": "integer"}}),
        "HostCpuUsage": obj(["host", "proc-type"], {"host": TEXT, "proc-type": TEXT,
                                                    "client-id": {"type": "integer"},
                                                    "master-lcore": {"type": "integer"},
                                                    "lcores": INT_ARRAY}),
    }
    doc = document("spp-ctl gateway API", ("Fronts many agents (gateway.md): inventory, a proxy to each agent's API v1 "
                                "under `/v1/hosts/{host}/`, cluster-wide views. Every `/v1` call needs a "
                                "bearer JWT unless `auth.mode = \"none\"`. Other `/v1` paths answer 404 with "
                                "the route list. Errors are one line of `text/plain`."),
                   "https://127.0.0.1:8443", paths, schemas)
    doc["security"] = [{"bearerJWT": []}]
    return doc


if __name__ == "__main__":
    write("agent.json", agent())
    write("gateway.json", gateway())
