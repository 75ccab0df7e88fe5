#!/bin/sh
# nodes.sh: simulated GPU nodes for gpuq's tests, each a real sshd on its own loopback address
# with its own host key, config, HOME and simulated GPUs (see README.md in this folder).
#
#   nodes.sh start --base DIR --count N --authorized-keys FILE [--gpus 8] [--model M]
#                  [--mem-mib 81920] [--first-ip 127.0.0.11] [--port P] [--shared-home]
#   nodes.sh stop --base DIR [NAME...]        # all nodes when no NAME; waits until gone
#   nodes.sh start-node --base DIR NAME       # restart a stopped node (same key and address)
#   nodes.sh hang --base DIR NAME             # SIGSTOP the listener and its connections
#   nodes.sh resume --base DIR NAME           # SIGCONT them
#   nodes.sh rekey --base DIR NAME            # new host key, restart
#   nodes.sh reap --base DIR [NAME...]        # end processes started in the nodes' sessions
#   nodes.sh cleanup --base DIR               # stop all + reap all
#   nodes.sh status --base DIR                # refresh and print DIR/nodes.json
#   nodes.sh keygen FILE                      # client key pair FILE, FILE.pub if missing
#   nodes.sh free-port [--first-ip IP] [--count N]   # a port free on N consecutive IPs
#
# Everything is found and stopped by pid files, never by process-name patterns, so several
# test runs can use this at once as long as each picks its own IPs or port.
set -eu

SIM=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
SSHD=${GPUQ_SSHD:-/usr/sbin/sshd}
PY=${GPUQ_SIM_PYTHON:-python3}

die() {
	echo "nodes.sh: $*" >&2
	exit 1
}

