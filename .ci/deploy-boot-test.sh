#!/usr/bin/env bash
# Boots systemd (Debian bookworm in systemd-nspawn, private network) with deploy/systemd
# installed as the README says, and checks what `systemd-analyze verify` cannot: each
# unit starts (Type=notify: READY=1), reloads and stops cleanly under its own sandbox,
# the watchdog is fed, and the minimal unit serves with no flags.
# Usage, as root: bash .ci/deploy-boot-test.sh [BINARY]   (default target/debug/spp-ctl)
# The first run debootstraps a root file system into $ROOTFS (a few minutes, about
# 250 MB); later runs boot it read-only with a throwaway overlay.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOTFS=${ROOTFS:-/var/tmp/spp-ctl-boot-bookworm}

need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v openssl >/dev/null || need+=(openssl)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [[ -z ${1:-} ]]; then cargo build --quiet --locked --bin spp-ctl; fi
bin=$(realpath "${1:-target/debug/spp-ctl}")

if [[ ! -e $ROOTFS/.complete ]]; then
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase --include=systemd,dbus,procps,curl,iproute2 bookworm "$ROOTFS" >/dev/null
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$ROOTFS/etc/hosts"
  touch "$ROOTFS/.complete"
fi
# The test unit is bound in at boot; this link enables it.
ln -sf /etc/systemd/system/spp-boot-test.service "$ROOTFS/etc/systemd/system/multi-user.target.wants/"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/etc" "$stage/results"
certs/make-dev-certs.sh "$stage/certs" >/dev/null
install -d "$stage/etc/tls" "$stage/etc/jwt"
cp "$stage"/certs/{ca.pem,gateway.pem,gateway.key,gateway-client.pem,gateway-client.key,agent.pem,agent.key} "$stage/etc/tls/"
cp "$stage/certs/jwt.pub" "$stage/etc/jwt/"
cp deploy/systemd/{agent.env,gateway.env,gateway.toml} "$stage/etc/"
metrics=no
"$bin" agent --help | grep -q -- --metrics-addr && metrics=yes
cp .ci/deploy-boot-inside.sh "$stage/inside.sh"
cat >"$stage/spp-boot-test.service" <<EOF
[Unit]
After=multi-user.target
[Service]
Type=oneshot
Environment=METRICS=$metrics
ExecStart=/bin/bash /results/inside.sh
ExecStopPost=/bin/systemctl --no-block poweroff
EOF
mv "$stage/inside.sh" "$stage/results/"

units=()
for unit in spp-ctl-agent.service spp-ctl-gateway.service spp-ctl.service; do
  units+=(--bind-ro="$PWD/deploy/systemd/$unit:/etc/systemd/system/$unit")
done
timeout 300 systemd-nspawn --quiet --directory="$ROOTFS" --volatile=overlay --boot \
  --private-network --register=no --keep-unit --machine=spp-boot-test \
  --bind-ro="$bin:/usr/local/bin/spp-ctl" \
  --bind-ro="$PWD/deploy/systemd/spp-ctl.sysusers.conf:/usr/lib/sysusers.d/spp-ctl.conf" \
  --bind-ro="$stage/spp-boot-test.service:/etc/systemd/system/spp-boot-test.service" \
  "${units[@]}" --bind="$stage/etc:/etc/spp-ctl" --bind="$stage/results:/results" \
  </dev/null >"$stage/console.log" 2>&1 || true

if [[ ! -s $stage/results/log ]] || ! grep -q '^DONE' "$stage/results/log"; then
  echo "FAIL: the boot test did not finish; console:"; tail -40 "$stage/console.log"; exit 1
fi
cat "$stage/results/log"
if grep -q '^FAIL' "$stage/results/log"; then
  echo "--- journal of the units"; cat "$stage/results/journal"; exit 1
fi
echo "boot test: ok"
