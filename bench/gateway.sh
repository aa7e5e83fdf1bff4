#!/usr/bin/env bash
# Gateway benchmark, loopback, release build, one run:
#   client -> gateway (TLS + JWT verify) -> agent -> simulated process
#   client -> agent directly
#   client -> nginx (TLS reverse proxy) -> agent
# for GET processes and GET nfvs/1 at 16 and 64 connections, with the ratios
# gateway/direct and gateway/nginx and the gateway's RSS; then a fan-out of
# /v1/cluster/processes over 200 agents against a single call, and the gateway's RSS with
# 1,000 configured hosts.
#
# Usage: [GW_WORKERS=N] [ROUNDS=R] bench/gateway.sh [SECONDS]
# (installs wrk and nginx with apt if missing). GW_WORKERS sets the gateway's `workers`
# (default: one per CPU). nginx and the gateway are measured alternately ROUNDS times
# (default 5) per case, and the median ratio is printed: single runs on a shared
# 2-core machine vary by ±10 %.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
for tool in wrk nginx; do
  command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }
done
cargo build --release --quiet --bin spp-ctl --example many_agents
bin=target/release/spp-ctl
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# Below the kernel's ephemeral range (32768+), so no outgoing connection takes them.
pri=22555 sec=22666 api=22777 gw=22443 ngx=22444 fan=22445 big=22446 base=20000

# Certificates and a signing secret for this run only.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null
head -c 48 /dev/urandom | base64 > "$work/jwt.secret"
token=$("$bin" token --key "$work/jwt.secret" --alg HS256 --sub bench --scope spp:read --ttl 1h)

"$bin" agent -b 127.0.0.1 -p $pri -s $sec -a $api --log-level warn & agent_pid=$!; pids+=($agent_pid)
"$bin" sim --ctl 127.0.0.1 -p $pri -s $sec --primary --nfv 1 2>/dev/null & pids+=($!)
target/release/examples/many_agents $base 200 >/dev/null & pids+=($!)
sleep 1

gateway_toml() { # listen, agents toml -> file
  cat > "$work/$1.toml" <<TOML
listen = "127.0.0.1:$2"
[tls]
cert = "$work/server.pem"
key = "$work/server.key"
[auth]
mode = "jwt"
[[auth.keys]]
alg = "HS256"
secret_file = "$work/jwt.secret"
[timeouts]
health_interval = "5s"
[fanout]
concurrency = 200
deadline = "5s"
$3
TOML
}
gateway_toml gw $gw "$(printf '[[agents]]\nhost = "h1"\nurl = "http://127.0.0.1:%s"\n' $api)"
"$bin" gateway --config "$work/gw.toml" ${GW_WORKERS:+--set workers=$GW_WORKERS} --log-level error & gw_pid=$!; pids+=($gw_pid)

