# shellcheck shell=bash
# What scripts/bench.sh, scripts/bench-semlat.sh and scripts/bench-poolwait.sh
# share, sourced by each from the repository root once BENCH_TAG (their
# messages' prefix) is set: the common knobs, the bookkeeping of what they
# start (ended by the EXIT trap, which also runs CLEANUP_HOOK if a script sets
# one, and removes FIFO), the benchmark lock, bpf_stats and pins, a tracer's
# program IDs, the private PostgreSQL, the wait for a quiet machine, the redo
# of runs that others disturbed, and the facts of the machine and the build
# that the reports' headers state.
#
# Knobs (environment): ATTACH_WAIT (1.5), QUIET_BUDGET (30), QUIET_PCT (15),
# NOISY_PCT (5), BENCH_RETRIES (3), BENCH_DOC (docs/benchmarks.md), PYTHON
# (python3), OUT (build), WAITSCOPE_PGPORT (54329).

die() {
	echo "$BENCH_TAG: $*" >&2
	exit 1
}

ATTACH_WAIT=${ATTACH_WAIT:-1.5}
# before each run, wait (at most 10 s, QUIET_BUDGET s in all) for the machine
# to be under QUIET_PCT % busy with no other sched_switch BPF program
QUIET_LEFT=${QUIET_BUDGET:-30}
QUIET_PCT=${QUIET_PCT:-15}
# a run during which others (processes, sched_switch programs, the hypervisor's
# steal) took more than NOISY_PCT % of the machine is run again, BENCH_RETRIES
# times at most in all
NOISY_PCT=${NOISY_PCT:-5}
RETRIES_LEFT=${BENCH_RETRIES:-3}
# shellcheck disable=SC2034 # the sourcing scripts' report goes there
DOC=${BENCH_DOC:-docs/benchmarks.md}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-build}
case "$QUIET_LEFT$QUIET_PCT$NOISY_PCT$RETRIES_LEFT" in
*[!0-9]*) die "QUIET_BUDGET, QUIET_PCT, NOISY_PCT, BENCH_RETRIES take whole numbers" ;;
esac

# bench_tools CMD...: die unless every CMD (and the interpreter) is there; then
# PYTHON is the interpreter itself, not a wrapper: it runs inside the
# measurement windows' edges
bench_tools() {
	local c
	for c in bpftool sysctl flock "$PYTHON" "$@"; do
		command -v "$c" >/dev/null || die "$c is missing (scripts/deps.sh installs it)"
	done
	PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')
}

# --- everything we start is remembered here and ended by the trap ----------
STARTED=""
STATS_WAS=""
PIN_PREFIX=""
FIFO=""
CLEANUP_HOOK=""
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in $STARTED; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in $STARTED; do
		wait "$p" 2>/dev/null || true
	done
	[ -z "$CLEANUP_HOOK" ] || "$CLEANUP_HOOK"
	[ -z "$FIFO" ] || rm -f "$FIFO"
	[ -z "$PIN_PREFIX" ] || rm -f "$PIN_PREFIX"*
	if [ -n "$STATS_WAS" ]; then
		sysctl -q -w kernel.bpf_stats_enabled="$STATS_WAS" >/dev/null 2>&1 || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() { # PID: no longer ours to kill
	local p out=""
	for p in $STARTED; do
		[ "$p" = "$1" ] || out="$out $p"
	done
	STARTED=$out
}

reap() { # PID: killed and waited for, without the shell's "Killed" notice
	{
		kill -KILL "$1"
		wait "$1"
	} 2>/dev/null || true
	forget "$1"
}

# run_bg OUT CMD...: CMD in the background, its output to OUT, waited for;
# its PID is left in BG_PID. So INT and TERM reach the trap at once: bash
# defers them while a command runs in the foreground, and ignores SIGINT if
# that command survives it (pgbench does).
BG_PID=""
run_bg() {
	local out=$1 p rc=0
	shift
	"$@" >"$out" 2>&1 &
	p=$!
	# shellcheck disable=SC2034 # for the sourcing scripts
	BG_PID=$p
	STARTED="$STARTED $p"
	wait "$p" || rc=$?
	forget "$p"
	return "$rc"
}

# stop_pid PID SIGNAL: sends it SIGNAL, gives it 30 s to end, then SIGKILL;
# reaped and forgotten; returns its exit status
stop_pid() {
	local i=0 rc=0
	kill -"$2" "$1" 2>/dev/null || true
	while kill -0 "$1" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || rc=$?
	forget "$1"
	return "$rc"
}

# bench_lock: one benchmark at a time, two would share $WORK's files and each
# other's CPUs. A script run by another gets its lock on fd 9, inherited: the
# same open file, so flock succeeds on it; otherwise fd 9 is not open yet.
bench_lock() {
	if ! flock -n 9 2>/dev/null; then
		exec 9>"$WORK/lock"
		flock -n 9 || die "another benchmark is running (lock $WORK/lock)"
	fi
}

