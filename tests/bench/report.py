#!/usr/bin/env python3
"""Turns build/bench/results.tsv (written by scripts/bench.sh) into
docs/benchmarks.md and prints the summary table and the targets.

usage: report.py RESULTS.tsv OUT.md [DISCARDED.tsv]
(machine facts come in BENCH_* variables; DISCARDED holds the runs done
again because the rest of the machine was busy)
"""
import csv
import os
import statistics
import sys
import textwrap

FILTERED_TARGET_NS = 40.0  # target: cost per event of a filtered-out task
# share of the machine taken by others (processes, BPF programs, steal) above
# which a run is flagged (and redone, while retries are left)
NOISY_PCT = float(os.environ.get("BENCH_NOISY_PCT", "5"))
NPROC = int(os.environ.get("BENCH_NPROC", "1"))

# (config, label, command) in table order; PP = pingpong's PID, IDLE = a sleeping process
CONFIGS = [
    ("base", "untraced", "pingpong alone"),
    ("floor", "bpf_stats floor", "empty tp_btf/sched_switch program"),
    ("offcpu-p", "offcpu, traced", "offcpu -p PP"),
    ("offcputime-p", "offcputime, traced", "offcputime -p PP"),
    ("offcpu-wakers", "offcpu, traced, with wakers", "offcpu -p PP --wakers"),
    ("offcpu-interval", "offcpu, traced, 1 s interval reports", "offcpu -p PP -i 1"),
    ("offcpu-all", "offcpu, whole system", "offcpu"),
    ("offcputime-all", "offcputime, whole system", "offcputime"),
    ("offcpu-idle", "offcpu, filtered out", "offcpu -p IDLE"),
    ("offcputime-idle", "offcputime, filtered out", "offcputime -p IDLE"),
    ("paired-p:offcpu", "offcpu, traced, both attached", "offcpu -p PP & offcputime -p PP"),
    ("paired-p:offcputime", "offcputime, traced, both attached", "offcpu -p PP & offcputime -p PP"),
]


def load(path):
    runs = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            r = {k: (v if k == "config" else float(v) if "." in v else int(v)) for k, v in row.items()}
            r["rt_s"] = r["roundtrips"] / r["seconds"]
            r["ns_ev"] = r["run_time_ns"] / r["run_cnt"] if r["run_cnt"] else None
            # program runs per sched_switch event: bpf_stats' overhead is paid per run
            r["per_ev"] = r["runs"] / r["run_cnt"] if r.get("runs") and r["run_cnt"] else 1.0
            r["ev_rt"] = r["run_cnt"] / r["roundtrips"] if r["roundtrips"] else None
            r["cpu"] = r["run_time_ns"] / r["window_ns"]  # CPUs' worth of BPF time
            # other processes, and other people's sched_switch programs, in % of the machine
            r["foreign"] = r["foreign_cpu_pct"] + 100 * r["foreign_bpf_ns"] / r["window_ns"] / NPROC
            r["others"] = r["foreign"] + r["steal_pct"]  # what bench.sh compares to NOISY_PCT
            runs.setdefault(r["config"], []).append(r)
    return runs


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs, fmt):
    xs = [x for x in xs if x is not None]
    return " (%s–%s)" % (fmt(min(xs)), fmt(max(xs))) if len(xs) > 1 else ""


def f2(x):
    return "%.2fx" % x


def f0(x):
    return "%.0f" % x


