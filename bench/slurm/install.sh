#!/usr/bin/env bash
# Bench-only install step for `bench/run.sh --vs-slurm`: Debian's Slurm and MUNGE, if
# missing. Not part of scripts/install-deps.sh: gpuq itself never needs Slurm.
set -euo pipefail

PACKAGES=(slurm-wlm munge)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bench: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# No service may start on install: the bench starts its own daemons and stops them by pid.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  added_policy=1
fi
trap '[ "$added_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq || true
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
