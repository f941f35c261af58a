#!/bin/bash
# Benchmarks offcpu against bcc's libbpf-tools offcputime, side by side, on
# the same context-switch-heavy workload (build/fixtures/pingpong), and writes
# docs/benchmarks.md. Run through `make bench` (which builds first), as root.
#
# Each run is one window: pingpong is held at exec behind a FIFO, the tracer
# (if any) is started on its PID and given ATTACH_WAIT seconds to attach, the
# BPF statistics of the tracer's sched_switch program(s) (found through its
# fdinfo, pinned so that they outlive the tracer) are read, pingpong is
# released for BENCH_SECONDS, and the statistics are read again when it has
# exited. So the BPF deltas and the round-trip count cover the same window,
# and every round trip pingpong counts was made with the tracer attached.
#
# Configurations (every one BENCH_REPS times, order reversed on every other
# repetition so that drift does not favour one side):
#   base             no tracer
#   floor            an empty tp_btf/sched_switch program (tests/bench/), the
#                    bpf_stats measurement floor
#   offcpu-p         offcpu -p PINGPONG          offcputime-p   offcputime -p PINGPONG
#   offcpu-all       offcpu (whole system)       offcputime-all offcputime (whole system)
#   offcpu-wakers    offcpu -p PINGPONG --wakers  offcpu-interval  offcpu -p PINGPONG -i 1
#   offcpu-idle      offcpu -p IDLE              offcputime-idle offcputime -p IDLE
#                    (IDLE is a `sleep` that never wakes: every event is filtered out)
#   paired-p         offcpu -p PINGPONG and offcputime -p PINGPONG at once: both
#                    programs run on exactly the same events, the tightest
#                    comparison of their cost (attach order alternates)
#
# Knobs (environment): BENCH_SECONDS (5), BENCH_REPS (3), BENCH_PAIRS (2),
# ATTACH_WAIT (1.5), QUIET_BUDGET (30), QUIET_PCT (15), NOISY_PCT (5),
# BENCH_RETRIES (3), BENCH_LONG_SECONDS (60: the -i run; 0 skips it), OFFCPUTIME (offcputime from PATH), BENCH_DOC
# (docs/benchmarks.md), PYTHON (python3).
set -eu

cd "$(dirname "$0")/.."

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (BPF programs, kernel.bpf_stats_enabled); try: sudo make bench"

SECONDS_PER_RUN=${BENCH_SECONDS:-5}
REPS=${BENCH_REPS:-3}
PAIRS=${BENCH_PAIRS:-2}
ATTACH_WAIT=${ATTACH_WAIT:-1.5}
# before each run, wait (at most 10 s, QUIET_BUDGET s in all) for the machine
# to be under QUIET_PCT % busy with no other sched_switch BPF program
QUIET_LEFT=${QUIET_BUDGET:-30}
QUIET_PCT=${QUIET_PCT:-15}
# a run during which others (processes, sched_switch programs, the hypervisor's
# steal) took more than NOISY_PCT % of the machine is run again, BENCH_RETRIES
# times at most in all
NOISY_PCT=${NOISY_PCT:-5}
RETRIES=${BENCH_RETRIES:-3}
DOC=${BENCH_DOC:-docs/benchmarks.md}
PYTHON=${PYTHON:-python3}
OFFCPU=build/offcpu
PINGPONG=build/fixtures/pingpong
OFFCPUTIME=${OFFCPUTIME:-$(command -v offcputime || true)}
# shellcheck disable=SC2015
[ -n "$OFFCPUTIME" ] && [ -x "$OFFCPUTIME" ] ||
	die "offcputime not found (Debian package libbpf-tools; scripts/deps.sh installs it)"
for f in "$OFFCPU" "$PINGPONG"; do
	[ -x "$f" ] || die "$f is missing: run 'make all' (or 'make bench', which builds it)"
done
for c in bpftool clang cc "$PYTHON" sysctl flock; do
	command -v "$c" >/dev/null || die "$c is missing (scripts/deps.sh installs it)"
done
# the interpreter itself, not a wrapper: it runs inside the measurement windows' edges
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')
case "$SECONDS_PER_RUN$REPS$PAIRS$QUIET_LEFT$RETRIES$NOISY_PCT" in *[!0-9]*) die "BENCH_SECONDS, BENCH_REPS, BENCH_PAIRS, QUIET_BUDGET, BENCH_RETRIES, NOISY_PCT take whole numbers" ;; esac
# a tracer's own duration: it must outlive the window; we stop it ourselves
TRACER_SECONDS=$((SECONDS_PER_RUN + 60))

