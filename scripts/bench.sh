#!/bin/bash
# Benchmarks offcpu against bcc's libbpf-tools offcputime, side by side, in
# one run, and writes docs/benchmarks.md. Run through `make bench` (which
# builds first), as root. Four parts:
#   1. pingpong: BPF cost per context switch and throughput of a
#      context-switch-heavy workload (build/fixtures/pingpong), for every
#      shape in BENCH_SHAPES (pingpong -n PAIRS: 1 pair, every switch to and
#      from idle; 2 pairs, switches from one pingpong thread to another;
#      PAIRS-nofp: build/fixtures/pingpong-nofp -n PAIRS, built as users
#      build, -O2 without frame pointers, where `--stack fp` stacks are short
#      and `--stack auto` ones whole); offcpu's user stack walks by unwind
#      tables, from its --json report
#   2. interval reports: offcpu's own CPU time with and without -i 1
#   3. pgbench -S against the private PostgreSQL (scripts/postgres.sh):
#      throughput untraced, under offcpu and under offcputime (whole system)
#   4. start-up: exec to attached for offcpu -p and offcputime -p on a
#      sleeping process, and exec to exit of offcpu --stuck -p
#   5. semlat's cost on the process it traces: scripts/bench-semlat.sh, its
#      own section of the doc; BENCH_SEMLAT_ONLY=1 runs that part alone
#   6. poolwait's cost on pgbench -S and on a libpq pool:
#      scripts/bench-poolwait.sh, its own section of the doc;
#      BENCH_POOLWAIT_ONLY=1 runs that part alone
# BENCH_PINGPONG_ONLY=1 runs part 1 alone: parts 2 to 4 default to skipped
# (BENCH_LONG_SECONDS, BENCH_PG_SECONDS, BENCH_STARTUP_REPS 0), 5 and 6 are
# skipped, and their sections of the doc are kept as they are.
#
# Each pingpong run is one window: pingpong is held at exec behind a FIFO, the tracer
# (if any) is started on its PID and given ATTACH_WAIT seconds to attach (and
# up to 30 s more if its programs have not run by then), the
# BPF statistics of the tracer's sched_switch program(s) (found through its
# fdinfo, pinned so that they outlive the tracer) are read, pingpong is
# released for BENCH_SECONDS, and the statistics are read again when it has
# exited. So the BPF deltas and the round-trip count cover the same window,
# and every round trip pingpong counts was made with the tracer attached.
#
# Configurations (every one BENCH_REPS times for every shape, order reversed
# on every other repetition so that drift does not favour one side; a -nofp
# shape runs only NOFP_CONFIGS: base floor offcpu-p offcpu-fp offcputime-p
# paired-fp; BENCH_CONFIGS, if set, keeps only the configurations it names):
#   base             no tracer
#   floor            an empty tp_btf/sched_switch program (tests/bench/), the
#                    bpf_stats measurement floor
#   offcpu-p         offcpu -p PINGPONG          offcputime-p   offcputime -p PINGPONG
#   offcpu-fp        offcpu -p PINGPONG --stack fp (frame pointers only;
#                    offcpu-p is --stack auto, the default: unwind tables)
#   offcpu-all       offcpu (whole system)       offcputime-all offcputime (whole system)
#   offcpu-wakers    offcpu -p PINGPONG --wakers  offcpu-interval  offcpu -p PINGPONG -i 1
#   offcpu-idle      offcpu -p IDLE              offcputime-idle offcputime -p IDLE
#                    (IDLE is a `sleep` that never wakes: every event is filtered out)
#   paired-p         offcpu -p PINGPONG and offcputime -p PINGPONG at once: both
#                    programs run on exactly the same events, the tightest
#                    comparison of their cost (attach order alternates)
#   paired-fp        offcpu -p PINGPONG and offcpu -p PINGPONG --stack fp at
#                    once: --stack auto against fp on the same events
# offcpu -p PINGPONG (offcpu-p, offcpu-fp, and in the paired ones) writes its
# report with --json to a file, after the window: its `unwind` object (walks
# by the tables, their rows) and the user frames of its stacks go into the
# results (tests/bench/unwind.py). offcpu unwinds in BPF, so there is no
# user-space unwinding rate to measure: the walks' cost is in the BPF ns.
#
# pgbench: `pgbench -i -s 10` into a database of its own (waitscope_bench,
# dropped at the end), then `pgbench -S -c 8 -j 2 -T BENCH_PG_SECONDS`
# untraced, under `offcpu` and under `offcputime` (whole system, attached
# ATTACH_WAIT s before pgbench starts), order alternating, BENCH_PG_REPS times
# (more than pingpong's: a throughput drop of a few per cent needs them).
# The cluster on 127.0.0.1:WAITSCOPE_PGPORT is used if it answers; otherwise
# `scripts/postgres.sh start` starts it, and `scripts/postgres.sh stop` stops
# (and deletes) it after the section.
#
# Start-up: `python3 tests/bench/startup.py` execs the tool and polls
# /proc/TOOL/fd every 2 ms for an anon_inode:bpf_link (its first program is
# attached); BENCH_STARTUP_REPS times each, order alternating.
#
# Knobs (environment): BENCH_SECONDS (5), BENCH_REPS (3), BENCH_SHAPES ("1 2
# 1-nofp 2-nofp"; BENCH_PAIRS, if set and BENCH_SHAPES is not, is the one
# shape), BENCH_CONFIGS (all: the configurations to run, among those above;
# base always runs), BENCH_PINGPONG_ONLY (0),
# BENCH_LONG_SECONDS (60: the -i run, on the last shape's number of pairs,
# with build/fixtures/pingpong; 0 skips it),
# BENCH_PG_SECONDS (20: each pgbench run; 0 skips the section), BENCH_PG_REPS (5),
# WAITSCOPE_PGPORT
# (54329), BENCH_STARTUP_REPS (5; 0 skips the section), ATTACH_WAIT (1.5),
# QUIET_BUDGET (30), QUIET_PCT (15), NOISY_PCT (5), BENCH_RETRIES (3),
# OFFCPUTIME (offcputime from PATH), BENCH_DOC (docs/benchmarks.md), PYTHON
# (python3), OUT (build: where `make` put the tools); BENCH_SEMLAT_* (see
# scripts/bench-semlat.sh), BENCH_POOLWAIT_* (see scripts/bench-poolwait.sh).
# What this shares with bench-semlat.sh and bench-poolwait.sh (knobs,
# bookkeeping, pins, the private PostgreSQL, the quiet-machine wait) is in
# scripts/bench-lib.sh.
set -eu