# --- BPF statistics and pins ---------------------------------------------------
# stats_on: bpf_stats on, until the trap puts back what was there
stats_on() {
	STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null
}

# pins_ready: a tracer's programs are pinned while it runs: a tracer on a PID
# detaches as soon as its target exits, and a pinned program keeps its final
# statistics for us. Pins are files /sys/fs/bpf/waitscope_bench_PID_PROGID
# (bpffs refuses dots); those left by a benchmark that was killed outright are
# removed here.
pins_ready() {
	local f p
	if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
		mount -t bpf bpf /sys/fs/bpf || die "/sys/fs/bpf is not a BPF file system and cannot be mounted"
	fi
	for f in /sys/fs/bpf/waitscope_bench_*; do
		[ -e "$f" ] || continue
		p=${f#/sys/fs/bpf/waitscope_bench_}
		kill -0 "${p%%_*}" 2>/dev/null || rm -f "$f"
	done
	PIN_PREFIX=/sys/fs/bpf/waitscope_bench_$$_
}

pin_progs() { # ID...
	local id
	for id in "$@"; do
		bpftool prog pin id "$id" "$PIN_PREFIX$id" || die "cannot pin program $id as $PIN_PREFIX$id"
	done
}

unpin_progs() { # ID...
	local id
	for id in "$@"; do
		rm -f "$PIN_PREFIX$id"
	done
}

# IDs of the programs PID holds, from its fdinfo (prog fds and link fds both
# name them): robust against other tracers loaded on the same machine.
prog_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null || true
	done | sort -un | tr '\n' ' '
}

