#!/bin/sh
# Starts (or stops) a private pgbouncer in front of the private cluster of
# scripts/postgres.sh: transaction pooling, listening on 127.0.0.1 and a
# socket of its own only. Debian's pgbouncer service (port 6432), if any, is
# left alone.
#
#   WAITSCOPE_PGBOUNCER_PORT  its port (54330)
#   WAITSCOPE_PGBOUNCER_POOL  default_pool_size: server connections per user+db (2)
#   WAITSCOPE_PGPORT          the cluster's port (54329)
#   WAITSCOPE_PGBOUNCER_TLS   1: clients must speak TLS (a self-signed certificate made here)
#
# It runs as postgres (pgbouncer refuses root), who may not enter the clone:
# its files live under /var/tmp, in a folder named after the clone, and
# build/pgbouncer.PORT links to them (pgbouncer.pid there). `start` prints its pid
# on the last line ("pgbouncer: running on ... pid N ..."); it is a no-op when
# one runs with the same settings and restarts it when they changed.
set -e
PORT=${WAITSCOPE_PGBOUNCER_PORT:-54330}
POOL=${WAITSCOPE_PGBOUNCER_POOL:-2}
PGPORT=${WAITSCOPE_PGPORT:-54329}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
TLS=${WAITSCOPE_PGBOUNCER_TLS:-0}
# one per port: a TLS one may run beside the plain one
HOME_DIR=/var/tmp/waitscope-pgbouncer.$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1).$PORT
LINK=$ROOT/build/pgbouncer.$PORT
INI=$HOME_DIR/pgbouncer.ini
PIDFILE=$HOME_DIR/pgbouncer.pid

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

running() {
	[ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

stop() {
	if running; then
		pid=$(cat "$PIDFILE")
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	fi
	rm -rf "$HOME_DIR"
	rm -f "$LINK"
}

config() {
	cat <<EOF
[databases]
postgres = host=127.0.0.1 port=$PGPORT dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir = $HOME_DIR
pidfile = $PIDFILE
logfile = $HOME_DIR/pgbouncer.log
auth_type = trust
auth_file = $HOME_DIR/users.txt
pool_mode = transaction
default_pool_size = $POOL
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 100
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
EOF
	if [ "$TLS" = 1 ]; then
		cat <<EOF
client_tls_sslmode = require
client_tls_key_file = $HOME_DIR/key.pem
client_tls_cert_file = $HOME_DIR/cert.pem
EOF
	fi
}

case "${1:-start}" in
start)
	[ -x "$BIN" ] || { echo "pgbouncer: not installed (make deps)" >&2; exit 1; }
	if running && config | cmp -s - "$INI"; then
		:
	else
		stop
		mkdir -p "$HOME_DIR"
		chmod 700 "$HOME_DIR"
		config >"$INI"
		# trust: no password is checked, but the user must be listed
		echo '"postgres" ""' >"$HOME_DIR/users.txt"
		if [ "$TLS" = 1 ]; then
			openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
				-keyout "$HOME_DIR/key.pem" -out "$HOME_DIR/cert.pem" 2>/dev/null
		fi
		[ "$(id -u)" -eq 0 ] && chown -R postgres: "$HOME_DIR"
		as_pg "$BIN" -d -q "$INI"
	fi
	mkdir -p "$ROOT/build"
	ln -sfn "$HOME_DIR" "$LINK"
	i=0
	until psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc 'select 1' postgres >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			echo "pgbouncer: not accepting connections on 127.0.0.1:$PORT; log:" >&2
			tail -n 5 "$HOME_DIR/pgbouncer.log" >&2 2>/dev/null || true
			exit 1
		fi
		sleep 0.1
	done
	echo "pgbouncer: running on 127.0.0.1:$PORT, pid $(cat "$PIDFILE"), pool $POOL, in front of 127.0.0.1:$PGPORT (files in $HOME_DIR)"
	;;
stop)
	stop
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
