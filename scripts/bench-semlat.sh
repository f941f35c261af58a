#!/bin/bash
# What semlat costs the process it traces, measured on build/fixtures/lockloop
# and build/fixtures/tokiosvc, and written into docs/benchmarks.md (its own
# section, between markers; the offcpu sections are left as they are). Run by
# `make bench` after the offcpu part, or alone: `BENCH_SEMLAT_ONLY=1 make
# bench`, or this script after `make all`. As root. Four parts:
#   1. uncontended: `lockloop own` (each thread its own mutex: glibc never
#      calls futex) untraced, under `semlat -p P`, and under `semlat -p P
#      --hold` where `semlat --help` lists --hold (uprobes on
#      pthread_mutex_lock's entry and return and pthread_mutex_unlock's entry:
#      three traps a pair): throughput, the cost per lock/unlock pair and
#      thread (threads/rate traced - threads/rate untraced), uprobe runs and
#      BPF run time per pair
#   2. contended: `lockloop shared` (one mutex, a short critical section, more
#      threads than CPUs) untraced, under `semlat -p P` and under bpftrace
#      with a uprobe and uretprobe on libc's pthread_mutex_lock: throughput,
#      semlat's BPF run time per futex wait (the waits from its --json), and
#      bpftrace's per probe hit
#   3. --symbol: `lockloop call` (a function not inlined, called in a loop)
#      untraced, under bpftrace with empty programs on its uprobe and
#      uretprobe (the floor of the uprobe machinery) and under `semlat -p P
#      --symbol lockloop_call`: cost per call, and BPF run time per call
#   4. tokio: `tokiosvc S acquire-loop T` (tokio Semaphore::acquire and
#      release in a loop, never contended) untraced, under `semlat -p P` (which
#      puts a uprobe and a uretprobe on tokio's Acquire::poll: two traps an
#      acquire, contended or not) and under `semlat -p P --no-async` where
#      `semlat --help` lists it: cost per acquire (1/rate traced - 1/rate
#      untraced, per task), uprobe runs and BPF run time per acquire; and
#      `tokiosvc S acquire-contended T` (T tasks, one permit held across a
#      yield) untraced and under `semlat -p P`: throughput, and the cost per
#      acquire of the whole process (1/rate traced - 1/rate untraced)
#
# Each run: the workload (lockloop -g, or tokiosvc in an acquire mode) starts
# with its stdin on a FIFO, prints "ready" and waits for a line; the tracer is
# started on its PID, given ATTACH_WAIT s and then until its file descriptors
# stop changing (up to 30 s more); its programs, found through
# /proc/TRACER/fdinfo, are pinned (semlat and bpftrace -p end with their
# target; the pins keep the statistics); bpf_stats are read, the workload is
# released for BENCH_SEMLAT_SECONDS, and read again once it has exited. Every configuration runs BENCH_SEMLAT_REPS times, the order reversed
# on every other repetition; the quiet-machine wait, the redo of noisy runs
# and the bookkeeping are bench.sh's (scripts/bench-lib.sh).
#
# Knobs (environment): BENCH_SEMLAT_SECONDS (5), BENCH_SEMLAT_REPS (5; 0 skips
# the section), BENCH_SEMLAT_THREADS (1: the uncontended and --symbol loops),
# BENCH_SEMLAT_CONTENDED_THREADS (4), BENCH_SEMLAT_SPINS (50: work inside the
# contended critical section, and as much outside), BENCH_SEMLAT_TOKIO_TASKS
# (1: tasks of the uncontended tokio loop), BENCH_SEMLAT_TOKIO_CONTENDED_TASKS
# (4: tasks sharing the contended fixture's one permit), ATTACH_WAIT (1.5),
# QUIET_BUDGET (30), QUIET_PCT (15), NOISY_PCT (5), BENCH_RETRIES (3),
# BENCH_DOC (docs/benchmarks.md), BPFTRACE (bpftrace from PATH), PYTHON
# (python3), OUT (build: where `make` put the tools).
set -eu

cd "$(dirname "$0")/.."

BENCH_TAG=bench-semlat
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

[ "$(id -u)" -eq 0 ] || die "must run as root (BPF programs, kernel.bpf_stats_enabled); try: sudo make bench"

SECONDS_PER_RUN=${BENCH_SEMLAT_SECONDS:-5}
REPS=${BENCH_SEMLAT_REPS:-5}
THREADS=${BENCH_SEMLAT_THREADS:-1}
CTHREADS=${BENCH_SEMLAT_CONTENDED_THREADS:-4}
SPINS=${BENCH_SEMLAT_SPINS:-50}
TTASKS=${BENCH_SEMLAT_TOKIO_TASKS:-1}
TCTASKS=${BENCH_SEMLAT_TOKIO_CONTENDED_TASKS:-4}
BPFTRACE=${BPFTRACE:-$(command -v bpftrace || true)}
SEMLAT=$OUT/semlat
LOCKLOOP=$OUT/fixtures/lockloop
TOKIOSVC=$OUT/fixtures/tokiosvc