cd "$(dirname "$0")/.."

BENCH_TAG=bench
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

[ "$(id -u)" -eq 0 ] || die "must run as root (BPF programs, kernel.bpf_stats_enabled); try: sudo make bench"
[ "${BENCH_SEMLAT_ONLY:-0}" = 0 ] || exec scripts/bench-semlat.sh
[ "${BENCH_POOLWAIT_ONLY:-0}" = 0 ] || exec scripts/bench-poolwait.sh

PINGPONG_ONLY=${BENCH_PINGPONG_ONLY:-0}
case $PINGPONG_ONLY in
0) OTHER_PARTS=1 ;;
1) OTHER_PARTS=0 ;;
*) die "BENCH_PINGPONG_ONLY takes 0 or 1" ;;
esac
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
REPS=${BENCH_REPS:-3}
SHAPES=${BENCH_SHAPES:-${BENCH_PAIRS:-1 2 1-nofp 2-nofp}}
LONG_SECONDS=${BENCH_LONG_SECONDS:-$((60 * OTHER_PARTS))}
PG_SECONDS=${BENCH_PG_SECONDS:-$((20 * OTHER_PARTS))}
PG_REPS=${BENCH_PG_REPS:-5}
STARTUP_REPS=${BENCH_STARTUP_REPS:-$((5 * OTHER_PARTS))}
OFFCPU=$OUT/offcpu
# a shape's pingpong: N is build/fixtures/pingpong -n N (frame pointers), N-nofp
# build/fixtures/pingpong-nofp -n N (none, as users build)
fixture_of() { # SHAPE
	case $1 in
	*-nofp) echo "$OUT/fixtures/pingpong-nofp" ;;
	*) echo "$OUT/fixtures/pingpong" ;;
	esac
}
OFFCPUTIME=${OFFCPUTIME:-$(command -v offcputime || true)}
# shellcheck disable=SC2015
[ -n "$OFFCPUTIME" ] && [ -x "$OFFCPUTIME" ] ||
	die "offcputime not found (Debian package libbpf-tools; scripts/deps.sh installs it)"
# pingpong itself (the interval run's), and the shapes' pingpongs
# shellcheck disable=SC2086
for f in "$OFFCPU" "$(fixture_of 1)" $(for s in $SHAPES; do fixture_of "$s"; done | sort -u); do
	[ -x "$f" ] || die "$f is missing: run 'make all' (or 'make bench', which builds it)"
done
bench_tools clang cc
case "$SECONDS_PER_RUN$REPS$PG_REPS$LONG_SECONDS$PG_SECONDS$STARTUP_REPS$PGPORT" in
*[!0-9]*) die "BENCH_SECONDS, BENCH_REPS, BENCH_PG_REPS, BENCH_LONG_SECONDS, BENCH_PG_SECONDS, BENCH_STARTUP_REPS, WAITSCOPE_PGPORT take whole numbers" ;;
esac
[ "$SECONDS_PER_RUN" -gt 0 ] || die "BENCH_SECONDS must be at least 1"
[ "$REPS" -gt 0 ] || die "BENCH_REPS must be at least 1"
# shellcheck disable=SC2086
set -- $SHAPES
[ $# -gt 0 ] || die "BENCH_SHAPES is empty"
for s in "$@"; do
	p=${s%-nofp}
	case $p in "" | *[!0-9]* | 0* | ???*) die "BENCH_SHAPES: '$s' is not a number of pairs from 1 to 64, alone or followed by -nofp" ;; esac
	[ "$p" -le 64 ] || die "BENCH_SHAPES: '$s' is not a number of pairs from 1 to 64, alone or followed by -nofp"
