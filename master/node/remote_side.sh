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