case "$SECONDS_PER_RUN$REPS$THREADS$CTHREADS$SPINS$TTASKS$TCTASKS" in
*[!0-9]*) die "BENCH_SEMLAT_SECONDS, BENCH_SEMLAT_REPS, BENCH_SEMLAT_THREADS, BENCH_SEMLAT_CONTENDED_THREADS, BENCH_SEMLAT_SPINS, BENCH_SEMLAT_TOKIO_TASKS, BENCH_SEMLAT_TOKIO_CONTENDED_TASKS take whole numbers" ;;
esac
if [ "$REPS" -eq 0 ]; then
	echo "bench-semlat: semlat section skipped (BENCH_SEMLAT_REPS=0)"
	exit 0
fi
[ "$SECONDS_PER_RUN" -gt 0 ] || die "BENCH_SEMLAT_SECONDS must be at least 1"
[ "$THREADS" -gt 0 ] || die "BENCH_SEMLAT_THREADS must be at least 1"
[ "$CTHREADS" -gt 1 ] || die "BENCH_SEMLAT_CONTENDED_THREADS must be at least 2"
[ "$TTASKS" -gt 0 ] || die "BENCH_SEMLAT_TOKIO_TASKS must be at least 1"
[ "$TCTASKS" -gt 1 ] || die "BENCH_SEMLAT_TOKIO_CONTENDED_TASKS must be at least 2"
for f in "$SEMLAT" "$LOCKLOOP" "$TOKIOSVC"; do
	[ -x "$f" ] || die "$f is missing: run 'make all' (or 'make bench', which builds it)"
done
[ -x "${BPFTRACE:-/nonexistent}" ] || die "bpftrace not found (scripts/deps.sh installs it)"
bench_tools mkfifo
LIBC=$(ldd "$LOCKLOOP" | awk '$1 ~ /^libc\.so/ { print $3 }')
[ -f "$LIBC" ] || die "cannot find the libc that $LOCKLOOP links"
# options a build of semlat may not have yet: their rows are left out
HOLD=""
"$SEMLAT" --help | grep -q -- '--hold' && HOLD=1
NOASYNC=""
"$SEMLAT" --help | grep -q -- '--no-async' && NOASYNC=1

WORK=$OUT/bench
mkdir -p "$WORK"
bench_lock
TSV=$WORK/semlat.tsv
RUN_ROW=$WORK/semlat-run.tsv
FIFO=$WORK/semlat-go.$$
OUTF=$WORK/semlat-workload.out
TOUT=$WORK/semlat-tracer.out
TERR=$WORK/semlat-tracer.err

stats_on
# semlat and bpftrace -p end with their target: the pins keep the statistics
pins_ready

