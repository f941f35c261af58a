#!/bin/sh
# Starts (or stops) a private PostgreSQL cluster for the tests: its own data
# directory, its own port, listening on loopback only. The system's cluster,
# if any, is left alone.
#
# The server runs as postgres, who may not enter the clone (a home folder is
# often 0700): its files live under /var/tmp, in a folder named after the
# clone, and build/pgdata links to them. `stop` removes them.
set -e
PGPORT=${WAITSCOPE_PGPORT:-54329}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$BIN/pg_ctl" ] || { echo "postgres: no PostgreSQL server installed (make deps)" >&2; exit 1; }
HOME_DIR=/var/tmp/waitscope-pg.$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
DATA=$HOME_DIR/data
LOG=$HOME_DIR/postgres.log

# from / : postgres may not enter the folder we were started from
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

case "${1:-start}" in
start)
	if [ ! -f "$DATA/PG_VERSION" ]; then
		mkdir -p "$DATA"
		chmod 700 "$HOME_DIR"
		[ "$(id -u)" -eq 0 ] && chown -R postgres: "$HOME_DIR"
		as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
	fi
	mkdir -p "$ROOT/build"
	ln -sfn "$DATA" "$ROOT/build/pgdata"
	if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
		as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
	fi
	psql -h 127.0.0.1 -p "$PGPORT" -U postgres -Atc 'select 1' >/dev/null
	echo "postgres: running on 127.0.0.1:$PGPORT (data in $DATA)"
	;;
stop)
	[ -d "$DATA" ] && as_pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$HOME_DIR"
	rm -f "$ROOT/build/pgdata"
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
