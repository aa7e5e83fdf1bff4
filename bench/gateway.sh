#!/usr/bin/env bash
# Gateway benchmark, loopback, release build, one run:
#   client -> gateway (TLS + JWT verify) -> agent -> simulated process
#   client -> agent directly
#   client -> nginx (TLS reverse proxy) -> agent
#   client -> HAProxy (TLS reverse proxy) -> agent
# for GET processes and GET nfvs/1 over keep-alive connections (1, 16 and 64 of them),
# and GET processes with a new TLS connection per request (`Connection: close`, 16
# clients), with the gateway's ratios to nginx and HAProxy and its RSS; then a fan-out of
# /v1/cluster/processes over 200 agents against a single call, and the gateway's RSS with
# 1,000 configured hosts.
#
# Usage: [GW_WORKERS=N] [ROUNDS=R] [WRK_THREADS=T] [CASES=keepalive,latency,newconn,fanout] \
#        bench/gateway.sh [SECONDS]
# (installs wrk, nginx and haproxy with apt if missing). NGINX_PROTOCOLS sets nginx's
# `ssl_protocols` (default TLS 1.2 and 1.3), GW_VERSIONS the gateway's `tls.versions`
# (default '["1.3", "1.2"]'; '["1.2"]' with NGINX_PROTOCOLS=TLSv1.2 compares TLS 1.2
# with TLS 1.2). GW_WORKERS sets the gateway's
# `workers` (default: one per CPU). nginx, HAProxy and the gateway are measured in turn
# ROUNDS times (default 5) per case, the order rotating each round, and the medians are
# printed with their range: single runs on a shared 2-core machine vary by ±10 %.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
cases=${CASES:-keepalive,latency,newconn,fanout}
for tool in wrk nginx haproxy; do
  command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }
done
cargo build --release --quiet --bin spp-ctl --example many_agents
bin=target/release/spp-ctl
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# Below the kernel's ephemeral range (32768+), so no outgoing connection takes them.
pri=22555 sec=22666 api=22777 gw=22443 ngx=22444 hap=22447 fan=22445 big=22446 base=20000

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
versions = ${GW_VERSIONS:-[\"1.3\", \"1.2\"]}
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
    # nginx 1.22 (Debian 12) offers only TLS 1.0-1.2 unless told, and a TLS 1.2 session
    # resumes without a key exchange; the gateway and HAProxy speak TLS 1.3, whose
    # resumption still makes an X25519 exchange on both sides. Since nginx 1.23.4 the
    # default includes TLS 1.3: compare like with like (NGINX_PROTOCOLS=TLSv1.2 for 1.2).
    ssl_protocols ${NGINX_PROTOCOLS:-TLSv1.2 TLSv1.3};
    location / { proxy_pass http://agent; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" & ngx_pid=$!; pids+=($ngx_pid)

# Like nginx: 2 threads, TLS with the same certificate, agent connections reused.
cat "$work/server.pem" "$work/server.key" > "$work/haproxy.pem"
cat > "$work/haproxy.cfg" <<HAPROXY
global
  nbthread 2
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend bench
  bind 127.0.0.1:$hap ssl crt $work/haproxy.pem
  default_backend agent
backend agent
  server agent 127.0.0.1:$api
HAPROXY
haproxy -db -f "$work/haproxy.cfg" 2>"$work/haproxy.log" & hap_pid=$!; pids+=($hap_pid)

for _ in $(seq 100); do
  curl -sf --cacert "$work/ca.pem" -H "Authorization: Bearer $token" https://localhost:$gw/v1/hosts/h1/nfvs/1 >/dev/null &&
    curl -sf --cacert "$work/ca.pem" https://localhost:$ngx/v1/nfvs/1 >/dev/null &&
    curl -sf --cacert "$work/ca.pem" https://localhost:$hap/v1/nfvs/1 >/dev/null && break
  sleep 0.2
done

cpu_ticks() { # pids -> user+system clock ticks so far
  local total=0 pid
  for pid in $1; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}
# url conns pids [auth] [close] -> "rps p50 p99 cpu client": cpu is the CPU time the proxy
# (pids) spent per request, client the time wrk spent, both in microseconds; they vary
# less between runs than the rate does. With `close`, every request comes on a new
# connection (a new TLS handshake). One wrk thread (WRK_THREADS) that is busy all the
# time bounds the rate whatever the proxy does: the client column shows when it is.
run() {
  local before
  before=$(cpu_ticks "$3")
  { TIMEFORMAT='%3U %3S'; time wrk -t"${WRK_THREADS:-1}" -c"$2" -d"${secs}s" --latency \
    ${4:+-H "Authorization: Bearer $4"} ${5:+-H "Connection: close"} "$1" >"$work/wrk.out"; } 2>"$work/wrk.time"
  awk -v ticks=$(($(cpu_ticks "$3") - before)) -v hz="$(getconf CLK_TCK)" -v client="$(cat "$work/wrk.time")" \
    '/requests in/ {n=$1} /^Requests\/sec:/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
     END {split(client, t, " "); printf "%s %s %s %.1fus %.1fus\n", r, p50, p99, ticks * 1e6 / hz / n, (t[1] + t[2]) * 1e6 / n}' \
    "$work/wrk.out"
}
to_us() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) print v + 0; else if (v ~ /ms$/) print v * 1000; else print v * 1e6 }'; }
# numbers (one a line) -> "median (min-max)"
spread() { sort -g | awk '{a[NR]=$1} END {printf "%s (%s-%s)", a[int((NR+1)/2)], a[1], a[NR]}'; }
ngx_workers=$(pgrep -P "$ngx_pid" | tr '\n' ' ')
row() { printf '%-22s %5s %-8s %10s %9s %9s %9s %9s\n' "$@"; }
declare -A url=([nginx]="https://localhost:$ngx/v1" [haproxy]="https://localhost:$hap/v1"
  [gateway]="https://localhost:$gw/v1/hosts/h1")
declare -A pid=([nginx]="$ngx_workers" [haproxy]="$hap_pid" [gateway]="$gw_pid")
# label path conns [close]: ROUNDS rounds of the three proxies, then per proxy the median
# and range of rate, p50, p99 (µs) and CPU per request, and of the gateway's ratios.
compare() {
  local round proxy order rps p50 p99 cpu client
  local -A results=()
  for round in $(seq "${ROUNDS:-5}"); do
    case $((round % 3)) in
      1) order="nginx haproxy gateway" ;; 2) order="haproxy gateway nginx" ;; 0) order="gateway nginx haproxy" ;;
    esac
    for proxy in $order; do
      local auth=""
      [ "$proxy" = gateway ] && auth=$token
      read -r rps p50 p99 cpu client <<<"$(run "${url[$proxy]}/$2" "$3" "${pid[$proxy]}" "$auth" "${4:-}")"
      row "$1" "$3" "$proxy" "$rps" "$p50" "$p99" "$cpu" "$client"
      results[$proxy.rps]+="$rps "
      results[$proxy.p50]+="$(to_us "$p50") "
      results[$proxy.p99]+="$(to_us "$p99") "
      results[$proxy.cpu]+="${cpu%us} "
      results[$proxy.client]+="${client%us} "
    done
  done
  for proxy in nginx haproxy gateway; do
    printf '  %-8s req/s %s, p50 %s us, p99 %s us, cpu/req %s us, client cpu/req %s us\n' "$proxy" \
      "$(tr ' ' '\n' <<<"${results[$proxy.rps]}" | grep . | spread)" \
      "$(tr ' ' '\n' <<<"${results[$proxy.p50]}" | grep . | spread)" \
      "$(tr ' ' '\n' <<<"${results[$proxy.p99]}" | grep . | spread)" \
      "$(tr ' ' '\n' <<<"${results[$proxy.cpu]}" | grep . | spread)" \
      "$(tr ' ' '\n' <<<"${results[$proxy.client]}" | grep . | spread)"
  done
  for proxy in nginx haproxy; do
    printf '  gateway/%s req/s per round: %s\n' "$proxy" "$(paste -d' ' \
      <(tr ' ' '\n' <<<"${results[gateway.rps]}" | grep .) <(tr ' ' '\n' <<<"${results[$proxy.rps]}" | grep .) |
      awk '{printf "%.2f\n", $1 / $2}' | spread)"
  done
}
printf '%-22s %5s %-8s %10s %9s %9s %9s %9s\n' case conns via requests/s p50 p99 cpu/req client
if [[ $cases == *keepalive* ]]; then
  for path in processes nfvs/1; do
    for c in 16 64; do
      row "GET $path" $c direct $(run "http://127.0.0.1:$api/v1/$path" $c "$agent_pid")
      compare "GET $path" "$path" $c
    done
  done
