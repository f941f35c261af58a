#!/bin/bash
# What poolwait costs the clients it traces, measured with pgbench and
# build/fixtures/dispatch against the private PostgreSQL, and written into
# docs/benchmarks.md (its own section, between markers; the other sections are
# left as they are). Run by `make bench` after the semlat part, or alone:
# `BENCH_POOLWAIT_ONLY=1 make bench`, or this script after `make all`. As root.
# Three parts:
#   1. pgbench: `pgbench -n -S -M MODE -c C -j C -T S` (select-only, TCP to
#      127.0.0.1, -n: no vacuum, the tables are the tests' too) for every MODE
#      of BENCH_POOLWAIT_MODES, untraced and under `poolwait --dsn DSN --json`
#      on every process (no -p: pgbench lives only for the run, and that is
#      how poolwait is most often run): tps, the drop against the goal (3 %),
#      pgbench's round trips as poolwait counted them against its
#      transactions, and the BPF run time per program run, per round trip and
#      per traced socket call (poolwait's own count, CNT_CALLS of its counters
#      map)
#   2. a libpq pool: `dispatch -n 2 -g 2 -c 2 -q 0 DSN` (threads taking a
#      connection from a mutex+condvar pool, pool_get, running a query with
#      PQexec and putting it back, pool_put; nothing waits) untraced, under
#      `poolwait -p P`, `poolwait -p P --acquire pool_get:pool_put` and
#      `poolwait -p P --libpq` where `poolwait --help` lists --libpq: the
#      fixture's own timings of pool_get and of the query (medians), uprobe
#      runs and BPF run time per call, over a window of
#      BENCH_POOLWAIT_DISPATCH_SECONDS after the tracer has attached
#   3. start-up: exec of `poolwait --dsn DSN` (and of `poolwait --dsn DSN -p
#      SLEEP`) to its "tracing connections to" line on stderr
#
# poolwait counts as attached when it prints "tracing connections to" (after
# ATTACH_WAIT s at least, up to 30 s more); its programs are found through
# /proc/POOLWAIT/fdinfo, and their bpf_stats read before and after the
# workload while it still runs (no pins needed: it is stopped, SIGINT, only
# after). Every configuration runs BENCH_POOLWAIT_REPS (the pool's
# BENCH_POOLWAIT_DISPATCH_REPS) times, the order reversed on every other
# repetition; the quiet-machine wait, the redo of noisy runs, the private
# PostgreSQL and the bookkeeping are bench.sh's (scripts/bench-lib.sh). Other
# programs named like poolwait's socket-call programs (another poolwait,
# tracing the same clients) count as noise, like other sched_switch programs,
# and the quiet-machine wait waits for them too.
#
# Knobs (environment): BENCH_POOLWAIT_SECONDS (5: each pgbench run),
# BENCH_POOLWAIT_REPS (4; 0 skips the section), BENCH_POOLWAIT_CLIENTS (2:
# pgbench -c and -j), BENCH_POOLWAIT_MODES ("simple prepared": pgbench -M),
# BENCH_POOLWAIT_DISPATCH_SECONDS (2: each pool window, at most 6: the
# fixture keeps 40000 records a thread), BENCH_POOLWAIT_DISPATCH_REPS (3; 0
# skips the pool), BENCH_POOLWAIT_STARTUP_REPS (3; 0 skips start-up),
# WAITSCOPE_PGPORT (54329), ATTACH_WAIT (1.5), QUIET_BUDGET (30), QUIET_PCT
# (15), NOISY_PCT (5), BENCH_RETRIES (3), BENCH_DOC (docs/benchmarks.md),
# PYTHON (python3), OUT (build: where `make` put the tools).
set -eu

cd "$(dirname "$0")/.."

BENCH_TAG=bench-poolwait
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

[ "$(id -u)" -eq 0 ] || die "must run as root (BPF programs, kernel.bpf_stats_enabled); try: sudo make bench"

