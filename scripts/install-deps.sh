#!/usr/bin/env bash
# Installs every Debian package that gpuq's build, tests, demo and benchmarks need.
# Skips what is already installed, so a second run costs about a second.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config
  # libraries
  libssh-dev libsqlite3-dev libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libcli11-dev libsodium-dev libcurl4-openssl-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # simulated GPU nodes: a real sshd per node; python3 runs the simulated nvidia-smi
  openssh-server openssh-client python3 sqlite3 procps psmisc curl
  # the --venv test makes a real venv on a simulated node
  python3-venv
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