cat > "$work/nginx.conf" <<NGINX
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  upstream agent { server 127.0.0.1:$api; keepalive 64; }
  server {
    listen 127.0.0.1:$ngx ssl;
    ssl_certificate $work/server.pem;
    ssl_certificate_key $work/server.key;
    location / { proxy_pass http://agent; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" & ngx_pid=$!; pids+=($ngx_pid)

for _ in $(seq 100); do
  curl -sf --cacert "$work/ca.pem" -H "Authorization: Bearer $token" https://localhost:$gw/v1/hosts/h1/nfvs/1 >/dev/null &&
    curl -sf --cacert "$work/ca.pem" https://localhost:$ngx/v1/nfvs/1 >/dev/null && break
  sleep 0.2
done

cpu_ticks() { # pids -> user+system clock ticks so far
  local total=0 pid
  for pid in $1; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}
# url conns pids [auth] -> "rps p50 p99 cpu": cpu is the CPU time the proxy (pids) spent
# per request, in microseconds; it varies less between runs than the rate does.
run() {
  local before out
  before=$(cpu_ticks "$3")
  out=$(wrk -t1 -c"$2" -d"${secs}s" --latency ${4:+-H "Authorization: Bearer $4"} "$1")
  echo "$out" | awk -v ticks=$(($(cpu_ticks "$3") - before)) -v hz="$(getconf CLK_TCK)" \
    '/requests in/ {n=$1} /^Requests\/sec:/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
     END {printf "%s %s %s %.1fus\n", r, p50, p99, ticks * 1e6 / hz / n}'
}
ngx_workers=$(pgrep -P "$ngx_pid" | tr '\n' ' ')
printf '%-22s %5s %-8s %10s %9s %9s %9s\n' route conns via requests/s p50 p99 cpu/req
row() { printf '%-22s %5s %-8s %10s %9s %9s %9s\n' "$@"; }
for path in processes nfvs/1; do
  for c in 16 64; do
    read -r d d50 d99 dcpu <<<"$(run "http://127.0.0.1:$api/v1/$path" $c "$agent_pid")"
    row "GET $path" $c direct "$d" "$d50" "$d99" "$dcpu"
    ratios=()
    for _ in $(seq "${ROUNDS:-5}"); do
      read -r n n50 n99 ncpu <<<"$(run "https://localhost:$ngx/v1/$path" $c "$ngx_workers")"
      read -r g g50 g99 gcpu <<<"$(run "https://localhost:$gw/v1/hosts/h1/$path" $c "$gw_pid" "$token")"
      row "GET $path" $c nginx "$n" "$n50" "$n99" "$ncpu"
      row "GET $path" $c gateway "$g" "$g50" "$g99" "$gcpu"
      ratios+=("$(awk -v g="$g" -v n="$n" 'BEGIN {printf "%.2f", g / n}')")
    done
    median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v g="$g" -v d="$d" 'BEGIN {printf "  ratios: gateway/direct %.2f (last round), ", g / d}'
    echo "gateway/nginx ${ratios[*]} (median $median)"
  done
done
echo "gateway RSS after the runs: $(awk '$1=="VmRSS:" {print int($2/1024)}' /proc/$gw_pid/status) MiB (peak $(awk '$1=="VmHWM:" {print int($2/1024)}' /proc/$gw_pid/status) MiB)"

# Started only now: their health checks of 1,200 agents would disturb the rounds above.
gateway_toml fan $fan "$(for i in $(seq 0 199); do printf '[[agents]]\nhost = "a%s"\nurl = "http://127.0.0.1:%s"\n' $i $((base + i)); done)"
gateway_toml big $big "$(for i in $(seq 0 999); do printf '[[agents]]\nhost = "b%s"\nurl = "http://127.0.0.1:%s"\n' $i $((base + i % 200)); done)"
"$bin" gateway --config "$work/fan.toml" --log-level error & fan_pid=$!; pids+=($fan_pid)
"$bin" gateway --config "$work/big.toml" --log-level error & big_pid=$!; pids+=($big_pid)

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) print v / 1000; else if (v ~ /ms$/) print v + 0; else print v * 1000 }'; }
sleep 6 # the first health round over all agents
read -r _ s50 s99 _ <<<"$(run "https://localhost:$fan/v1/hosts/a0/processes" 1 "$fan_pid" "$token")"
read -r _ f50 f99 _ <<<"$(run "https://localhost:$fan/v1/cluster/processes" 1 "$fan_pid" "$token")"
echo "single call p50 $s50 p99 $s99; fan-out over 200 agents p50 $f50 p99 $f99"
awk -v f="$(to_ms "$f99")" -v s="$(to_ms "$s99")" \
  'BEGIN {printf "fan-out p99 %.2f ms vs target 2 x %.2f + 50 = %.2f ms\n", f, s, 2 * s + 50}'
echo "gateway RSS with 1000 configured hosts: $(awk '$1=="VmRSS:" {print int($2/1024)}' /proc/$big_pid/status) MiB"