SECONDS_PER_RUN=${BENCH_POOLWAIT_SECONDS:-5}
REPS=${BENCH_POOLWAIT_REPS:-4}
CLIENTS=${BENCH_POOLWAIT_CLIENTS:-2}
MODES=${BENCH_POOLWAIT_MODES:-simple prepared}
DSECONDS=${BENCH_POOLWAIT_DISPATCH_SECONDS:-2}
DREPS=${BENCH_POOLWAIT_DISPATCH_REPS:-3}
STARTUP_REPS=${BENCH_POOLWAIT_STARTUP_REPS:-3}
POOLWAIT=$OUT/poolwait
DISPATCH=$OUT/fixtures/dispatch
DSN="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
# the fixture's connections, told apart from everyone else's in pg_stat_activity
DISPATCH_APP=waitscope-bench-dispatch

case "$SECONDS_PER_RUN$REPS$CLIENTS$DSECONDS$DREPS$STARTUP_REPS$PGPORT" in
*[!0-9]*) die "BENCH_POOLWAIT_SECONDS, BENCH_POOLWAIT_REPS, BENCH_POOLWAIT_CLIENTS, BENCH_POOLWAIT_DISPATCH_SECONDS, BENCH_POOLWAIT_DISPATCH_REPS, BENCH_POOLWAIT_STARTUP_REPS, WAITSCOPE_PGPORT take whole numbers" ;;
esac
if [ "$REPS" -eq 0 ]; then
	echo "bench-poolwait: poolwait section skipped (BENCH_POOLWAIT_REPS=0)"
	exit 0
fi
[ "$SECONDS_PER_RUN" -gt 0 ] || die "BENCH_POOLWAIT_SECONDS must be at least 1"
[ "$CLIENTS" -gt 0 ] || die "BENCH_POOLWAIT_CLIENTS must be at least 1"
if [ "$DSECONDS" -lt 1 ] || [ "$DSECONDS" -gt 6 ]; then
	die "BENCH_POOLWAIT_DISPATCH_SECONDS must be from 1 to 6"
fi
for m in $MODES; do
	case $m in simple | prepared) ;; *) die "BENCH_POOLWAIT_MODES: '$m' is not simple or prepared" ;; esac
done
[ -n "$MODES" ] || die "BENCH_POOLWAIT_MODES is empty"
for f in "$POOLWAIT" "$DISPATCH"; do
	[ -x "$f" ] || die "$f is missing: run 'make all' (or 'make bench', which builds it)"
done
bench_tools mkfifo pgbench psql runuser
# options a build of poolwait may not have yet: their rows say so
LIBPQ=""
"$POOLWAIT" --help | grep -q -- '--libpq' && LIBPQ=1

WORK=$OUT/bench
mkdir -p "$WORK"
bench_lock
PG_TSV=$WORK/poolwait-pgbench.tsv
D_TSV=$WORK/poolwait-dispatch.tsv
PROGS_TSV=$WORK/poolwait-progs.tsv
STARTUP_TSV=$WORK/poolwait-startup.tsv
RUN_ROW=$WORK/poolwait-run.tsv
OUTF=$WORK/poolwait-workload.out
TOUT=$WORK/poolwait-tracer.out
TERR=$WORK/poolwait-tracer.err
FIFO=$WORK/poolwait-start.$$

CLEANUP_HOOK=pg_down
stats_on

# tracing TRACER IDS: attached_ids' test of poolwait's attachment: its line
# was there at the look before this one (IDS, read before each look, are all
# its programs' only then)
LINE_SEEN=""
tracing() {
	[ -z "$LINE_SEEN" ] || return 0
	grep -q 'tracing connections to' "$TERR" && LINE_SEEN=1
	return 1
}

# start_poolwait ARGS...: poolwait --dsn DSN ARGS... --json in the background,
# attached; sets TP and IDS
start_poolwait() {
	"$POOLWAIT" --dsn "$DSN" "$@" --json >"$TOUT" 2>"$TERR" &
	TP=$!
	STARTED="$STARTED $TP"
	IDS=$(attached_ids "$TP" tracing) || {
		cat "$TERR" >&2
		die "poolwait $*: it exited before the run, or printed no 'tracing connections to' line $ATTACH_WAIT + 30 s after its start"
	}
}