usage() {
	sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# ip_add IP N: IP plus N, carrying across octets.
ip_add() {
	_r=$1
	_a=${_r%%.*}; _r=${_r#*.}
	_b=${_r%%.*}; _r=${_r#*.}
	_c=${_r%%.*}; _d=${_r#*.}
	_v=$(( (_a << 24) + (_b << 16) + (_c << 8) + _d + $2 ))
	echo "$(( (_v >> 24) & 255 )).$(( (_v >> 16) & 255 )).$(( (_v >> 8) & 255 )).$(( _v & 255 ))"
}

# alive PID: the process exists and is not a zombie.
alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

# free_port FIRST_IP COUNT: a TCP port that binds on all COUNT addresses from FIRST_IP.
free_port() {
	"$PY" -I -S - "$1" "$2" <<'EOF'
import socket, sys
first, count = sys.argv[1], int(sys.argv[2])
base = int.from_bytes(socket.inet_aton(first), "big")
ips = [socket.inet_ntoa((base + i).to_bytes(4, "big")) for i in range(count)]
for attempt in range(100):
    socks = []
    try:
        s = socket.socket(); socks.append(s); s.bind((ips[0], 0)); port = s.getsockname()[1]
        for ip in ips[1:]:
            t = socket.socket(); socks.append(t); t.bind((ip, port))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port found")
EOF
}

json_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

node_dir() { echo "$BASE/$1"; }

load_node() {
	ND=$(node_dir "$1")
	[ -f "$ND/node.conf" ] || die "no node $1 under $BASE"
	# shellcheck disable=SC1091
	. "$ND/node.conf"
	PIDFILE=$ND/sshd.pid
	CFG=$ND/sshd_config
	HOSTKEY=$ND/ssh_host_ed25519_key
}

node_pid() {
	_p=$(cat "$PIDFILE" 2>/dev/null || true)
	# Only a live sshd started with this node's config counts (pid files can go stale).
	if alive "$_p" && tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | grep -qF -- "$CFG"; then
		echo "$_p"
	fi
}

# sshd_tree PID: the sshd processes below PID (per-connection children), not PID itself.
sshd_tree() {
	ps -e -o pid= -o ppid= -o comm= | awk -v root="$1" '
		{ pid[NR] = $1; ppid[NR] = $2; comm[NR] = $3 }
		END {
			want[root] = 1; changed = 1
			while (changed) {
				changed = 0
				for (i = 1; i <= NR; i++)
					if (!(pid[i] in want) && (ppid[i] in want) && comm[i] == "sshd") { want[pid[i]] = 1; changed = 1 }
			}
			for (p in want) if (p != root) print p
		}'
}

write_config() {
	cat >"$CFG" <<EOF
# gpuq simulated node $NAME (written by scripts/sim/nodes.sh)
ListenAddress $HOST:$PORT
HostKey "$HOSTKEY"
PidFile "$PIDFILE"
AuthorizedKeysFile "$ND/authorized_keys"
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitUserEnvironment no
UseDNS no
MaxSessions 64
MaxStartups 100
LoginGraceTime 30
PrintMotd no
X11Forwarding no
Subsystem sftp internal-sftp
LogLevel ERROR
SetEnv $SETENV
EOF
}

start_one() { # NAME; returns 0 when the node listens, 1 when sshd failed (e.g. port taken)
	load_node "$1"
	if [ -n "$(node_pid)" ]; then
		return 0
	fi
	rm -f "$PIDFILE" "$ND/hung"
	: >>"$ND/sshd.log"
	_before=$(wc -l <"$ND/sshd.log")
	"$SSHD" -f "$CFG" -E "$ND/sshd.log" </dev/null || return 1
	_i=0
	while [ $_i -lt 200 ]; do
		# sshd writes its pid file only after its listening socket is bound.
		if [ -s "$PIDFILE" ] && [ -n "$(node_pid)" ]; then
			return 0
		fi
		if tail -n +"$((_before + 1))" "$ND/sshd.log" | grep -q -e 'Cannot bind' -e 'fatal'; then
			return 1
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

stop_one() { # NAME: TERM the listener and its connections, wait, KILL leftovers
	load_node "$1"
	_p=$(node_pid)
	if [ -n "$_p" ]; then
		# Freeze the listener first: a connection it accepted between listing
		# its children and killing them would otherwise outlive the node.
		kill -STOP "$_p" 2>/dev/null || true
		_all="$_p $(sshd_tree "$_p" | tr '\n' ' ')"
		# shellcheck disable=SC2086
		kill -TERM $_all 2>/dev/null || true
		# shellcheck disable=SC2086
		kill -CONT $_all 2>/dev/null || true # a hung node must wake up to die
		_i=0
		while :; do
			_left=""
			for _q in $_all; do
				if alive "$_q"; then _left="$_left $_q"; fi
			done
			[ -z "$_left" ] && break
			if [ $_i -ge 100 ]; then
				# shellcheck disable=SC2086
				kill -KILL $_left 2>/dev/null || true
			fi
			if [ $_i -ge 200 ]; then
				die "sshd of $NAME did not stop (pids$_left)"
			fi
			sleep 0.05
			_i=$((_i + 1))
		done
	fi
	rm -f "$PIDFILE" "$ND/hung"
}

signal_node() { # NAME SIGNAL
	load_node "$1"
	_p=$(node_pid)
	[ -n "$_p" ] || die "node $1 is not running"
	# Collect the tree before stopping anything; a stopped parent cannot fork new ones.
	_all="$_p $(sshd_tree "$_p" | tr '\n' ' ')"
	# shellcheck disable=SC2086
	kill "-$2" $_all
}

write_json() {
	_out=$BASE/nodes.json
	_tmp=$_out.tmp.$$
	_user=$(id -un)
	{
		printf '[\n'
		_first=1
		while IFS= read -r _name; do
			[ -n "$_name" ] || continue
			load_node "$_name"
			_pid=$(node_pid)
			_fpline=$(ssh-keygen -lf "$HOSTKEY.pub" </dev/null)
			_fp=$(echo "$_fpline" | awk '{print $2}')
			if [ -z "$_pid" ]; then
				_state=stopped
			elif [ -f "$ND/hung" ]; then
				_state=hung
			else
				_state=running
			fi
			[ $_first = 1 ] || printf ',\n'
			_first=0
			printf '  {"name": %s, "host": %s, "port": %s, "user": %s, "dir": %s, "sim_dir": %s, "home": %s, "host_key_sha256": %s, "host_key_line": %s, "host_key_pub": %s, "pid": %s, "state": %s}' \
				"$(json_str "$NAME")" "$(json_str "$HOST")" "$PORT" "$(json_str "$_user")" \
				"$(json_str "$ND")" "$(json_str "$ND/sim")" "$(json_str "$NODE_HOME")" \
				"$(json_str "$_fp")" "$(json_str "$_fpline")" "$(json_str "$HOSTKEY.pub")" \
				"${_pid:-null}" "$(json_str "$_state")"
		done <"$BASE/nodes.list"
		printf '\n]\n'
	} >"$_tmp"
	mv "$_tmp" "$_out"
}

cmd_start() {
	COUNT="" GPUS=8 MODEL="NVIDIA A100-SXM4-80GB" MEM=81920 FIRST_IP=127.0.0.11 PORT_ARG="" AK="" SHARED_HOME=0
	while [ $# -gt 0 ]; do
		case $1 in
		--base) BASE=$2; shift 2 ;;
		--count) COUNT=$2; shift 2 ;;
		--gpus) GPUS=$2; shift 2 ;;
		--model) MODEL=$2; shift 2 ;;
		--mem-mib) MEM=$2; shift 2 ;;
		--first-ip) FIRST_IP=$2; shift 2 ;;
		--port) PORT_ARG=$2; shift 2 ;;
		--authorized-keys) AK=$2; shift 2 ;;
		--shared-home) SHARED_HOME=1; shift ;;
		*) usage ;;
		esac
	done
	if [ -z "${BASE:-}" ] || [ -z "$COUNT" ] || [ -z "$AK" ]; then usage; fi
	[ -f "$AK" ] || die "no authorized keys file $AK"
	case $FIRST_IP in 127.*) ;; *) die "--first-ip must be a 127.0.0.0/8 address" ;; esac
	mkdir -p "$BASE"
	BASE=$(CDPATH='' cd -- "$BASE" && pwd -P)
	if [ ! -d /run/sshd ]; then # sshd's privilege separation folder
		mkdir -p /run/sshd
		chmod 0755 /run/sshd
	fi
	[ ! -f "$BASE/nodes.list" ] || die "$BASE already has nodes; stop them or use another --base"

	_tries=1
	[ -n "$PORT_ARG" ] || _tries=5
	_try=0
	while :; do
		_try=$((_try + 1))
		PORT=${PORT_ARG:-$(free_port "$FIRST_IP" "$COUNT")}
		: >"$BASE/nodes.list.tmp"
		_i=1
		while [ "$_i" -le "$COUNT" ]; do
			NAME=node$_i
			HOST=$(ip_add "$FIRST_IP" $((_i - 1)))
			ND=$BASE/$NAME
			mkdir -p "$ND/home"
			[ -f "$ND/ssh_host_ed25519_key" ] ||
				ssh-keygen -q -t ed25519 -N '' -C "gpuq-sim-$NAME" -f "$ND/ssh_host_ed25519_key"
			cp "$AK" "$ND/authorized_keys"
			chmod 600 "$ND/authorized_keys"
			if [ "$SHARED_HOME" = 1 ]; then
				NODE_HOME=$(getent passwd "$(id -un)" | cut -d: -f6)
				SETENV="\"GPUQ_SIM_DIR=$ND/sim\" \"PATH=$SIM:/usr/local/bin:/usr/bin:/bin\""
			else
				NODE_HOME=$ND/home
				SETENV="\"GPUQ_SIM_DIR=$ND/sim\" \"PATH=$SIM:/usr/local/bin:/usr/bin:/bin\" \"HOME=$NODE_HOME\""
				cat >"$NODE_HOME/.profile" <<EOF
