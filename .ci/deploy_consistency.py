"""Cross-file checks of deploy/ that no schema validator makes: the kustomization lists
every manifest, Prometheus' pod discovery selects exactly the pods that opt in, and probe
ports and shutdown timings agree with the configurations they depend on.
Usage: python3 .ci/deploy_consistency.py   (from the repository root; prints each failure)
"""

import pathlib
import re
import sys
import tomllib

import yaml

K8S = pathlib.Path("deploy/kubernetes")
PROM = pathlib.Path("deploy/prometheus/prometheus-kubernetes.yml")
failures = []


def check(ok, message):
    if not ok:
        failures.append(message)


def seconds(raw):
    """A humantime duration as used in gateway.toml ("5s", "500ms", "1m")."""
    units = {"ms": 0.001, "s": 1, "m": 60}
    match = re.fullmatch(r"(\d+)(ms|s|m)", raw)
    check(match is not None, f"duration {raw!r}: expected e.g. 5s, 500ms, 1m")
    return int(match[1]) * units[match[2]] if match else 0


def load_manifests():
    docs = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            for doc in yaml.safe_load_all(path.read_text()):
                docs[(doc["kind"], doc["metadata"]["name"])] = (path.name, doc)
    return docs


def check_kustomization(docs):
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {name for name, _ in docs.values()}
    check(listed == present, f"kustomization resources {sorted(listed)} != files {sorted(present)}")


def sanitize(name):
    """Prometheus' label name for an annotation: __meta_kubernetes_pod_annotation_<this>."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def kept_by(job, namespace, annotations):
    sd = job["kubernetes_sd_configs"][0]
    if namespace not in sd.get("namespaces", {}).get("names", [namespace]):
        return False
    values = {f"__meta_kubernetes_pod_annotation_{sanitize(k)}": v for k, v in annotations.items()}
    for rule in job["relabel_configs"]:
        if rule.get("action") == "keep":
            value = ";".join(values.get(label, "") for label in rule["source_labels"])
            if not re.fullmatch(rule["regex"], value):
                return False
    return True


def container_ports(pod):
    return {p["name"]: p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])}


def check_secret_access(docs):
    """A non-root pod reads its 0440 Secret files only through fsGroup."""
    for kind, name in [("DaemonSet", "spp-agent"), ("Deployment", "spp-gateway")]:
        pod = docs[(kind, name)][1]["spec"]["template"]["spec"]
        context = pod.get("securityContext", {})
        for volume in pod.get("volumes", []):
            mode = volume.get("secret", {}).get("defaultMode", 0o644)
            if "secret" in volume and not mode & 0o004:
                group = context.get("runAsGroup")
                check(group is not None and context.get("fsGroup") == group,
                      f"{kind} {name}: Secret {volume['name']} (mode {mode:o}) unreadable without fsGroup")


def check_scraping(docs):
    jobs = yaml.safe_load(PROM.read_text())["scrape_configs"]
    for kind, name in [("DaemonSet", "spp-agent"), ("Deployment", "spp-gateway")]:
        _, doc = docs[(kind, name)]
        template = doc["spec"]["template"]
        annotations = template["metadata"].get("annotations", {})
        keeping = [j["job_name"] for j in jobs if kept_by(j, doc["metadata"]["namespace"], annotations)]
        check(keeping == [name], f"{kind} {name}: scraped by jobs {keeping}, expected [{name!r}]")
        ports = container_ports(template["spec"])
        port = annotations.get("prometheus.io/port", "")
        check(port.isdigit() and int(port) == ports.get("metrics"),
              f"{kind} {name}: prometheus.io/port {port!r} is not its metrics port {ports.get('metrics')}")
        for probe in ("livenessProbe", "readinessProbe"):
            target = template["spec"]["containers"][0][probe]["httpGet"]["port"]
            check(target == "metrics", f"{kind} {name}: {probe} goes to {target!r}, not the metrics listener")


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def check_agent(docs):
    _, doc = docs[("DaemonSet", "spp-agent")]
    pod = doc["spec"]["template"]["spec"]
    env = env_of(pod["containers"][0])
    metrics = env.get("SPP_CTL_METRICS_ADDR", "")
    check(metrics.endswith(f":{container_ports(pod)['metrics']}"),
          f"agent SPP_CTL_METRICS_ADDR {metrics!r} does not use the metrics containerPort")
    check(pod.get("hostNetwork") is True, "agent: hostNetwork must be true (SPP dials the node)")
    _, service = docs[("Service", "spp-agent")]
    check(service["spec"].get("clusterIP") == "None", "spp-agent Service must be headless")
    return service


def check_gateway(docs, agent_service):
    _, config_map = docs[("ConfigMap", "spp-gateway")]
    config = tomllib.loads(config_map["data"]["gateway.toml"])
    _, doc = docs[("Deployment", "spp-gateway")]
    pod = doc["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ports = container_ports(pod)
    check(config["metrics"]["listen"].endswith(f":{ports['metrics']}"), "gateway metrics.listen != metrics port")
    check(config["listen"].endswith(f":{ports['https']}"), "gateway listen != https containerPort")
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    needed = pre_stop + seconds(config["limits"]["drain"]) + seconds(config["limits"]["grace"])
    grace = pod["terminationGracePeriodSeconds"]
    check(grace > needed, f"gateway terminationGracePeriodSeconds {grace} <= preStop + drain + grace = {needed}")
    check(doc["spec"]["replicas"] >= 2, "gateway: fewer than 2 replicas")
    meta = agent_service["metadata"]
    dns = f"{meta['name']}.{meta['namespace']}.svc.cluster.local"
    check(config["discovery"]["dns"] == dns, f"gateway discovery.dns {config['discovery']['dns']!r} != {dns!r}")
    check(config["discovery"]["port"] == agent_service["spec"]["ports"][0]["port"],
          "gateway discovery.port != the agent Service's port")


def main():
    docs = load_manifests()
    check_kustomization(docs)
    check_scraping(docs)
    check_secret_access(docs)
    check_gateway(docs, check_agent(docs))
    for failure in failures:
        print(f"deploy consistency: {failure}")
    print(f"deploy consistency: {'FAILED' if failures else 'ok'} ({len(docs)} manifests)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