# stop_poolwait: SIGINT; it writes its JSON report and must exit 0
stop_poolwait() {
	local rc=0
	stop_pid "$TP" INT || rc=$?
	[ "$rc" -eq 0 ] || { cat "$TERR" >&2; die "poolwait exited with $rc after SIGINT (output: $TOUT)"; }
	[ -s "$TOUT" ] || { cat "$TERR" >&2; die "poolwait printed no JSON"; }
}

# bpf_snap N IDS...: poolwait's program stats, its socket-call count and the
# other socket-call programs', in $WORK/poolwait-bpfN.json
bpf_snap() {
	local n=$1
	shift
	"$PYTHON" tests/bench/poolwait.py snap "$WORK/poolwait-bpf$n.json" "$@"
}

# bpf_delta CONFIG REP: sets BPF_NS BPF_RUNS UP_NS UP_RUNS CALLS FPROGS FNS;
# the programs' lines go to $PROGS_TSV
bpf_delta() {
	read -r BPF_NS BPF_RUNS UP_NS UP_RUNS CALLS FPROGS FNS <<<"$("$PYTHON" tests/bench/poolwait.py delta \
		"$WORK/poolwait-bpf0.json" "$WORK/poolwait-bpf1.json" "$1" "$2" "$PROGS_TSV")"
}

# the quiet-machine wait, and then for others' socket-call programs to stop running
pw_quiet() { quiet_wait_then "$PYTHON" tests/bench/poolwait.py quiet; }

# --- 1. pgbench ------------------------------------------------------------------
# pg_run CONFIG REP: MODE-base or MODE-poolwait; its line goes to $RUN_ROW,
# its others' share to OTHERS
pg_run() {
	local config=$1 rep=$2 mode=${1%%-*} t0 t1 rc tps xacts rts=0 own=0 acq=0
	TP=""
	IDS=""

	pw_quiet
	[ "${config#*-}" = base ] || start_poolwait
	# shellcheck disable=SC2086
	load_snap 0 "${TP:--} +$PG_POSTMASTER" $IDS
	# shellcheck disable=SC2086
	bpf_snap 0 $IDS
	t0=$(date +%s%N)
	rc=0
	run_bg "$OUTF" "${PGBENCH[@]}" -n -S -M "$mode" -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_PER_RUN" postgres || rc=$?
	t1=$(date +%s%N)
	# shellcheck disable=SC2086
	bpf_snap 1 $IDS
	sleep 0.2 # the postmaster reaps the backends of pgbench's connections
	# shellcheck disable=SC2086
	load_snap 1 "${TP:--} +$PG_POSTMASTER" $IDS
	bpf_delta "$config" "$rep"
	load_others "$((t1 - t0))" "$FPROGS" "$FNS"
	if [ -n "$TP" ]; then
		stop_poolwait
		read -r rts own acq <<<"$("$PYTHON" tests/bench/poolwait.py count "$TOUT" "$BG_PID")"
	fi
	[ "$rc" -eq 0 ] || {
		cat "$OUTF" >&2
		die "$config: pgbench failed (exit $rc); did the cluster on 127.0.0.1:$PGPORT go away (make integration stops it)?"
	}
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$OUTF" | tail -1)
	xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$OUTF")
	if [ -z "$tps" ] || [ -z "$xacts" ]; then
		cat "$OUTF" >&2
		die "$config: pgbench printed no tps or transactions"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$config" "$rep" "$CLIENTS" \
		"$SECONDS_PER_RUN" "$tps" "$xacts" "$((t1 - t0))" "$BPF_NS" "$BPF_RUNS" "$CALLS" "$rts" "$own" \
		"$FOREIGN" "$FBPF" "$LOAD" "$STEAL" "$FPROGS" "$QUIET_WAIT" >"$RUN_ROW"
	printf 'bench-poolwait: pgbench %-17s rep %s: %8s tps, %s transactions' "$config" "$rep" "${tps%.*}" "$xacts"
	[ -z "$TP" ] || printf ', poolwait: %s of its round trips, BPF %d ns per round trip, %s traced socket calls' \
		"$own" "$((BPF_NS / (own > 0 ? own : 1)))" "$CALLS"
	[ "$FPROGS" -eq 0 ] || printf ', %s foreign socket-call programs ran' "$FPROGS"
	printf ', others %s %%\n' "$OTHERS"
}

