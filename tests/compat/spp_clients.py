"""Replays the request sequences of the real spp-ctl clients against an agent.

Two clients are imitated the way their code talks to spp-ctl:
- the SPP CLI (src/cli/spp_ctl_client.py): requests.get/put/post/delete with
  `data=json.dumps(params)` and Content-Type application/json, string client ids and
  VLANs, `"vlan": {}` for "no tag", `phy:0nq1` style UIDs;
- networking-spp's agent (networking_spp/agent/spp_api.py): requests.request(method,
  url, json=body), treating any status >= 400 as an error whose message is the body text.

The agent under test has a simulated primary, nfv 1, vf 2, mirror 3 and pcap 4 attached.
Usage: python3 spp_clients.py BASE_URL     (e.g. http://127.0.0.1:7777)
Prints one line per failed step and a closing "N passed, N failed" line.
"""

import json
import sys
import time

import requests

BASE = sys.argv[1].rstrip("/") + "/v1"
results = {"passed": 0, "failed": 0}


def check(name, response, status, body=None, body_check=None):
    problems = []
    if response.status_code != status:
        problems.append("status %d, expected %d" % (response.status_code, status))
    if body is not None and response.text != body:
        problems.append("body %r, expected %r" % (response.text, body))
    if body_check is not None:
        try:
            body_check(response)
        except AssertionError as e:
            problems.append("check failed: %s (body %r)" % (e, response.text))
    if problems:
        results["failed"] += 1
        print("FAIL %s: %s" % (name, "; ".join(problems)))
    else:
        results["passed"] += 1


class SppCli:
    """What src/cli/spp_ctl_client.py sends."""

    headers = {"Content-Type": "application/json"}

    def get(self, req):
        return requests.get("%s/%s" % (BASE, req))

    def put(self, req, params):
        return requests.put("%s/%s" % (BASE, req), data=json.dumps(params), headers=self.headers)

    def post(self, req, params):
        return requests.post("%s/%s" % (BASE, req), data=json.dumps(params), headers=self.headers)

    def delete(self, req):
        return requests.delete("%s/%s" % (BASE, req))


class SppVfApi:
    """What networking_spp/agent/spp_api.py sends."""

    def _exec(self, method, path, body=None):
        kwargs = {"json": body} if body else {}
        return requests.request(method, BASE + "/" + path, **kwargs)

    def get_status(self, proc_type, sec_id):
        return self._exec("GET", "%ss/%d" % (proc_type, sec_id))

    def component_start(self, sec_id, name, core, comp_type):
        return self._exec("POST", "vfs/%d/components" % sec_id, {"name": name, "core": core, "type": comp_type})

    def component_stop(self, sec_id, name):
        return self._exec("DELETE", "vfs/%d/components/%s" % (sec_id, name))

    def port_add(self, sec_id, port, direction, name, op="none", vlan_id=0):
        body = {"action": "attach", "port": port, "dir": direction}
        if op == "add":
            body["vlan"] = {"operation": "add", "id": vlan_id, "pcp": 0}
        elif op == "del":
            body["vlan"] = {"operation": "del"}
        return self._exec("PUT", "vfs/%d/components/%s/ports" % (sec_id, name), body)

    def port_del(self, sec_id, port, direction, name):
        body = {"action": "detach", "port": port, "dir": direction}
        return self._exec("PUT", "vfs/%d/components/%s/ports" % (sec_id, name), body)

    def set_classifier_table(self, sec_id, mac, port):
        body = {"action": "add", "type": "mac", "mac_address": mac, "port": port}
        return self._exec("PUT", "vfs/%d/classifier_table" % sec_id, body)

    def set_classifier_table_with_vlan(self, sec_id, mac, port, vlan_id):
        body = {"action": "add", "type": "vlan", "vlan": vlan_id, "mac_address": mac, "port": port}
        return self._exec("PUT", "vfs/%d/classifier_table" % sec_id, body)

    def clear_classifier_table_with_vlan(self, sec_id, mac, port, vlan_id):
        body = {"action": "del", "type": "vlan", "vlan": vlan_id, "mac_address": mac, "port": port}
        return self._exec("PUT", "vfs/%d/classifier_table" % sec_id, body)


