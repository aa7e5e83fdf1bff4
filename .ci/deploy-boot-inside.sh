#!/bin/bash
# Runs inside the container that deploy-boot-test.sh boots, as a oneshot unit after
# multi-user.target; writes PASS/FAIL lines to /results/log and the units' journal to
# /results/journal. METRICS=yes when the binary has --metrics-addr.
set -u
exec >/results/log 2>&1
check() { # name, command...
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then echo "PASS $name"; else echo "FAIL $name"; fi
}
is() { # unit, property, expected value
  [[ $(systemctl show -P "$2" "$1") == "$3" ]]
}
status() { # expected HTTP status, curl arguments...
  local want=$1; shift
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@") == "$want" ]]
}

# As the README installs them: keys root:spp-ctl, 0640.
chgrp -R spp-ctl /etc/spp-ctl && chmod -R u=rwX,g=rX,o= /etc/spp-ctl

for unit in spp-ctl-agent spp-ctl-gateway; do
  # systemctl start returns once the service has sent READY=1.
  check "$unit starts (Type=notify, READY=1)" timeout 60 systemctl start "$unit"
  check "$unit is active" is "$unit" ActiveState active
done
check "agent API serves" status 200 http://127.0.0.1:7777/v1/processes
# The sandbox keeps the host name readable: GET /info reports it without --host-name.
check "agent /info names the machine" \
  bash -c '[[ $(curl -s http://127.0.0.1:7777/info) == *"\"host\": \"$(</proc/sys/kernel/hostname)\""* ]]'
check "gateway TLS listener serves" status 200 --cacert /etc/spp-ctl/tls/ca.pem https://localhost:8443/healthz
check "gateway metrics listener serves" status 200 http://127.0.0.1:9477/metrics
if [[ $METRICS == yes ]]; then
  for path in healthz readyz metrics; do
    check "agent metrics listener /$path" status 200 "http://127.0.0.1:9478/$path"
  done
  for path in healthz readyz; do
    check "gateway metrics listener /$path" status 200 "http://127.0.0.1:9477/$path"
  done
  # The sandbox must leave what process_* reads: /proc/self and the boot time in /proc/stat.
  for port in 9478 9477; do
    check "process_* metrics under the sandbox (:$port)" \
      bash -c "curl -s http://127.0.0.1:$port/metrics | grep -Eq '^process_start_time_seconds [1-9]'"
  done
fi

for unit in spp-ctl-agent spp-ctl-gateway; do
  pid=$(systemctl show -P MainPID "$unit")
  # Type=notify: systemctl reload waits for RELOADING=1 ... READY=1.
  check "$unit reloads" timeout 30 systemctl reload "$unit"
  check "$unit keeps its process over a reload" is "$unit" MainPID "$pid"
  check "$unit is active after the reload" is "$unit" ActiveState active
done

# A watchdog that is not fed kills the service within WatchdogSec.
mkdir -p /run/systemd/system/spp-ctl-agent.service.d
printf '[Service]\nWatchdogSec=2s\n' >/run/systemd/system/spp-ctl-agent.service.d/watchdog.conf
systemctl daemon-reload
check "agent restarts with WatchdogSec=2s" timeout 60 systemctl restart spp-ctl-agent
sleep 5
check "agent feeds the watchdog (5 s at WatchdogSec=2s)" is spp-ctl-agent NRestarts 0
check "agent is active under the watchdog" is spp-ctl-agent ActiveState active

for unit in spp-ctl-agent spp-ctl-gateway; do
  check "$unit stops" timeout 60 systemctl stop "$unit"
  check "$unit exited 0 on SIGTERM" is "$unit" ExecMainStatus 0
  check "$unit stop result is success" is "$unit" Result success
done

check "minimal spp-ctl.service starts" systemctl start spp-ctl
for _ in $(seq 50); do status 200 http://127.0.0.1:7777/v1/processes && break; sleep 0.1; done
check "minimal spp-ctl.service serves with no flags" status 200 http://127.0.0.1:7777/v1/processes
check "minimal spp-ctl.service stops" systemctl stop spp-ctl

journalctl --no-pager -o short-monotonic -u spp-ctl-agent -u spp-ctl-gateway -u spp-ctl >/results/journal
echo DONE