fi
[[ $cases == *latency* ]] && compare "GET processes" processes 1
[[ $cases == *newconn* ]] && compare "GET processes, close" processes 16 close
echo "gateway RSS after the runs: $(awk '$1=="VmRSS:" {print int($2/1024)}' /proc/$gw_pid/status) MiB (peak $(awk '$1=="VmHWM:" {print int($2/1024)}' /proc/$gw_pid/status) MiB)"

[[ $cases == *fanout* ]] || exit 0
# Started only now: their health checks of 1,200 agents would disturb the rounds above.
gateway_toml fan $fan "$(for i in $(seq 0 199); do printf '[[agents]]\nhost = "a%s"\nurl = "http://127.0.0.1:%s"\n' $i $((base + i)); done)"
gateway_toml big $big "$(for i in $(seq 0 999); do printf '[[agents]]\nhost = "b%s"\nurl = "http://127.0.0.1:%s"\n' $i $((base + i % 200)); done)"
"$bin" gateway --config "$work/fan.toml" --log-level error & fan_pid=$!; pids+=($fan_pid)
"$bin" gateway --config "$work/big.toml" --log-level error & big_pid=$!; pids+=($big_pid)

sleep 6 # the first health round over all agents
read -r _ s50 s99 _ <<<"$(run "https://localhost:$fan/v1/hosts/a0/processes" 1 "$fan_pid" "$token")"
read -r _ f50 f99 _ <<<"$(run "https://localhost:$fan/v1/cluster/processes" 1 "$fan_pid" "$token")"
echo "single call p50 $s50 p99 $s99; fan-out over 200 agents p50 $f50 p99 $f99"
awk -v f="$(to_us "$f99")" -v s="$(to_us "$s99")" \
  'BEGIN {printf "fan-out p99 %.2f ms vs target 2 x %.2f + 50 = %.2f ms\n", f / 1000, s / 1000, (2 * s + 50000) / 1000}'
echo "gateway RSS with 1000 configured hosts: $(awk '$1=="VmRSS:" {print int($2/1024)}' /proc/$big_pid/status) MiB"