# gpuq simulated node $NAME: /etc/profile resets PATH for login shells (bash -l, sh -l);
# put the simulated nvidia-smi, gpustat and gpuq-sim-work first again.
PATH="$SIM:\$PATH"
export PATH
EOF
			fi
			cat >"$ND/node.conf" <<EOF
NAME='$NAME'
HOST='$HOST'
PORT='$PORT'
NODE_HOME='$NODE_HOME'
SETENV='$SETENV'
EOF
			[ -f "$ND/sim/gpus.json" ] ||
				"$PY" -I -S "$SIM/simctl" init "$ND/sim" --gpus "$GPUS" --model "$MODEL" --mem-mib "$MEM" --hostname "$NAME" >/dev/null
			CFG=$ND/sshd_config HOSTKEY=$ND/ssh_host_ed25519_key PIDFILE=$ND/sshd.pid
			write_config
			echo "$NAME" >>"$BASE/nodes.list.tmp"
			_i=$((_i + 1))
		done
		mv "$BASE/nodes.list.tmp" "$BASE/nodes.list"
		_failed=""
		while IFS= read -r _name; do
			if ! start_one "$_name"; then
				_failed=$_name
				break
			fi
		done <"$BASE/nodes.list"
		[ -n "$_failed" ] || break
		while IFS= read -r _name; do stop_one "$_name"; done <"$BASE/nodes.list"
		_log=$(tail -n 3 "$BASE/$_failed/sshd.log" 2>/dev/null || true)
		rm -f "$BASE/nodes.list"
		if [ "$_try" -ge "$_tries" ]; then
			die "sshd of $_failed did not start on port $PORT: $_log"
		fi
	done
	write_json
	echo "$BASE/nodes.json"
}

