#!/usr/bin/env bash
# bench/run.sh — herald side by side with the Node.js design it replaces.
#
# Installs what it needs (redis-server and Node.js from apt if missing, the
# Node peer's packages with npm ci), builds herald and herald-bench, starts a
# throwaway redis-server holding N session copies (HSET bench:sessions
# tok<i> {"user_id":<i>,...}, as the Rails app writes them at sign-in), then
# runs both servers alternately, ROUNDS times: herald, node, herald, node...
# Each run is one `herald-bench suite` against a fresh server process:
# N authenticated connections (connect CPU, idle RSS per connection), then
# unicast at RATE/s for DURATION, an unpaced burst of BURST, BROADCASTS
# broadcasts to everyone, and the same unicast and broadcast through the
# Socket.IO Redis emitter format. Writes the medians and the ratios
# herald/node as a Markdown table to bench/results-<date>.md (OUT), with the
# machine and the exact command, and prints it.
#
#   bench/run.sh                          # N=10000, ROUNDS=3 (about 4 minutes on 2 vCPUs)
#   N=1000 ROUNDS=1 bench/run.sh          # smoke test (about 1 minute)
#   SCALE=1 PER_NODE=2000 bench/run.sh    # scale-out smoke test
#   SCALE=1 bench/run.sh                  # NODES herald nodes on one Redis, PER_NODE connections each
#   SPLIT=1 bench/run.sh                  # the server on CPU 0, everything else on CPU 1 (root)
#
# Settings (environment): N (10000), ROUNDS (3), RATE (1000), DURATION (10s),
# BURST (20000), BROADCASTS (10), SETTLE (5s), CONCURRENCY (200), OUT
# (bench/results-<date>.md; bench/results-<date>-scale.md with SCALE=1),
# REDIS_PORT (6397), HERALD_PORT (3097), NODE_PORT (3098), HERALD_BIN (use
# this herald binary instead of building ./cmd/herald), KEEP_RAW (1: keep
# every run's full output and JSON next to OUT, in <OUT without .md>/).
# Split mode: SPLIT=1 stands in for a load client on another machine. On
# loopback, the kernel runs the receiving side of every TCP segment (the
# client's TCP processing and its wake-up) on the sending CPU, charged to
# the sender: most of a server's system time per delivered message is the
# client's. SPLIT=1 pins each server to CPU 0, the load client and Redis to
# CPU 1, and steers loopback receive processing to CPU 1 (RPS on lo; needs
# root and 2 CPUs; restored on exit). OUT defaults to results-<date>-split.md.
# Scale mode: SCALE=1, NODES (3), PER_NODE (19000): one herald-bench process
# per node (each process is limited to 20,000 open files), one of them
# publishing to users drawn from all nodes, the others only receiving.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

# The exact command, as typed: the settings given in the environment.
SETTINGS="N ROUNDS RATE DURATION BURST BROADCASTS SETTLE CONCURRENCY OUT REDIS_PORT HERALD_PORT NODE_PORT HERALD_BIN KEEP_RAW SCALE SPLIT NODES PER_NODE"
COMMAND=""
for v in $SETTINGS; do
	if [ -n "${!v+x}" ]; then COMMAND+="$v=${!v} "; fi
done
COMMAND+="bench/run.sh"

export PATH="/usr/local/go/bin:$PATH"
N=${N:-10000}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-1000}
DURATION=${DURATION:-10s}
BURST=${BURST:-20000}
BROADCASTS=${BROADCASTS:-10}
SETTLE=${SETTLE:-5s}
CONCURRENCY=${CONCURRENCY:-200}
REDIS_PORT=${REDIS_PORT:-6397}
HERALD_PORT=${HERALD_PORT:-3097}
NODE_PORT=${NODE_PORT:-3098}
SCALE=${SCALE:-0}
SPLIT=${SPLIT:-0}
NODES=${NODES:-3}
PER_NODE=${PER_NODE:-19000}
KEEP_RAW=${KEEP_RAW:-0}
DATE=$(date +%Y-%m-%d)
if [ "$SCALE" = 1 ]; then
	OUT=${OUT:-bench/results-$DATE-scale.md}
elif [ "$SPLIT" = 1 ]; then
	OUT=${OUT:-bench/results-$DATE-split.md}
else
	OUT=${OUT:-bench/results-$DATE.md}
fi
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