def json_keys(*keys):
    def check_keys(response):
        assert response.headers.get("Content-Type") == "application/json", response.headers
        assert list(response.json().keys()) == list(keys), list(response.json().keys())
    return check_keys


def spp_cli_session():
    cli = SppCli()
    check("cli: status", cli.get("processes"), 200,
          '[{"type": "primary"}, {"type": "nfv", "client-id": 1}, {"type": "vf", "client-id": 2}, '
          '{"type": "mirror", "client-id": 3}, {"type": "pcap", "client-id": 4}]')
    check("cli: pri; status", cli.get("primary/status"), 200,
          body_check=json_keys("master-lcore", "lcores", "forwarder", "phy_ports", "ring_ports", "pipes"))
    check("cli: pri; add ring:0", cli.put("primary/ports", {"action": "add", "port": "ring:0"}), 204, "")
    check("cli: pri; patch", cli.put("primary/patches", {"src": "phy:0", "dst": "ring:0"}), 204, "")
    check("cli: pri; forward", cli.put("primary/forward", {"action": "start"}), 204, "")
    check("cli: pri; stop", cli.put("primary/forward", {"action": "stop"}), 204, "")
    check("cli: pri; patch reset", cli.delete("primary/patches"), 204, "")
    check("cli: pri; clear", cli.delete("primary/status"), 204, "")
    check("cli: pri; del ring:9 (failed)", cli.put("primary/ports", {"action": "del", "port": "ring:9"}), 400,
          "command error: del ring:9 failed")
    rule = {"rule": {"group": 0, "priority": 0, "direction": "ingress", "transfer": True,
                     "pattern": ["eth dst is 11:22:33:44:55:66 type mask 0xffff", "vlan vid is 100"],
                     "actions": ["queue index 1", "of_pop_vlan"]}}
    check("cli: pri; flow validate", cli.post("primary/flow_rules/port_id/0/validate", rule), 200,
          '{"result": "success", "message": "Flow rule validated"}')
    check("cli: pri; flow create", cli.post("primary/flow_rules/port_id/0", rule), 200,
          '{"result": "success", "message": "Flow rule #0 created", "rule_id": "0"}')

    def flow_listed(response):
        flows = response.json()["phy_ports"][0]["flow"]
        assert [f["rule_id"] for f in flows] == [0], flows
        assert flows[0]["attr"] == {"group": 0, "priority": 0, "ingress": 1, "egress": 0, "transfer": 1}
    check("cli: pri; flow list", cli.get("primary/status"), 200, body_check=flow_listed)
    check("cli: pri; flow destroy 0", cli.delete("primary/flow_rules/0/port_id/0"), 200,
          '{"result": "success", "message": "Flow rule #0 destroyed"}')
    check("cli: pri; flow destroy ALL", cli.delete("primary/flow_rules/port_id/0"), 200,
          '{"result": "success", "message": "Flow rule all destroyed"}')
    launch = {"client_id": "6", "proc_name": "spp_nfv",
              "eal": {"-l": "1,2", "--proc-type": "secondary", "-m": "512", "--no-pci": None},
              "app": {"-s": "127.0.0.1:6666", "-n": "6", "--vhost-client": None}}
    check("cli: pri; launch nfv 6", cli.put("primary/launch", launch), 204, "")

    check("cli: nfv 1; add ring:1", cli.put("nfvs/1/ports", {"action": "add", "port": "ring:1"}), 204, "")
    check("cli: nfv 1; patch", cli.put("nfvs/1/patches", {"src": "phy:0", "dst": "ring:1"}), 204, "")
    check("cli: nfv 1; forward", cli.put("nfvs/1/forward", {"action": "start"}), 204, "")
    check("cli: nfv 1; status", cli.get("nfvs/1"), 200,
          '{"client-id": 1, "status": "running", "master-lcore": 1, "lcores": [1, 2], '
          '"ports": ["phy:0", "phy:1", "ring:1"], "patches": [{"src": "phy:0", "dst": "ring:1"}]}')
    check("cli: nfv 1; stop", cli.put("nfvs/1/forward", {"action": "stop"}), 204, "")
    check("cli: nfv 1; patch reset", cli.delete("nfvs/1/patches"), 204, "")
    check("cli: nfv 1; del ring:1", cli.put("nfvs/1/ports", {"action": "del", "port": "ring:1"}), 204, "")

    check("cli: vf 2; component start", cli.post("vfs/2/components", {"name": "fwd0_tx", "core": 2, "type": "forward"}),
          204, "")
    check("cli: vf 2; port add rx", cli.put("vfs/2/components/fwd0_tx/ports",
                                              {"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {}}), 204, "")
    check("cli: vf 2; port add tx tagged", cli.put(
        "vfs/2/components/fwd0_tx/ports",
        {"action": "attach", "port": "vhost:0", "dir": "tx", "vlan": {"operation": "add", "id": 101, "pcp": 3}}), 204, "")
    check("cli: vf 2; classifier add vlan (string)", cli.put(
        "vfs/2/classifier_table",
        {"action": "add", "type": "vlan", "vlan": "101", "mac_address": "FA:16:3E:7D:CC:36", "port": "ring:0"}), 204, "")
    check("cli: vf 2; status", cli.get("vfs/2"), 200,
          '{"client-id": 2, "ports": ["phy:0", "phy:1", "vhost:0", "ring:0"], "master-lcore": 1, "components": ['
          '{"core": 2, "name": "fwd0_tx", "type": "forward", "rx_port": [{"port": "ring:0", "vlan": '
          '{"operation": "none", "id": 0, "pcp": 0}}], "tx_port": [{"port": "vhost:0", "vlan": '
          '{"operation": "add", "id": 101, "pcp": 3}}]}, {"core": 3, "type": "unuse"}, {"core": 4, "type": "unuse"}, '
          '{"core": 5, "type": "unuse"}], "classifier_table": [{"type": "vlan", "value": "101/FA:16:3E:7D:CC:36", '
          '"port": "ring:0"}]}')
    check("cli: vf 2; duplicate component", cli.post("vfs/2/components", {"name": "fwd0_tx", "core": 3, "type": "merge"}),
          400, "command error: Invalid value (component name)")
    check("cli: vf 2; classifier del vlan", cli.put(
        "vfs/2/classifier_table",
        {"action": "del", "type": "vlan", "vlan": "101", "mac_address": "FA:16:3E:7D:CC:36", "port": "ring:0"}), 204, "")
    check("cli: vf 2; component stop", cli.delete("vfs/2/components/fwd0_tx"), 204, "")

    check("cli: mirror 3; component start", cli.post("mirrors/3/components", {"name": "mr0", "core": 2, "type": "mirror"}),
          204, "")
    for port, direction in [("ring:0", "rx"), ("ring:1", "tx"), ("ring:2", "tx")]:
        check("cli: mirror 3; port add %s %s" % (port, direction), cli.put(
            "mirrors/3/components/mr0/ports", {"action": "attach", "port": port, "dir": direction, "vlan": {}}), 204, "")
    check("cli: mirror 3; status", cli.get("mirrors/3"), 200,
          '{"client-id": 3, "ports": ["phy:0", "phy:1", "ring:0", "ring:1", "ring:2"], "master-lcore": 1, "components": ['
          '{"core": 2, "name": "mr0", "type": "mirror", "rx_port": [{"port": "ring:0", "vlan": {"operation": "none", '
          '"id": 0, "pcp": 0}}], "tx_port": [{"port": "ring:1", "vlan": {"operation": "none", "id": 0, "pcp": 0}}, '
          '{"port": "ring:2", "vlan": {"operation": "none", "id": 0, "pcp": 0}}]}, {"core": 3, "type": "unuse"}, '
          '{"core": 4, "type": "unuse"}, {"core": 5, "type": "unuse"}]}')

    check("cli: pcap 4; start", cli.put("pcaps/4/capture", {"action": "start"}), 204, "")
    deadline = time.time() + 5
    while cli.get("pcaps/4").json()["status"] != "running" and time.time() < deadline:
        time.sleep(0.02)

    def capturing(response):
        info = response.json()
        assert info["status"] == "running", info
        assert info["core"][0] == {"core": 2, "role": "receive", "rx_port": [{"port": "phy:0"}]}, info
        assert info["core"][1]["filename"].endswith(".phy0.1.1.pcap.lz4"), info
    check("cli: pcap 4; status", cli.get("pcaps/4"), 200, body_check=capturing)
    check("cli: pcap 4; stop", cli.put("pcaps/4/capture", {"action": "stop"}), 204, "")

    def usage(response):
        entries = response.json()
        assert [e["proc-type"] for e in entries] == ["primary", "nfv", "vf", "mirror", "pcap"], entries
        assert entries[0] == {"proc-type": "primary", "master-lcore": 0, "lcores": [0, 1]}, entries[0]
    check("cli: cpu_usage", cli.get("cpu_usage"), 200, body_check=usage)
    check("cli: cpu_layout", cli.get("cpu_layout"), 200,
          body_check=lambda r: [list(s.keys()) for s in r.json()] and None)


def networking_spp_session():
    api = SppVfApi()
    check("n-spp: get vf", api.get_status("vf", 2), 200,
          body_check=json_keys("client-id", "ports", "master-lcore", "components", "classifier_table"))
    check("n-spp: get mirror", api.get_status("mirror", 3), 200,
          body_check=json_keys("client-id", "ports", "master-lcore", "components"))
    check("n-spp: start classifier", api.component_start(2, "cls", 3, "classifier"), 204, "")
    check("n-spp: start forwarder", api.component_start(2, "forward_1_tx", 4, "forward"), 204, "")
    check("n-spp: legacy classifier_mac", api.component_start(2, "cls2", 5, "classifier_mac"), 400,
          "invalid key(type): classifier_mac.")
    check("n-spp: attach rx", api.port_add(2, "phy:0", "rx", "cls"), 204, "")
    check("n-spp: attach tx", api.port_add(2, "ring:4", "tx", "cls"), 204, "")
    check("n-spp: attach tagged", api.port_add(2, "ring:4", "rx", "forward_1_tx", "add", 677), 204, "")
    check("n-spp: attach untag", api.port_add(2, "vhost:1", "tx", "forward_1_tx", "del"), 204, "")
    check("n-spp: mac entry", api.set_classifier_table(2, "fa:16:3e:7d:cc:35", "ring:4"), 204, "")
    check("n-spp: mac entry again", api.set_classifier_table(2, "fa:16:3e:7d:cc:35", "ring:4"), 400,
          "command error: Invalid value (port)")

    def components(response):
        status = response.json()
        used = [c for c in status["components"] if c["type"] != "unuse"]
        assert [(c["name"], [p["port"] for p in c["rx_port"]], [p["port"] for p in c["tx_port"]]) for c in used] == [
            ("cls", ["phy:0"], ["ring:4"]), ("forward_1_tx", ["ring:4"], ["vhost:1"])], used
        assert status["classifier_table"] == [{"type": "mac", "value": "FA:16:3E:7D:CC:35", "port": "ring:4"}], status
    check("n-spp: read back", api.get_status("vf", 2), 200, body_check=components)
    check("n-spp: detach", api.port_del(2, "ring:4", "rx", "forward_1_tx"), 204, "")
    check("n-spp: stop", api.component_stop(2, "forward_1_tx"), 204, "")
    check("n-spp: stop unknown", api.component_stop(2, "forward_1_tx"), 204, "")
    check("n-spp: bad vlan id", api.port_add(2, "ring:5", "tx", "cls", "add", 4096), 400,
          'invalid key(vlan): {"operation":"add","id":4096,"pcp":0}.')
    check("n-spp: unknown vf", api.get_status("vf", 9), 404, "sec_id 9 not found.")


spp_cli_session()
networking_spp_session()
print("%d passed, %d failed" % (results["passed"], results["failed"]))
sys.exit(1 if results["failed"] else 0)
