#!/usr/bin/env bash
# Starts the binary the way the shipped files configure it and checks that it serves:
# the minimal unit's command (no flags), the agent with deploy/systemd/agent.env, the
# gateway with deploy/systemd/gateway.toml and with the Kubernetes ConfigMap's. Run by
# deploy-checks.sh inside `unshare --net`: the fixed ports are this namespace's own and
# nothing leaves it. Usage: unshare --net bash .ci/deploy-run-checks.sh BINARY
set -euo pipefail
bin=$1
ip link set lo up
work=$(mktemp -d)
pid=
cleanup() { [[ -z $pid ]] || kill -KILL "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Polls URL until it answers 200 (curl args after it), for at most 10 s.
wait_ok() {
  local url=$1; shift
  for _ in $(seq 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$@" "$url") == 200 ]] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "exited before $url answered"; return 1; }
    sleep 0.1
  done
  echo "$url: no 200 within 10 s"; return 1
}

# SIGTERM must end the process with status 0 within its drain and grace periods.
stop() {
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  pid=
  [[ $status == 0 ]] || { echo "exit status $status after SIGTERM"; return 1; }
}

# The agent's plain metrics listener (and the gateway's /healthz on its metrics listener)
# come with --metrics-addr; until the binary has it, the API listener stands in.
metrics=no
"$bin" agent --help | grep -q -- --metrics-addr && metrics=yes

echo "-- minimal unit: $(sed -n 's/^ExecStart=//p' deploy/systemd/spp-ctl.service) (no flags)"
"$bin" >"$work/minimal.log" 2>&1 & pid=$!
wait_ok http://127.0.0.1:7777/v1/processes || { cat "$work/minimal.log"; exit 1; }
stop

echo "-- agent with deploy/systemd/agent.env"
(set -a; . deploy/systemd/agent.env; exec "$bin" agent) >"$work/agent.log" 2>&1 & pid=$!
wait_ok http://127.0.0.1:7777/healthz || { cat "$work/agent.log"; exit 1; }
if [[ $metrics == yes ]]; then
  for path in healthz readyz metrics; do
    wait_ok "http://127.0.0.1:9478/$path" || { cat "$work/agent.log"; exit 1; }
  done
fi
stop

certs/make-dev-certs.sh "$work/certs" >/dev/null
python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["gateway.toml"])' \
  deploy/kubernetes/gateway-configmap.yaml >"$work/k8s-gateway.toml"
# The files' paths are /etc/spp-ctl/...; here the same files come from make-dev-certs.sh.
files=(--set "tls.cert=\"$work/certs/gateway.pem\"" --set "tls.key=\"$work/certs/gateway.key\""
  --set "upstream_tls.ca=\"$work/certs/ca.pem\""
  --set "upstream_tls.client_cert=\"$work/certs/gateway-client.pem\""
  --set "upstream_tls.client_key=\"$work/certs/gateway-client.key\""
  --set "auth.keys=[{kid = \"spp-1\", alg = \"ES256\", public_key_file = \"$work/certs/jwt.pub\"}]")
for config in deploy/systemd/gateway.toml "$work/k8s-gateway.toml"; do
  echo "-- gateway with $config"
  "$bin" gateway --config "$config" "${files[@]}" >"$work/gateway.log" 2>&1 & pid=$!
  wait_ok https://127.0.0.1:8443/healthz --cacert "$work/certs/ca.pem" || { cat "$work/gateway.log"; exit 1; }
  wait_ok http://127.0.0.1:9477/metrics || { cat "$work/gateway.log"; exit 1; }
  if [[ $metrics == yes ]]; then
    for path in healthz readyz; do
      wait_ok "http://127.0.0.1:9477/$path" || { cat "$work/gateway.log"; exit 1; }
    done
  fi
  stop
done
echo "shipped configurations ok (metrics listener checks: $metrics)"
