# gpuq remote side: the node end of a node link.
#
# The master starts this once per SSH session (sh -c) and keeps it open. It reads one request
# per line on stdin, "SEQ VERB [ARG]", and answers on stdout between framing lines:
#   @gpuq SEQ begin
#   @gpuq SEQ section NAME      (the section's raw text follows)
#   @gpuq SEQ rc NAME CODE      (exit code of the command that made section NAME)
#   @gpuq SEQ end
# Needs nothing on the node but sh, coreutils, ps, awk and the GPU tool itself.
# Every word from the master arrives as data on stdin, never as shell text.
set -u
umask 077
limit=""
if command -v timeout >/dev/null 2>&1; then limit="timeout 20"; fi

say() { printf '@gpuq %s %s\n' "$seq" "$*"; }

# probe_smi SMI: GPUs, their compute processes, and the accounts that own those processes.
probe_smi() {
  smi=$1
  say section gpus
  $limit "$smi" --query-gpu=@QUERY_GPU_FIELDS@ --format=csv,noheader,nounits 2>&1
  say rc gpus $?
  apps=$($limit "$smi" --query-compute-apps=@QUERY_APPS_FIELDS@ --format=csv,noheader,nounits 2>&1)
  rc=$?
  say section apps
  [ -n "$apps" ] && printf '%s\n' "$apps"
  say rc apps $rc
  pids=$(printf '%s\n' "$apps" | awk -F', *' '$2 ~ /^[0-9]+$/ { printf "%s%s", sep, $2; sep = "," }')
  say section users
  if [ -n "$pids" ]; then ps -o pid=,user= -p "$pids" 2>/dev/null; fi
  say rc users 0
}

probe_gpustat() {
  say section gpustat
  $limit gpustat --json 2>&1
  say rc gpustat $?
}

# --- runs -------------------------------------------------------------------------------
# A run lives in $runs/ID: command, workdir, env.sh (written from the master's words, decoded
# from base64 so every byte arrives as typed), pid (its process group), output.log and,
# once it ended, exit_code. The runner below is started with setsid, so the run survives this
# shell, the SSH session and the master. Its end is appended to $gpuq/events, which the
# master follows with `tail -F` on another channel of the same session.
gpuq=$HOME/.gpuq
runs=$gpuq/runs
mkdir -p "$runs"
: >>"$gpuq/events"