# --- 2. the pool --------------------------------------------------------------------
# d_run CONFIG REP: dispatch-base, -poolwait, -acquire or -libpq
d_run() {
	local config=$1 rep=$2 wp i backends t0 t1 counts
	local rts=0 own=0 acq=0 window ops pool query whole inwin
	TP=""
	IDS=""

	pw_quiet
	# no -d: it runs until SIGTERM
	"$DISPATCH" -n 2 -g 2 -c 2 -q 0 "$DSN application_name=$DISPATCH_APP" >"$OUTF" 2>&1 &
	wp=$!
	STARTED="$STARTED $wp"
	for i in $(seq 1 100); do
		grep -q '^ready' "$OUTF" && break
		[ "$i" -lt 100 ] || die "$config: dispatch did not start: $(cat "$OUTF")"
		sleep 0.1
	done
	# its backends, alive through the window, are the benchmark's own
	backends=$(pg_sql "select string_agg(pid::text, ' ') from pg_stat_activity where application_name = '$DISPATCH_APP'")
	case $config in
	dispatch-base) sleep "$ATTACH_WAIT" ;; # the fixture runs as long before the window
	dispatch-poolwait) start_poolwait -p "$wp" ;;
	dispatch-acquire) start_poolwait -p "$wp" --acquire pool_get:pool_put ;;
	dispatch-libpq) start_poolwait -p "$wp" --libpq ;;
	*) die "unknown configuration $config" ;;
	esac
	# shellcheck disable=SC2086
	load_snap 0 "${TP:--} $wp $backends" $IDS
	t0=$(date +%s%N)
	# shellcheck disable=SC2086
	bpf_snap 0 $IDS
	sleep "$DSECONDS"
	# shellcheck disable=SC2086
	bpf_snap 1 $IDS
	t1=$(date +%s%N)
	# shellcheck disable=SC2086
	load_snap 1 "${TP:--} $wp $backends" $IDS
	bpf_delta "$config" "$rep"
	load_others "$((t1 - t0))" "$FPROGS" "$FNS"
	[ -z "$TP" ] || stop_poolwait
	stop_pid "$wp" TERM || die "$config: dispatch failed: $(tail -5 "$OUTF")"
	# the window of the BPF figures: from one reading of the stats to the other
	counts=$("$PYTHON" tests/bench/poolwait.py dispatch "$OUTF" "$WORK/poolwait-bpf0.json" \
		"$WORK/poolwait-bpf1.json" ${TP:+"$TOUT"}) || die "$config: no figures from dispatch's records ($OUTF)"
	read -r window ops pool query whole inwin <<<"$counts"
	[ -z "$TP" ] || read -r rts own acq <<<"$("$PYTHON" tests/bench/poolwait.py count "$TOUT" "$wp")"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$config" \
		"$rep" "$(awk -v n="$window" 'BEGIN { printf "%.3f", n / 1e9 }')" "$ops" "$pool" "$query" "$whole" \
		"$window" "$BPF_NS" "$BPF_RUNS" "$UP_NS" "$UP_RUNS" "$CALLS" "$rts" "$own" "$inwin" "$acq" \
		"$FOREIGN" "$FBPF" "$LOAD" "$STEAL" "$FPROGS" "$QUIET_WAIT" >"$RUN_ROW"
	printf 'bench-poolwait: %-17s rep %s: %6s calls, pool_get %6s ns, query %7s ns' "$config" "$rep" "$ops" "$pool" "$query"
	[ "$UP_RUNS" -eq 0 ] || printf ', %s uprobe runs/call' "$(awk -v r="$UP_RUNS" -v n="$ops" 'BEGIN { printf "%.2f", r / n }')"
	[ "$BPF_RUNS" -eq 0 ] || printf ', BPF %d ns/call' "$((BPF_NS / ops))"
	printf ', others %s %%\n' "$OTHERS"
}

