#!/usr/bin/env bash
# A live gpuq without GPUs: starts two simulated GPU nodes (real sshd on 127.0.0.101 and
# 127.0.0.102: 8x A100 and 4x RTX 3090, one GPU busy with a "foreign" process) and a master on
# 127.0.0.1:8000 with both registered, logs the CLI in as admin, and leaves all of it running.
#   scripts/demo.sh          start (then: gpuq nodes, or open http://127.0.0.1:8000/admin)
#   scripts/demo.sh stop     stop everything it started
# Admin password: $GPUQ_ADMIN_PASSWORD, default "gpuq-demo". State lives in ./gpuq-demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo=$root/gpuq-demo
sim=$root/scripts/sim
gpuq=$root/build/master/gpuq
password=${GPUQ_ADMIN_PASSWORD:-gpuq-demo}
server=http://127.0.0.1:8000

stop_demo() {
  if [ -f "$demo/master.pid" ]; then
    kill "$(cat "$demo/master.pid")" 2>/dev/null || true
    rm -f "$demo/master.pid"
  fi
  if [ -f "$demo/foreign.pid" ]; then
    "$sim/simctl" stop-foreign "$demo/nodes/node2/sim" "$(cat "$demo/foreign.pid")" 2>/dev/null || true
    rm -f "$demo/foreign.pid"
  fi
  [ -d "$demo/nodes" ] && "$sim/nodes.sh" stop --base "$demo/nodes" >/dev/null 2>&1 || true
  rm -rf "$demo/nodes"
  echo "demo stopped"
}

if [ "${1:-}" = stop ]; then
  stop_demo
  exit 0
fi
if [ -f "$demo/master.pid" ] && kill -0 "$(cat "$demo/master.pid")" 2>/dev/null; then
  echo "the demo is already running; scripts/demo.sh stop first" >&2
  exit 1
fi

scripts/build.sh
mkdir -p "$demo"
rm -rf "$demo/nodes"
[ -f "$demo/id_demo" ] || "$sim/nodes.sh" keygen "$demo/id_demo" >/dev/null
"$sim/nodes.sh" start --base "$demo/nodes" --count 2 --gpus 8 --model "NVIDIA A100-SXM4-80GB" \
  --first-ip 127.0.0.101 --port 2201 --authorized-keys "$demo/id_demo.pub" >/dev/null
"$sim/simctl" init "$demo/nodes/node2/sim" --gpus 4 --model "NVIDIA GeForce RTX 3090" \
  --mem-mib 24576 >/dev/null
"$sim/simctl" foreign "$demo/nodes/node2/sim" --gpu 1 --mem-mib 12000 --util 35 \
  >"$demo/foreign.pid"

GPUQ_ADMIN_PASSWORD=$password nohup "$gpuq" master --listen 127.0.0.1:8000 \
  --data "$demo/data" >"$demo/master.log" 2>&1 &
echo $! >"$demo/master.pid"
for _ in $(seq 50); do
  curl -fs "$server/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$server/healthz" >/dev/null || { cat "$demo/master.log"; exit 1; }

export GPUQ_SERVER=$server
echo "$password" | "$gpuq" login --user admin >/dev/null
"$gpuq" credential set --remote-user root --key "$demo/id_demo" >/dev/null
"$gpuq" node add node1 127.0.0.101 --port 2201 >/dev/null
"$gpuq" node add node2 127.0.0.102 --port 2201 >/dev/null

# Put `gpuq` on the PATH when that place is free (or already ours).
link=/usr/local/bin/gpuq
if [ -w "$(dirname "$link")" ] && { [ ! -e "$link" ] || [ "$(readlink "$link")" = "$gpuq" ]; }; then
  ln -sf "$gpuq" "$link"
fi
sleep 2
"$gpuq" nodes
cat <<MSG

gpuq demo is running: master on $server (admin / $password), log in $demo/master.log
  $server/admin   the web panel (same account)
  gpuq nodes                    every GPU, live
  curl -H "Authorization: Bearer \$TOKEN" $server/api/v1/gpus
  scripts/demo.sh stop          stop it all
MSG
