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
  # HTTPS tests make a self-signed certificate
  openssl
  # the panel's browser test: real headless Chromium, driven by playwright-core (npm)
  chromium
  # notification tests: a real SMTP sink on loopback
  python3-aiosmtpd
  # the --venv test makes a real venv on a simulated node
  python3-venv
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# node and npm run the browser test's driver; the machine may have them from NodeSource
# rather than Debian, so they count as present when the commands are there.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core for the browser test, pinned by tests/browser/package-lock.json.
browser_dir="$(dirname "$0")/../tests/browser"
if [ ! -f "$browser_dir/node_modules/playwright-core/package.json" ] ||
   [ "$browser_dir/package-lock.json" -nt "$browser_dir/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in tests/browser"
  (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
