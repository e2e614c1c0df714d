#!/usr/bin/env bash
# Runs the whole platform on this machine as private processes: PostgreSQL,
# RabbitMQ (with its own epmd), a local S3 server (s3rver), the four services
# under small supervisors, nginx as the gateway, and Prometheus on the
# platform's alert rules (observability/). Nothing is shared with
# the system's own services or with another stack: every component has its
# own ports, and every data folder, log, pid file and rendered config lives
# under $RAP_STATE_DIR. So a developer's stack and the test suite's stack run
# side by side.
#
# Usage: scripts/stack.sh up | down | status | logs [-f|--no-follow] [NAME...]
#
#   up      starts what is not running yet (idempotent), waits until every
#           component answers, prints the URL. On failure it prints the
#           failing component's log tail, stops what it started, exits 1.
#   down    stops exactly what up started, found by its pid files.
#   stop rabbitmq|postgres
#           stops only that server (fault drills); `up` starts it again.
#   status  one line per component; exit 0 when all are up, 3 otherwise.
#   logs    tails the service logs (follows when stdout is a terminal).
#
# Configuration (environment, with defaults):
#   RAP_STATE_DIR=<repo>/.state  RAP_BUILD_DIR=<repo>/build
#   RAP_GATEWAY_PORT=8080  RAP_UPLOAD_PORT=8101  RAP_JOB_PORT=8102
#   RAP_NOTIFIER_PORT=8103  RAP_WORKER_PORT=8104 (worker i: +i-1)  RAP_WORKERS=2
#   RAP_NOTIFIERS=2 (notifier instances behind the gateway, 1..8)
#   RAP_UPLOAD_ADMIN_PORT=8180  RAP_JOB_ADMIN_PORT=8181 (health and metrics of
#   upload-api and job-api on a listener a flood of their main port cannot starve)
#   RAP_NOTIFIER_ADMIN_PORT=8190 (notifier i: health and metrics on +2(i-1);
#   notifier i>1 takes WebSockets on +2(i-1)+1, the first on RAP_NOTIFIER_PORT)
#   RAP_PG_PORT=5439  RAP_AMQP_PORT=5679  RAP_AMQP_MGMT_PORT=15679
#   RAP_AMQP_DIST_PORT=25679  RAP_AMQP_EPMD_PORT=RAP_AMQP_DIST_PORT+1
#   RAP_AMQP_METRICS_PORT=RAP_AMQP_MGMT_PORT+20 (RabbitMQ's Prometheus exporter)
#   RAP_S3_PORT=9100  RAP_S3_BUCKET=rap-data  RAP_LOG_LEVEL=info
#   RAP_AMQP_CONSUMER_TIMEOUT_MS=1800000 (RabbitMQ's consumer_timeout: a channel
#   whose delivery stays unacked longer is closed; the tests shorten it)
#   RAP_AMQP_CHANNEL_TICK_MS=60000 (how often RabbitMQ checks that timeout)
#   RAP_PROMETHEUS_PORT=9090 (0: no Prometheus)  RAP_PROMETHEUS_SCRAPE=15s
#   RAP_STACK_SERVICES=1 (0: infrastructure only: pg, rabbitmq, s3, nginx)
#   RAP_STACK_KEEP_ON_FAILURE=0 (1: leave a failed `up` running to inspect it)
#   RAP_READY_TIMEOUT=60 (s to wait for every service's /readyz)
# `up` records the values it used in $RAP_STATE_DIR/run/stack.env; down,
# status and logs (and an `up` that finds the stack running) use those, so
# only RAP_STATE_DIR has to match. Other RAP_* variables (RAP_API_KEYS, ...)
# pass through to the services unchanged.
#
# Needs root: PostgreSQL and RabbitMQ run as their own system users.
set -eEuo pipefail
# No silent exits: say which command failed where.
trap 'printf "stack: error: unexpected failure (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
RMQ_BIN=/usr/lib/rabbitmq/bin
SERVICE_STOP_TIMEOUT=20     # s, for services to finish in-flight work
READY_TIMEOUT=${RAP_READY_TIMEOUT:-60}

# ---------------------------------------------------------------- messages

say() { printf '%s\n' "$*"; }
warn() { printf 'stack: warning: %s\n' "$*" >&2; }
die() {
	printf 'stack: error: %s\n' "$*" >&2
	exit 1
}

# Prints the last lines of a log file to stderr, framed.
log_tail() {
	local file=$1 lines=${2:-40}
	if [[ -r $file ]]; then
		printf -- '---- last %s lines of %s\n' "$lines" "$file" >&2
		tail -n "$lines" "$file" >&2 || true
		printf -- '----\n' >&2
	else
		printf -- '---- (no log at %s)\n' "$file" >&2
	fi
}

# ---------------------------------------------------------------- config

# Checks that $2 is a TCP port number; $1 names the variable.
check_port() {
	if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
		die "$1=$2 is not a TCP port (1-65535)"
	fi
}