done
SHAPES=$*
# the configurations of a shape, in the order of odd repetitions; NOFP_CONFIGS
# those of a -nofp shape
CONFIGS="base offcpu-p offcpu-fp offcputime-p offcpu-wakers offcpu-interval floor offcpu-all offcputime-all offcpu-idle offcputime-idle paired-p paired-fp"
NOFP_CONFIGS="base floor offcpu-p offcpu-fp offcputime-p paired-fp"
if [ -n "${BENCH_CONFIGS:-}" ]; then
	for c in $BENCH_CONFIGS; do
		case " $CONFIGS " in *" $c "*) ;; *) die "BENCH_CONFIGS: unknown configuration '$c' (one of: $CONFIGS)" ;; esac
	done
	# the untraced runs always: every ratio is to them
	KEEP="base $BENCH_CONFIGS"
	CONFIGS=$(for c in $CONFIGS; do case " $KEEP " in *" $c "*) echo "$c" ;; esac; done | tr '\n' ' ')
	NOFP_CONFIGS=$(for c in $NOFP_CONFIGS; do case " $KEEP " in *" $c "*) echo "$c" ;; esac; done | tr '\n' ' ')
fi
LONG_PAIRS=${!#}
LONG_PAIRS=${LONG_PAIRS%-nofp} # the interval run's: the last shape's, with frame pointers
if [ "$PG_SECONDS" -gt 0 ]; then
	for c in pgbench psql createdb dropdb runuser; do
		command -v "$c" >/dev/null || die "$c is missing (scripts/deps.sh installs postgresql), or skip pgbench with BENCH_PG_SECONDS=0"
	done
fi
# a tracer's own duration: it must outlive the window; we stop it ourselves
TRACER_SECONDS=$((SECONDS_PER_RUN + 60))

ARCH=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
WORK=$OUT/bench
mkdir -p "$WORK"
bench_lock
rm -f "$WORK"/tracer*.err "$WORK"/tracer*.json "$WORK"/load?.json "$WORK"/run.tsv "$WORK"/pgbench*.tsv "$WORK"/startup.tsv \
	"$WORK"/interval.tsv
RESULTS=$WORK/results.tsv
DISCARDED=$WORK/discarded.tsv
RUN_ROWS=$WORK/run.tsv
FIFO=$WORK/go.$$

# the PostgreSQL side of the pgbench section: our database goes; the cluster
# too if we started it (postgres.sh stop deletes it); also on exit
PG_DB=""
pg_done() {
	if [ -n "$PG_STARTED" ]; then
		pg_down
	elif [ -n "$PG_DB" ]; then
		dropdb -h 127.0.0.1 -p "$PGPORT" -U postgres --if-exists --force "$PG_DB" ||
			echo "bench: warning: could not drop database $PG_DB" >&2
	fi
	PG_DB=""
}
CLEANUP_HOOK=pg_done

# --- the bpf_stats floor: an empty sched_switch program and its loader -----
echo "bench: building the measurement-floor program ($WORK/empty.bpf.o, $WORK/bpf_floor)"
clang -g -O2 -target bpf -D__TARGET_ARCH_"$ARCH" -I"vmlinux/$ARCH" -Wall -Werror \
	-c tests/bench/empty.bpf.c -o "$WORK/empty.bpf.o"
cc -O2 -g -Wall -Wextra -Werror tests/bench/bpf_floor.c -lbpf -o "$WORK/bpf_floor"

stats_on
# offcpu -p detaches as soon as pingpong exits: its pins keep the statistics
pins_ready

# --- BPF statistics -----------------------------------------------------------
# "run_time_ns run_cnt runs" among IDS: run time of every scheduler program
# (offcpu runs on sched_waking too), sched_switch events, runs of all of them
prog_stats() {
	local id
	for id in "$@"; do
		bpftool prog show id "$id" -j 2>/dev/null || true
		echo
	done | "$PYTHON" -c '
import json, sys
t = c = n = 0
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    p = json.loads(line)
    name = p.get("name", "")
    if name.startswith("sched_"):
        t += p.get("run_time_ns", 0)
        n += p.get("run_cnt", 0)
    if name.startswith("sched_switch"):
        c += p.get("run_cnt", 0)
print(t, c, n)'
}

now_ns() { date +%s%N; }

# sched_ran TRACER_PID IDS: attached_ids' test of a tracer's attachment: a
# sched_switch program of IDS has run. Not just any scheduler program: offcpu
# attaches sched_waking before sched_switch, and IDS read in between (a loaded
# machine makes that likelier) would lack the program the window counts
sched_ran() {
	local stats
	[ -n "$2" ] || return 1
	# shellcheck disable=SC2086
	stats=$(prog_stats $2)
	# "run_time_ns sched_switch_events runs": the second
	stats=${stats#* }
	[ "${stats%% *}" -gt 0 ]
}

# --- one run ------------------------------------------------------------------
# The tracers of a configuration, in attach order (= the order in which the
# kernel runs their programs on each event). paired-p attaches both tools to
# the same pingpong, so both programs see exactly the same events (paired-fp:
# offcpu twice, --stack auto and fp); the first attached pays for cold caches
# in the stack walks (about 250 ns/event here), so the order alternates with
# the repetition.
tracers_of() { # CONFIG REP
	local pair
	case $1 in
	base) return ;;
	paired-p) pair="offcpu-p offcputime-p" ;;
	paired-fp) pair="offcpu-p offcpu-fp" ;;
	*)
		echo "$1"
		return
		;;
	esac
	if [ $(($2 % 2)) -eq 1 ]; then echo "$pair"; else echo "$pair" | awk '{ print $2, $1 }'; fi
}