ARCH=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
WORK=build/bench
mkdir -p "$WORK"
# one benchmark at a time: two would share these files and each other's CPUs
exec 9>"$WORK/lock"
flock -n 9 || die "another benchmark is running (lock $WORK/lock)"
rm -f "$WORK"/tracer*.err "$WORK"/load?.json "$WORK"/run.tsv
RESULTS=$WORK/results.tsv
DISCARDED=$WORK/discarded.tsv
RUN_ROWS=$WORK/run.tsv
FIFO=$WORK/go.$$

# --- everything we start is remembered here and ended by the trap ----------
STARTED=""
STATS_WAS=""
PIN_PREFIX=""
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in $STARTED; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in $STARTED; do
		wait "$p" 2>/dev/null || true
	done
	rm -f "$FIFO"
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

# --- the bpf_stats floor: an empty sched_switch program and its loader -----
echo "bench: building the measurement-floor program ($WORK/empty.bpf.o, $WORK/bpf_floor)"
clang -g -O2 -target bpf -D__TARGET_ARCH_"$ARCH" -I"vmlinux/$ARCH" -Wall -Werror \
	-c tests/bench/empty.bpf.c -o "$WORK/empty.bpf.o"
cc -O2 -g -Wall -Wextra -Werror tests/bench/bpf_floor.c -lbpf -o "$WORK/bpf_floor"

STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null

# Each tracer's programs are pinned while it runs: offcpu -p detaches as soon
# as pingpong exits, and a pinned program keeps its final statistics for us.
# Pins are files /sys/fs/bpf/waitscope_bench_PID_PROGID (bpffs refuses dots);
# those left by a benchmark that was killed outright are removed here.
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
	mount -t bpf bpf /sys/fs/bpf || die "/sys/fs/bpf is not a BPF file system and cannot be mounted"
fi
for f in /sys/fs/bpf/waitscope_bench_*; do
	[ -e "$f" ] || continue
	p=${f#/sys/fs/bpf/waitscope_bench_}
	kill -0 "${p%%_*}" 2>/dev/null || rm -f "$f"
done
PIN_PREFIX=/sys/fs/bpf/waitscope_bench_$$_

# --- BPF statistics -----------------------------------------------------------
# IDs of the programs PID holds, from its fdinfo (prog fds and link fds both
# name them): robust against other tracers loaded on the same machine.
prog_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null || true
	done | sort -un | tr '\n' ' '
}

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

# --- one run ------------------------------------------------------------------
# The tracers of a configuration, in attach order (= the order in which the
# kernel runs their programs on each event). paired-p attaches both tools to
# the same pingpong, so both programs see exactly the same events; the first
# attached pays for cold caches in the stack walks (about 250 ns/event here),
# so the order alternates with the repetition.
tracers_of() { # CONFIG REP
	case $1 in
	base) ;;
	paired-p) if [ $(($2 % 2)) -eq 1 ]; then echo offcpu-p offcputime-p; else echo offcputime-p offcpu-p; fi ;;
	*) echo "$1" ;;
	esac
}

# start_tracer NAME PINGPONG_PID ERRFILE: starts it in the background, sets TP
start_tracer() {
	case $1 in
	floor) "$WORK/bpf_floor" "$WORK/empty.bpf.o" "$TRACER_SECONDS" 2>"$3" & ;;
	offcpu-p) "$OFFCPU" -p "$2" "$TRACER_SECONDS" >/dev/null 2>"$3" & ;;
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
	local i=0 rc=0
	if [ "$1" = floor ]; then
		kill -TERM "$2" 2>/dev/null || true
	else
		kill -INT "$2" 2>/dev/null || true
	fi
	while kill -0 "$2" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$2" 2>/dev/null || true
	wait "$2" 2>/dev/null || rc=$?
	forget "$2"
	case $rc in
	0 | 130 | 143) ;;
	*) echo "bench: warning: $1: the tracer exited with $rc:" >&2; cat "$3" >&2 ;;
	esac
}