# --- 3. start-up ----------------------------------------------------------------------
# startup_once ARGS...: exec of `poolwait --dsn DSN ARGS...` to its line on
# stderr, read from a FIFO held open here (so that nothing it writes blocks);
# sets STARTUP_S. It is killed then: its report is not wanted, and after
# SIGINT it takes seconds to detach its programs one by one
startup_once() {
	local p t0 t1="" line i=0
	rm -f "$FIFO"
	mkfifo "$FIFO"
	exec 8<>"$FIFO"
	: >"$TERR"
	t0=$EPOCHREALTIME
	"$POOLWAIT" --dsn "$DSN" "$@" >/dev/null 2>&8 &
	p=$!
	STARTED="$STARTED $p"
	while [ "$i" -lt 30 ]; do
		if IFS= read -r -t 1 -u 8 line; then
			if [[ $line == *"tracing connections to"* ]]; then
				t1=$EPOCHREALTIME
				break
			fi
			printf '%s\n' "$line" >>"$TERR"
		else
			kill -0 "$p" 2>/dev/null || break
			i=$((i + 1))
		fi
	done
	stop_pid "$p" KILL || true
	exec 8<&-
	rm -f "$FIFO"
	[ -n "$t1" ] || { cat "$TERR" >&2; die "start-up: poolwait $* printed no 'tracing connections to' line within 30 s"; }
	STARTUP_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
}

# --- the runs ---------------------------------------------------------------------------
pg_up poolwait
if ! pg_sql 'select count(*) from pgbench_branches' >/dev/null 2>&1; then
	echo "bench-poolwait: pgbench -i -s 1 postgres (pgbench's tables, missing; they stay, as the tests leave them)"
	run_bg "$WORK/poolwait-pgbench-init.log" "${PGBENCH[@]}" -i -s 1 -q postgres ||
		{ cat "$WORK/poolwait-pgbench-init.log" >&2; die "pgbench -i failed"; }
fi
PG_INFO="$(pg_sql 'show server_version' | cut -d' ' -f1), $(pg_sql 'show shared_buffers') shared_buffers, pgbench scale $(pg_sql 'select count(*) from pgbench_branches') in database postgres, on 127.0.0.1:$PGPORT (TCP)"

CONFIGS=""
for m in $MODES; do
	CONFIGS="$CONFIGS $m-base $m-poolwait"
done
DCONFIGS="dispatch-base dispatch-poolwait dispatch-acquire${LIBPQ:+ dispatch-libpq}"
printf 'config\trep\tclients\tseconds\ttps\ttransactions\twindow_ns\tbpf_ns\tbpf_runs\tcalls\troundtrips\town_roundtrips\tforeign_progs\tforeign_bpf_ns\tforeign_cpu_pct\tsteal_pct\tforeign_tracers\tquiet_wait_s\tkept\n' >"$PG_TSV"
printf 'config\trep\tseconds\tdispatches\tpool_ns\tquery_ns\tdispatch_ns\twindow_ns\tbpf_ns\tbpf_runs\tuprobe_ns\tuprobe_runs\tcalls\troundtrips\town_roundtrips\twindow_queries\tacquire_calls\tforeign_progs\tforeign_bpf_ns\tforeign_cpu_pct\tsteal_pct\tforeign_tracers\tquiet_wait_s\tkept\n' >"$D_TSV"
printf 'config\trep\tname\ttype\trun_time_ns\trun_cnt\n' >"$PROGS_TSV"
printf 'measurement\trep\tseconds\tquiet_wait_s\n' >"$STARTUP_TSV"
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
[ -n "$LIBPQ" ] || echo "bench-poolwait: $POOLWAIT --help lists no --libpq: its row will say \"not built\""