# start_tracer NAME PINGPONG_PID ERRFILE JSONFILE: starts it in the background,
# sets TP; offcpu -p PINGPONG writes its report (--json) to JSONFILE once its
# target has exited, the others to /dev/null
start_tracer() {
	case $1 in
	floor) "$WORK/bpf_floor" "$WORK/empty.bpf.o" "$TRACER_SECONDS" 2>"$3" & ;;
	offcpu-p) "$OFFCPU" -p "$2" --json "$TRACER_SECONDS" >"$4" 2>"$3" & ;;
	offcpu-fp) "$OFFCPU" -p "$2" --stack fp --json "$TRACER_SECONDS" >"$4" 2>"$3" & ;;
	offcputime-p) "$OFFCPUTIME" -p "$2" "$TRACER_SECONDS" >/dev/null 2>"$3" & ;;
	offcpu-wakers) "$OFFCPU" -p "$2" --wakers "$TRACER_SECONDS" >/dev/null 2>"$3" & ;;
	offcpu-interval) "$OFFCPU" -p "$2" -i 1 "$TRACER_SECONDS" >/dev/null 2>"$3" & ;;
	offcpu-all) "$OFFCPU" "$TRACER_SECONDS" >/dev/null 2>"$3" & ;;
	offcputime-all) "$OFFCPUTIME" "$TRACER_SECONDS" >/dev/null 2>"$3" & ;;
	offcpu-idle) "$OFFCPU" -p "$IDLE" "$TRACER_SECONDS" >/dev/null 2>"$3" & ;;
	offcputime-idle) "$OFFCPUTIME" -p "$IDLE" "$TRACER_SECONDS" >/dev/null 2>"$3" & ;;
	*) die "unknown tracer $1" ;;
	esac
	TP=$!
	STARTED="$STARTED $TP"
}

# stop_tracer NAME PID ERRFILE: offcpu -p PINGPONG has stopped by itself; the
# others get SIGINT (their report goes to /dev/null), the floor loader SIGTERM
stop_tracer() {
	local rc=0
	if [ "$1" = floor ]; then
		stop_pid "$2" TERM || rc=$?
	else
		stop_pid "$2" INT || rc=$?
	fi
	case $rc in
	0 | 130 | 143) ;;
	*) echo "bench: warning: $1: the tracer exited with $rc:" >&2; cat "$3" >&2 ;;
	esac
}

