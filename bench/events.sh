#!/usr/bin/env bash
# Events benchmark, loopback, release build: one agent with a simulated primary and nfv 1;
# wrk drives GET /v1/nfvs/1 (2 threads, 16 connections) while a driver sends
# PUT /v1/nfvs/1/forward RATE times a second (default 20), with CONSUMERS (default 100)
# clients following GET /v1/events or with none, in alternating rounds (ROUNDS, default
# 5). Prints REST throughput with consumers over without (median and range per round
# pair), the delivery latency of `command` events to every consumer (from the driver's
# receipt of the answer to the consumer's receipt of the event; under the wrk load, and
# once without it), and the agent's RSS without and with the consumers.
#
# Usage: [ROUNDS=R] [CONSUMERS=N] [RATE=R] bench/events.sh [SECONDS]   (installs wrk with apt)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${ROUNDS:-5}
consumers=${CONSUMERS:-100}
rate=${RATE:-20}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin spp-ctl --example sse_consumers
bin=target/release/spp-ctl
harness=target/release/examples/sse_consumers
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# Below the kernel's ephemeral range (32768+), so no outgoing connection takes them.
pri=23555 sec=23666 api=23777
"$bin" agent -b 127.0.0.1 -p $pri -s $sec -a $api --log-level warn & agent_pid=$!; pids+=($agent_pid)
"$bin" sim --ctl 127.0.0.1 -p $pri -s $sec --primary --nfv 1 2>/dev/null & pids+=($!)
sleep 1
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
rss_kib() { awk '$1=="VmRSS:" {print $2}' /proc/$agent_pid/status; }
# numbers (one a line) -> "median (min-max)"
spread() { sort -g | awk '{a[NR]=$1} END {printf "%s (%s-%s)", a[int((NR+1)/2)], a[1], a[NR]}'; }
# consumers -> "rps latency-line": the harness runs around one wrk run.
round() {
  "$harness" 127.0.0.1:$api "$1" "$rate" $((secs + 2)) > "$work/harness.out" & local h=$!
  sleep 1
  [ "$1" -gt 0 ] && rss_kib > "$work/rss.with"
  local rps
  rps=$(wrk -t2 -c16 -d"${secs}s" "http://127.0.0.1:$api/v1/nfvs/1" | awk '/^Requests\/sec:/ {print $2}')
  wait $h
  echo "$rps $(cat "$work/harness.out")"
}
rss_before=$(rss_kib)
without=() with=() ratios=() p99s=()
for r in $(seq "$rounds"); do
  # Alternate which goes first, so that a drift of the machine's load favours neither.
  if (( r % 2 )); then order="0 $consumers"; else order="$consumers 0"; fi
  for n in $order; do
    line=$(round "$n")
    rps=${line%% *}
    printf 'round %d consumers %3d: %10s req/s  %s\n' "$r" "$n" "$rps" "${line#* }"
    if [ "$n" -gt 0 ]; then
      with+=("$rps")
      p99s+=("$(awk '{for (i = 1; i < NF; i++) if ($i == "p99") print $(i + 1)}' <<<"$line")")
    else
      without+=("$rps")
    fi
  done
  ratios+=("$(awk -v a="${with[-1]}" -v b="${without[-1]}" 'BEGIN {printf "%.3f", a / b}')")
done
quiet=$("$harness" 127.0.0.1:$api "$consumers" "$rate" "$secs")
echo "GET /v1/nfvs/1 req/s without consumers: $(printf '%s\n' "${without[@]}" | spread)"
echo "GET /v1/nfvs/1 req/s with $consumers consumers: $(printf '%s\n' "${with[@]}" | spread)"
echo "ratio with/without per round: $(printf '%s\n' "${ratios[@]}" | spread)"
echo "event latency p99 under wrk per round (ms): $(printf '%s\n' "${p99s[@]}" | spread)"
echo "event latency without wrk: $quiet"
echo "agent RSS: $((rss_before / 1024)) MiB before, $(( $(cat "$work/rss.with") / 1024 )) MiB with $consumers consumers ($(cat "$work/rss.with") KiB)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