def paired_difference(runs, floor):
    """offcpu minus offcputime ns/event on the same events, balanced over attach order.

    Returns (mean difference, mean offcputime ns/event, per-rep differences,
    cost of being attached first, spread of repetitions in the same order) or None.
    """
    # net of the floor of each one's program runs: offcpu runs on sched_waking too
    a = {r["rep"]: r["ns_ev"] - floor * r["per_ev"] for r in runs.get("paired-p:offcpu", [])
         if r["ns_ev"] is not None}
    b = {r["rep"]: r["ns_ev"] - floor * r["per_ev"] for r in runs.get("paired-p:offcputime", [])
         if r["ns_ev"] is not None}
    pos = {r["rep"]: r["position"] for r in runs.get("paired-p:offcpu", [])}
    reps = sorted(set(a) & set(b))
    if not reps:
        return None
    by_pos = {}
    for rep in reps:
        by_pos.setdefault(pos[rep], []).append(a[rep] - b[rep])
    # the first program attached pays for cold caches: weigh both positions alike
    diff = statistics.mean(statistics.mean(d) for d in by_pos.values())
    ref = statistics.mean(b[rep] for rep in reps)
    # what being attached first costs, ns/event (None unless both orders ran)
    first = (statistics.mean(by_pos[1]) - statistics.mean(by_pos[2])) / 2 if len(by_pos) > 1 else None
    # noise: how far repetitions in the same attach order disagree (None if none repeats)
    noise = max((max(d) - min(d) for d in by_pos.values() if len(d) > 1), default=None)
    return diff, ref, [a[rep] - b[rep] for rep in reps], first, noise


def long_run_section(path):
    """offcpu's own CPU time with and without -i 1 over one long pingpong run each."""
    if not path or not os.path.exists(path):
        return ""
    with open(path, newline="") as f:
        rows = {r["mode"]: r for r in csv.DictReader(f, delimiter="\t")}
    if "plain" not in rows or "interval" not in rows:
        return ""
    secs = float(rows["plain"]["seconds"])
    out = ["", "## Interval reports (`-i 1`) over %.0f s" % secs, "",
           "offcpu's own CPU time (utime + stime of the process) while following pingpong for "
           "%.0f s, without and with a report every second; the BPF side is the same in both "
           "(rows *offcpu, traced* and *offcpu, traced, 1 s interval reports* above)." % secs, "",
           "| mode | reports printed | offcpu CPU time | share of one CPU | round trips vs plain |",
           "| --- | --- | --- | --- | --- |"]
    plain_rt = float(rows["plain"]["roundtrips"]) or 1.0
    for mode, label in (("plain", "`offcpu -p PP %.0f`" % secs), ("interval", "`offcpu -p PP -i 1 %.0f`" % secs)):
        r = rows[mode]
        cpu = float(r["offcpu_cpu_s"])
        out.append("| %s | %s | %.2f s | %.2f %% | %.2fx |" % (
            label, r["reports"], cpu, 100 * cpu / secs, float(r["roundtrips"]) / plain_rt))
    return "\n".join(out) + "\n"


