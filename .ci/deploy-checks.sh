#!/usr/bin/env bash
# Checks deploy/: systemd units (verify; security exposure at most 3.0 for the gateway,
# 4.0 for the agent; run under a booted systemd by deploy-boot-test.sh), Kubernetes
# manifests (kubernetes-validate --strict against Kubernetes $K8S_VERSION, and
# deploy_consistency.py), Prometheus scrape configs (promtool), and that agent.env, both
# gateway.toml files and the minimal unit's command start the real binary.
# As root, from the repository: bash .ci/deploy-checks.sh [BINARY]
# (default: target/debug/spp-ctl, built first). Installs what it needs; exits non-zero
# on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=1.30.0
KUBERNETES_VALIDATE=kubernetes-validate==1.37.0
declare -A MAX_EXPOSURE=([spp-ctl-gateway.service]=3.0 [spp-ctl-agent.service]=4.0)

need=()
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v promtool >/dev/null || need+=(prometheus)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
command -v ip >/dev/null || need+=(iproute2)
[[ -x /bin/kill ]] || need+=(procps)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
python3 -m pip show -q kubernetes-validate >/dev/null 2>&1 || python3 -m pip install --quiet "$KUBERNETES_VALIDATE"
if [[ -z ${1:-} ]]; then cargo build --quiet --locked --bin spp-ctl; fi
bin=$(realpath "${1:-target/debug/spp-ctl}")

failed=0
fail() { echo "FAIL: $*"; failed=1; }

echo "== systemd-analyze verify"
# verify wants each ExecStart binary at its path: a private mount namespace puts the built
# binary at /usr/local/bin/spp-ctl without touching the host. verify exits 0 on unknown
# keys and bad values, so any output counts as a failure.
for unit in deploy/systemd/*.service; do
  out=$(unshare --mount sh -c 'mount -t tmpfs tmpfs /usr/local/bin && ln -s "$1" /usr/local/bin/spp-ctl &&
        systemd-analyze verify "$2"' sh "$bin" "$unit" 2>&1) && [[ -z $out ]] &&
    echo "$unit verified" || fail "$unit: systemd-analyze verify: $out"
done

echo "== systemd-analyze security --offline=true"
for unit in "${!MAX_EXPOSURE[@]}"; do
  max=${MAX_EXPOSURE[$unit]}
  line=$(systemd-analyze security --offline=true "deploy/systemd/$unit" 2>&1 | grep 'Overall exposure level') || true
  score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
  echo "$unit: exposure ${score:-?} (at most $max)"
  systemd-analyze security --offline=true --threshold="${max/./}" "deploy/systemd/$unit" >/dev/null 2>&1 ||
    fail "$unit: exposure ${score:-unknown} above $max"
done

echo "== kubernetes-validate --strict (Kubernetes $K8S_VERSION)"
manifests=$(ls deploy/kubernetes/*.yaml | grep -v /kustomization.yaml)
# shellcheck disable=SC2086
python3 -m kubernetes_validate --strict --quiet -k "$K8S_VERSION" $manifests || fail "kubernetes-validate"
echo "$(wc -w <<<"$manifests") manifests validated"
python3 .ci/deploy_consistency.py || fail "deploy consistency"
if command -v kubectl >/dev/null; then
  # kubectl is not on every machine; where it is, the kustomization must render too.
  rendered=$(mktemp --suffix=.yaml)
  kubectl kustomize deploy/kubernetes >"$rendered" && python3 -m kubernetes_validate --strict --quiet -k "$K8S_VERSION" "$rendered" ||
    fail "kubectl kustomize deploy/kubernetes"
  rm -f "$rendered"
fi

echo "== promtool check config"
# Debian builds Prometheus without Kubernetes service discovery, and its promtool rejects
# kubernetes_sd_configs. Then the file is checked with those blocks replaced by a static
# target (all else, relabelling included, as written), and the blocks are checked apart.
without_kubernetes_sd() {
  python3 - "$1" "$2" <<'END'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
for job in config["scrape_configs"]:
    for sd in job.pop("kubernetes_sd_configs", []):
        assert set(sd) <= {"role", "namespaces"} and sd["role"] == "pod", f"{job['job_name']}: {sd}"
        assert sd["namespaces"]["names"] == ["spp-system"], f"{job['job_name']}: {sd}"
        job["static_configs"] = [{"targets": ["pod.invalid:9"]}]
yaml.safe_dump(config, open(sys.argv[2], "w"))
END
}
for config in deploy/prometheus/prometheus*.yml; do
  if out=$(promtool check config "$config" 2>&1); then
    echo "$config checked"
  elif grep -q 'field kubernetes_sd_configs not found' <<<"$out"; then
    copy=$(mktemp -d)
    cp deploy/prometheus/alerts.yml "$copy/"
    { without_kubernetes_sd "$config" "$copy/${config##*/}" &&
      promtool check config "$copy/${config##*/}" >/dev/null; } ||
      fail "promtool check config $config (kubernetes_sd_configs as static targets)"
    rm -rf "$copy"
    echo "$config checked (promtool without Kubernetes discovery: those blocks checked apart)"
  else
    fail "promtool check config $config: $out"
  fi
done

echo "== the shipped configurations start the binary (private network namespace)"
unshare --net bash .ci/deploy-run-checks.sh "$bin" || fail "the shipped configurations"

echo "== the units under systemd (booted in a container)"
bash .ci/deploy-boot-test.sh "$bin" || fail "the units under systemd"

if ((failed)); then echo "deploy checks: FAILED"; exit 1; fi
echo "deploy checks: ok"
