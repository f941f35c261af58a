#!/bin/sh
# Starts (or stops) a private PostgreSQL cluster for the tests: its own data
# directory under build/, its own port, listening on loopback only. The
# system's cluster, if any, is left alone.
set -e
PGPORT=${WAITSCOPE_PGPORT:-54329}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=$ROOT/build/pgdata
LOG=$ROOT/build/postgres.log
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$BIN/pg_ctl" ] || { echo "postgres: no PostgreSQL server installed (make deps)" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
start)
	if [ ! -f "$DATA/PG_VERSION" ]; then
		mkdir -p "$DATA"
		[ "$(id -u)" -eq 0 ] && chown postgres: "$DATA"
		as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
	fi
	[ "$(id -u)" -eq 0 ] && touch "$LOG" && chown postgres: "$LOG"
	if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
		as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
	fi
	psql -h 127.0.0.1 -p "$PGPORT" -U postgres -Atc 'select 1' >/dev/null
	echo "postgres: running on 127.0.0.1:$PGPORT (data in build/pgdata)"
	;;
stop)
	as_pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