# run CONFIG REP: appends one line per tracer (one for base) to $RUN_ROWS
run() {
	local config=$1 rep=$2 pp out=$WORK/pingpong.out
	local names=() pids=() ids=() s0=() s1=() all_ids="" all_pids=""
	local n k id t0 t1 rt rc load steal foreign fbpf quiet_wait row label

	# let the machine settle: other people's builds and tracers are noise
	quiet_wait=0
	if [ "$QUIET_LEFT" -gt 0 ]; then
		quiet_wait=$("$PYTHON" tests/bench/sysload.py quiet \
			"$((QUIET_LEFT < 10 ? QUIET_LEFT : 10))" "$QUIET_PCT")
		QUIET_LEFT=$((QUIET_LEFT - ${quiet_wait%.*}))
	fi

	rm -f "$FIFO"
	mkfifo "$FIFO"
	# pingpong's PID exists before pingpong runs: the holder execs it when released
	sh -c 'f=$1; shift; read -r go < "$f"; exec "$@"' holder "$FIFO" \
		"$PINGPONG" -n "$PAIRS" -d "$SECONDS_PER_RUN" >"$out" &
	pp=$!
	STARTED="$STARTED $pp"

	# one at a time, each fully attached before the next: a known run order
	read -r -a names <<<"$(tracers_of "$config" "$rep")"
	for k in "${!names[@]}"; do
		start_tracer "${names[k]}" "$pp" "$WORK/tracer$k.err"
		pids[k]=$TP
		sleep "$ATTACH_WAIT"
		kill -0 "$TP" 2>/dev/null ||
			{ cat "$WORK/tracer$k.err" >&2; die "$config: ${names[k]} exited before the window"; }
		ids[k]=$(prog_ids "$TP")
		# shellcheck disable=SC2015,SC2086
		[ -n "${ids[k]}" ] && [ "$(prog_stats ${ids[k]})" != "0 0 0" ] ||
			{ cat "$WORK/tracer$k.err" >&2; die "$config: ${names[k]} holds no running sched_switch program after ${ATTACH_WAIT}s"; }
		for id in ${ids[k]}; do
			bpftool prog pin id "$id" "$PIN_PREFIX$id" || die "cannot pin program $id as $PIN_PREFIX$id"
		done
		all_ids="$all_ids ${ids[k]}"
		all_pids="$all_pids $TP"
	done

	# shellcheck disable=SC2086
	"$PYTHON" tests/bench/sysload.py snap "$WORK/load0.json" $$ "${all_pids:- -}" $all_ids
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
	"$PYTHON" tests/bench/sysload.py snap "$WORK/load1.json" $$ "${all_pids:- -}" $all_ids
	# other processes' CPU %, steal %, other sched_switch programs and their run time
	read -r load steal foreign fbpf <<EOF
$("$PYTHON" tests/bench/sysload.py foreign "$WORK/load0.json" "$WORK/load1.json")
EOF
	forget "$pp"
	rm -f "$FIFO"
	[ "$rc" -eq 0 ] || die "$config: pingpong failed (exit $rc)"
	rt=$(sed -n 's/^roundtrips //p' "$out")
	[ -n "$rt" ] || die "$config: pingpong printed no round trips"

	for k in "${!names[@]}"; do
		stop_tracer "${names[k]}" "${pids[k]}" "$WORK/tracer$k.err"
		for id in ${ids[k]}; do
			rm -f "$PIN_PREFIX$id"
		done
	done

	n=${#names[@]}
	for k in $(seq 0 $((n > 0 ? n - 1 : 0))); do
		label=$config
		row="0 0 0 0 0 0"
		if [ "$n" -gt 0 ]; then
			row="${s0[k]} ${s1[k]}"
			[ "$n" -eq 1 ] || label="$config:${names[k]%-p}"
		fi
		# shellcheck disable=SC2086
		set -- $row
		# $1..$3: run time, events, program runs before; $4..$6 after
		[ "$n" -eq 0 ] || [ "$5" -gt "$2" ] ||
			die "$config: ${names[k]}: bpf_stats did not grow over the window ($row)"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$rep" "$((k + 1))" \
			"$SECONDS_PER_RUN" "$rt" "$((t1 - t0))" "$(($4 - $1))" "$(($5 - $2))" "$(($6 - $3))" \
			"$foreign" "$fbpf" "$load" "$steal" "$quiet_wait" >>"$RUN_ROWS"
		printf 'bench: %-22s rep %s: %9s round trips' "$label" "$rep" "$rt"
		[ "$5" -eq "$2" ] || printf ', %6d ns/event over %d events' \
			"$((($4 - $1) / ($5 - $2)))" "$(($5 - $2))"
		[ "$foreign" -eq 0 ] || printf ', %s foreign sched_switch programs (%d ms)' "$foreign" "$((fbpf / 1000000))"
		printf ', foreign CPU %s %%, steal %s %%\n' "$load" "$steal"
	done
}

# --- the benchmark --------------------------------------------------------------
sleep 100000 &
IDLE=$!
STARTED="$STARTED $IDLE"

CONFIGS="base offcpu-p offcputime-p offcpu-wakers offcpu-interval floor offcpu-all offcputime-all offcpu-idle offcputime-idle paired-p"
REVERSED=$(echo "$CONFIGS" | tr ' ' '\n' | tac | tr '\n' ' ')
NRUNS=$(($(echo "$CONFIGS" | wc -w) * REPS + REPS % 2))
echo "bench: $NRUNS runs of ${SECONDS_PER_RUN}s (pingpong -n $PAIRS), ${REPS} per configuration"
printf 'config\trep\tposition\tseconds\troundtrips\twindow_ns\trun_time_ns\trun_cnt\truns\tforeign_progs\tforeign_bpf_ns\tforeign_cpu_pct\tsteal_pct\tquiet_wait_s\n' >"$RESULTS"
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
# warm-up, not recorded: page cache, CPU frequency, the scheduler's placement
"$PINGPONG" -n "$PAIRS" -d 2 >/dev/null
printf 'config\trep\tposition\tseconds\troundtrips\twindow_ns\trun_time_ns\trun_cnt\truns\tforeign_progs\tforeign_bpf_ns\tforeign_cpu_pct\tsteal_pct\tquiet_wait_s\n' >"$DISCARDED"
RETRIES_LEFT=$RETRIES
# paired-p alternates the attach order: with an odd REPS it gets one more
# repetition, so that both orders count alike
for rep in $(seq 1 $((REPS % 2 ? REPS + 1 : REPS))); do
	order=$CONFIGS
	[ $((rep % 2)) -eq 1 ] || order=$REVERSED
	[ "$rep" -le "$REPS" ] || order=paired-p
	for c in $order; do
		: >"$RUN_ROWS"
		run "$c" "$rep"
		# a run during which others took the machine says more about them
		# than about the tracers: run it once more, while retries are left
		if [ "$RETRIES_LEFT" -gt 0 ] && awk -F'\t' -v n="$(nproc)" -v max="$NOISY_PCT" \
			'{ if ($12 + $13 + 100 * $11 / $6 / n > max) bad = 1 } END { exit !bad }' "$RUN_ROWS"; then
			echo "bench: $c rep $rep: others (processes, BPF programs, the hypervisor) took more than $NOISY_PCT % of the machine; running it again"
			cat "$RUN_ROWS" >>"$DISCARDED"
			RETRIES_LEFT=$((RETRIES_LEFT - 1))
			: >"$RUN_ROWS"
			run "$c" "$rep"
		fi
		cat "$RUN_ROWS" >>"$RESULTS"
	done
done
kill -KILL "$IDLE" 2>/dev/null || true
wait "$IDLE" 2>/dev/null || true
forget "$IDLE"

# --- interval reports over a long run -----------------------------------------------
# offcpu -i prints (reads, symbolizes) a report every second: its cost is
# offcpu's own CPU time, not BPF time. Measured over LONG_SECONDS of pingpong,
# against the same run without -i; 0 skips it.
LONG_SECONDS=${BENCH_LONG_SECONDS:-60}
INTERVAL_TSV=$WORK/interval.tsv
printf 'mode	seconds	roundtrips	offcpu_cpu_s	reports
' >"$INTERVAL_TSV"
long_run() { # MODE OFFCPU-ARGS...
	local mode=$1 pp tp ticks=0 t rt
	shift
	"$PINGPONG" -n "$PAIRS" -d "$LONG_SECONDS" >"$WORK/long.out" &
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
	printf '%s\t%s\t%s\t%s\t%s\n' "$mode" "$LONG_SECONDS" "$rt" \
		"$(echo "$ticks $(getconf CLK_TCK)" | awk '{ printf "%.2f", $1 / $2 }')" \
		"$(grep -c '^offcpu: PID' "$WORK/long.report")" >>"$INTERVAL_TSV"
	echo "bench: long run, $mode: $rt round trips, offcpu used $(tail -1 "$INTERVAL_TSV" | cut -f4) s of CPU"
}
if [ "$LONG_SECONDS" -gt 0 ]; then
	long_run plain
	long_run interval -i 1
fi

# --- the report -------------------------------------------------------------------
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- bpf tools user Makefile 2>/dev/null | wc -l)
[ "$dirty" -eq 0 ] || rev="$rev + uncommitted changes to bpf/, tools/ or user/"
rev="$rev (bpf/offcpu.bpf.c sha256 $(sha256sum bpf/offcpu.bpf.c | cut -c1-12))"
BENCH_DATE=$START_DATE \
	BENCH_KERNEL="$(uname -r)" \
	BENCH_CPU="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	BENCH_NPROC="$(nproc)" \
	BENCH_COMMAND="BENCH_SECONDS=$SECONDS_PER_RUN BENCH_REPS=$REPS BENCH_PAIRS=$PAIRS make bench" \
	BENCH_REV="$rev" \
	BENCH_OFFCPUTIME="$OFFCPUTIME ($(dpkg-query -W -f='${Package} ${Version}' libbpf-tools 2>/dev/null || echo 'version unknown'))" \
	BENCH_TOOLS="$(bpftool version 2>/dev/null | head -2 | tr '\n' ' ' | sed 's/ *$//'), $(clang --version | head -1)" \
	BENCH_ATTACH_WAIT=$ATTACH_WAIT \
	BENCH_NOISY_PCT=$NOISY_PCT \
	BENCH_INTERVAL_TSV=$INTERVAL_TSV \
	"$PYTHON" tests/bench/report.py "$RESULTS" "$DOC" "$DISCARDED"
echo "bench: wrote $DOC (raw data: $RESULTS, runs done again: $DISCARDED)"