# attached_ids TRACER_PID READY: gives it ATTACH_WAIT s to attach, then prints
# the IDs of its programs once `READY TRACER_PID IDS` (IDS maybe empty) says it
# has; asks every 0.2 s, up to 30 s more on a loaded machine; fails if the
# tracer exits or never is. Run in $(...): what READY keeps in globals between
# looks starts afresh with every call.
attached_ids() {
	local i=0 ids
	sleep "$ATTACH_WAIT"
	while kill -0 "$1" 2>/dev/null; do
		ids=$(prog_ids "$1")
		if "$2" "$1" "$ids"; then
			echo "$ids"
			return 0
		fi
		[ "$i" -lt 150 ] || return 1
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# --- the private PostgreSQL (scripts/postgres.sh) ----------------------------------
PGPORT=${WAITSCOPE_PGPORT:-54329}
# shellcheck disable=SC2034 # for the sourcing scripts
PGBENCH=(pgbench -h 127.0.0.1 -p "$PGPORT" -U postgres)
PG_STARTED=""
PG_POSTMASTER=""
pg_sql() { # SQL: one answer, unaligned
	psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -X -q -Atc "$1"
}

# pg_up WHAT: the cluster on 127.0.0.1:PGPORT is used if it answers (and stays
# running); otherwise `scripts/postgres.sh start` starts it, and pg_down stops
# (and deletes) it. Sets PG_POSTMASTER, the postmaster's PID: load_snap counts
# its reaped children (the backends of the benchmark's connections) as ours
pg_up() {
	local data
	if pg_sql 'select 1' >/dev/null 2>&1; then
		echo "$BENCH_TAG: $1: using the PostgreSQL already running on 127.0.0.1:$PGPORT (it stays running)"
	else
		echo "$BENCH_TAG: $1: starting the private PostgreSQL (scripts/postgres.sh start; stopped and deleted after the section)"
		PG_STARTED=1
		scripts/postgres.sh start || die "scripts/postgres.sh start failed"
	fi
	data=$(pg_sql 'show data_directory')
	# shellcheck disable=SC2034 # for the sourcing scripts
	PG_POSTMASTER=$(head -1 "$data/postmaster.pid" 2>/dev/null) ||
		die "cannot read the postmaster's PID from $data/postmaster.pid"
}

# pg_down: the cluster goes if pg_up started it (also from CLEANUP_HOOK)
pg_down() {
	if [ -n "$PG_STARTED" ]; then
		echo "$BENCH_TAG: stopping the PostgreSQL cluster it started (scripts/postgres.sh stop)"
		scripts/postgres.sh stop || echo "$BENCH_TAG: warning: scripts/postgres.sh stop failed" >&2
	fi
	PG_STARTED=""
}

# --- the rest of the machine ------------------------------------------------------
# quiet_wait: let the machine settle (other people's builds and tracers are
# noise), within what is left of QUIET_BUDGET; sets QUIET_WAIT (seconds)
quiet_wait() {
	QUIET_WAIT=0
	if [ "$QUIET_LEFT" -gt 0 ]; then
		QUIET_WAIT=$("$PYTHON" tests/bench/sysload.py quiet \
			"$((QUIET_LEFT < 10 ? QUIET_LEFT : 10))" "$QUIET_PCT")
		QUIET_LEFT=$((QUIET_LEFT - ${QUIET_WAIT%.*}))
	fi
}

# quiet_wait_then CMD...: quiet_wait, then, while some of QUIET_BUDGET is
# left, `CMD MAX_S`: a script's own wait for what it knows disturbs its runs
# (it prints the seconds it waited); QUIET_WAIT counts both waits
quiet_wait_then() {
	local w
	quiet_wait
	[ "$QUIET_LEFT" -gt 0 ] || return 0
	w=$("$@" "$((QUIET_LEFT < 10 ? QUIET_LEFT : 10))")
	QUIET_LEFT=$((QUIET_LEFT - ${w%.*}))
	QUIET_WAIT=$(awk -v a="$QUIET_WAIT" -v b="$w" 'BEGIN { printf "%.1f", a + b }')
}

# load_snap N TRACER_PIDS|- [ID...]: the machine's and our own ticks so far, and
# the other sched_switch programs' stats, in $WORK/loadN.json (sysload.py snap)
load_snap() {
	local n=$1
	shift
	"$PYTHON" tests/bench/sysload.py snap "$WORK/load$n.json" $$ "$@"
}

# load_others WINDOW_NS [PROGS NS]: between the two snaps, sets LOAD (other
# processes' CPU %), STEAL (%), FOREIGN (other sched_switch programs, plus
# PROGS: others' programs that a script looks for itself), FBPF (their run
# time, ns, plus NS) and OTHERS: all that others took, in % of the machine
load_others() {
	# shellcheck disable=SC2034 # the sourcing scripts' rows have a column for each
	read -r LOAD STEAL FOREIGN FBPF <<<"$("$PYTHON" tests/bench/sysload.py foreign "$WORK/load0.json" "$WORK/load1.json")"
	FOREIGN=$((FOREIGN + ${2:-0}))
	FBPF=$((FBPF + ${3:-0}))
	OTHERS=$(awk -v l="$LOAD" -v s="$STEAL" -v b="$FBPF" -v w="$1" -v n="$(nproc)" \
		'BEGIN { printf "%.1f", l + s + 100 * b / w / n }')
}

# run_kept TSV ROW WHAT CMD...: CMD writes one run's row to ROW (no kept
# column) and sets OTHERS; a run during which others took more than NOISY_PCT
# % of the machine says more about them than about the tracers: it is done
# again while retries are left, the first attempt kept in TSV with kept 0
run_kept() {
	local tsv=$1 row=$2 what=$3
	shift 3
	"$@"
	if [ "$RETRIES_LEFT" -gt 0 ] && awk -v o="$OTHERS" -v m="$NOISY_PCT" 'BEGIN { exit !(o > m) }'; then
		echo "$BENCH_TAG: $what: others (processes, BPF programs, the hypervisor) took more than $NOISY_PCT % of the machine; running it again"
		printf '\t0\n' | cat "$row" - >>"$tsv"
		RETRIES_LEFT=$((RETRIES_LEFT - 1))
		"$@"
	fi
	printf '\t1\n' | cat "$row" - >>"$tsv"
}

# run_alternating REPS TSV ROW WHAT RUN CONFIG...: `RUN CONFIG REP` for every
# CONFIG, REPS times over, each through run_kept (WHAT prefixes its message);
# the order reversed on every other repetition so that drift does not favour
# one side
run_alternating() {
	local reps=$1 tsv=$2 row=$3 what=$4 run=$5 rep c order
	shift 5
	for rep in $(seq 1 "$reps"); do
		order=$*
		[ $((rep % 2)) -eq 1 ] || order=$(printf '%s\n' "$@" | tac | tr '\n' ' ')
		for c in $order; do
			run_kept "$tsv" "$row" "$what$c rep $rep" "$run" "$c" "$rep"
		done
	done
}

# with_facts BPF_SOURCE CMD...: CMD (a report) with the machine, the build and
# the knobs of this file in BENCH_KERNEL, BENCH_CPU, BENCH_NPROC, BENCH_REV,
# BENCH_ATTACH_WAIT and BENCH_NOISY_PCT
with_facts() {
	local src=$1 rev dirty
	shift
	rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	dirty=$(git status --porcelain -- bpf tools user Makefile 2>/dev/null | wc -l)
	[ "$dirty" -eq 0 ] || rev="$rev + uncommitted changes to bpf/, tools/ or user/"
	BENCH_KERNEL="$(uname -r)" \
		BENCH_CPU="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
		BENCH_NPROC="$(nproc)" \
		BENCH_REV="$rev ($src sha256 $(sha256sum "$src" | cut -c1-12))" \
		BENCH_ATTACH_WAIT=$ATTACH_WAIT \
		BENCH_NOISY_PCT=$NOISY_PCT \
		"$@"
}
