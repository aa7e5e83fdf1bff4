#!/usr/bin/env bash
# Cost of a metrics scrape: the agent's /metrics latency with 5 simulated processes and
# 64 ports (40 phy + 24 rings, forwarding), and REST throughput of GET /v1/nfvs/1 with and
# without a scrape every second.
#
# Usage: bench/scrape.sh [SECONDS]   (installs wrk with apt if it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin spp-ctl
bin=target/release/spp-ctl
pri=35555 sec=36666 api=37777
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

"$bin" agent -b 127.0.0.1 -p $pri -s $sec -a $api --log-level warn & pids+=($!)
"$bin" sim --ctl 127.0.0.1 -p $pri -s $sec --phy-ports 40 --rings 24 --primary --nfv 1 --vf 2 --mirror 3 --pcap 4 2>/dev/null & pids+=($!)
for _ in $(seq 100); do
  [ "$(curl -s http://127.0.0.1:$api/v1/processes | grep -o '"type"' | wc -l)" = 5 ] && break
  sleep 0.1
done
curl -sf -X PUT http://127.0.0.1:$api/v1/primary/patches -d '{"src": "phy:0", "dst": "phy:1"}'
curl -sf -X PUT http://127.0.0.1:$api/v1/primary/forward -d '{"action": "start"}'
ports=$(curl -s http://127.0.0.1:$api/metrics | grep -c '^spp_port_rx_packets_total{')
echo "ports exported: $ports"

latency() { # url -> "requests/s p50 p99"
  wrk -t1 -c1 -d"${secs}s" --latency "$1" |
    awk '/^Requests\/sec:/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {print r, p50, p99}'
}
read -r rps p50 p99 <<<"$(latency http://127.0.0.1:$api/metrics)"
echo "GET /metrics (1 connection): $rps scrapes/s, p50 $p50, p99 $p99"

rest() { wrk -t1 -c16 -d"${secs}s" http://127.0.0.1:$api/v1/nfvs/1 | awk '/^Requests\/sec:/ {print $2}'; }
# Alternate runs without and with scraping: this machine's noise is larger than the
# effect, so the median of several ratios is reported.
ratios=()
for round in 1 2 3 4 5; do
  quiet=$(rest)
  ( while :; do curl -s -o /dev/null http://127.0.0.1:$api/metrics; sleep 1; done ) & scraper=$!
  scraped=$(rest)
  kill $scraper; wait $scraper 2>/dev/null || true
  ratio=$(awk -v a="$scraped" -v b="$quiet" 'BEGIN {printf "%.3f", a / b}')
  ratios+=("$ratio")
  echo "round $round: GET /v1/nfvs/1 (16 connections) $quiet req/s without, $scraped req/s with a scrape every second: $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{r[NR]=$1} END {print "median ratio with/without = " r[int((NR+1)/2)]}'