# settled TRACER IDS: attached_ids' test of a tracer's attachment. semlat
# attaches many programs one after another and bpftrace gives no sign either:
# it holds a link or perf event and its fds have not changed over three looks
SETTLE_LAST=""
SETTLE_SAME=0
settled() {
	local n=0 f
	for f in /proc/"$1"/fd/*; do
		case $(readlink "$f" 2>/dev/null) in
		anon_inode:bpf_link | "anon_inode:[perf_event]") n=$((n + 1)) ;;
		esac
	done
	if [ "$n" -gt 0 ] && [ -n "$2" ] && [ "$n $2" = "$SETTLE_LAST" ]; then
		SETTLE_SAME=$((SETTLE_SAME + 1))
	else
		SETTLE_SAME=0
	fi
	SETTLE_LAST="$n $2"
	[ "$SETTLE_SAME" -ge 2 ]
}

mono_ns() { "$PYTHON" -c 'import time; print(time.monotonic_ns())'; }

# the tracer a configuration runs on the workload's PID, in TRACER (empty: none)
tracer_of() {
	local p=$2
	case $1 in
	*-base) TRACER=() ;;
	own-semlat | shared-semlat | tokio-semlat | tokioc-semlat) TRACER=("$SEMLAT" -p "$p" --json) ;;
	tokio-noasync) TRACER=("$SEMLAT" -p "$p" --no-async --json) ;;
	own-hold) TRACER=("$SEMLAT" -p "$p" --hold --json) ;;
	call-symbol) TRACER=("$SEMLAT" -p "$p" --symbol lockloop_call --json) ;;
	shared-bpftrace)
		TRACER=("$BPFTRACE" -p "$p" -e "uprobe:$LIBC:pthread_mutex_lock /pid == $p/ { @start[tid] = nsecs; }
uretprobe:$LIBC:pthread_mutex_lock /@start[tid]/ { @lat = hist(nsecs - @start[tid]); delete(@start[tid]); }")
		;;
	call-floor)
		TRACER=("$BPFTRACE" -p "$p" -e "uprobe:$LOCKLOOP:lockloop_call {} uretprobe:$LOCKLOOP:lockloop_call {}")
		;;
	*) die "unknown configuration $1" ;;
	esac
}

# the workload of a configuration, in WORKLOAD: it waits for a line on stdin
# after "ready", and prints its count, threads (or tasks) and seconds
workload_of() {
	case $1 in
	own-*) WORKLOAD=("$LOCKLOOP" -g -d "$SECONDS_PER_RUN" -t "$THREADS" own) ;;
	shared-*) WORKLOAD=("$LOCKLOOP" -g -d "$SECONDS_PER_RUN" -t "$CTHREADS" -w "$SPINS" shared) ;;
	call-*) WORKLOAD=("$LOCKLOOP" -g -d "$SECONDS_PER_RUN" -t "$THREADS" call) ;;
	tokio-*) WORKLOAD=("$TOKIOSVC" "$SECONDS_PER_RUN" acquire-loop "$TTASKS") ;;
	tokioc-*) WORKLOAD=("$TOKIOSVC" "$SECONDS_PER_RUN" acquire-contended "$TCTASKS") ;;
	esac
}

# the tracer ends with the workload; one that does not is stopped (SIGINT, then SIGKILL)
stop_tracer() {
	local i
	for i in $(seq 1 300); do
		kill -0 "$1" 2>/dev/null || break
		[ "$i" -ne 200 ] || kill -INT "$1" 2>/dev/null || true
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget "$1"
}

# run CONFIG REP: one workload run; its line goes to $RUN_ROW, its others' share to OTHERS
run() {
	local config=$1 rep=$2 wp tp="" ids="" b0="0 0 0 0" b1="0 0 0 0" t0 t1 m0 i rc
	local secs cpu ops threads counts waits=0 syms=0 late=0 queued=0

	quiet_wait
	rm -f "$FIFO"
	mkfifo "$FIFO"
	workload_of "$config"
	# read-write: opening the FIFO does not wait for a writer, the workload execs at once
	"${WORKLOAD[@]}" <>"$FIFO" >"$OUTF" 2>&1 &
	wp=$!
	STARTED="$STARTED $wp"
	for i in $(seq 1 100); do
		grep -q '^ready' "$OUTF" && break
		[ "$i" -lt 100 ] || die "$config: ${WORKLOAD[0]##*/} did not start: $(cat "$OUTF")"
		sleep 0.1
	done

	tracer_of "$config" "$wp"
	if [ ${#TRACER[@]} -gt 0 ]; then
		"${TRACER[@]}" >"$TOUT" 2>"$TERR" &
		tp=$!
		STARTED="$STARTED $tp"
		ids=$(attached_ids "$tp" settled) || {
			cat "$TERR" >&2
			die "$config: the tracer exited before the run, or did not settle $ATTACH_WAIT + 30 s after its start"
		}
		# shellcheck disable=SC2086
		pin_progs $ids
	fi

	# shellcheck disable=SC2086
	load_snap 0 "${tp:--}" $ids
	# shellcheck disable=SC2086
	[ -z "$ids" ] || b0=$("$PYTHON" tests/bench/semlat.py stats $ids)
	m0=$(mono_ns)
	t0=$(date +%s%N)
	echo go >"$FIFO"
	rc=0
	wait "$wp" || rc=$?
	t1=$(date +%s%N)
	forget "$wp"
	# shellcheck disable=SC2086
	[ -z "$ids" ] || b1=$("$PYTHON" tests/bench/semlat.py stats $ids)
	# shellcheck disable=SC2086
	load_snap 1 "${tp:--}" $ids
	load_others "$((t1 - t0))"
	rm -f "$FIFO"
	[ -z "$tp" ] || stop_tracer "$tp"
	# shellcheck disable=SC2086
	unpin_progs $ids
	[ "$rc" -eq 0 ] || die "$config: ${WORKLOAD[0]##*/} failed (exit $rc): $(cat "$OUTF")"
	secs=$(sed -n 's/^seconds //p' "$OUTF")
	cpu=$(sed -n 's/^cpu_seconds //p' "$OUTF")
	# lockloop's pairs or calls, tokiosvc's acquires; its threads, or tasks
	ops=$(sed -n 's/^\(ops\|acquires\) //p' "$OUTF")
	threads=$(sed -n 's/^\(threads\|tasks\) //p' "$OUTF")
	[ -n "$ops" ] || die "$config: ${WORKLOAD[0]##*/} printed no count: $(cat "$OUTF")"
	if [ "${TRACER[0]:-}" = "$SEMLAT" ]; then
		counts=$("$PYTHON" tests/bench/semlat.py count "$TOUT" "$m0") ||
			{ cat "$TERR" >&2; die "$config: semlat printed no JSON"; }
		read -r waits syms late queued <<<"$counts"
		[ "$late" -eq 0 ] || die "$config: semlat's window began after the workload was released"
	fi
	# shellcheck disable=SC2086
	set -- $b0 $b1
	# $1..$4: BPF run time, runs, uprobe run time, uprobe runs before; $5..$8 after
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$config" "$rep" \
		"$threads" "$secs" "$cpu" "$ops" "$((t1 - t0))" "$(($5 - $1))" "$(($6 - $2))" "$(($7 - $3))" \
		"$(($8 - $4))" "$waits" "$syms" "$queued" "$FOREIGN" "$FBPF" "$LOAD" "$STEAL" "$QUIET_WAIT" >"$RUN_ROW"
	printf 'bench-semlat: %-16s rep %s: %12s ops in %s s' "$config" "$rep" "$ops" "$secs"
	[ "$6" -eq "$2" ] || printf ', BPF %d ns/op' "$((($5 - $1) / ops))"
	[ "$8" -eq "$4" ] || printf ', %s uprobe runs/op' "$(awk -v r="$(($8 - $4))" -v n="$ops" 'BEGIN { printf "%.2f", r / n }')"
	[ "$waits" -eq 0 ] || printf ', %d futex waits, BPF %d ns/wait' "$waits" "$((($5 - $1) / waits))"
	[ "$queued" -eq 0 ] || printf ', %d async acquires queued' "$queued"
	printf ', others %s %%\n' "$OTHERS"
}

CONFIGS="own-base own-semlat${HOLD:+ own-hold} shared-base shared-semlat shared-bpftrace call-base call-floor call-symbol"
CONFIGS="$CONFIGS tokio-base tokio-semlat${NOASYNC:+ tokio-noasync} tokioc-base tokioc-semlat"
printf 'config\trep\tthreads\tseconds\tcpu_seconds\tops\twindow_ns\tbpf_ns\tbpf_runs\tuprobe_ns\tuprobe_runs\tfutex_waits\tsym_calls\tasync_queued\tforeign_progs\tforeign_bpf_ns\tforeign_cpu_pct\tsteal_pct\tquiet_wait_s\tkept\n' >"$TSV"
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "bench-semlat: $(($(echo "$CONFIGS" | wc -w) * REPS)) runs of ${SECONDS_PER_RUN}s, $REPS per configuration"
[ -n "$HOLD" ] || echo "bench-semlat: $SEMLAT --help lists no --hold: its row will say \"not built\""
# warm-up, not recorded: page cache, CPU frequency
"$LOCKLOOP" -d 1 -t "$THREADS" own >/dev/null
"$TOKIOSVC" 1 acquire-loop "$TTASKS" </dev/null >/dev/null
# shellcheck disable=SC2086
run_alternating "$REPS" "$TSV" "$RUN_ROW" "" run $CONFIGS

BENCH_DATE=$START_DATE \
	BENCH_COMMAND="BENCH_SEMLAT_SECONDS=$SECONDS_PER_RUN BENCH_SEMLAT_REPS=$REPS BENCH_SEMLAT_THREADS=$THREADS BENCH_SEMLAT_CONTENDED_THREADS=$CTHREADS BENCH_SEMLAT_SPINS=$SPINS BENCH_SEMLAT_TOKIO_TASKS=$TTASKS BENCH_SEMLAT_TOKIO_CONTENDED_TASKS=$TCTASKS BENCH_SEMLAT_ONLY=1 make bench" \
	BENCH_BPFTRACE="$("$BPFTRACE" --version 2>/dev/null | head -1) ($BPFTRACE)" \
	BENCH_SEMLAT_HOLD="${HOLD:+built}" \
	BENCH_SEMLAT_SECONDS=$SECONDS_PER_RUN \
	BENCH_SEMLAT_OWN="lockloop -t $THREADS own" \
	BENCH_SEMLAT_SHARED="lockloop -t $CTHREADS -w $SPINS shared" \
	BENCH_SEMLAT_CALL="lockloop -t $THREADS call" \
	BENCH_SEMLAT_TOKIO="tokiosvc $SECONDS_PER_RUN acquire-loop $TTASKS" \
	BENCH_SEMLAT_TOKIO_CONTENDED="tokiosvc $SECONDS_PER_RUN acquire-contended $TCTASKS" \
	BENCH_LIBC=$LIBC \
	with_facts bpf/semlat.bpf.c "$PYTHON" tests/bench/semlat.py report "$TSV" "$DOC"
echo "bench-semlat: wrote the semlat section of $DOC (raw data: $TSV)"
