#!/usr/bin/env bash
# bench/idle.sh — what an idle authenticated WebSocket connection costs herald.
#
# Starts a throwaway redis-server, writes N session copies into the hash
# (as the Rails app does at sign-in), starts herald against it, opens N
# Socket.IO connections with cmd/herald-bench (each with its own session
# cookie), and prints server RSS and goroutines per connection, and the
# Redis cost of sign-out detection over 10 s in both modes.
#
#   bench/idle.sh            # N=10000
#   N=19000 bench/idle.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/usr/local/go/bin:$PATH"
N=${N:-10000}
PORT=${REDIS_PORT:-6395}
LISTEN=127.0.0.1:${HERALD_PORT:-3093}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
ulimit -n "$(ulimit -Hn)"

command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server)"; exit 1; }
go build -o "$WORK/herald" ./cmd/herald
go build -o "$WORK/herald-bench" ./cmd/herald-bench
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
	--dir "$WORK" --logfile "$WORK/redis.log"
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done
for ((i = 0; i < N; i++)); do
	printf 'HSET bench:sessions tok%d "{\\"user_id\\":%d,\\"username\\":\\"user%d\\"}"\n' "$i" "$i" "$i"
done | redis-cli -p "$PORT" >/dev/null

redis_cpu() { redis-cli -p "$PORT" info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.3f", s}'; }

for mode in off auto; do
	echo "== keyspace-events=$mode"
	"$WORK/herald" --listen "$LISTEN" --redis "redis://127.0.0.1:$PORT/0" --session-hash bench:sessions \
		--keyspace-events "$mode" --log-level warn &
	pid=$!
	until curl -sf "http://$LISTEN/readyz" >/dev/null; do sleep 0.1; done
	"$WORK/herald-bench" idle -url "http://$LISTEN" -n "$N" -pid "$pid" -metrics-url "http://$LISTEN/metrics" \
		-cookie "_validation_token_key=tok{i}" -q -settle 5s -hold 15s &
	bench=$!
	# measure Redis once every connection is up and settled
	until [ "$(curl -s "http://$LISTEN/metrics" | awk '/^herald_connections / {print $2}')" = "$N" ]; do sleep 0.5; done
	sleep 2
	redis-cli -p "$PORT" config resetstat >/dev/null
	c0=$(redis_cpu)
	sleep 10
	c1=$(redis_cpu)
	calls=$(redis-cli -p "$PORT" info commandstats | tr -d '\r' | awk -F'[=,:]' '/^cmdstat_(hexists|exists):/ {s += $3} END {print s + 0}')
	echo "sign-out detection over 10 s: $calls session checks ($((calls / 10))/s), redis CPU $(echo "$c1 - $c0" | bc) s"
	wait "$bench"
	kill "$pid"
	wait "$pid" || true
done