WORK=$(mktemp -d)
PIDS=()
# stop_pid: SIGTERM, then SIGKILL if the process is still there after 15 s.
stop_pid() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 150); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
RPS_FILE=/sys/class/net/lo/queues/rx-0/rps_cpus
RPS_SAVED=""
cleanup() {
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
	[ -z "$RPS_SAVED" ] || echo "$RPS_SAVED" >"$RPS_FILE" || true
	rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# ON_SERVER_CPU / ON_CLIENT_CPU prefix the commands of split mode.
ON_SERVER_CPU=()
ON_CLIENT_CPU=()
if [ "$SPLIT" = 1 ]; then
	[ "$SCALE" != 1 ] || { echo "SPLIT=1 and SCALE=1 do not combine" >&2; exit 2; }
	[ "$(nproc)" -ge 2 ] || { echo "SPLIT=1 needs 2 CPUs" >&2; exit 2; }
	[ -w "$RPS_FILE" ] || { echo "SPLIT=1 needs root: it writes $RPS_FILE" >&2; exit 2; }
	RPS_SAVED=$(cat "$RPS_FILE")
	echo 2 >"$RPS_FILE" # loopback receive processing on CPU 1
	ON_SERVER_CPU=(taskset -c 0)
	ON_CLIENT_CPU=(taskset -c 1)
fi

# --- install what is missing -------------------------------------------------
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
apt_updated=0
apt_install() {
	if [ "$apt_updated" = 0 ]; then
		$SUDO apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
command -v go >/dev/null || { echo "needs Go (/usr/local/go/bin/go)" >&2; exit 1; }
command -v redis-server >/dev/null || { log "installing redis-server"; apt_install redis-server; }
command -v curl >/dev/null || { log "installing curl"; apt_install curl; }
[ "$SCALE" != 1 ] || command -v jq >/dev/null || { log "installing jq"; apt_install jq; }
if [ "$SCALE" != 1 ]; then
	command -v node >/dev/null || { log "installing nodejs"; apt_install nodejs npm; }
	command -v npm >/dev/null || { log "installing npm"; apt_install npm; }
	log "npm ci in bench/node-peer"
	(cd bench/node-peer && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- build ---------------------------------------------------------------------
HERALD_DESC="herald $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- 2>/dev/null || echo ' with uncommitted changes')"
if [ -n "${HERALD_BIN:-}" ]; then
	cp "$HERALD_BIN" "$WORK/herald"
	HERALD_DESC="herald: prebuilt binary $HERALD_BIN"
else
	log "building herald"
	go build -o "$WORK/herald" ./cmd/herald
fi
log "building herald-bench"
go build -o "$WORK/herald-bench" ./cmd/herald-bench

# --- Redis and the session copies ---------------------------------------------
"${ON_CLIENT_CPU[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
	--dir "$WORK" --logfile "$WORK/redis.log"
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
USERS=$N
[ "$SCALE" = 1 ] && USERS=$((NODES * PER_NODE))
log "writing $USERS session copies"
awk -v n="$USERS" 'BEGIN { for (i = 0; i < n; i++) printf "HSET bench:sessions tok%d \"{\\\"user_id\\\":%d,\\\"username\\\":\\\"user%d\\\"}\"\n", i, i, i }' |
	redis-cli -p "$REDIS_PORT" >/dev/null
[ "$(redis-cli -p "$REDIS_PORT" hlen bench:sessions)" = "$USERS" ] || { echo "session copies missing" >&2; exit 1; }

# --- servers -------------------------------------------------------------------
wait_ready() { # url pid
	for _ in $(seq 300); do
		curl -sf "$1" >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
SERVER_PID=""
start_herald() { # port
	"${ON_SERVER_CPU[@]}" "$WORK/herald" --listen "127.0.0.1:$1" --redis "$REDIS_URL" --session-hash bench:sessions --log-level warn \
		>>"$WORK/herald.log" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	wait_ready "http://127.0.0.1:$1/readyz" "$SERVER_PID" || { tail "$WORK/herald.log" >&2; exit 1; }
}
start_node() { # port
	(cd bench/node-peer && PORT=$1 HOST=127.0.0.1 REDIS_URL="$REDIS_URL" SESSION_HASH=bench:sessions \
		exec "${ON_SERVER_CPU[@]}" node server.mjs >>"$WORK/node.log" 2>&1) &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	wait_ready "http://127.0.0.1:$1/healthz" "$SERVER_PID" || { tail "$WORK/node.log" >&2; exit 1; }
}
stop_server() { stop_pid "$SERVER_PID"; }

machine_info() {
	echo "- machine: $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) memory, $(uname -sr), open-file limit $(ulimit -n) per process"
	echo "- $(go version | sed 's/^go version //'); redis-server $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'); $HERALD_DESC"
	if [ "$SCALE" != 1 ]; then
		echo "- Node.js $(node --version); socket.io $(node -p 'require("./bench/node-peer/node_modules/socket.io/package.json").version'), @socket.io/redis-adapter $(node -p 'require("./bench/node-peer/node_modules/@socket.io/redis-adapter/package.json").version'), redis (node-redis) $(node -p 'require("./bench/node-peer/node_modules/redis/package.json").version')"
	fi
	echo "- command: \`$COMMAND\`"
}

mkdir -p "$(dirname "$OUT")"
status=0

if [ "$SCALE" != 1 ]; then
	# --- side by side --------------------------------------------------------
	SUITE=(suite -n "$N" -c "$CONCURRENCY" -cookie '_validation_token_key=tok{i}' -redis "$REDIS_URL"
		-settle "$SETTLE" -rate "$RATE" -duration "$DURATION" -burst "$BURST" -broadcasts "$BROADCASTS" -q -json)
	REPORT_ARGS=()
	for round in $(seq "$ROUNDS"); do
		for server in herald node; do
			if [ "$server" = herald ]; then
				start_herald "$HERALD_PORT"
				url="http://127.0.0.1:$HERALD_PORT"
				extra=(-metrics-url "$url/metrics")
			else
				start_node "$NODE_PORT"
				url="http://127.0.0.1:$NODE_PORT"
				extra=()
			fi
			log "round $round/$ROUNDS: $server (pid $SERVER_PID), $N connections"
			out="$WORK/$server-$round.txt"
			if ! "${ON_CLIENT_CPU[@]}" "$WORK/herald-bench" "${SUITE[@]}" -url "$url" -pid "$SERVER_PID" "${extra[@]}" >"$out"; then
				status=1
				log "round $round: $server: FAILED (see below)"
				grep -v '^{' "$out" >&2 || true
			fi
			grep '^phase' "$out" | sed 's/^/    /' >&2 || true
			stop_server
			REPORT_ARGS+=("$server=$out")
		done
	done
	{
		echo "# herald and the Node.js design, side by side ($DATE)"
		echo
		echo "\`bench/run.sh\`: $N authenticated WebSocket connections to each server in turn, on one throwaway"
		echo "redis-server; $ROUNDS round(s) alternating herald and node (bench/node-peer: socket.io with"
		echo "@socket.io/redis-adapter, the same cookie → HGET authentication, one node); figures are medians"
		echo "over the rounds. Unicast: $RATE notifications/s for $DURATION to random users, published on"
		echo "herald:notify; burst: $BURST unpaced; broadcast: $BROADCASTS × {\"broadcast\":true}, each sent once the"
		echo "previous reached every connection; emitter: the same unicast and broadcast in the Socket.IO Redis"
		echo "emitter format. Server CPU and RSS from /proc/<pid>; the load client runs on the same machine."
		if [ "$SPLIT" = 1 ]; then
			echo
			echo "Split mode: each server pinned to CPU 0; the load client and Redis on CPU 1, and loopback receive"
			echo "processing steered to CPU 1 (RPS), so a server is no longer charged for its clients' TCP receive"
			echo "work, as with clients on other machines (herald, pinned, runs with GOMAXPROCS=1, like Node's one thread)."
		fi
		echo
		machine_info
		echo
		"$WORK/herald-bench" report -a herald -b node "${REPORT_ARGS[@]}"
	} >"$OUT"
else
	# --- scale-out: several herald nodes on one Redis ---------------------------
	KEY="herald-bench:barrier:$(date +%s%N)"
	BENCH_PIDS=()
	SERVER_PIDS=()
	for k in $(seq 0 $((NODES - 1))); do
		start_herald $((HERALD_PORT + k))
		SERVER_PIDS+=("$SERVER_PID")
	done
	log "scale-out: $NODES herald nodes, $PER_NODE connections each, $USERS users"
	for k in $(seq 0 $((NODES - 1))); do
		port=$((HERALD_PORT + k))
		publish=false
		[ "$k" = 0 ] && publish=true
		"$WORK/herald-bench" suite -phases unicast,broadcast,emitter-unicast,emitter-broadcast \
			-url "http://127.0.0.1:$port" -pid "${SERVER_PIDS[$k]}" -metrics-url "http://127.0.0.1:$port/metrics" \
			-n "$PER_NODE" -c "$CONCURRENCY" -base $((k * PER_NODE)) -users "$USERS" -cookie '_validation_token_key=tok{i}' \
			-redis "$REDIS_URL" -publish="$publish" -barrier "$NODES" -barrier-key "$KEY" \
			-settle "$SETTLE" -rate "$RATE" -duration "$DURATION" -broadcasts "$BROADCASTS" -timeout 15m -q -json \
			>"$WORK/scale-$k.txt" 2>"$WORK/scale-$k.err" &
		BENCH_PIDS+=($!)
	done
	for k in $(seq 0 $((NODES - 1))); do
		if ! wait "${BENCH_PIDS[$k]}"; then
			status=1
			log "node $k: FAILED"
			cat "$WORK/scale-$k.txt" "$WORK/scale-$k.err" >&2 || true
		fi
	done
	{
		echo "# herald scale-out: $NODES nodes on one Redis ($DATE)"
		echo
		echo "\`SCALE=1 bench/run.sh\`: $NODES herald nodes on one redis-server, $PER_NODE authenticated WebSocket"
		echo "connections each (one herald-bench process per node: a process holds at most 20,000 open files),"
		echo "$USERS users. One process publishes, to users drawn from all $USERS: each notification goes"
		echo "out once on Redis and must reach the one node that holds its user. Unicast: $RATE/s for $DURATION;"
		echo "broadcast: $BROADCASTS × {\"broadcast\":true} (each node delivers to its own sockets); then the"
		echo "same through the Socket.IO Redis emitter format. Every process accounts exactly for its own users."
		echo
		machine_info
		echo
		echo "| node | connections ok | RSS per connection | CPU per connect | unicast delivered (lost/dup/misrouted) | unicast p50 / p99 / p99.9 | broadcast delivered (lost/dup) | broadcast p99 | emitter unicast delivered | emitter broadcast delivered | node CPU per delivery (unicast / broadcast) |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
		for k in $(seq 0 $((NODES - 1))); do
			tail -1 "$WORK/scale-$k.txt" | jq -r --arg k "$k" '
				def ph(n): (.phases[] | select(.name == n)) // {};
				def f(x; d): if x == null then "–" else (x * pow(10; d) | round / pow(10; d) | tostring) end;
				"| \($k) | \(.ok) | \(f(.rss_per_conn_bytes / 1024; 2)) KiB | \(f(.cpu_per_connect_us; 0)) µs | " +
				"\(ph("unicast").delivered)/\(ph("unicast").expected) (\(ph("unicast").lost)/\(ph("unicast").duplicated)/\(ph("unicast").misrouted)) | " +
				"\(f(ph("unicast").p50_ms; 2)) / \(f(ph("unicast").p99_ms; 2)) / \(f(ph("unicast").p999_ms; 2)) ms | " +
				"\(ph("broadcast").delivered)/\(ph("broadcast").expected) (\(ph("broadcast").lost)/\(ph("broadcast").duplicated)) | \(f(ph("broadcast").p99_ms; 1)) ms | " +
				"\(ph("emitter-unicast").delivered)/\(ph("emitter-unicast").expected) | \(ph("emitter-broadcast").delivered)/\(ph("emitter-broadcast").expected) | " +
				"\(f(ph("unicast").cpu_per_delivery_us; 1)) / \(f(ph("broadcast").cpu_per_delivery_us; 2)) µs |"' 2>/dev/null ||
				echo "| $k | (no result) | | | | | | | | | |"
		done
		for k in $(seq 0 $((NODES - 1))); do tail -1 "$WORK/scale-$k.txt"; done | jq -rs '
			def tot(n; f): [.[] | .phases[] | select(.name == n) | f] | add;
			"\nCluster: " + ([.[] | .ok] | add | tostring) + " connections on " + (length | tostring) + " nodes. " +
			([["unicast", "emitter-unicast"][] as $n | "\($n): \(tot($n; .published)) notifications published once on Redis, " +
				"\(tot($n; .delivered)) delivered, \(tot($n; .lost)) lost, \(tot($n; .duplicated)) duplicated, \(tot($n; .misrouted)) misrouted"] | join("; ")) +
			"; broadcast: \(tot("broadcast"; .delivered)) of \(tot("broadcast"; .expected)) deliveries" +
			"; emitter broadcast: \(tot("emitter-broadcast"; .delivered)) of \(tot("emitter-broadcast"; .expected))."' 2>/dev/null || true
		echo
		echo "CPU per delivery counts each node's whole CPU over the phase against the deliveries to its own"
		echo "sockets: every node also receives and parses every notification addressed to the other nodes."
	} >"$OUT"
fi

if [ "$KEEP_RAW" = 1 ]; then
	raw="${OUT%.md}"
	mkdir -p "$raw"
	cp "$WORK"/*.txt "$raw"/ 2>/dev/null || true
	log "raw outputs in $raw/"
fi
cat "$OUT"
log "wrote $OUT"
exit "$status"