# Sets the state paths from RAP_STATE_DIR (made absolute).
set_paths() {
	STATE=${RAP_STATE_DIR:-$REPO/.state}
	[[ $STATE == /* ]] || STATE=$PWD/$STATE
	STATE=${STATE%/}
	RUN=$STATE/run
	LOGS=$STATE/logs
	NGINX_DIR=$STATE/nginx
	S3_DIR=$STATE/s3
	PROM_DIR=$STATE/prometheus
	ENV_FILE=$RUN/stack.env
}

# Reads the configuration from the environment and the defaults.
config_from_env() {
	BUILD_DIR=${RAP_BUILD_DIR:-$REPO/build}
	[[ $BUILD_DIR == /* ]] || BUILD_DIR=$PWD/$BUILD_DIR
	GATEWAY_PORT=${RAP_GATEWAY_PORT:-8080}
	UPLOAD_PORT=${RAP_UPLOAD_PORT:-8101}
	JOB_PORT=${RAP_JOB_PORT:-8102}
	NOTIFIER_PORT=${RAP_NOTIFIER_PORT:-8103}
	WORKER_PORT=${RAP_WORKER_PORT:-8104}
	WORKERS=${RAP_WORKERS:-2}
	NOTIFIERS=${RAP_NOTIFIERS:-2}
	NOTIFIER_ADMIN_PORT=${RAP_NOTIFIER_ADMIN_PORT:-8190}
	UPLOAD_ADMIN_PORT=${RAP_UPLOAD_ADMIN_PORT:-8180}
	JOB_ADMIN_PORT=${RAP_JOB_ADMIN_PORT:-8181}
	PG_PORT=${RAP_PG_PORT:-5439}
	AMQP_PORT=${RAP_AMQP_PORT:-5679}
	AMQP_MGMT_PORT=${RAP_AMQP_MGMT_PORT:-15679}
	AMQP_DIST_PORT=${RAP_AMQP_DIST_PORT:-25679}
	AMQP_EPMD_PORT=${RAP_AMQP_EPMD_PORT:-$((AMQP_DIST_PORT + 1))}
	AMQP_METRICS_PORT=${RAP_AMQP_METRICS_PORT:-$((AMQP_MGMT_PORT + 20))}
	S3_PORT=${RAP_S3_PORT:-9100}
	S3_BUCKET=${RAP_S3_BUCKET:-rap-data}
	LOG_LEVEL=${RAP_LOG_LEVEL:-info}
	SERVICES=${RAP_STACK_SERVICES:-1}
	PROM_PORT=${RAP_PROMETHEUS_PORT:-9090}
	PROM_SCRAPE=${RAP_PROMETHEUS_SCRAPE:-15s}
	AMQP_CONSUMER_TIMEOUT_MS=${RAP_AMQP_CONSUMER_TIMEOUT_MS:-1800000}
	AMQP_CHANNEL_TICK_MS=${RAP_AMQP_CHANNEL_TICK_MS:-60000}

	[[ $AMQP_CONSUMER_TIMEOUT_MS =~ ^[1-9][0-9]*$ ]] || die "RAP_AMQP_CONSUMER_TIMEOUT_MS=$AMQP_CONSUMER_TIMEOUT_MS is not a number of milliseconds"
	[[ $AMQP_CHANNEL_TICK_MS =~ ^[1-9][0-9]*$ ]] || die "RAP_AMQP_CHANNEL_TICK_MS=$AMQP_CHANNEL_TICK_MS is not a number of milliseconds"
	if ! [[ $WORKERS =~ ^[0-9]+$ ]] || ((WORKERS > 64)); then
		die "RAP_WORKERS=$WORKERS must be 0..64"
	fi
	if ! [[ $NOTIFIERS =~ ^[1-8]$ ]]; then
		die "RAP_NOTIFIERS=$NOTIFIERS must be 1..8"
	fi
	[[ $SERVICES == 0 || $SERVICES == 1 ]] || die "RAP_STACK_SERVICES must be 0 or 1"
	[[ $PROM_SCRAPE =~ ^[1-9][0-9]*(ms|s|m)$ ]] || die "RAP_PROMETHEUS_SCRAPE=$PROM_SCRAPE is not a duration such as 15s"
	[[ $S3_BUCKET =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "RAP_S3_BUCKET=$S3_BUCKET is not a valid bucket name"
	local v seen=" "
	for v in GATEWAY_PORT UPLOAD_PORT JOB_PORT NOTIFIER_PORT PG_PORT AMQP_PORT \
		AMQP_MGMT_PORT AMQP_DIST_PORT AMQP_EPMD_PORT AMQP_METRICS_PORT S3_PORT; do
		check_port "RAP_$v" "${!v}"
	done
	local ports=("$GATEWAY_PORT" "$PG_PORT" "$AMQP_PORT" "$AMQP_MGMT_PORT"
		"$AMQP_DIST_PORT" "$AMQP_EPMD_PORT" "$AMQP_METRICS_PORT" "$S3_PORT")
	if [[ $PROM_PORT != 0 ]]; then
		check_port RAP_PROMETHEUS_PORT "$PROM_PORT"
		ports+=("$PROM_PORT")
	fi
	if ((SERVICES)); then
		ports+=("$UPLOAD_PORT" "$JOB_PORT" "$NOTIFIER_PORT")
		for v in UPLOAD_ADMIN_PORT JOB_ADMIN_PORT; do
			check_port "RAP_$v" "${!v}"
			ports+=("${!v}")
		done
		local i
		for ((i = 1; i <= NOTIFIERS; i++)); do
			check_port RAP_NOTIFIER_ADMIN_PORT "$(notifier_admin_port "$i")"
			ports+=("$(notifier_admin_port "$i")")
			((i > 1)) && ports+=("$(notifier_ws_port "$i")")
		done
		for ((i = 0; i < WORKERS; i++)); do
			check_port RAP_WORKER_PORT $((WORKER_PORT + i))
			ports+=($((WORKER_PORT + i)))
		done
	fi
	for v in "${ports[@]}"; do
		[[ $seen == *" $v "* ]] && die "port $v is configured twice; give every RAP_*_PORT its own value"
		seen+="$v "
	done
}

CONFIG_VARS=(BUILD_DIR GATEWAY_PORT UPLOAD_PORT JOB_PORT NOTIFIER_PORT WORKER_PORT
	WORKERS NOTIFIERS NOTIFIER_ADMIN_PORT UPLOAD_ADMIN_PORT JOB_ADMIN_PORT PG_PORT AMQP_PORT AMQP_MGMT_PORT AMQP_DIST_PORT AMQP_EPMD_PORT AMQP_METRICS_PORT
	S3_PORT S3_BUCKET LOG_LEVEL SERVICES PROM_PORT PROM_SCRAPE AMQP_CONSUMER_TIMEOUT_MS
	AMQP_CHANNEL_TICK_MS)

print_config() {
	local v
	for v in "${CONFIG_VARS[@]}"; do
		printf '%s=%q\n' "$v" "${!v}"
	done
}

save_config() {
	{
		printf '# written by scripts/stack.sh up; read by down, status, logs\n'
		print_config
	} >"$ENV_FILE.tmp"
	mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# Warns when the environment asks for other settings than those of the
# running stack (they apply after a down).
warn_config_drift() {
	local running wanted
	running=$(print_config)
	wanted=$(config_from_env && print_config) || return 0
	if [[ $running != "$wanted" ]]; then
		warn "the environment asks for other settings than the running stack uses; they apply after 'scripts/stack.sh down':"
		diff <(echo "$running") <(echo "$wanted") | sed -n 's/^> /  wanted: /p' >&2 || true
	fi
}

load_saved_config() {
	# shellcheck disable=SC1090
	source "$ENV_FILE"
	# A stack recorded before Prometheus was part of it runs none.
	PROM_PORT=${PROM_PORT:-0}
	PROM_SCRAPE=${PROM_SCRAPE:-15s}
	AMQP_METRICS_PORT=${AMQP_METRICS_PORT:-$((AMQP_MGMT_PORT + 20))}
	AMQP_CONSUMER_TIMEOUT_MS=${AMQP_CONSUMER_TIMEOUT_MS:-1800000}
	AMQP_CHANNEL_TICK_MS=${AMQP_CHANNEL_TICK_MS:-60000}
	# A stack recorded before notifiers had an admin port runs one, without.
	NOTIFIERS=${NOTIFIERS:-1}
	NOTIFIER_ADMIN_PORT=${NOTIFIER_ADMIN_PORT:-0}
	# One recorded before upload-api and job-api had theirs runs them without.
	UPLOAD_ADMIN_PORT=${UPLOAD_ADMIN_PORT:-0}
	JOB_ADMIN_PORT=${JOB_ADMIN_PORT:-0}
}

# The ports of notifier $1 (from 1): WebSockets, and health and metrics.
notifier_ws_port() {
	if (($1 == 1)); then
		echo "$NOTIFIER_PORT"
	else
		echo $((NOTIFIER_ADMIN_PORT + 2 * ($1 - 1) + 1))
	fi
}
notifier_admin_port() {
	if ((NOTIFIER_ADMIN_PORT == 0)); then
		echo 0
	else
		echo $((NOTIFIER_ADMIN_PORT + 2 * ($1 - 1)))
	fi
}

# nginx's upstream servers: every notifier's WebSocket port.
notifier_servers() {
	local i out=""
	for ((i = 1; i <= NOTIFIERS; i++)); do
		out+="server 127.0.0.1:$(notifier_ws_port "$i"); "
	done
	printf '%s' "${out% }"
}

# Names and paths that follow from the configuration.
derive() {
	NODE=rap-$AMQP_PORT@localhost
	PG_HOME=$STATE/pg
	RMQ_HOME=$STATE/rabbitmq
	# A symlinked data folder (see private_dir) is used through its target.
	PG_REAL=$(readlink -m "$PG_HOME")
	RMQ_REAL=$(readlink -m "$RMQ_HOME")
	PGDATA=$PG_REAL/data
	RMQ_PID_FILE=$RMQ_REAL/rabbitmq.pid
	RMQ_LOG=$RMQ_REAL/log/$NODE.log
	NGINX_PID_FILE=$NGINX_DIR/nginx.pid
	SERVICE_NAMES=()
	if ((SERVICES)); then
		SERVICE_NAMES=(upload-api job-api notifier)
		local i
		for ((i = 2; i <= NOTIFIERS; i++)); do
			SERVICE_NAMES+=("notifier-$i")
		done
		for ((i = 1; i <= WORKERS; i++)); do
			SERVICE_NAMES+=("worker-$i")
		done
	fi
}

# ---------------------------------------------------------------- processes

# Prints the pid in file $1 when that process is alive and its command line
# contains $2 (a pid file left from a previous boot can name a recycled pid).
pid_from() {
	local file=$1 pattern=$2 pid cmd
	[[ -r $file ]] || return 1
	read -r pid <"$file" 2>/dev/null || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	# The process may exit between the test above and this read.
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	[[ $cmd == *"$pattern"* ]] || return 1
	printf '%s\n' "$pid"
}

# epmd is ours when its pid file says so, or when an epmd listens on our
# private port (an Erlang CLI call starts one by itself when ours is gone).
pid_epmd() {
	pid_from "$RUN/epmd.pid" epmd && return 0
	ss -Hltnp "sport = :$AMQP_EPMD_PORT" 2>/dev/null |
		sed -n 's/.*users:(("epmd",pid=\([0-9]*\),.*/\1/p' | head -n 1 | grep .
}
# The node writes its pid file a moment after it started: until then (or
# when the file is lost) it is found by the pid file path in its environment.
pid_rabbitmq() {
	pid_from "$RMQ_PID_FILE" beam && return 0
	local pid
	for pid in $(pgrep -u rabbitmq -f beam.smp 2>/dev/null || true); do
		if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
			grep -qxF "RABBITMQ_PID_FILE=$RMQ_PID_FILE"; then
			printf '%s\n' "$pid"
			return 0
		fi
	done
	return 1
}
pid_postgres() { pid_from "$PGDATA/postmaster.pid" postgres; }
pid_s3rver() { pid_from "$RUN/s3rver.pid" s3rver; }
pid_nginx() { pid_from "$NGINX_PID_FILE" nginx; }
pid_prometheus() { pid_from "$RUN/prometheus.pid" prometheus; }
pid_supervisor() { pid_from "$RUN/$1.pid" "_supervise $1"; }
pid_child() { pid_from "$RUN/$1.child.pid" rap-; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Fails when another process already listens on the port.
require_free_port() {
	local port=$1 what=$2
	if port_open "$port"; then
		die "port $port ($what) is already in use by another process; pick another with the RAP_*_PORT variables, or stop that process"
	fi
}

# True when process $1 is gone (a zombie counts as gone).
gone() {
	local state
	[[ -r /proc/$1/stat ]] || return 0
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[[ $state == Z ]]
}

# Waits until every pid in "$@" is gone, for at most $TIMEOUT seconds.
# Prints nothing; returns 1 when some are still alive.
wait_gone() {
	local deadline=$((SECONDS + TIMEOUT)) pid alive
	while :; do
		alive=0
		for pid in "$@"; do
			gone "$pid" || alive=1
		done
		((alive)) || return 0
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# Sends SIGKILL to each pid still alive, and to its process group when it
# leads one (every daemon here is started in a session of its own).
kill_hard() {
	local pid pgid
	for pid in "$@"; do
		gone "$pid" && continue
		pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') || pgid=
		if [[ $pgid == "$pid" ]]; then
			kill -KILL -- "-$pid" 2>/dev/null || true
		else
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# Polls command "$@" until it succeeds, for at most $1 seconds (first
# argument), every 0.2 s. Returns 1 on timeout.
poll() {
	local limit=$1 deadline
	shift
	deadline=$((SECONDS + limit))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# True when GET $1 answers $2 (default 200).
http_is() {
	local code
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "${@:3}" "$1" 2>/dev/null) || true
	[[ $code == "${2:-200}" ]]
}

# ---------------------------------------------------------------- files

# Replaces @NAME@ tokens in template $1 and writes $2. Further arguments are
# NAME=VALUE pairs. Fails when a token is left unreplaced.
render() {
	local src=$1 dst=$2 pair name value expr=()
	shift 2
	for pair in "$@"; do
		name=${pair%%=*}
		value=${pair#*=}
		value=$(printf '%s' "$value" | sed -e 's/[\\|&]/\\&/g')
		expr+=(-e "s|@${name}@|${value}|g")
	done
	sed "${expr[@]}" "$src" >"$dst.tmp"
	if grep -qE '@[A-Z_]+@' "$dst.tmp"; then
		die "$src: unreplaced token(s): $(grep -oE '@[A-Z_]+@' "$dst.tmp" | sort -u | tr '\n' ' ')"
	fi
	mv "$dst.tmp" "$dst"
}

# True when system user $1 can open path $2 for the test $3 (-x, -r, -w),
# which also needs search permission on every parent folder.
user_can() {
	runuser -u "$1" -- test "$3" "$2" 2>/dev/null
}

# Creates the data folder $STATE/$1 owned by user $2, mode $3, and prints its
# real path. PostgreSQL and RabbitMQ run as their own users, which must reach
# that folder through every parent. When they cannot (a checkout under
# /root, mode 0700), or when the path is too long for a Unix socket (108
# bytes, PostgreSQL keeps its socket there), the folder goes to
# /var/tmp/rap-<hash of the state folder>/ and $STATE/$1 becomes a symlink to
# it, so the state folder still names everything.
private_dir() {
	local name=$1 user=$2 mode=$3 link=$STATE/$1 real base
	if [[ -L $link || -e $link ]]; then
		real=$(readlink -m "$link")
	elif user_can "$user" "$STATE" -x && ((${#link} < 80)); then
		real=$link
	else
		base=/var/tmp/rap-$(printf '%s' "$STATE" | sha256sum | cut -c1-12)
		real=$base/$name
		mkdir -p "$base"
		chmod 0755 "$base"
		ln -sfn "$real" "$link"
		say "  note: $user cannot reach $STATE (or the path is too long for a socket): $name data in $real" >&2
	fi
	mkdir -p "$real"
	chown "$user:$user" "$real"
	chmod "$mode" "$real"
	printf '%s\n' "$real"
}

# ---------------------------------------------------------------- RabbitMQ

# Runs a RabbitMQ script ($2: rabbitmq-server, rabbitmqctl, ...) as the
# rabbitmq user against the private node, killed after $1 seconds. It shares
# the Erlang cookie in /var/lib/rabbitmq with the system's CLI tools, but
# nothing else.
rmq() {
	local limit=$1 tool=$2 ctl_port
	shift 2
	# The CLI tools listen on one of 11 ports of their own while they run
	# (RabbitMQ's default is 35672-35682 for every node): keep them apart.
	ctl_port=$((AMQP_DIST_PORT + 10000))
	((ctl_port + 10 <= 65535)) || ctl_port=$((AMQP_DIST_PORT - 10011))
	(
		cd /
		timeout -k 5 "$limit" runuser -u rabbitmq -- env \
			HOME=/var/lib/rabbitmq \
			RABBITMQ_NODENAME="$NODE" \
			RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
			RABBITMQ_NODE_PORT="$AMQP_PORT" \
			RABBITMQ_DIST_PORT="$AMQP_DIST_PORT" \
			RABBITMQ_CTL_DIST_PORT_MIN="$ctl_port" \
			RABBITMQ_CTL_DIST_PORT_MAX=$((ctl_port + 10)) \
			ERL_EPMD_PORT="$AMQP_EPMD_PORT" \
			ERL_EPMD_ADDRESS=127.0.0.1 \
			RABBITMQ_MNESIA_BASE="$RMQ_REAL/mnesia" \
			RABBITMQ_LOG_BASE="$RMQ_REAL/log" \
			RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_REAL/enabled_plugins" \
			RABBITMQ_CONFIG_FILE="$RMQ_REAL/rabbitmq.conf" \
			RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_REAL/advanced.config" \
			RABBITMQ_CONF_ENV_FILE="$RMQ_REAL/rabbitmq-env.conf" \
			RABBITMQ_PID_FILE="$RMQ_PID_FILE" \
			RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
			RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
			"$RMQ_BIN/$tool" "$@"
	)
}

# epmd (the Erlang port mapper) is started privately on its own port, so the
# node does not register with, or start, the machine-wide epmd on 4369 that
# would outlive `down` and be shared with other stacks.
start_epmd() {
	if pid_epmd >/dev/null; then
		return 0
	fi
	require_free_port "$AMQP_EPMD_PORT" "epmd, RAP_AMQP_EPMD_PORT"
	rm -f "$RUN/epmd.pid"
	# shellcheck disable=SC2016 # $$ and "$@" belong to the inner bash.
	setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$RUN/epmd.pid" \
		setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
		/usr/bin/epmd -port "$AMQP_EPMD_PORT" -address 127.0.0.1 \
		</dev/null >>"$LOGS/epmd.log" 2>&1 &
	# Probed with a real request (a bare connect makes epmd log "partial packet").
	if ! poll 10 epmd_answers; then
		log_tail "$LOGS/epmd.log"
		die "epmd did not listen on 127.0.0.1:$AMQP_EPMD_PORT within 10 s"
	fi
}

epmd_answers() {
	/usr/bin/epmd -port "$AMQP_EPMD_PORT" -names >/dev/null 2>&1
}

# Starts the node in the background; wait_rabbitmq waits for it.
start_rabbitmq() {
	if pid_rabbitmq >/dev/null; then
		say "  rabbitmq: already running (node $NODE)"
		RMQ_STARTED=0
		return 0
	fi
	require_free_port "$AMQP_PORT" "AMQP, RAP_AMQP_PORT"
	require_free_port "$AMQP_MGMT_PORT" "RabbitMQ management, RAP_AMQP_MGMT_PORT"
	require_free_port "$AMQP_DIST_PORT" "Erlang distribution, RAP_AMQP_DIST_PORT"
	start_epmd

	RMQ_REAL=$(private_dir rabbitmq rabbitmq 0750)
	derive_rmq_paths
	local defs=$REPO/infra/rabbitmq/definitions.json
	if ! user_can rabbitmq "$defs" -r; then
		# The rabbitmq user cannot read the checkout (e.g. under /root):
		# load a copy, refreshed at every start.
		install -m 0640 -o rabbitmq -g rabbitmq "$defs" "$RMQ_REAL/definitions.json"
		defs=$RMQ_REAL/definitions.json
	fi
	render "$REPO/infra/rabbitmq/rabbitmq.conf.template" "$RMQ_REAL/rabbitmq.conf" \
		DEFINITIONS_FILE="$defs" MGMT_PORT="$AMQP_MGMT_PORT" METRICS_PORT="$AMQP_METRICS_PORT" \
		CONSUMER_TIMEOUT="$AMQP_CONSUMER_TIMEOUT_MS"
	# rabbitmq.conf has no key for how often a channel checks its consumer
	# timeout (3.10 checks on a channel tick, every 60 s by default).
	printf '[{rabbit, [{channel_tick_interval, %s}]}].\n' "$AMQP_CHANNEL_TICK_MS" \
		>"$RMQ_REAL/advanced.config"
	# The management plugin is enabled offline: the node reads this file.
	cp "$REPO/infra/rabbitmq/enabled_plugins" "$RMQ_REAL/enabled_plugins"
	: >"$RMQ_REAL/rabbitmq-env.conf" # keeps /etc/rabbitmq/rabbitmq-env.conf out
	mkdir -p "$RMQ_REAL/mnesia" "$RMQ_REAL/log"
	chown -R rabbitmq:rabbitmq "$RMQ_REAL"
	ln -sfn "$RMQ_LOG" "$LOGS/rabbitmq.log"
	rm -f "$RMQ_PID_FILE"

	say "  rabbitmq: starting node $NODE (amqp 127.0.0.1:$AMQP_PORT)"
	if ! rmq 30 rabbitmq-server -detached </dev/null >>"$LOGS/rabbitmq-start.log" 2>&1; then
		log_tail "$LOGS/rabbitmq-start.log"
		die "rabbitmq-server -detached failed"
	fi
	RMQ_STARTED=1
}

derive_rmq_paths() {
	RMQ_PID_FILE=$RMQ_REAL/rabbitmq.pid
	RMQ_LOG=$RMQ_REAL/log/$NODE.log
}

# The names of the queues infra/rabbitmq/definitions.json declares, a line each.
definition_queues() {
	python3 -c 'import json, sys
for q in json.load(open(sys.argv[1]))["queues"]:
    print(q["name"])' "$REPO/infra/rabbitmq/definitions.json"
}

# Waits (at most 90 s) until the node runs the rabbit application, then
# checks that the definitions were loaded and that the management API answers.
wait_rabbitmq() {
	((RMQ_STARTED)) || return 0
	# `rabbitmqctl await_startup` right after -detached fails (the node is
	# not registered yet); `wait PIDFILE` waits for the pid file first.
	if ! rmq 95 rabbitmqctl -n "$NODE" wait --timeout 90 "$RMQ_PID_FILE" \
		>>"$LOGS/rabbitmq-start.log" 2>&1; then
		log_tail "$RMQ_LOG" 60
		log_tail "$LOGS/rabbitmq-start.log" 20
		die "RabbitMQ node $NODE did not start within 90 s"
	fi
	local queues q
	queues=$(rmq 30 rabbitmqctl -n "$NODE" -q list_queues name 2>&1) ||
		die "rabbitmqctl list_queues failed: $queues"
	# Every queue of the definitions (a work queue per pool among them).
	while read -r q; do
		if ! grep -qxF "$q" <<<"$queues"; then
			log_tail "$RMQ_LOG" 40
			die "RabbitMQ started but the topology from infra/rabbitmq/definitions.json is missing (no queue $q)"
		fi
	done < <(definition_queues)
	if ! poll 30 http_is "http://127.0.0.1:$AMQP_MGMT_PORT/api/overview" 200 -u rap:rap; then
		log_tail "$RMQ_LOG" 40
		die "the RabbitMQ management API did not answer on 127.0.0.1:$AMQP_MGMT_PORT within 30 s"
	fi
	say "  rabbitmq: ready ($(grep -c . <<<"$queues") queues, management on :$AMQP_MGMT_PORT)"
}

# ---------------------------------------------------------------- PostgreSQL

pg_as_postgres() {
	(cd / && runuser -u postgres -- "$@")
}

start_postgres() {
	if pid_postgres >/dev/null; then
		say "  postgres: already running (127.0.0.1:$PG_PORT)"
		return 0
	fi
	require_free_port "$PG_PORT" "PostgreSQL, RAP_PG_PORT"
	PG_REAL=$(private_dir pg postgres 0700)
	PGDATA=$PG_REAL/data
	if [[ ! -f $PGDATA/PG_VERSION ]]; then
		say "  postgres: initdb $PGDATA"
		rm -rf "$PGDATA"
		if ! pg_as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 \
			--no-sync >>"$LOGS/postgres-init.log" 2>&1; then
			log_tail "$LOGS/postgres-init.log"
			die "initdb failed"
		fi
	fi
	ln -sfn "$PG_REAL/postgres.log" "$LOGS/postgres.log"
	say "  postgres: starting (127.0.0.1:$PG_PORT)"
	# -k: the socket stays in the private folder, out of /var/run/postgresql.
	# The outbox is a queue table (every row inserted, then deleted): a
	# 5 s autovacuum naptime keeps it from bloating under load (its own
	# thresholds are in migration 0005); shared_buffers holds the hot jobs.
	if ! pg_as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_REAL/postgres.log" -w -t 60 \
		-o "-p $PG_PORT -k $PG_REAL -c listen_addresses=127.0.0.1 -c autovacuum_naptime=5s -c shared_buffers=256MB" start \
		>>"$LOGS/postgres-ctl.log" 2>&1; then
		log_tail "$PG_REAL/postgres.log"
		die "PostgreSQL did not start within 60 s"
	fi
	local exists
	exists=$(psql_q "SELECT 1 FROM pg_database WHERE datname = 'rap'") ||
		die "cannot query PostgreSQL on 127.0.0.1:$PG_PORT: $exists"
	if [[ $exists != 1 ]]; then
		psql_q "CREATE DATABASE rap" >/dev/null || die "CREATE DATABASE rap failed"
		say "  postgres: created database rap"
	fi
}

psql_q() {
	"$PG_BIN/psql" -X -q -t -A -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 -c "$1" 2>&1
}

# ---------------------------------------------------------------- S3

start_s3rver() {
	if pid_s3rver >/dev/null; then
		say "  s3rver: already running (127.0.0.1:$S3_PORT)"
		return 0
	fi
	local bin=$REPO/node_modules/.bin/s3rver
	[[ -x $bin ]] || die "$bin is missing: run scripts/install-deps.sh (npm ci)"
	require_free_port "$S3_PORT" "S3, RAP_S3_PORT"
	mkdir -p "$S3_DIR"
	rm -f "$RUN/s3rver.pid"
	say "  s3rver: starting (127.0.0.1:$S3_PORT, bucket $S3_BUCKET)"
	# The child writes its own pid, then becomes s3rver: the pid file names
	# the server itself, in a session of its own.
	# shellcheck disable=SC2016 # $$ and "$@" belong to the inner bash.
	setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$RUN/s3rver.pid" \
		"$bin" -d "$S3_DIR" -a 127.0.0.1 -p "$S3_PORT" --configure-bucket "$S3_BUCKET" \
		</dev/null >>"$LOGS/s3rver.log" 2>&1 &
	# `down` finds it by that file from now on, even if `up` fails next.
	poll 5 pid_s3rver >/dev/null || {
		log_tail "$LOGS/s3rver.log"
		die "s3rver did not start"
	}
}

s3rver_ready() {
	pid_s3rver >/dev/null || return 2
	http_is "http://127.0.0.1:$S3_PORT/$S3_BUCKET" 200
}

wait_s3rver() {
	local deadline=$((SECONDS + 30)) rc
	while :; do
		rc=0
		s3rver_ready || rc=$?
		((rc == 0)) && return 0
		if ((rc == 2)); then
			log_tail "$LOGS/s3rver.log"
			die "s3rver exited during startup"
		fi
		if ((SECONDS >= deadline)); then
			log_tail "$LOGS/s3rver.log"
			die "s3rver did not serve bucket $S3_BUCKET on 127.0.0.1:$S3_PORT within 30 s"
		fi
		sleep 0.2
	done
}

# ---------------------------------------------------------------- nginx

# Prints the `user` directive for nginx's workers: www-data when it can read
# web/ and reach the state folder (for temp files), else root.
nginx_user_directive() {
	if user_can www-data "$REPO/web" -r && user_can www-data "$REPO/web" -x &&
		user_can www-data "$STATE" -x; then
		echo "user www-data www-data;"
	else
		echo "user root root; # www-data cannot read $REPO/web or reach $STATE"
	fi
}

# The open-file limit the gateway and the services run with: 65536 (10,000
# WebSockets take one descriptor each in the notifier and two in nginx), or
# the hard limit when the machine's is lower (then said once).
nofile_limit() {
	local hard
	hard=$(ulimit -Hn)
	if [[ $hard == unlimited ]] || ((hard >= 65536)); then
		echo 65536
	else
		echo "$hard"
	fi
}

raise_nofile() {
	local want
	want=$(nofile_limit)
	ulimit -Sn "$want" 2>/dev/null || true
	if ((want < 65536)) && [[ -z ${NOFILE_SAID:-} ]]; then
		say "  note: open files limited to $want by this machine's hard limit" \
			"(65536 wanted: 10,000 WebSockets need about 20,000 in nginx)"
		NOFILE_SAID=1
	fi
}

start_nginx() {
	if pid_nginx >/dev/null; then
		say "  nginx: already running (127.0.0.1:$GATEWAY_PORT)"
		return 0
	fi
	require_free_port "$GATEWAY_PORT" "gateway, RAP_GATEWAY_PORT"
	mkdir -p "$NGINX_DIR/tmp" "$REPO/web"
	local conf=$NGINX_DIR/nginx.conf
	render "$REPO/infra/nginx/nginx.conf.template" "$conf" \
		USER_DIRECTIVE="$(nginx_user_directive)" \
		NGINX_DIR="$NGINX_DIR" LOG_DIR="$LOGS" WEB_ROOT="$REPO/web" \
		GATEWAY_PORT="$GATEWAY_PORT" UPLOAD_PORT="$UPLOAD_PORT" \
		JOB_PORT="$JOB_PORT" NOTIFIER_SERVERS="$(notifier_servers)" \
		UPLOAD_BODY_MAX="$(( ${RAP_UPLOAD_MAX_BYTES:-10737418240} + 65536 ))" \
		NOFILE="$(nofile_limit)"
	# -e: the error log before the config is read (the compiled-in one is
	# stderr here, /var/log/nginx elsewhere); -p: relative paths.
	local args=(-p "$NGINX_DIR/" -c "$conf" -e "$LOGS/nginx-error.log")
	if ! nginx -t -q "${args[@]}" >>"$LOGS/nginx-error.log" 2>&1; then
		log_tail "$LOGS/nginx-error.log" 20
		die "nginx -t rejected $conf"
	fi
	say "  nginx: starting (127.0.0.1:$GATEWAY_PORT)"
	raise_nofile
	rm -f "$NGINX_PID_FILE"
	# nginx daemonizes itself (setsid): its master leads its own session.
	if ! nginx "${args[@]}" </dev/null >>"$LOGS/nginx-error.log" 2>&1; then
		log_tail "$LOGS/nginx-error.log" 20
		die "nginx did not start"
	fi
	if ! poll 10 http_is "http://127.0.0.1:$GATEWAY_PORT/healthz" 200; then
		log_tail "$LOGS/nginx-error.log" 20
		die "nginx did not answer /healthz on 127.0.0.1:$GATEWAY_PORT within 10 s"
	fi
}

# ---------------------------------------------------------------- Prometheus

# The scrape config of this stack: the jobs of observability/prometheus
# (rap-upload-api, rap-job-api, rap-notifier, rap-worker, rabbitmq) on this
# stack's ports, with the platform's rules as they are in the repository.
render_prometheus() {
	local i
	{
		printf '# Rendered by scripts/stack.sh up; the rules are the repository'"'"'s own.\n'
		printf 'global:\n  scrape_interval: %s\n  evaluation_interval: %s\n' "$PROM_SCRAPE" "$PROM_SCRAPE"
		printf 'rule_files:\n  - %s\n' "$REPO/observability/prometheus/rules/rap.rules.yml"
		printf 'scrape_configs:\n'
		printf '  - job_name: rabbitmq\n    metrics_path: /metrics/per-object\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$AMQP_METRICS_PORT"
		if ((SERVICES)); then
			# The admin ports, where the services have them: a flood of the
			# main port does not blind monitoring.
			printf '  - job_name: rap-upload-api\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
				"$( ((UPLOAD_ADMIN_PORT)) && echo "$UPLOAD_ADMIN_PORT" || echo "$UPLOAD_PORT")"
			printf '  - job_name: rap-job-api\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
				"$( ((JOB_ADMIN_PORT)) && echo "$JOB_ADMIN_PORT" || echo "$JOB_PORT")"
			printf '  - job_name: rap-notifier\n    static_configs:\n      - targets:\n'
			for ((i = 1; i <= NOTIFIERS; i++)); do
				if ((NOTIFIER_ADMIN_PORT)); then
					printf '          - "127.0.0.1:%s"\n' "$(notifier_admin_port "$i")"
				else
					printf '          - "127.0.0.1:%s"\n' "$(notifier_ws_port "$i")"
				fi
			done
			if ((WORKERS)); then
				printf '  - job_name: rap-worker\n    static_configs:\n      - targets:\n'
				for ((i = 0; i < WORKERS; i++)); do
					printf '          - "127.0.0.1:%s"\n' $((WORKER_PORT + i))
				done
			fi
		fi
	} >"$PROM_DIR/prometheus.yml"
}

start_prometheus() {
	[[ $PROM_PORT != 0 ]] || return 0
	if pid_prometheus >/dev/null; then
		say "  prometheus: already running (127.0.0.1:$PROM_PORT)"
		return 0
	fi
	command -v prometheus >/dev/null || die "prometheus not found: run scripts/install-deps.sh (or RAP_PROMETHEUS_PORT=0)"
	require_free_port "$PROM_PORT" "Prometheus, RAP_PROMETHEUS_PORT"
	mkdir -p "$PROM_DIR/data"
	render_prometheus
	if ! promtool check config "$PROM_DIR/prometheus.yml" >>"$LOGS/prometheus.log" 2>&1; then
		log_tail "$LOGS/prometheus.log"
		die "promtool rejected $PROM_DIR/prometheus.yml"
	fi
	rm -f "$RUN/prometheus.pid"
	say "  prometheus: starting (127.0.0.1:$PROM_PORT, every $PROM_SCRAPE)"
	# shellcheck disable=SC2016 # $$ and "$@" belong to the inner bash.
	setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$RUN/prometheus.pid" \
		prometheus --config.file="$PROM_DIR/prometheus.yml" \
		--storage.tsdb.path="$PROM_DIR/data" --storage.tsdb.retention.time=7d \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
		</dev/null >>"$LOGS/prometheus.log" 2>&1 &
	poll 5 pid_prometheus >/dev/null || {
		log_tail "$LOGS/prometheus.log"
		die "prometheus did not start"
	}
}

wait_prometheus() {
	[[ $PROM_PORT != 0 ]] || return 0
	if ! poll 30 http_is "http://127.0.0.1:$PROM_PORT/-/ready" 200; then
		log_tail "$LOGS/prometheus.log"
		die "prometheus was not ready on 127.0.0.1:$PROM_PORT within 30 s"
	fi
}

stop_prometheus() {
	local pid
	pid=$(pid_prometheus) || return 0
	stop_pid prometheus 10 TERM "$pid"
	rm -f "$RUN/prometheus.pid"
}

# ---------------------------------------------------------------- services

# Prints "name port binary" for each service, one a line.
service_table() {
	local name
	for name in "${SERVICE_NAMES[@]}"; do
		case $name in
		upload-api) echo "$name $UPLOAD_PORT rap-upload-api" ;;
		job-api) echo "$name $JOB_PORT rap-job-api" ;;
		notifier) echo "$name $NOTIFIER_PORT rap-notifier" ;;
		notifier-*) echo "$name $(notifier_ws_port "${name#notifier-}") rap-notifier" ;;
		worker-*) echo "$name $((WORKER_PORT + ${name#worker-} - 1)) rap-worker" ;;
		esac
	done
}

service_port() {
	local n p
	while read -r n p _; do
		[[ $n == "$1" ]] && echo "$p" && return 0
	done < <(service_table)
	return 1
}

check_binaries() {
	local bin missing=()
	for bin in rap-upload-api rap-job-api rap-notifier rap-worker; do
		[[ $bin == rap-worker ]] && ((WORKERS == 0)) && continue
		[[ -x $BUILD_DIR/$bin ]] || missing+=("$BUILD_DIR/$bin")
	done
	((${#missing[@]} == 0)) ||
		die "missing service binaries: ${missing[*]} (build first: scripts/up builds, or cmake --build $BUILD_DIR; RAP_STACK_SERVICES=0 starts the infrastructure only)"
}

# Starts service $1 on port $2 from binary $3 under a supervisor.
start_service() {
	local name=$1 port=$2 bin=$BUILD_DIR/$3 id
	if pid_supervisor "$name" >/dev/null; then
		say "  $name: already running"
		return 0
	fi
	require_free_port "$port" "$name"
	local env=(RAP_WORKER_PORT="$WORKER_PORT")
	if [[ $name == worker-* ]]; then
		id=${name#worker-}
		env=(RAP_WORKER_PORT="$port" RAP_WORKER_ID="worker-$id")
	elif [[ $name == notifier* ]]; then
		id=${name#notifier}
		id=${id#-}
		env+=(RAP_NOTIFIER_PORT="$port" RAP_NOTIFIER_ADMIN_PORT="$(notifier_admin_port "${id:-1}")")
	fi
	rm -f "$RUN/$name.pid" "$RUN/$name.child.pid"
	(
		cd "$REPO"
		exec setsid env "${env[@]}" "$SELF" _supervise "$name" "$RUN" "$bin" \
			</dev/null >>"$LOGS/$name.log" 2>&1
	) &
	# The supervisor writes its own pid file; `down` needs it from now on.
	poll 5 pid_supervisor "$name" >/dev/null ||
		die "the supervisor of $name did not start (see $LOGS/$name.log)"
	STARTED_SERVICES+=("$name")
}

start_services() {
	((SERVICES)) || return 0
	check_binaries
	export RAP_PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/rap"
	export RAP_AMQP_URL="amqp://rap:rap@127.0.0.1:$AMQP_PORT/"
	export RAP_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
	export RAP_S3_BUCKET="$S3_BUCKET"
	export RAP_UPLOAD_PORT="$UPLOAD_PORT" RAP_JOB_PORT="$JOB_PORT"
	export RAP_UPLOAD_ADMIN_PORT="$UPLOAD_ADMIN_PORT" RAP_JOB_ADMIN_PORT="$JOB_ADMIN_PORT"
	export RAP_NOTIFIER_PORT="$NOTIFIER_PORT" RAP_LOG_LEVEL="$LOG_LEVEL"
	STARTED_SERVICES=()
	local name port bin
	raise_nofile
	while read -r name port bin; do
		start_service "$name" "$port" "$bin"
	done < <(service_table)
	((${#STARTED_SERVICES[@]})) && say "  services: started ${STARTED_SERVICES[*]}"
	return 0
}

# Waits until every service answers GET /readyz with 200.
wait_services() {
	((SERVICES)) || return 0
	local deadline=$((SECONDS + READY_TIMEOUT)) name port bin pending
	while :; do
		pending=()
		while read -r name port bin; do
			http_is "http://127.0.0.1:$port/readyz" 200 || pending+=("$name")
		done < <(service_table)
		((${#pending[@]} == 0)) && break
		if ((SECONDS >= deadline)); then
			for name in "${pending[@]}"; do
				log_tail "$LOGS/$name.log" 30
			done
			die "not ready after ${READY_TIMEOUT} s (GET /readyz != 200): ${pending[*]}"
		fi
		sleep 0.25
	done
	say "  services: ready (${SERVICE_NAMES[*]})"
}

# The supervisor (internal subcommand): runs binary $3 as service $1 and
# restarts it when it exits, like compose's `restart: always`: after 0.5 s,
# doubling up to 10 s, back to 0.5 s once a run lasted 30 s. Each restart is
# logged as a JSON line. SIGTERM/SIGINT stop the child (SIGTERM) and then
# the supervisor. Its pid is in RUN/NAME.pid, the child's in NAME.child.pid.
cmd_supervise() {
	local name=$1 run=$2 bin=$3
	local child="" sleeper="" stopping=0 backoff_ms=500 started rc uptime
	set +eE
	trap - ERR
	echo $$ >"$run/$name.pid"
	sup_log "$name" info "supervisor started" "\"binary\":\"$bin\""
	trap 'stopping=1; kill -TERM $child $sleeper 2>/dev/null' TERM INT HUP
	while ((!stopping)); do
		started=$EPOCHSECONDS
		"$bin" &
		child=$!
		echo "$child" >"$run/$name.child.pid"
		# `wait` returns early when a signal arrives: wait until the child
		# is really gone.
		while :; do
			wait "$child"
			rc=$?
			kill -0 "$child" 2>/dev/null || break
		done
		rm -f "$run/$name.child.pid"
		child=""
		((stopping)) && break
		uptime=$((EPOCHSECONDS - started))
		((uptime >= 30)) && backoff_ms=500
		sup_log "$name" warn "process exited; restarting" \
			"\"exit_code\":$rc,\"uptime_s\":$uptime,\"restart_in_ms\":$backoff_ms"
		sleep "$((backoff_ms / 1000)).$(printf '%03d' $((backoff_ms % 1000)))" &
		sleeper=$!
		wait "$sleeper"
		sleeper=""
		backoff_ms=$((backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2))
	done
	sup_log "$name" info "supervisor stopped" "\"exit_code\":${rc:-0}"
	rm -f "$run/$name.pid"
}

sup_log() {
	printf '{"ts":"%s","level":"%s","service":"%s","component":"supervisor","msg":"%s",%s}\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$2" "$1" "$3" "$4"
}

# ---------------------------------------------------------------- stopping

# Stops the services: supervisors first (each forwards SIGTERM to its child
# and does not restart it), then whatever child is left.
stop_services() {
	local f name pid sups=() kids=() names=()
	for f in "$RUN"/*.pid; do
		[[ -e $f ]] || continue
		name=${f##*/}
		name=${name%.pid}
		[[ $name == *.child || $name == epmd || $name == s3rver || $name == prometheus ]] && continue
		names+=("$name")
	done
	((${#names[@]})) || return 0
	local live=()
	for name in "${names[@]}"; do
		if pid=$(pid_supervisor "$name"); then
			sups+=("$pid")
			live+=("$name")
			kill -TERM "$pid" 2>/dev/null || true
		fi
		if pid=$(pid_child "$name"); then
			kids+=("$pid")
			[[ " ${live[*]} " == *" $name "* ]] || live+=("$name")
		fi
	done
	# A child whose supervisor is gone gets SIGTERM directly.
	for pid in "${kids[@]}"; do
		gone "$pid" && continue
		local ppid
		ppid=$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ') || continue
		[[ " ${sups[*]} " == *" $ppid "* ]] || kill -TERM "$pid" 2>/dev/null || true
	done
	TIMEOUT=$SERVICE_STOP_TIMEOUT
	if ! wait_gone "${kids[@]}" "${sups[@]}"; then
		warn "services still running after ${TIMEOUT} s: killing them"
		kill_hard "${kids[@]}" "${sups[@]}"
		TIMEOUT=5 wait_gone "${kids[@]}" "${sups[@]}" || true
	fi
	for name in "${names[@]}"; do
		rm -f "$RUN/$name.pid" "$RUN/$name.child.pid"
	done
	STOPPED+=("${live[@]}")
}

# Stops one daemon by its pid: signal $3 (default TERM), then SIGKILL
# after $2 seconds.
stop_pid() {
	local label=$1 limit=$2 sig=${3:-TERM} pid=$4
	kill "-$sig" "$pid" 2>/dev/null || true
	TIMEOUT=$limit
	if ! wait_gone "$pid"; then
		warn "$label (pid $pid) still running after $limit s: SIGKILL"
		kill_hard "$pid"
		TIMEOUT=5 wait_gone "$pid" || true
	fi
	STOPPED+=("$label")
}

stop_nginx() {
	local pid
	pid=$(pid_nginx) || return 0
	# SIGQUIT: graceful shutdown, SIGKILL to the process group after 10 s.
	stop_pid nginx 10 QUIT "$pid"
	rm -f "$NGINX_PID_FILE"
}

stop_s3rver() {
	local pid
	pid=$(pid_s3rver) || return 0
	stop_pid s3rver 10 TERM "$pid"
	rm -f "$RUN/s3rver.pid"
}

stop_rabbitmq() {
	local pid
	if pid=$(pid_rabbitmq); then
		# `stop PIDFILE` returns once the node's OS process has exited.
		if ! rmq 60 rabbitmqctl -n "$NODE" stop "$RMQ_PID_FILE" >>"$LOGS/rabbitmq-stop.log" 2>&1; then
			warn "rabbitmqctl stop failed or took over 60 s (see $LOGS/rabbitmq-stop.log)"
		fi
		TIMEOUT=5
		if ! wait_gone "$pid"; then
			warn "rabbitmq (pid $pid) still running: SIGKILL"
			kill_hard "$pid"
			TIMEOUT=5 wait_gone "$pid" || true
		fi
		rm -f "$RMQ_PID_FILE"
		STOPPED+=(rabbitmq)
	fi
	if pid=$(pid_epmd); then
		stop_pid epmd 5 TERM "$pid"
		rm -f "$RUN/epmd.pid"
	fi
}

stop_postgres() {
	local pid
	pid=$(pid_postgres) || return 0
	if ! pg_as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop \
		>>"$LOGS/postgres-ctl.log" 2>&1; then
		warn "pg_ctl stop -m fast failed or took over 30 s: immediate shutdown"
		pg_as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 10 stop \
			>>"$LOGS/postgres-ctl.log" 2>&1 || true
	fi
	TIMEOUT=5
	if ! wait_gone "$pid"; then
		warn "postgres (pid $pid) still running: SIGKILL"
		kill_hard "$pid"
		pkill -KILL -P "$pid" 2>/dev/null || true
		TIMEOUT=5 wait_gone "$pid" || true
	fi
	STOPPED+=(postgres)
}

# ---------------------------------------------------------------- commands

# Prints the names of the components that are alive.
alive_components() {
	local name
	pid_postgres >/dev/null && echo postgres
	pid_rabbitmq >/dev/null && echo rabbitmq
	pid_epmd >/dev/null && echo epmd
	pid_s3rver >/dev/null && echo s3rver
	pid_nginx >/dev/null && echo nginx
	pid_prometheus >/dev/null && echo prometheus
	for name in "${SERVICE_NAMES[@]}"; do
		pid_supervisor "$name" >/dev/null && echo "$name"
	done
	return 0
}

expected_components() {
	printf '%s\n' postgres rabbitmq epmd s3rver nginx "${SERVICE_NAMES[@]}"
	[[ $PROM_PORT == 0 ]] || echo prometheus
}

print_urls() {
	say "resilient-async-platform is up: http://127.0.0.1:$GATEWAY_PORT"
	say "  RabbitMQ management: http://127.0.0.1:$AMQP_MGMT_PORT (user rap, password rap)"
	say "  PostgreSQL: postgresql://postgres@127.0.0.1:$PG_PORT/rap"
	say "  S3: http://127.0.0.1:$S3_PORT (bucket $S3_BUCKET, key S3RVER/S3RVER)"
	[[ $PROM_PORT == 0 ]] || say "  Prometheus: http://127.0.0.1:$PROM_PORT (alerts: /alerts; dashboards: observability/grafana)"
	((SERVICES)) || say "  services not started (RAP_STACK_SERVICES=0)"
	say "  logs: $LOGS (scripts/stack.sh logs); stop: scripts/stack.sh down"
}

# Fails before anything starts when a port of a component that is not
# running yet is taken by another process.
preflight_ports() {
	local name port bin
	if ! pid_rabbitmq >/dev/null; then
		require_free_port "$AMQP_PORT" "AMQP, RAP_AMQP_PORT"
		require_free_port "$AMQP_MGMT_PORT" "RabbitMQ management, RAP_AMQP_MGMT_PORT"
		require_free_port "$AMQP_DIST_PORT" "Erlang distribution, RAP_AMQP_DIST_PORT"
		require_free_port "$AMQP_METRICS_PORT" "RabbitMQ metrics, RAP_AMQP_METRICS_PORT"
		pid_epmd >/dev/null || require_free_port "$AMQP_EPMD_PORT" "epmd, RAP_AMQP_EPMD_PORT"
	fi
	pid_postgres >/dev/null || require_free_port "$PG_PORT" "PostgreSQL, RAP_PG_PORT"
	pid_s3rver >/dev/null || require_free_port "$S3_PORT" "S3, RAP_S3_PORT"
	pid_nginx >/dev/null || require_free_port "$GATEWAY_PORT" "gateway, RAP_GATEWAY_PORT"
	[[ $PROM_PORT == 0 ]] || pid_prometheus >/dev/null ||
		require_free_port "$PROM_PORT" "Prometheus, RAP_PROMETHEUS_PORT"
	while read -r name port bin; do
		pid_supervisor "$name" >/dev/null || require_free_port "$port" "$name"
	done < <(service_table)
}

# On a failed `up`: stop what runs, unless asked to keep it.
on_up_failure() {
	local rc=$?
	((rc == 0)) && return 0
	if [[ ${RAP_STACK_KEEP_ON_FAILURE:-0} == 1 ]]; then
		warn "up failed; leaving what runs for inspection (RAP_STACK_KEEP_ON_FAILURE=1)"
	else
		warn "up failed; stopping the stack (logs stay in $LOGS)"
		do_down >&2 || true
	fi
	exit "$rc"
}

cmd_up() {
	[[ $EUID -eq 0 ]] || die "must run as root (PostgreSQL and RabbitMQ run as their own users)"
	set_paths
	if [[ -f $ENV_FILE ]]; then
		load_saved_config
		derive
		if [[ -n $(alive_components) ]]; then
			warn_config_drift
			if [[ $(alive_components | sort) == $(expected_components | sort) ]]; then
				say "resilient-async-platform is already running at http://127.0.0.1:$GATEWAY_PORT"
				return 0
			fi
			say "part of the stack runs (settings from $ENV_FILE); starting the rest"
		else
			config_from_env
			derive
		fi
	else
		config_from_env
		derive
	fi
	if ((SERVICES)); then
		check_binaries
	fi
	preflight_ports
	for cmd in runuser setpriv setsid curl nginx "$PG_BIN/initdb" "$RMQ_BIN/rabbitmq-server"; do
		command -v "$cmd" >/dev/null || die "$cmd not found: run scripts/install-deps.sh"
	done
	mkdir -p "$STATE" "$RUN" "$LOGS"
	# postgres, rabbitmq and www-data must traverse it (mktemp -d makes 0700
	# folders); its parents may still stop them: see private_dir.
	chmod 0755 "$STATE"
	save_config
	local t0=$SECONDS
	say "starting resilient-async-platform (state in $STATE)"
	trap on_up_failure EXIT
	# RabbitMQ boots slowest (15-20 s): start it first, the rest meanwhile.
	RMQ_STARTED=0
	start_rabbitmq
	start_postgres
	start_s3rver
	start_nginx
	wait_s3rver
	wait_rabbitmq
	start_services
	start_prometheus
	wait_services
	wait_prometheus
	trap - EXIT
	say "  (up in $((SECONDS - t0)) s)"
	print_urls
}

# Stops everything, best effort: a step that fails is reported and the next
# one still runs.
do_down() {
	local step
	STOPPED=()
	for step in stop_prometheus stop_services stop_nginx stop_s3rver stop_rabbitmq stop_postgres; do
		"$step" || warn "$step did not finish cleanly"
	done
	if ((${#STOPPED[@]})); then
		say "stopped: ${STOPPED[*]}"
	else
		say "nothing running (state in $STATE)"
	fi
}

load_config_for_inspection() {
	set_paths
	if [[ -f $ENV_FILE ]]; then
		load_saved_config
	else
		config_from_env
	fi
	derive
}

cmd_down() {
	[[ $EUID -eq 0 ]] || die "must run as root"
	load_config_for_inspection
	do_down
}

# Stops one piece of infrastructure (rabbitmq or postgres) and leaves the
# rest running, for fault tests and drills; `up` starts it again.
cmd_stop() {
	[[ $EUID -eq 0 ]] || die "must run as root"
	load_config_for_inspection
	STOPPED=()
	case ${1:-} in
	rabbitmq) stop_rabbitmq ;;
	postgres) stop_postgres ;;
	*) die "stop takes rabbitmq or postgres" ;;
	esac
	say "stopped: ${STOPPED[*]:-nothing}"
}

cmd_status() {
	load_config_for_inspection
	local down=0 pid name port sup
	line() { printf '%-12s %-5s %s\n' "$1" "$2" "${3:-}"; }
	if pid=$(pid_postgres); then
		line postgres up "pid $pid, 127.0.0.1:$PG_PORT"
	else line postgres down && down=1; fi
	if pid=$(pid_rabbitmq); then
		line rabbitmq up "pid $pid, node $NODE, amqp 127.0.0.1:$AMQP_PORT, management http://127.0.0.1:$AMQP_MGMT_PORT"
	else line rabbitmq down && down=1; fi
	if pid=$(pid_epmd); then
		line epmd up "pid $pid, 127.0.0.1:$AMQP_EPMD_PORT"
	else line epmd down && down=1; fi
	if pid=$(pid_s3rver); then
		line s3rver up "pid $pid, http://127.0.0.1:$S3_PORT/$S3_BUCKET"
	else line s3rver down && down=1; fi
	if pid=$(pid_nginx); then
		line nginx up "pid $pid, http://127.0.0.1:$GATEWAY_PORT"
	else line nginx down && down=1; fi
	if [[ $PROM_PORT != 0 ]]; then
		if pid=$(pid_prometheus); then
			line prometheus up "pid $pid, http://127.0.0.1:$PROM_PORT"
		else line prometheus down && down=1; fi
	fi
	for name in "${SERVICE_NAMES[@]}"; do
		port=$(service_port "$name")
		if sup=$(pid_supervisor "$name"); then
			pid=$(pid_child "$name") || pid="-"
			if http_is "http://127.0.0.1:$port/readyz" 200; then
				line "$name" up "pid $pid (supervisor $sup), :$port ready"
			else
				line "$name" up "pid $pid (supervisor $sup), :$port NOT ready"
			fi
		else
			line "$name" down && down=1
		fi
	done
	((down)) && return 3
	return 0
}

cmd_logs() {
	load_config_for_inspection
	local follow=0 names=() files=() name
	[[ -t 1 ]] && follow=1
	while (($#)); do
		case $1 in
		-f | --follow) follow=1 ;;
		--no-follow) follow=0 ;;
		-*) die "logs: unknown option $1" ;;
		*) names+=("$1") ;;
		esac
		shift
	done
	if ((${#names[@]} == 0)); then
		names=("${SERVICE_NAMES[@]}")
		((${#names[@]})) || names=(nginx-error s3rver rabbitmq postgres)
	fi
	for name in "${names[@]}"; do
		[[ -e $LOGS/$name.log ]] && files+=("$LOGS/$name.log")
	done
	((${#files[@]})) || die "no logs in $LOGS for: ${names[*]}"
	if ((follow)); then
		exec tail -n 50 -F "${files[@]}"
	else
		tail -n 100 "${files[@]}" || true
	fi
}

usage() {
	sed -n '2,/^set -e/p' "$SELF" | sed -e '$d' -e 's/^# \{0,1\}//' || true
}

main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	stop) cmd_stop "$@" ;;
	status) cmd_status "$@" || exit $? ;;
	logs) cmd_logs "$@" ;;
	_supervise) cmd_supervise "$@" ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