# warm-up, not recorded: the tables into the caches, the backends' code
run_bg /dev/null "${PGBENCH[@]}" -n -S -c "$CLIENTS" -j "$CLIENTS" -T 2 postgres || die "pgbench warm-up failed"
# shellcheck disable=SC2086
echo "bench-poolwait: pgbench: $(($(echo $CONFIGS | wc -w) * REPS)) runs of ${SECONDS_PER_RUN}s (pgbench -n -S -c $CLIENTS -j $CLIENTS -M MODE), $REPS per configuration"
# shellcheck disable=SC2086
run_alternating "$REPS" "$PG_TSV" "$RUN_ROW" "pgbench " pg_run $CONFIGS

if [ "$DREPS" -eq 0 ]; then
	echo "bench-poolwait: pool section skipped (BENCH_POOLWAIT_DISPATCH_REPS=0)"
else
	# shellcheck disable=SC2086
	echo "bench-poolwait: pool: $(($(echo $DCONFIGS | wc -w) * DREPS)) windows of ${DSECONDS}s (dispatch -n 2 -g 2 -c 2 -q 0), $DREPS per configuration"
	# shellcheck disable=SC2086
	run_alternating "$DREPS" "$D_TSV" "$RUN_ROW" "" d_run $DCONFIGS
fi

if [ "$STARTUP_REPS" -eq 0 ]; then
	echo "bench-poolwait: start-up section skipped (BENCH_POOLWAIT_STARTUP_REPS=0)"
else
	sleep 100000 &
	TARGET=$!
	STARTED="$STARTED $TARGET"
	echo "bench-poolwait: start-up: ${STARTUP_REPS} times each"
	for rep in $(seq 1 "$STARTUP_REPS"); do
		order="poolwait poolwait-p"
		[ $((rep % 2)) -eq 1 ] || order="poolwait-p poolwait"
		for m in $order; do
			pw_quiet
			case $m in
			poolwait) startup_once ;;
			poolwait-p) startup_once -p "$TARGET" ;;
			esac
			printf '%s\t%s\t%s\t%s\n' "$m" "$rep" "$STARTUP_S" "$QUIET_WAIT" >>"$STARTUP_TSV"
			echo "bench-poolwait: start-up, $m rep $rep: $STARTUP_S s"
		done
	done
	reap "$TARGET"
fi
pg_down

BENCH_DATE=$START_DATE \
	BENCH_COMMAND="BENCH_POOLWAIT_SECONDS=$SECONDS_PER_RUN BENCH_POOLWAIT_REPS=$REPS BENCH_POOLWAIT_CLIENTS=$CLIENTS BENCH_POOLWAIT_MODES=\"$MODES\" BENCH_POOLWAIT_DISPATCH_SECONDS=$DSECONDS BENCH_POOLWAIT_DISPATCH_REPS=$DREPS BENCH_POOLWAIT_STARTUP_REPS=$STARTUP_REPS BENCH_POOLWAIT_ONLY=1 make bench" \
	BENCH_PG_INFO="$PG_INFO" \
	BENCH_PGPORT=$PGPORT \
	BENCH_POOLWAIT_SECONDS=$SECONDS_PER_RUN \
	BENCH_POOLWAIT_CLIENTS=$CLIENTS \
	BENCH_POOLWAIT_PGBENCH="pgbench -n -S -c $CLIENTS -j $CLIENTS -T $SECONDS_PER_RUN" \
	BENCH_POOLWAIT_DSN="$DSN" \
	BENCH_POOLWAIT_DISPATCH="dispatch -n 2 -g 2 -c 2 -q 0 DSN" \
	BENCH_POOLWAIT_DISPATCH_SECONDS=$DSECONDS \
	BENCH_POOLWAIT_LIBPQ="${LIBPQ:+built}" \
	with_facts bpf/poolwait.bpf.c "$PYTHON" tests/bench/poolwait.py report "$PG_TSV" "$D_TSV" "$PROGS_TSV" \
	"$STARTUP_TSV" "$DOC"
echo "bench-poolwait: wrote the poolwait section of $DOC (raw data: $PG_TSV, $D_TSV, $PROGS_TSV, $STARTUP_TSV)"
