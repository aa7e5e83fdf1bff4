#!/usr/bin/env bash
# Schema-driven fuzzing (issue 11): schemathesis runs every operation of docs/openapi/agent.json
# against a real agent with simulated processes and against one whose processes answer garbage
# or nothing, and every operation of gateway.json against a real gateway (TLS with certificates
# made here, JWT with a token minted here) in front of those agents and a host that is down.
# Checks: no server error, status codes, content types, headers and bodies as documented.
# Zero failures, or this script fails. Only streaming operations are left out (see
# schemathesis_runs.py); the exit operations run last.
# From the repository: bash .ci/schemathesis.sh [BINARY] (default target/debug/spp-ctl, built
# first). Needs schemathesis (pip), openssl, curl. ST_MAX_EXAMPLES, ST_FAULT_EXAMPLES, ST_SEED
# and ST_CHECKS override the settings below.
set -euo pipefail
cd "$(dirname "$0")/.."

# Cases per operation and phase (fewer where processes time out): the whole script takes
# two to three minutes on 2 cores.
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-25}
FAULT_EXAMPLES=${ST_FAULT_EXAMPLES:-10}
# A fixed seed keeps CI reproducible; set ST_SEED to explore other inputs.
SEED=${ST_SEED:-20261203}

if [[ -z ${1:-} ]]; then cargo build --quiet --locked --bin spp-ctl; fi
bin=$(realpath "${1:-target/debug/spp-ctl}")
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# not_a_server_error fails on every 5xx. 502/503/504 are expected here (the down host, a
# process that exited), so that check lets them through, but status_code_conformance still
# fails any of them that the operation does not declare. A 500 is always a failure.
#
# Random ids and host names nearly always answer 404, so most cases draw path parameters from
# what is running (probability 0.8), letting bodies reach live simulated processes and agents.

# draw PATH_REGEX LOCATION.NAME=DICTIONARY...: a schemathesis.toml [[operations]] entry.
draw() {
  local regex=$1 binding entries=()
  shift
  for binding in "$@"; do
    entries+=("\"${binding%%=*}\" = { dictionary = \"${binding#*=}\", probability = 0.8 }")
  done
  printf '[[operations]]\ninclude-path-regex = "%s"\nparameters = { %s }\n' "$regex" \
    "$(IFS=,; echo "${entries[*]}")"
}
checks_toml='[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "502", "503", "504"]'
{
  printf '%s\n[dictionaries]\n' "$checks_toml"
  printf '%s = { values = [%s] }\n' nfv 1 vf 2 mirror 3 pcap 4 phy '0, 1' rule '0, 1' \
    component '"fwd0", "cls0", "mir0"'
  draw '^/v1/nfvs/' path.id=nfv
  draw '^/v1/vfs/' path.id=vf path.name=component
  draw '^/v1/mirrors/' path.id=mirror path.name=component
  draw '^/v1/pcaps/' path.id=pcap
  draw '^/v1/primary/flow_rules?/' path.port_id=phy path.rule_id=rule
  # `wait_for` waits 30 s by default for a process that is missing (most generated ones
  # are), longer than a case may take: every case gets a short timeout instead.
  printf '[[operations]]\ninclude-path-regex = "^/v1/processes$"\nparameters = { "query.timeout" = "300ms" }\n'
} >"$tmp/st-agent.toml"
{
  printf '%s\n[dictionaries]\n' "$checks_toml"
  printf '%s = { values = [%s] }\n' host '"compute-1", "compute-2", "compute-3", "compute-4"' \
    hosts '"compute-1", "compute-1,compute-2", "compute-2,compute-3", "compute-4"'
  # One path segment: schemathesis never puts a `/` into a path parameter.
  printf '%s = { values = [%s] }\n' agent-path '"processes", "cpu_usage", "cpu_layout", "nothing"'
  draw '^/v1/(hosts|cluster)/' path.host=host path.rest=agent-path query.hosts=hosts
} >"$tmp/st-gateway.toml"
checks=${ST_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}

# listening_on LOG KEY: the address a process logged it listens on (it binds port 0).
listening_on() {
  for _ in $(seq 300); do
    if grep -qoE "$2=127[.0-9]+:[0-9]+" "$1" 2>/dev/null; then
      grep -oE "$2=127[.0-9]+:[0-9]+" "$1" | head -n 1 | cut -d= -f2
      return 0
    fi
    sleep 0.1
  done
  echo "no $2 address in $1:" >&2
  cat "$1" >&2
  return 1
}

