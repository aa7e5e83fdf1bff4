#!/usr/bin/env bash
# Two builds of spp-ctl side by side, in alternating rounds (this 2-core machine drifts by
# ±15 % between runs): GET /v1/nfvs/1 straight to the agent and through a plain-HTTP gateway,
# 16 keep-alive connections each. Prints requests/s and p99 per round, then per case the
# medians and the after/before ratios with their spread.
#
# Usage: bench/compare.sh BEFORE_BIN AFTER_BIN [ROUNDS] [SECONDS]
#   e.g. git worktree add /tmp/old <rev> && (cd /tmp/old && cargo build --release)
#        cargo build --release && bench/compare.sh /tmp/old/target/release/spp-ctl target/release/spp-ctl 5 5
set -euo pipefail
before=$1 after=$2 rounds=${3:-5} secs=${4:-5}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
pri=35555 sec=36666 api=37777 gw=38443

start() { # bin
  pids=()
  "$1" agent -b 127.0.0.1 -p $pri -s $sec -a $api --log-level error & pids+=($!)
  "$1" sim --ctl 127.0.0.1 -p $pri -s $sec --primary --nfv 1 2>/dev/null & pids+=($!)
  printf 'listen = "127.0.0.1:%s"\ninsecure_plaintext = true\n[auth]\nmode = "none"\n[[agents]]\nhost = "h1"\nurl = "http://127.0.0.1:%s"\n' \
    $gw $api > "$work/gw.toml"
  "$1" gateway --config "$work/gw.toml" --log-level error 2>/dev/null & pids+=($!)
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$gw/v1/hosts/h1/nfvs/1" >/dev/null && return
    sleep 0.1
  done
  echo "the $1 setup did not come up" >&2; exit 1
}
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }

measure() { # url -> "rps p99_ms"
  wrk -t1 -c16 -d"${secs}s" --latency "$1" | awk '
    /Requests\/sec/ { rps = $2 }
    $1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else { sub(/s/, "", v); v *= 1000 }; p99 = v }
    END { printf "%.0f %.2f\n", rps, p99 }'
}

declare -A got
printf '%-6s %-7s %-8s %12s %9s\n' round build case requests/s p99_ms
for r in $(seq "$rounds"); do
  order=(before after); (( r % 2 == 0 )) && order=(after before)
  for build in "${order[@]}"; do
    bin=$before; [[ $build == after ]] && bin=$after
    start "$bin"
    for case in agent gateway; do
      url="http://127.0.0.1:$api/v1/nfvs/1"; [[ $case == gateway ]] && url="http://127.0.0.1:$gw/v1/hosts/h1/nfvs/1"
      read -r rps p99 < <(measure "$url")
      printf '%-6s %-7s %-8s %12s %9s\n' "$r" "$build" "$case" "$rps" "$p99"
      got[$build,$case]+="$rps "
      got[$build,$case,p99]+="$p99 "
    done
    stop
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf '%-8s %14s %14s %8s %14s %12s %12s\n' case before_rps after_rps ratio ratio_range before_p99 after_p99
for case in agent gateway; do
  b=(${got[before,$case]}) a=(${got[after,$case]})
  ratios=$(for i in "${!b[@]}"; do awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.3f ", x / y }'; done)
  lo=$(tr ' ' '\n' <<<"$ratios" | grep -v '^$' | sort -g | head -1)
  hi=$(tr ' ' '\n' <<<"$ratios" | grep -v '^$' | sort -g | tail -1)
  printf '%-8s %14s %14s %8s %14s %12s %12s\n' "$case" \
    "$(median <<<"${got[before,$case]}")" "$(median <<<"${got[after,$case]}")" \
    "$(median <<<"$ratios")" "$lo–$hi" \
    "$(median <<<"${got[before,$case,p99]}")" "$(median <<<"${got[after,$case,p99]}")"
done