names_or_all() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@"
	else
		cat "$BASE/nodes.list"
	fi
}

parse_base() { # sets BASE, leaves the rest in REST (newline-free names only)
	BASE=""
	REST=""
	while [ $# -gt 0 ]; do
		case $1 in
		--base) BASE=$2; shift 2 ;;
		-*) usage ;;
		*) REST="$REST $1"; shift ;;
		esac
	done
	[ -n "$BASE" ] || usage
	[ -d "$BASE" ] || die "no such base $BASE"
	BASE=$(CDPATH='' cd -- "$BASE" && pwd -P)
	[ -f "$BASE/nodes.list" ] || die "no nodes under $BASE"
}

one_name() {
	# shellcheck disable=SC2086
	set -- $REST
	[ $# -eq 1 ] || usage
	echo "$1"
}

[ $# -ge 1 ] || usage
CMD=$1
shift
case $CMD in
start)
	cmd_start "$@"
	;;
stop)
	parse_base "$@"
	# shellcheck disable=SC2086
	for n in $(names_or_all $REST); do stop_one "$n"; done
	write_json
	;;
start-node)
	parse_base "$@"
	n=$(one_name)
	start_one "$n" || die "sshd of $n did not start: $(tail -n 3 "$BASE/$n/sshd.log")"
	write_json
	;;
hang)
	parse_base "$@"
	n=$(one_name)
	signal_node "$n" STOP
	: >"$BASE/$n/hung"
	write_json
	;;
resume)
	parse_base "$@"
	n=$(one_name)
	signal_node "$n" CONT
	rm -f "$BASE/$n/hung"
	write_json
	;;
rekey)
	parse_base "$@"
	n=$(one_name)
	stop_one "$n"
	rm -f "$HOSTKEY" "$HOSTKEY.pub"
	ssh-keygen -q -t ed25519 -N '' -C "gpuq-sim-$n" -f "$HOSTKEY"
	start_one "$n" || die "sshd of $n did not start: $(tail -n 3 "$BASE/$n/sshd.log")"
	write_json
	;;
reap)
	parse_base "$@"
	if [ -z "$REST" ]; then
		"$PY" -I -S "$SIM/simctl" reap "$BASE"
	else
		# shellcheck disable=SC2086
		for n in $REST; do "$PY" -I -S "$SIM/simctl" reap "$BASE/$n"; done
	fi
	;;
cleanup)
	parse_base "$@"
	for n in $(names_or_all); do stop_one "$n"; done
	"$PY" -I -S "$SIM/simctl" reap "$BASE"
	write_json
	;;
status)
	parse_base "$@"
	write_json
	cat "$BASE/nodes.json"
	;;
keygen)
	[ $# -eq 1 ] || usage
	[ -f "$1" ] || ssh-keygen -q -t ed25519 -N '' -C gpuq-sim-client -f "$1"
	;;
free-port)
	ip=127.0.0.11 count=1
	while [ $# -gt 0 ]; do
		case $1 in
		--first-ip) ip=$2; shift 2 ;;
		--count) count=$2; shift 2 ;;
		*) usage ;;
		esac
	done
	free_port "$ip" "$count"
	;;
-h | --help | help)
	usage
	;;
*)
	usage
	;;
esac