# run CONFIG REP: $PINGPONG -n $PAIRS; appends one line per tracer (one for
# base) to $RUN_ROWS
run() {
	local config=$1 rep=$2 pp out=$WORK/pingpong.out
	local names=() pids=() ids=() s0=() s1=() uw=() all_ids="" all_pids=""
	local n k t0 t1 rt rc row label

	quiet_wait

	rm -f "$FIFO"
	mkfifo "$FIFO"
	# pingpong's PID exists before pingpong runs: the holder execs it when released
	sh -c 'f=$1; shift; read -r go < "$f"; exec "$@"' holder "$FIFO" \
		"$PINGPONG" -n "$PAIRS" -d "$SECONDS_PER_RUN" >"$out" &
	pp=$!
	STARTED="$STARTED $pp"

	# one at a time, each fully attached before the next: a known run order
	read -r -a names <<<"$(tracers_of "$config" "$rep")"
	rm -f "$WORK"/tracer*.json
	for k in "${!names[@]}"; do
		start_tracer "${names[k]}" "$pp" "$WORK/tracer$k.err" "$WORK/tracer$k.json"
		pids[k]=$TP
		ids[k]=$(attached_ids "$TP" sched_ran) || {
			cat "$WORK/tracer$k.err" >&2
			die "$config: ${names[k]} exited before the window, or held no running scheduler program $ATTACH_WAIT + 30 s after its start"
		}
		# shellcheck disable=SC2086
		pin_progs ${ids[k]}
		all_ids="$all_ids ${ids[k]}"
		all_pids="$all_pids $TP"
	done

	# shellcheck disable=SC2086
	load_snap 0 "${all_pids:- -}" $all_ids
	for k in "${!names[@]}"; do
		# shellcheck disable=SC2086
		s0[k]=$(prog_stats ${ids[k]})
	done
	t0=$(now_ns)
	echo go >"$FIFO"
	rc=0
	wait "$pp" || rc=$?
	t1=$(now_ns)
	for k in "${!names[@]}"; do
		# shellcheck disable=SC2086
		s1[k]=$(prog_stats ${ids[k]})
	done
	# shellcheck disable=SC2086
	load_snap 1 "${all_pids:- -}" $all_ids
	load_others "$((t1 - t0))"
	forget "$pp"
	rm -f "$FIFO"
	[ "$rc" -eq 0 ] || die "$config: pingpong failed (exit $rc)"
	rt=$(sed -n 's/^roundtrips //p' "$out")
	[ -n "$rt" ] || die "$config: pingpong printed no round trips"

	uw[0]="- - - - - - -"
	for k in "${!names[@]}"; do
		stop_tracer "${names[k]}" "${pids[k]}" "$WORK/tracer$k.err"
		# shellcheck disable=SC2086
		unpin_progs ${ids[k]}
		# its report's user stack walks (offcpu -p PINGPONG), "- - - - - - -" for none
		uw[k]=$("$PYTHON" tests/bench/unwind.py "$WORK/tracer$k.json") || {
			echo "bench: warning: $config: ${names[k]}: no user stack counts from its report $WORK/tracer$k.json" >&2
			uw[k]="- - - - - - -"
		}
	done

	# a sched_switch program that counted no event of the window: nothing to
	# report (run_checked does it again)
	RUN_FAILED=""
	for k in "${!names[@]}"; do
		# shellcheck disable=SC2086
		set -- ${s0[k]} ${s1[k]}
		[ "$5" -gt "$2" ] || RUN_FAILED="${names[k]}: bpf_stats did not grow over the window (${s0[k]} ${s1[k]})"
	done
	[ -z "$RUN_FAILED" ] || return 0

	n=${#names[@]}
	for k in $(seq 0 $((n > 0 ? n - 1 : 0))); do
		label=$config
		row="0 0 0 0 0 0"
		if [ "$n" -gt 0 ]; then
			row="${s0[k]} ${s1[k]}"
			[ "$n" -eq 1 ] || label="$config:${names[k]%-p}"
		fi
		# shellcheck disable=SC2086
		set -- $row ${uw[k]}
		# $1..$3: run time, events, program runs before; $4..$6 after; $7..$13
		# the user stacks: walked by tables or not, walks, cut short, binaries,
		# rows, user frames a period, share of periods with a whole one
		# (tests/bench/unwind.py)
		printf '%s\t' "$label" "$rep" "$((k + 1))" \
			"$SECONDS_PER_RUN" "$rt" "$((t1 - t0))" "$(($4 - $1))" "$(($5 - $2))" "$(($6 - $3))" \
			"$FOREIGN" "$FBPF" "$LOAD" "$STEAL" "$QUIET_WAIT" "$PAIRS" "${PINGPONG##*/}" \
			"$7" "$8" "$9" "${10}" "${11}" "${12}" >>"$RUN_ROWS"
		printf '%s\n' "${13}" >>"$RUN_ROWS"
		printf 'bench: %s %-22s rep %s: %9s round trips' "$SHAPE_S" "$label" "$rep" "$rt"
		[ "$5" -eq "$2" ] || printf ', %6d ns/event over %d events' \
			"$((($4 - $1) / ($5 - $2)))" "$(($5 - $2))"
		[ "$FOREIGN" -eq 0 ] || printf ', %s foreign sched_switch programs (%d ms)' "$FOREIGN" "$((FBPF / 1000000))"
		printf ', foreign CPU %s %%, steal %s %%' "$LOAD" "$STEAL"
		case $7 in
		1) printf ', %s user frames a period (whole: %s), %s stacks walked by unwind tables (%s cut short)' "${12}" "${13}" "$8" "$9" ;;
		0) printf ', %s user frames a period (whole: %s; frame pointers)' "${12}" "${13}" ;;
		esac
		echo
	done
}

# run_checked CONFIG REP: run, done again once if a tracer's sched_switch program
# counted nothing of the window (its IDs were read as it attached, or it was
# detached: seen on a loaded machine); dies if it fails twice
run_checked() {
	run "$1" "$2"
	[ -n "$RUN_FAILED" ] || return 0
	echo "bench: warning: $SHAPE_S $1 rep $2: $RUN_FAILED; running it again" >&2
	: >"$RUN_ROWS"
	run "$1" "$2"
	[ -z "$RUN_FAILED" ] || die "$1: $RUN_FAILED"
}

# --- the benchmark: pingpong, every shape --------------------------------------
sleep 100000 &
IDLE=$!
STARTED="$STARTED $IDLE"

# the paired configurations alternate the attach order: with an odd REPS they
# get one more repetition, so that both orders count alike
ROUNDS=$((REPS % 2 ? REPS + 1 : REPS))
# rotation SHAPE REP: the configurations of SHAPE in repetition REP's order,
# reversed on every other one; the extra repetition runs the paired ones only
rotation() {
	local c list=$CONFIGS
	case $1 in *-nofp) list=$NOFP_CONFIGS ;; esac
	if [ "$2" -gt "$REPS" ]; then
		# shellcheck disable=SC2086
		list=$(for c in $list; do case $c in paired-*) echo "$c" ;; esac; done)
	fi
	# shellcheck disable=SC2086
	if [ $(($2 % 2)) -eq 1 ]; then echo $list; else printf '%s\n' $list | tac | tr '\n' ' '; fi
}
SHAPES_REVERSED=$(echo "$SHAPES" | tr ' ' '\n' | tac | tr '\n' ' ')
NRUNS=0
for s in $SHAPES; do
	for rep in $(seq 1 "$ROUNDS"); do
		NRUNS=$((NRUNS + $(rotation "$s" "$rep" | wc -w)))
	done