# Polls until `curl ... URL` prints something matching PATTERN (30 s at most).
wait_for() {
  local pattern=$1
  shift
  for _ in $(seq 300); do
    if curl -fsS "$@" 2>/dev/null | grep -q "$pattern"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $pattern from curl $*; it answers:" >&2
  curl -sS "$@" >&2 || true
  tail -n 20 "$tmp"/*.log >&2 || true
  return 1
}

# start_agent NAME: an agent with the simulated set (primary, nfv 1, vf 2, mirror 3, pcap 4);
# sets $agent_url.
start_agent() {
  "$bin" agent --simulate -b 127.0.0.1 -p 0 -s 0 -a 0 --host-name "$1" 2>>"$tmp/$1.log" &
  pids+=($!)
  agent_url=http://$(listening_on "$tmp/$1.log" api)
  wait_for '"pcap", "client-id": 4' "$agent_url/v1/processes"
}

total=0
summary=()
# [examples=N] fuzz LABEL CONFIG DOC URL [schemathesis options]: one run; prints its output
# and case count.
fuzz() {
  local label=$1 config=$2 doc=$3 url=$4
  shift 4
  local out=$tmp/$label.out started=$SECONDS rc=0
  # One worker: with more, hypothesis's lambda descriptions race in CPython 3.11's ast
  # ("AST constructor recursion depth mismatch"), an error of the tool, not of the API.
  # From $tmp: schemathesis keeps a crash cache (.schemathesis/) in its working directory.
  (cd "$tmp" && schemathesis --config-file "$tmp/st-$config.toml" --no-color run "$doc" \
    --url "$url" --checks "$checks" --max-examples "${examples:-$MAX_EXAMPLES}" --seed "$SEED" \
    --workers 1 --generation-database none --request-timeout 20 "$@") >"$out" 2>&1 || rc=$?
  cat "$out"
  local cases
  cases=$(grep -oE '^ *[0-9]+ generated' "$out" | grep -oE '[0-9]+' || echo 0)
  total=$((total + cases))
  summary+=("$label: $cases cases in $((SECONDS - started)) s, exit status $rc")
  if ((rc != 0)); then
    echo "schemathesis $label failed; agent and gateway logs:" >&2
    tail -n 50 "$tmp"/*.log >&2 || true
    printf '%s\n' "${summary[@]}" >&2
    exit 1
  fi
}

started=$SECONDS
for doc in agent gateway; do python3 .ci/schemathesis_runs.py "docs/openapi/$doc.json" "$tmp/$doc.json"; done

echo "== agent with simulated processes"
start_agent compute-0
fuzz agent agent "$tmp/agent.json" "$agent_url" --include-by '/x-st-run == "main"'
echo "processes after fuzzing: $(curl -sS "$agent_url/v1/processes")"
# Last: the exit operations end the simulated processes for good (their 404s are declared).
fuzz agent-exit agent "$tmp/agent.json" "$agent_url" --include-by '/x-st-run == "exit"'

echo "== agent with faulty processes: garbage replies (502), no replies (504)"
# A timeout closes the connection and the process reconnects a second later: 404 meanwhile.
"$bin" agent -b 127.0.0.1 -p 0 -s 0 -a 0 --command-timeout 100ms --host-name compute-4 \
  2>>"$tmp/faults.log" &
pids+=($!)
faults_url=http://$(listening_on "$tmp/faults.log" api)
sim=(-p "$(listening_on "$tmp/faults.log" primary | cut -d: -f2)")
sim+=(-s "$(listening_on "$tmp/faults.log" secondary | cut -d: -f2)")
"$bin" sim "${sim[@]}" --primary --nfv 1 --vf 2 --garbage 2>>"$tmp/sim-garbage.log" &
pids+=($!)
"$bin" sim "${sim[@]}" --mirror 3 --pcap 4 --no-reply 2>>"$tmp/sim-silent.log" &
pids+=($!)
wait_for '"pcap", "client-id": 4' "$faults_url/v1/processes"
examples=$FAULT_EXAMPLES fuzz agent-faults agent "$tmp/agent.json" "$faults_url" \
  --include-by '/x-st-run == "main"'

echo "== gateway (TLS, JWT) in front of two agents, the faulty one and a host that is down"
# A CA, the gateway's certificate and an ES256 key pair for the tokens, made for this run.
certs/make-dev-certs.sh "$tmp/certs" >/dev/null
token=$("$bin" token --key "$tmp/certs/jwt.key" --kid ci --sub schemathesis \
  --scope "spp:read spp:write" --ttl 1h)

start_agent compute-1
url1=$agent_url
start_agent compute-2
url2=$agent_url
# compute-3 is down: a port that was free a moment ago and that nobody listens on.
down=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/gateway.toml" <<EOF
listen = "127.0.0.1:0"
[tls]
cert = "$tmp/certs/gateway.pem"
key = "$tmp/certs/gateway.key"
[auth]
mode = "jwt"
[[auth.keys]]
kid = "ci"
alg = "ES256"
public_key_file = "$tmp/certs/jwt.pub"
[[agents]]
host = "compute-1"
url = "$url1"
[[agents]]
host = "compute-2"
url = "$url2"
[[agents]]
host = "compute-3"
url = "http://127.0.0.1:$down"
[[agents]]
host = "compute-4"
url = "$faults_url"
[timeouts]
connect = "1s"
request = "5s"
health_interval = "500ms"
[limits]
drain = "0s"
grace = "1s"
EOF
"$bin" gateway --config "$tmp/gateway.toml" 2>>"$tmp/gateway.log" &
pids+=($!)
gw_url=https://$(listening_on "$tmp/gateway.log" addr)
auth=(-H "Authorization: Bearer $token")
wait_for '"host": "compute-2", "url": "[^"]*", "state": "up"' --cacert "$tmp/certs/ca.pem" "${auth[@]}" \
  "$gw_url/v1/hosts"
wait_for '"host": "compute-3", "url": "[^"]*", "state": "down"' --cacert "$tmp/certs/ca.pem" "${auth[@]}" \
  "$gw_url/v1/hosts"
fuzz gateway gateway "$tmp/gateway.json" "$gw_url" --include-by '/x-st-run == "main"' --tls-verify "$tmp/certs/ca.pem" "${auth[@]}"

printf '%s\n' "${summary[@]}"
echo "schemathesis: $total cases, 0 failures, $((SECONDS - started)) s"