def main():
    results, out = sys.argv[1], sys.argv[2]
    runs = load(results)
    env = os.environ.get
    if "base" not in runs:
        sys.exit("report: no untraced runs in " + results)
    base = med(r["rt_s"] for r in runs["base"])
    floor = med(r["ns_ev"] for r in runs.get("floor", [])) or 0.0

    summary, rows = {}, []
    for config, label, cmd in CONFIGS:
        rs = runs.get(config)
        if not rs:
            continue
        ratios = [r["rt_s"] / base for r in rs]
        ns = [r["ns_ev"] for r in rs if r["ns_ev"] is not None]
        # the floor is per program run: offcpu also runs on sched_waking
        cfloor = floor * med([r["per_ev"] for r in rs])
        summary[config] = {"ns": med(ns), "all": ns, "floor": cfloor}
        ratio_s = f2(med(ratios)) + spread(ratios, f2)
        if config == "base":
            ratio_s = "1.00x (%s)" % ", ".join(f2(x) for x in ratios)
        if not ns:
            ns_s = net_s = ev_s = cpu_s = "–"
        else:
            ns_s = f0(med(ns)) + spread(ns, f0)
            net_s = "–" if config == "floor" else f0(med(ns) - cfloor)
            ev_s = "%.2f" % med(r["ev_rt"] for r in rs)
            cpu_s = "%.1f %%" % (100 * med(r["cpu"] for r in rs) / NPROC)
        rows.append("| %s | `%s` | %s | %s | %s | %s | %s |" % (label, cmd, ratio_s, ns_s, net_s, ev_s, cpu_s))

    targets = []

    def separate(a, b, what):
        if a not in summary or b not in summary or summary[a]["ns"] is None or summary[b]["ns"] is None:
            return
        x, y = summary[a]["ns"], summary[b]["ns"]
        fx, fy = summary[a]["floor"], summary[b]["floor"]
        xa, ya = summary[a]["all"], summary[b]["all"]
        verdict = "PASS" if x < y else "FAIL"
        if len(xa) > 1 and min(xa) <= max(ya) and min(ya) <= max(xa):
            verdict += " (ranges overlap: within noise)"
        targets.append("| offcpu fewer ns per traced event than offcputime: %s | %.0f vs %.0f raw, "
                       "%.0f vs %.0f net of floor (%+.0f %%) | **%s** |"
                       % (what, x, y, x - fx, y - fy, 100 * ((x - fx) - (y - fy)) / (y - fy),
                          verdict))

    separate("offcpu-p", "offcputime-p", "separate runs, `-p PP`")
    separate("offcpu-all", "offcputime-all", "separate runs, whole system")
    paired = paired_difference(runs, floor)
    if paired:
        diff, ref, diffs, first, spread_same = paired
        balanced = first is not None
        verdict = "PASS" if diff < 0 else "FAIL"
        if spread_same is not None and abs(diff) <= spread_same:
            verdict += " (within noise)"
        targets.append("| offcpu fewer ns per traced event than offcputime: **both attached, same events** "
                       "(decisive) | offcpu − offcputime = %+.0f ns/event net of floor (%+.0f %%), %s; per repetition: %s%s | **%s** |"
                       % (diff, 100 * diff / ref,
                          "averaged over both attach orders" if balanced else "one attach order only",
                          ", ".join("%+.0f" % d for d in diffs),
                          "; repetitions in the same order agree within %.0f ns" % spread_same
                          if spread_same is not None else "", verdict))
    idle = summary.get("offcpu-idle", {}).get("ns")
    if idle is not None:
        ifloor = summary["offcpu-idle"]["floor"]
        raw_ok, net_ok = idle <= FILTERED_TARGET_NS, idle - ifloor <= FILTERED_TARGET_NS
        verdict = ("PASS raw (so also net of the floor)" if raw_ok else
                   "PASS only net of the floor; FAIL raw" if net_ok else "FAIL, raw and net")
        targets.append("| at most %.0f ns per event for filtered-out tasks (`offcpu -p IDLE`) | %.0f ns raw, "
                       "%.0f ns net of the %.0f ns floor of its program runs (offcputime: %.0f raw) | **%s** |"
                       % (FILTERED_TARGET_NS, idle, idle - ifloor, ifloor,
                          summary.get("offcputime-idle", {}).get("ns") or float("nan"), verdict))

    discarded = load(sys.argv[3]) if len(sys.argv) > 3 and os.path.exists(sys.argv[3]) else {}
    allruns = [r for rs in runs.values() for r in rs]
    foreign = int(max(r["foreign_progs"] for r in allruns))
    busy = [r for r in allruns if r["others"] > NOISY_PCT]
    steal = max(r["steal_pct"] for r in allruns)
    waited = sum(r["quiet_wait_s"] for r in allruns if r["position"] <= 1)
    reps = max(r["rep"] for r in runs["base"])
    preps = len(runs.get("paired-p:offcpu", []))
    secs = runs["base"][0]["seconds"]

    sep = summary.get("offcpu-p", {}).get("all") or []
    sep_spread = 100 * (max(sep) - min(sep)) / 2 / med(sep) if len(sep) > 1 else None
    first = paired[3] if paired else None
    paired_note = ("*both attached*: offcpu and offcputime on the same pingpong at once, so both "
                   "programs run on exactly the same events: the tightest comparison.")
    if sep_spread is not None:
        paired_note += (" Across separate runs, offcpu's ns/event moved by ±%.0f %% here, with "
                        "conditions that change from run to run (where the scheduler puts the four "
                        "threads, the state of the caches); within one run both programs see the "
                        "same conditions." % sep_spread)
    if first is not None:
        paired_note += (" The program attached first runs first on each event and pays for colder "
                        "caches in the stack walks (%+.0f ns/event in these runs), so the attach "
                        "order alternates and the difference is averaged over both orders." % first)
    paired_note = textwrap.fill(paired_note, 76, initial_indent="- ", subsequent_indent="  ") + "\n"

    table = "\n".join([
        "| configuration | command | round trips/s vs untraced | BPF ns/event, raw | net of floor "
        "| events per round trip | BPF CPU (of %d CPUs) |" % NPROC,
        "| --- | --- | --- | --- | --- | --- | --- |",
    ] + rows)
    ttable = "\n".join(["| target | measured (medians unless said) | result |", "| --- | --- | --- |"] + targets)
    longrun = long_run_section(os.environ.get("BENCH_INTERVAL_TSV"))

    def raw_table(rs_by_config):
        lines = ["| configuration | rep | attach position | round trips/s vs untraced median "
                 "| sched_switch events | BPF ns/event | foreign CPU | steal | foreign sched_switch programs |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for config, _, _ in CONFIGS:
            for r in sorted(rs_by_config.get(config, []), key=lambda r: r["rep"]):
                lines.append("| %s | %d | %s | %.3fx | %d | %s | %.1f %% | %.1f %% | %d |" % (
                    config, r["rep"], r["position"] or "–", r["rt_s"] / base, r["run_cnt"],
                    "%.1f" % r["ns_ev"] if r["ns_ev"] is not None else "–",
                    r["foreign"], r["steal_pct"], r["foreign_progs"]))
        return "\n".join(lines)

    raw = raw_table(runs)
    if discarded:
        raw += ("\n\nRuns done again because others took more than %.0f %% of the machine "
                "(not in the results above):\n\n" % NOISY_PCT + raw_table(discarded))

    noise = ""
    if foreign:
        noise += ("\n**Noise warning:** up to %d sched_switch BPF program(s) loaded by something else "
                  "ran during some runs (last column of the raw data). They run on every context "
                  "switch, so they slow pingpong in whichever configuration they overlap.\n" % foreign)
    if busy:
        noise += ("\n**Noise warning:** in %d of %d runs, others took more than %.0f %% of the machine "
                  "(up to %.0f %%; *foreign CPU* + *steal* in the raw data; a run is done again once at most, "
                  "and BENCH_RETRIES times in all). "
                  "Throughput ratios of those runs are biased down; BPF ns/event less so.\n"
                  % (len(busy), len(allruns), NOISY_PCT, max(r["others"] for r in busy)))
    if steal > 5:
        noise += "\n**Noise warning:** the hypervisor stole up to %.0f %% of the CPUs in some runs.\n" % steal
    redone = sorted({(r["config"].split(":")[0], r["rep"]) for rs in discarded.values() for r in rs})
    if redone:
        noise += ("\n%d run(s) were done again because others took more than %.0f %% of the machine: "
                  "%s (the first attempts are listed at the end of the raw data).\n"
                  % (len(redone), NOISY_PCT, ", ".join("%s rep %d" % x for x in redone)))
    if waited:
        noise += "\nThe script waited %.0f s in all for the machine to quieten down between runs.\n" % waited

    doc = f"""# Benchmarks: offcpu vs offcputime

Generated by `make bench` (`scripts/bench.sh`, `tests/bench/`); do not edit by
hand, re-run it.

- **Date:** {env("BENCH_DATE", "?")}
- **Machine:** kernel {env("BENCH_KERNEL", "?")}, CPU {env("BENCH_CPU", "?")}, nproc {NPROC}
- **Command:** `{env("BENCH_COMMAND", "make bench")}` (as root, from the repository root)
- **offcpu:** `build/offcpu` at {env("BENCH_REV", "?")}
- **offcputime:** {env("BENCH_OFFCPUTIME", "?")}
- **Tools:** {env("BENCH_TOOLS", "?")}

## Results

Workload: `build/fixtures/pingpong -n 2 -d {secs}`: two pairs of threads bouncing
a byte over pipes, a blocking context switch per hop. Every configuration ran
{reps} times ("both attached" {preps} times, half in each attach order), {secs} s
each, in alternating order; figures are medians, the min–max of the
repetitions in parentheses.

{table}

- *round trips/s vs untraced*: pingpong's round trips per second divided by
  the median of the untraced runs ({base:,.0f} round trips/s here; the ratio,
  not that rate, is the metric).
- *BPF ns/event*: delta of `run_time_ns` of the tracer's scheduler programs /
  delta of `run_cnt` of its sched_switch program (`bpftool prog show -j`, `kernel.bpf_stats_enabled=1`)
  over exactly the window in which pingpong ran. The program runs on every
  context switch of the machine; under `-p PP` nearly all of them are
  pingpong's (*events per round trip* 2.00: each switch hands the CPU from
  one pingpong thread to another), under `-p IDLE` none is traced.
- *BPF ns/event* counts every scheduler program of the tracer: offcpu runs
  on `sched_waking` too (to split blocked from runqueue time), about once per
  switch under pingpong, so its figure holds two programs' runs per event.
- *net of floor*: minus the median ns/event of an empty `tp_btf/sched_switch`
  program ({floor:.0f} ns here) times the tracer's program runs per event:
  bpf_stats brackets every run of a program with two clock reads, and on
  this machine that costs as much as the floor. It is timer overhead, not
  work of the program, and tracers pay it only while bpf_stats are enabled.
{paired_note}- *BPF CPU*: BPF run time over the window, as a share of all CPUs.
{noise}
## Targets

{ttable}
{longrun}
## Method

For each run, `scripts/bench.sh` starts a holder shell that `exec`s pingpong
when a FIFO is written, so that the target PID exists before the workload
runs; starts the tracer(s) on that PID (or on the whole system, or on an idle
`sleep`), one at a time, output to `/dev/null`, with a duration longer than
the run; waits {env("BENCH_ATTACH_WAIT", "1.5")} s after each for it to attach; finds
each tracer's programs through `/proc/TRACER/fdinfo` (`prog_id`), so other
people's tracers are never mistaken for ours, and pins them (so that their
statistics outlive an `offcpu -p` that detaches as its target exits); reads
their bpf_stats; releases pingpong; reads the stats again once pingpong has
exited; then stops the tracers (SIGINT) and waits for them. Before each run it waits
(bounded) for the machine to be under 15 % busy with no other sched_switch
program running. bpf_stats stay enabled throughout, untraced runs included
(only runs with a program pay for them); `kernel.bpf_stats_enabled` is
restored and everything started is killed on exit.

Knobs: `BENCH_SECONDS`, `BENCH_REPS`, `BENCH_PAIRS`, `ATTACH_WAIT`,
`QUIET_BUDGET`, `QUIET_PCT`, `OFFCPUTIME` (see the head of
`scripts/bench.sh`). Raw per-run data: `build/bench/results.tsv`.

## Raw data

*foreign CPU*: what the rest of the machine used during the window, as a
share of all CPUs (busy ticks of `/proc/stat` minus the benchmark's own,
plus the run time of sched_switch programs loaded by others). *steal*: time
the hypervisor did not give this machine's CPUs.

{raw}
"""
    with open(out, "w") as f:
        f.write(doc)
    print(table)
    print()
    print(ttable)
    if noise:
        print(noise.strip())


if __name__ == "__main__":
    main()