done
echo "bench: $NRUNS pingpong runs of ${SECONDS_PER_RUN}s (pingpong -n PAIRS, and pingpong-nofp for PAIRS-nofp, for each of: $SHAPES), ${REPS} per configuration and shape"
HEADER='config\trep\tposition\tseconds\troundtrips\twindow_ns\trun_time_ns\trun_cnt\truns\tforeign_progs\tforeign_bpf_ns\tforeign_cpu_pct\tsteal_pct\tquiet_wait_s\tpairs\tfixture\tunwind_tables\tunwind_walked\tunwind_cut_short\tunwind_binaries\tunwind_rows\tuser_frames\twhole_stacks\n'
# shellcheck disable=SC2059
printf "$HEADER" >"$RESULTS"
# shellcheck disable=SC2059
printf "$HEADER" >"$DISCARDED"
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
# warm-up, not recorded: page cache, CPU frequency, the scheduler's placement
for s in $SHAPES; do
	"$(fixture_of "$s")" -n "${s%-nofp}" -d 2 >/dev/null
done
# the shapes alternate like the configurations
for rep in $(seq 1 "$ROUNDS"); do
	shapes=$SHAPES
	[ $((rep % 2)) -eq 1 ] || shapes=$SHAPES_REVERSED
	for SHAPE in $shapes; do
		PAIRS=${SHAPE%-nofp}
		PINGPONG=$(fixture_of "$SHAPE")
		SHAPE_S="${PINGPONG##*/} -n $PAIRS"
		for c in $(rotation "$SHAPE" "$rep"); do
			: >"$RUN_ROWS"
			run_checked "$c" "$rep"
			# a run during which others took the machine says more about them
			# than about the tracers: run it once more, while retries are left
			if [ "$RETRIES_LEFT" -gt 0 ] && awk -F'\t' -v n="$(nproc)" -v max="$NOISY_PCT" \
				'{ if ($12 + $13 + 100 * $11 / $6 / n > max) bad = 1 } END { exit !bad }' "$RUN_ROWS"; then
				echo "bench: $SHAPE_S $c rep $rep: others (processes, BPF programs, the hypervisor) took more than $NOISY_PCT % of the machine; running it again"
				cat "$RUN_ROWS" >>"$DISCARDED"
				RETRIES_LEFT=$((RETRIES_LEFT - 1))
				: >"$RUN_ROWS"
				run_checked "$c" "$rep"
			fi
			cat "$RUN_ROWS" >>"$RESULTS"
		done
	done
done
reap "$IDLE"

# --- interval reports over a long run -----------------------------------------------
# offcpu -i prints (reads, symbolizes) a report every second: its cost is
# offcpu's own CPU time, not BPF time. Measured over LONG_SECONDS of pingpong,
# against the same run without -i, on the last shape; 0 skips it.
INTERVAL_TSV=$WORK/interval.tsv
printf 'mode\tseconds\troundtrips\toffcpu_cpu_s\treports\tpairs\n' >"$INTERVAL_TSV"
long_run() { # MODE OFFCPU-ARGS...
	local mode=$1 pp tp ticks=0 t rt
	shift
	"$(fixture_of "$LONG_PAIRS")" -n "$LONG_PAIRS" -d "$LONG_SECONDS" >"$WORK/long.out" &
	pp=$!
	STARTED="$STARTED $pp"
	"$OFFCPU" -p "$pp" "$@" >"$WORK/long.report" 2>/dev/null &
	tp=$!
	STARTED="$STARTED $tp"
	# the last reading before offcpu ends with its target: utime + stime, in ticks
	while kill -0 "$pp" 2>/dev/null; do
		t=$(awk '{ print $14 + $15 }' "/proc/$tp/stat" 2>/dev/null) && ticks=$t
		sleep 1
	done
	wait "$pp" || die "long run ($mode): pingpong failed"
	wait "$tp" || true
	forget "$pp"
	forget "$tp"
	rt=$(sed -n 's/^roundtrips //p' "$WORK/long.out")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$LONG_SECONDS" "$rt" \
		"$(echo "$ticks $(getconf CLK_TCK)" | awk '{ printf "%.2f", $1 / $2 }')" \
		"$(grep -c '^offcpu: PID' "$WORK/long.report")" "$LONG_PAIRS" >>"$INTERVAL_TSV"
	echo "bench: long run, $mode: $rt round trips, offcpu used $(tail -1 "$INTERVAL_TSV" | cut -f4) s of CPU"
}
if [ "$LONG_SECONDS" -gt 0 ]; then
	long_run plain
	long_run interval -i 1
else
	echo "bench: interval-report run skipped (BENCH_LONG_SECONDS=0)"
fi