# The runner stays outside the command's process group (the command gets its own session via
# setsid), so killing the group never kills the runner: it still records the exit code.
cat >"$gpuq/runner.sh" <<'RUNNER'
d=$1
id=${d##*/}
echo "$$" >"$d/runner"
wd=$(cat "$d/workdir")
[ -n "$wd" ] || wd=$HOME
if cd -- "$wd" 2>>"$d/output.log"; then
  GPUQ_RUN_DIR=$d setsid bash -l -c '. "$GPUQ_RUN_DIR/env.sh" && . "$GPUQ_RUN_DIR/command"' \
    >>"$d/output.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$d/pid.tmp" && mv "$d/pid.tmp" "$d/pid"
  echo "start $id $pid" >>"$HOME/.gpuq/events"
  wait "$pid"
  rc=$?
else
  echo "gpuq: cannot enter the workdir '$wd'" >>"$d/output.log"
  echo 0 >"$d/pid.tmp" && mv "$d/pid.tmp" "$d/pid"
  rc=126
fi
echo "$rc" >"$d/exit_code.tmp" && mv "$d/exit_code.tmp" "$d/exit_code"
echo "exit $id $rc" >>"$HOME/.gpuq/events"
RUNNER

decode() { if [ "$1" = - ]; then :; else printf '%s' "$1" | base64 -d; fi; }

# launch ID B64_COMMAND B64_WORKDIR B64_ENV: starts the run once; a second launch of the
# same ID (a retry after a lost answer) reports the first one instead of starting again.
launch() {
  set -- $1
  d=$runs/$1
  say section launch
  if mkdir "$d" 2>/dev/null; then
    decode "$2" >"$d/command" && decode "$3" >"$d/workdir" && decode "$4" >"$d/env.sh"
    : >"$d/output.log"
    setsid sh "$gpuq/runner.sh" "$d" </dev/null >/dev/null 2>&1 &
    i=0
    while [ ! -s "$d/pid" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
    echo "started $(cat "$d/pid" 2>/dev/null)"
  else
    echo "exists $(cat "$d/pid" 2>/dev/null)"
  fi
  say rc launch 0
}

# run_state ID: "ID running PID", "ID exited CODE", "ID gone" (no code, no process) or
# "ID unknown" (never launched here).
run_state() {
  d=$runs/$1
  if [ ! -d "$d" ]; then echo "$1 unknown"; return; fi
  if [ -s "$d/exit_code" ]; then echo "$1 exited $(cat "$d/exit_code")"; return; fi
  pid=$(cat "$d/pid" 2>/dev/null)
  if [ -n "$pid" ] && kill -s 0 -- "-$pid" 2>/dev/null; then echo "$1 running $pid"; return; fi
  # The command is gone but its runner may not have written the code yet (a busy node can
  # keep it waiting a while): wait up to 50 ms for it, and up to 0.5 s while the runner
  # lives. A runner still alive after that means the run is ending, not lost.
  i=0
  while [ ! -s "$d/exit_code" ] && [ $i -lt 50 ] && { [ $i -lt 5 ] || runner_alive "$d"; }; do
    sleep 0.01
    i=$((i + 1))
  done
  if [ -s "$d/exit_code" ]; then echo "$1 exited $(cat "$d/exit_code")"; return; fi
  if runner_alive "$d"; then echo "$1 running $pid"; else echo "$1 gone"; fi
}

# runner_alive DIR: the runner of the run in DIR is still running. Its command line names
# the run folder, so a pid reused by another process does not count.
runner_alive() {
  r=$(cat "$1/runner" 2>/dev/null)
  [ -n "$r" ] || return 1
  case "$(tr '\0' ' ' <"/proc/$r/cmdline" 2>/dev/null)" in
  *"runner.sh $1 "*) return 0 ;;
  *) return 1 ;;
  esac
}

# signal SIG ID...: signals each run's whole process group; answers with the states after.
signal_runs() {
  set -- $1
  sig=$1
  shift
  say section runs
  for id in "$@"; do
    pid=$(cat "$runs/$id/pid" 2>/dev/null)
    [ -n "$pid" ] && kill -s "$sig" -- "-$pid" 2>/dev/null
    if [ -n "$pid" ] && kill -s 0 -- "-$pid" 2>/dev/null; then
      echo "$id alive"
    else
      echo "$id dead"
    fi
  done
  say rc runs 0
}

# read ID OFFSET MAX: up to MAX bytes of the run's output from byte OFFSET, base64-encoded
# so that no output can break the framing; then the file's size.
read_log() {
  set -- $1
  f=$runs/$1/output.log
  say section log
  if [ -f "$f" ]; then tail -c "+$(($2 + 1))" "$f" | head -c "$3" | base64 -w 0; echo; fi
  say section size
  if [ -f "$f" ]; then wc -c <"$f"; else echo -1; fi
  say rc size 0
}

while IFS= read -r line; do
  seq=${line%% *}
  rest=${line#"$seq"}
  rest=${rest# }
  verb=${rest%% *}
  arg=${rest#"$verb"}
  arg=${arg# }
  say begin
  case $verb in
    ping) ;;
    launch) launch "$arg" ;;
    status)
      say section runs
      for id in $arg; do run_state "$id"; done
      say rc runs 0
      ;;
    signal) signal_runs "$arg" ;;
    read) read_log "$arg" ;;
    probe)
      case $arg in
        gpustat) probe_gpustat ;;
        *) probe_smi "$arg" ;;
      esac
      ;;
    *)
      say section error
      printf 'unknown request: %s\n' "$verb"
      say rc error 2
      ;;
  esac
  say end
done
