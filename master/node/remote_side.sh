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
# The master probes after every run end, so this forks only the tools themselves: the apps
# list goes through a file and the shell's `read`, not $(...) and awk.
probe_smi() {
  smi=$1
  say section gpus
  $limit "$smi" --query-gpu=@QUERY_GPU_FIELDS@ --format=csv,noheader,nounits 2>&1
  say rc gpus $?
  $limit "$smi" --query-compute-apps=@QUERY_APPS_FIELDS@ --format=csv,noheader,nounits \
    >"$probe_out" 2>&1
  rc=$?
  say section apps
  # Each line as it came; the pids are the second field of the lines where it is a number.
  pids=
  line=
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%s\n' "$line"
    case $line in
    *,*)
      p=${line#*,}
      p=${p#"${p%%[! ]*}"}
      p=${p%%,*}
      case $p in '' | *[!0-9]*) ;; *) pids=$pids${pids:+,}$p ;; esac
      ;;
    esac
    line=
  done <"$probe_out"
  say rc apps $rc
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
# A run lives in files $runs/ID.NAME (all made by the shell's own redirections; a folder per
# run would cost a mkdir process): runner ("PID START": the runner's pid and its start time;
# made first, exclusively, so it also claims the ID), command, workdir, env.sh (written from
# the master's words, decoded by printf '%b' so every byte arrives as typed), pid (the
# command's process group, once started), output.log and, once it ended, exit_code. Runs
# started by an older remote side live in a folder $runs/ID/NAME and are still answered for.
# A run's start and end are appended to $gpuq/events, which the master follows with
# `tail -F` on another channel of the same session.
#
# Launching is on every task's path, so it forks as little as it can: fields are decoded by a
# builtin, the runner is a forked subshell of this shell (no exec: only setsid and the login
# shell are started), files are read with `read` and written with one echo each (a reader
# sees an empty file or the whole line, so empty counts as absent), and the launch is
# answered without waiting for the command's pid: the "start ID PID" event brings it. The
# runner needs no session of its own: without a terminal nothing signals this shell's group
# when the SSH session, the link or the master goes away, and it holds no channel open (its
# stdin and output are /dev/null).
gpuq=$HOME/.gpuq
runs=$gpuq/runs
events=$gpuq/events
mkdir -p "$runs"
: >>"$events"
# This shell's own scratch file for probe output (another shell of the account may probe too).
probe_out=$gpuq/probe.$$
trap 'rm -f "$probe_out"' EXIT

# runner PREFIX ID, in a forked subshell of this shell (a fork, no exec): enters the workdir
# (the login set-up runs there, as the command does), starts the command in `bash -l`
# (INTERFACE.md: profile-based conda/venv set-up works) in a session and process group of its
# own (setsid), so that killing that group never kills the runner, and records its exit
# code. The command is the login shell itself, so its $$ is its process group, as a script's
# `kill -- -$$` expects.
runner() {
  wd=
  IFS= read -r wd <"${1}workdir" || :
  [ -n "$wd" ] || wd=$HOME
  if cd -- "$wd" 2>>"${1}output.log"; then
    GPUQ_RUN_FILES=$1 setsid bash -l -c \
      '. "${GPUQ_RUN_FILES}env.sh" && . "${GPUQ_RUN_FILES}command"' \
      >>"${1}output.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"${1}pid"
    echo "start $2 $pid" >>"$events"
    wait "$pid"
    rc=$?
  else
    echo "gpuq: cannot enter the workdir '$wd'" >>"${1}output.log"
    rc=126
  fi
  echo "$rc" >"${1}exit_code"
  echo "exit $2 $rc" >>"$events"
}

# run_files ID: sets `p`, the prefix of the run's files ("$runs/ID." or, for a run of an older
# remote side, "$runs/ID/"); false when the ID was never launched here.
run_files() {
  if [ -d "$runs/$1" ]; then
    p=$runs/$1/
    return 0
  fi
  p=$runs/$1.
  [ -e "${p}runner" ]
}

# claim FILE: creates FILE only if it does not exist yet (O_EXCL, through noclobber).
claim() {
  set -C
  { : >"$1"; } 2>/dev/null
  claimed=$?
  set +C
  return $claimed
}