# --- pgbench -S: a database server's throughput --------------------------------------
# pgbench -S (select-only, 8 clients on 2 threads) against the private cluster,
# untraced and under each tool on the whole system. The figure is pgbench's
# own tps; the BPF statistics of the tracer cover the whole pgbench process
# (connections, the tables' vacuum, the timed part). The postmaster's reaped
# children (the backends) count as ours, not as noise.
PG_TSV=$WORK/pgbench.tsv
printf 'config\trep\tseconds\ttps\twindow_ns\trun_time_ns\trun_cnt\truns\ttracer_cpu_s\tforeign_progs\tforeign_bpf_ns\tforeign_cpu_pct\tsteal_pct\tquiet_wait_s\tkept\n' >"$PG_TSV"
PG_INFO=""
cpu_ticks() { # PID: its utime + stime, 0 for none
	[ -n "$1" ] || { echo 0; return; }
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# pg_run CONFIG REP: one pgbench run; writes its line to $PG_RUN_ROW, sets OTHERS
pg_run() {
	local config=$1 rep=$2 tp="" progs="" b0="0 0 0" b1="0 0 0" t0 t1 c0 c1 rc tps
	local out=$WORK/pgbench.out err=$WORK/tracer0.err

	quiet_wait
	case $config in
	pg-base) ;;
	pg-offcpu) "$OFFCPU" "$PG_TRACER_SECONDS" >/dev/null 2>"$err" & ;;
	pg-offcputime) "$OFFCPUTIME" "$PG_TRACER_SECONDS" >/dev/null 2>"$err" & ;;
	*) die "unknown pgbench configuration $config" ;;
	esac
	if [ "$config" != pg-base ]; then
		tp=$!
		STARTED="$STARTED $tp"
		progs=$(attached_ids "$tp" sched_ran) || {
			cat "$err" >&2
			die "$config: the tracer exited before pgbench, or held no running scheduler program $ATTACH_WAIT + 30 s after its start"
		}
	fi
	# shellcheck disable=SC2086
	load_snap 0 "${tp:-} +$PG_POSTMASTER" $progs
	# shellcheck disable=SC2086
	[ -z "$progs" ] || b0=$(prog_stats $progs)
	c0=$(cpu_ticks "$tp")
	t0=$(now_ns)
	rc=0
	run_bg "$out" "${PGBENCH[@]}" -S -c 8 -j 2 -T "$PG_SECONDS" "$PG_DB" || rc=$?
	t1=$(now_ns)
	c1=$(cpu_ticks "$tp")
	# shellcheck disable=SC2086
	[ -z "$progs" ] || b1=$(prog_stats $progs)
	sleep 0.2 # the postmaster reaps the backends of pgbench's connections
	# shellcheck disable=SC2086
	load_snap 1 "${tp:-} +$PG_POSTMASTER" $progs
	load_others "$((t1 - t0))"
	[ -z "$tp" ] || stop_tracer "$config" "$tp" "$err"
	[ "$rc" -eq 0 ] || {
		cat "$out" >&2
		die "$config: pgbench failed (exit $rc); did the cluster on 127.0.0.1:$PGPORT go away (make integration stops it)?"
	}
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out" | tail -1)
	[ -n "$tps" ] || { cat "$out" >&2; die "$config: pgbench printed no tps"; }
	# shellcheck disable=SC2086
	set -- $b0 $b1
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$config" "$rep" "$PG_SECONDS" "$tps" \
		"$((t1 - t0))" "$(($4 - $1))" "$(($5 - $2))" "$(($6 - $3))" \
		"$(awk -v t="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')" "$FOREIGN" "$FBPF" "$LOAD" "$STEAL" "$QUIET_WAIT" >"$PG_RUN_ROW"
	printf 'bench: pgbench %-14s rep %s: %8s tps' "$config" "$rep" "${tps%.*}"
	[ "$5" -eq "$2" ] || printf ', %6d ns/event over %d context switches' \
		"$((($4 - $1) / ($5 - $2)))" "$(($5 - $2))"
	printf ', others %s %%\n' "$OTHERS"
}

if [ "$PG_SECONDS" -eq 0 ]; then
	echo "bench: pgbench section skipped (BENCH_PG_SECONDS=0)"
