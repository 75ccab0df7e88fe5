#!/usr/bin/env bash
# Installs what is missing, builds, and starts the master on :8000 with its data in
# ./gpuq-data. Extra arguments go to `gpuq master` (e.g. --listen 127.0.0.1:9000).
# The first start prints the admin password unless GPUQ_ADMIN_PASSWORD is set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/master/gpuq master --listen 0.0.0.0:8000 --data ./gpuq-data "$@"