# field ESCAPED: writes a field as the master sent it: "-" is empty, anything else is text
# for printf '%b', in which the master escaped every byte that is not a plain word character
# as \0NNN (a builtin: no fork, and only backslash escapes are interpreted, never shell text).
field() { [ "$1" = - ] || printf '%b' "$1"; }

# proc_start PID: sets `start` to the process's start time (field 22 of /proc/PID/stat, after
# the command name, which may hold spaces); false when there is no such process.
proc_start() {
  start=
  st=
  IFS= read -r st 2>/dev/null <"/proc/$1/stat" || [ -n "$st" ] || return 1
  set -- ${st##*") "}
  [ $# -ge 20 ] || return 1
  shift 19
  start=$1
}

# read_pid PREFIX: sets `pid` to the run's process group, empty while unknown. Never 0: kill
# with -0 would signal this shell's own group.
read_pid() {
  pid=
  IFS= read -r pid 2>/dev/null <"${1}pid" || :
  case $pid in '' | 0 | *[!0-9]*) pid= ;; esac
}

# launch ID COMMAND WORKDIR ENV (each escaped as for `field`): starts the run once; a second
# launch of the same ID (a retry after a lost answer) reports the first one instead of
# starting again. Answers "started", or "exists PID" (PID empty while not yet known).
launch() {
  set -f
  set -- $1
  set +f
  say section launch
  if ! run_files "$1" && claim "${p}runner"; then
    field "$2" >"${p}command" && field "$3" >"${p}workdir" && field "$4" >"${p}env.sh" &&
      : >"${p}output.log"
    (runner "$p" "$1") </dev/null >/dev/null 2>&1 &
    r=$!
    proc_start "$r" || start=
    echo "$r $start" >"${p}runner"
    echo "started"
  else
    read_pid "$p"
    echo "exists $pid"
  fi
  say rc launch 0
}

# run_state ID: "ID running PID", "ID exited CODE", "ID gone" (no code, no process) or
# "ID unknown" (never launched here).
run_state() {
  if ! run_files "$1"; then echo "$1 unknown"; return; fi
  if [ -s "${p}exit_code" ]; then exit_state "$1"; return; fi
  read_pid "$p"
  if [ -n "$pid" ] && kill -s 0 -- "-$pid" 2>/dev/null; then echo "$1 running $pid"; return; fi
  # The command is gone (or not started yet) but its runner may not have written the code
  # yet (a busy node can keep it waiting a while): wait up to 50 ms for it, and up to 0.5 s
  # while the runner lives. A runner still alive after that means the run is ending, not lost.
  i=0
  while [ ! -s "${p}exit_code" ] && [ $i -lt 50 ] && { [ $i -lt 5 ] || runner_alive "$p"; }; do
    sleep 0.01
    i=$((i + 1))
  done
  if [ -s "${p}exit_code" ]; then exit_state "$1"; return; fi
  read_pid "$p"
  if runner_alive "$p"; then echo "$1 running $pid"; else echo "$1 gone"; fi
}

exit_state() {
  code=
  IFS= read -r code <"${p}exit_code" || :
  echo "$1 exited $code"
}

# runner_alive PREFIX: the runner of the run whose files start with PREFIX is still running.
# Its pid and start time must both match, so a pid reused by another process does not count.
# (Runs started by an older remote side have only the pid, and a runner.sh whose command line
# names the folder.)
runner_alive() {
  rl=
  IFS= read -r rl 2>/dev/null <"${1}runner" || :
  set -f
  set -- "${1%/}" $rl
  set +f
  [ $# -ge 2 ] || return 1
  if [ $# -ge 3 ]; then
    proc_start "$2" && [ "$start" = "$3" ]
    return
  fi
  case "$(tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null)" in
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
    pid=
    run_files "$id" && read_pid "$p"
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
  f=
  run_files "$1" && f=${p}output.log
  say section log
  # An empty log (the common case at a run's end) costs no process at all.
  if [ -n "$f" ] && [ -s "$f" ]; then
    tail -c "+$(($2 + 1))" "$f" | head -c "$3" | base64 -w 0
    echo
  elif [ -n "$f" ] && [ -f "$f" ]; then
    echo
  fi
  say section size
  if [ -n "$f" ] && [ -s "$f" ]; then
    wc -c <"$f"
  elif [ -n "$f" ] && [ -f "$f" ]; then
    echo 0
  else
    echo -1
  fi
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