else
	PG_TRACER_SECONDS=$((PG_SECONDS + 120))
	PG_RUN_ROW=$WORK/pgbench-run.tsv
	pg_up pgbench
	PG_DB=waitscope_bench
	# left by a benchmark that was killed outright
	[ -z "$(pg_sql "select 1 from pg_database where datname = '$PG_DB'")" ] ||
		dropdb -h 127.0.0.1 -p "$PGPORT" -U postgres --force "$PG_DB"
	createdb -h 127.0.0.1 -p "$PGPORT" -U postgres "$PG_DB"
	echo "bench: pgbench: pgbench -i -s 10 $PG_DB"
	run_bg "$WORK/pgbench-init.log" "${PGBENCH[@]}" -i -s 10 -q "$PG_DB" ||
		{ cat "$WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }
	PG_INFO="$(pg_sql 'show server_version' | cut -d' ' -f1), $(pg_sql 'show shared_buffers') shared_buffers, database $(pg_sql "select pg_size_pretty(pg_database_size('$PG_DB'))")"
	# warm-up, not recorded: the tables into the caches, the backends' code
	run_bg /dev/null "${PGBENCH[@]}" -S -c 8 -j 2 -T 2 "$PG_DB" || die "pgbench warm-up failed"
	echo "bench: pgbench: $((3 * PG_REPS)) runs of ${PG_SECONDS}s (pgbench -S -c 8 -j 2), ${PG_REPS} per configuration"
	run_alternating "$PG_REPS" "$PG_TSV" "$PG_RUN_ROW" "pgbench " pg_run pg-base pg-offcpu pg-offcputime
	pg_done
fi

# --- start-up time ---------------------------------------------------------------------
# A sleeping target: (a) exec of `TOOL -p TARGET` to its first BPF link, for
# offcpu and offcputime; (b) exec to exit of `offcpu --stuck -p TARGET`.
STARTUP_TSV=$WORK/startup.tsv
printf 'measurement\trep\tseconds\tquiet_wait_s\n' >"$STARTUP_TSV"
if [ "$STARTUP_REPS" -eq 0 ]; then
	echo "bench: start-up section skipped (BENCH_STARTUP_REPS=0)"
else
	sleep 100000 &
	TARGET=$!
	STARTED="$STARTED $TARGET"
	echo "bench: start-up: ${STARTUP_REPS} times each, target: a sleep (PID $TARGET)"
	for rep in $(seq 1 "$STARTUP_REPS"); do
		order="offcpu-attach offcputime-attach offcpu-stuck"
		[ $((rep % 2)) -eq 1 ] || order="offcpu-stuck offcputime-attach offcpu-attach"
		for m in $order; do
			quiet_wait
			case $m in
			offcpu-attach) set -- attached 30 "$WORK/startup.err" "$OFFCPU" -p "$TARGET" ;;
			offcputime-attach) set -- attached 30 "$WORK/startup.err" "$OFFCPUTIME" -p "$TARGET" ;;
			offcpu-stuck) set -- wall 30 "$WORK/startup.err" "$OFFCPU" --stuck -p "$TARGET" ;;
			esac
			t=$("$PYTHON" tests/bench/startup.py "$@") ||
				{ cat "$WORK/startup.err" >&2; die "start-up: $m failed"; }
			printf '%s\t%s\t%s\t%s\n' "$m" "$rep" "$t" "$QUIET_WAIT" >>"$STARTUP_TSV"
			echo "bench: start-up, $m rep $rep: $t s"
		done
	done
	reap "$TARGET"
fi

# --- the report -------------------------------------------------------------------
# the command that reproduces the figures: every knob of the parts run, and
# those of the quiet-machine wait that the environment set
COMMAND="BENCH_SECONDS=$SECONDS_PER_RUN BENCH_REPS=$REPS BENCH_SHAPES=\"$SHAPES\""
[ -z "${BENCH_CONFIGS:-}" ] || COMMAND="$COMMAND BENCH_CONFIGS=\"$BENCH_CONFIGS\""
[ "$PINGPONG_ONLY" = 0 ] || COMMAND="BENCH_PINGPONG_ONLY=1 $COMMAND"
COMMAND="$COMMAND BENCH_LONG_SECONDS=$LONG_SECONDS BENCH_PG_SECONDS=$PG_SECONDS BENCH_STARTUP_REPS=$STARTUP_REPS"
for v in QUIET_BUDGET QUIET_PCT NOISY_PCT BENCH_RETRIES ATTACH_WAIT; do
	! printenv "$v" >/dev/null || COMMAND="$COMMAND $v=$(printenv "$v")"
done
BENCH_DATE=$START_DATE \
	BENCH_COMMAND="$COMMAND make bench" \
	BENCH_OFFCPUTIME="$OFFCPUTIME ($(dpkg-query -W -f='${Package} ${Version}' libbpf-tools 2>/dev/null || echo 'version unknown'))" \
	BENCH_TOOLS="$(bpftool version 2>/dev/null | head -2 | tr '\n' ' ' | sed 's/ *$//'), $(clang --version | head -1)" \
	BENCH_INTERVAL_TSV=$INTERVAL_TSV \
	BENCH_PG_TSV=$PG_TSV \
	BENCH_PG_INFO="$PG_INFO" \
	BENCH_STARTUP_TSV=$STARTUP_TSV \
	with_facts bpf/offcpu.bpf.c "$PYTHON" tests/bench/report.py "$RESULTS" "$DOC" "$DISCARDED"
echo "bench: wrote $DOC (raw data: $RESULTS, $PG_TSV, $STARTUP_TSV, $INTERVAL_TSV; pingpong runs done again: $DISCARDED)"

# --- semlat and poolwait: sections of their own, written after report.py's
# rewrite of the rest (which keeps semlat's); the same knobs from the
# environment, and our lock (fd 9, inherited)
if [ "$PINGPONG_ONLY" = 0 ]; then
	OUT=$OUT scripts/bench-semlat.sh
	OUT=$OUT scripts/bench-poolwait.sh
else
	echo "bench: semlat and poolwait sections skipped (BENCH_PINGPONG_ONLY=1): kept in $DOC as they were"
fi
