#!/usr/bin/env bash
# Agent benchmark: release build, agent + simulated processes on loopback, driven by wrk.
# Prints requests/s and p50/p99 per route and connection count, the agent's idle and peak
# RSS, and the raw-socket floor (the same `status` exchange without HTTP) with the ratio.
#
# Usage: bench/run.sh [SECONDS_PER_RUN]   (installs wrk with apt if it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin spp-ctl --example raw_floor
bin=target/release/spp-ctl
floor=target/release/examples/raw_floor
pri=25555 sec=26666 api=27777 floor_port=26667
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

"$bin" agent -b 127.0.0.1 -p $pri -s $sec -a $api --log-level warn & agent=$!; pids+=($agent)
"$bin" sim --ctl 127.0.0.1 -p $pri -s $sec --primary --nfv 1 --vf 2 --mirror 3 --pcap 4 2>/dev/null & pids+=($!)
for _ in $(seq 100); do
  [ "$(curl -s http://127.0.0.1:$api/v1/processes | grep -o '"type"' | wc -l)" = 5 ] && break
  sleep 0.1
done
idle=$(rss_kib $agent VmRSS)

cat > "$work/put.lua" <<'LUA'
wrk.method = "PUT"
wrk.body = '{"action": "start"}'
wrk.headers["Content-Type"] = "application/json"
LUA

printf '%-28s %5s %12s %10s %10s\n' route conns requests/s p50 p99
declare -A best
run() { # name conns url [script]
  # One wrk thread: on a 2-core machine a second one only competes with the agent.
  local threads=1
  local out; out=$(wrk -t"$threads" -c"$2" -d"${secs}s" --latency ${4:+-s "$4"} "$3")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q 'Non-2xx' <<<"$out"; then echo "WARNING: $1 had non-2xx answers" >&2; fi
  printf '%-28s %5s %12s %10s %10s\n' "$1" "$2" "$rps" "$p50" "$p99"
  best[$1]=$(awk -v a="${best[$1]:-0}" -v b="$rps" 'BEGIN {print (b > a) ? b : a}')
}
for c in 1 16 64; do
  run "GET /v1/processes" $c "http://127.0.0.1:$api/v1/processes"
  run "GET /v1/nfvs/1" $c "http://127.0.0.1:$api/v1/nfvs/1"
  run "PUT /v1/nfvs/1/forward" $c "http://127.0.0.1:$api/v1/nfvs/1/forward" "$work/put.lua"
done
peak=$(rss_kib $agent VmHWM)

"$floor" 127.0.0.1:$floor_port "$secs" > "$work/floor.txt" & floor_pid=$!; pids+=($floor_pid)
sleep 0.2
"$bin" sim --ctl 127.0.0.1 -p $pri -s $floor_port --nfv 1 2>/dev/null & pids+=($!)
wait $floor_pid
read -r _ _ floor_rps _ floor_p50 _ floor_p99 < "$work/floor.txt"
printf '%-28s %5s %12s %10s %10s\n' "raw status (floor)" 1 "$floor_rps" "${floor_p50}us" "${floor_p99}us"
echo
echo "agent RSS: idle $((idle / 1024)) MiB ($idle KiB), peak $((peak / 1024)) MiB ($peak KiB)"
awk -v a="${best[GET /v1/nfvs/1]}" -v f="$floor_rps" \
  'BEGIN {printf "GET /v1/nfvs/1 best / raw floor = %.0f / %.0f = %.2fx\n", a, f, a / f}'
