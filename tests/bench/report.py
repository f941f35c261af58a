#!/usr/bin/env python3
"""Turns build/bench/results.tsv (written by scripts/bench.sh) into
docs/benchmarks.md and prints the summary table.

usage: report.py RESULTS.tsv OUT.md   (machine facts come in BENCH_* variables)
"""
import csv
import os
import statistics
import sys

FILTERED_TARGET_NS = 40.0
NOISY_PCT = 10.0  # foreign CPU share of the machine above which a run is flagged

# (config, label, command) in table order; PP = pingpong's PID, IDLE = a sleeping process
CONFIGS = [
    ("base", "untraced", "pingpong alone"),
    ("floor", "bpf_stats floor", "empty tp_btf/sched_switch program (tests/bench/empty.bpf.c)"),
    ("offcpu-p", "offcpu, traced", "offcpu -p PP"),
    ("offcputime-p", "offcputime, traced", "offcputime -p PP"),
    ("offcpu-all", "offcpu, whole system", "offcpu"),
    ("offcputime-all", "offcputime, whole system", "offcputime"),
    ("offcpu-idle", "offcpu, filtered out", "offcpu -p IDLE"),
    ("offcputime-idle", "offcputime, filtered out", "offcputime -p IDLE"),
]


def load(path):
    runs = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            r = {k: (v if k == "config" else float(v) if "." in v else int(v)) for k, v in row.items()}
            r["rt_s"] = r["roundtrips"] / r["seconds"]
            r["ns_ev"] = r["run_time_ns"] / r["run_cnt"] if r["run_cnt"] else None
            r["ev_s"] = r["run_cnt"] / (r["window_ns"] / 1e9)
            r["cpu"] = r["run_time_ns"] / r["window_ns"]  # CPUs' worth of BPF time
            runs.setdefault(r["config"], []).append(r)
    return runs


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs, fmt):
    xs = [x for x in xs if x is not None]
    if len(xs) < 2:
        return ""
    return " (" + fmt(min(xs)) + "–" + fmt(max(xs)) + ")"


def main():
    results, out = sys.argv[1], sys.argv[2]
    runs = load(results)
    env = os.environ.get
    nproc = int(env("BENCH_NPROC", "1"))
    if "base" not in runs:
        sys.exit("report: no untraced runs in " + results)
    base = med(r["rt_s"] for r in runs["base"])
    floor = med(r["ns_ev"] for r in runs.get("floor", [])) or 0.0

    summary = {}
    rows = []
    for config, label, cmd in CONFIGS:
        rs = runs.get(config)
        if not rs:
            continue
        ratios = [r["rt_s"] / base for r in rs]
        ns = [r["ns_ev"] for r in rs]
        m_ratio, m_ns = med(ratios), med(ns)
        m_ev, m_cpu = med(r["ev_s"] for r in rs), med(r["cpu"] for r in rs)
        summary[config] = {"ratio": m_ratio, "ns": m_ns}
        f2 = lambda x: "%.2fx" % x  # noqa: E731
        f0 = lambda x: "%.0f" % x  # noqa: E731
        ratio_s = f2(m_ratio) + spread(ratios, f2)
        if config == "base":
            ratio_s = "1.00x (%s)" % ", ".join(f2(x) for x in ratios)
        if m_ns is None:
            ns_s = net_s = ev_s = cpu_s = "–"
        else:
            ns_s = f0(m_ns) + spread(ns, f0)
            net_s = "–" if config == "floor" else f0(m_ns - floor)
            ev_s = "%.0fk" % (m_ev / 1000)
            cpu_s = "%.1f %%" % (100 * m_cpu / nproc)
        rows.append("| %s | `%s` | %s | %s | %s | %s | %s |" % (label, cmd, ratio_s, ns_s, net_s, ev_s, cpu_s))

    def ns_of(c):
        return summary.get(c, {}).get("ns")

    targets = []

    def faster(a, b, what):
        x, y = ns_of(a), ns_of(b)
        if x is None or y is None:
            return
        ok = x < y
        targets.append(
            "| offcpu fewer ns per traced event than offcputime (%s) | %.0f vs %.0f ns raw, %.0f vs %.0f net (%+.0f %%) | **%s** |"
            % (what, x, y, x - floor, y - floor, 100 * (x - y) / y, "PASS" if ok else "FAIL"))

    faster("offcpu-p", "offcputime-p", "`-p PP`")
    faster("offcpu-all", "offcputime-all", "whole system")
    idle = ns_of("offcpu-idle")
    if idle is not None:
        raw_ok, net_ok = idle <= FILTERED_TARGET_NS, idle - floor <= FILTERED_TARGET_NS
        verdict = ("PASS raw (so also net of the floor)" if raw_ok else
                   "PASS only net of the floor; FAIL raw" if net_ok else "FAIL, raw and net")
        targets.append("| at most %.0f ns per event for filtered-out tasks (`offcpu -p IDLE`) | %.0f ns raw, %.0f ns net of the %.0f ns floor | **%s** |"
                       % (FILTERED_TARGET_NS, idle, idle - floor, floor, verdict))

    foreign = int(max(r["foreign_progs"] for rs in runs.values() for r in rs))
    reps = max(len(rs) for rs in runs.values())
    secs = runs["base"][0]["seconds"]

    table = "\n".join([
        "| configuration | command | round trips/s vs untraced | BPF ns/event, raw | net of floor | events/s | BPF CPU (of %d CPUs) |" % nproc,
        "| --- | --- | --- | --- | --- | --- | --- |",
    ] + rows)
    ttable = "\n".join(["| target | measured (medians) | result |", "| --- | --- | --- |"] + targets)

    raw = ["| configuration | rep | round trips/s vs untraced median | sched_switch events | BPF ns/event | foreign CPU | foreign sched_switch programs |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for config, _, _ in CONFIGS:
        for r in runs.get(config, []):
            raw.append("| %s | %d | %.3fx | %d | %s | %.1f %% | %d |" % (
                config, r["rep"], r["rt_s"] / base, r["run_cnt"],
                "%.1f" % r["ns_ev"] if r["ns_ev"] is not None else "–",
                r["foreign_cpu_pct"], r["foreign_progs"]))
    allruns = [r for rs in runs.values() for r in rs]
    busy = [r for r in allruns if r["foreign_cpu_pct"] > NOISY_PCT]
    waited = sum(r["quiet_wait_s"] for r in allruns)

    noise = ""
    if foreign:
        noise += ("\n**Noise warning:** up to %d sched_switch BPF program(s) loaded by something else "
                  "ran during some runs (last column of the raw data). They run on every context "
                  "switch, so they slow pingpong in whichever configuration they overlap.\n" % foreign)
    if busy:
        noise += ("\n**Noise warning:** in %d of %d runs, other processes used more than %.0f %% of "
                  "the machine (up to %.0f %%; column *foreign CPU* of the raw data). The throughput "
                  "ratios of those runs are biased down; the BPF ns/event much less so.\n"
                  % (len(busy), len(allruns), NOISY_PCT, max(r["foreign_cpu_pct"] for r in busy)))
    if waited:
        noise += ("\nThe script waited %.0f s in all for the machine to quieten down between runs.\n" % waited)

    doc = f"""# Benchmarks: offcpu vs offcputime

Generated by `make bench` (`scripts/bench.sh`, `tests/bench/`); do not edit by
hand, re-run it.

- **Date:** {env("BENCH_DATE", "?")}
- **Machine:** kernel {env("BENCH_KERNEL", "?")}, CPU {env("BENCH_CPU", "?")}, nproc {nproc}
- **Command:** `{env("BENCH_COMMAND", "make bench")}` (as root, from the repository root)
- **offcpu:** `build/offcpu` at {env("BENCH_REV", "?")}
- **offcputime:** {env("BENCH_OFFCPUTIME", "?")}
- **Tools:** {env("BENCH_TOOLS", "?")}

## Results

Workload: `build/fixtures/pingpong -n 2 -d {secs}`: two pairs of threads bouncing a
byte over pipes, i.e. a context switch per hop. Every configuration ran {reps}
times, {secs} s each, in alternating order; the figures are medians, with the
min–max of the repetitions in parentheses.

{table}

- *round trips/s vs untraced*: pingpong's round trips per second divided by
  the median of the untraced runs (untraced: {base:,.0f} round trips/s; the
  ratio, not that absolute rate, is the metric).
- *BPF ns/event*: delta of `run_time_ns` / delta of `run_cnt` of the tracer's
  sched_switch program(s) (`bpftool prog show -j`, `kernel.bpf_stats_enabled=1`),
  over exactly the window in which pingpong ran. The program runs on every
  context switch of the machine; under `-p PP` almost all of them are
  pingpong's, under `-p IDLE` none is traced.
- *net of floor*: minus the median ns/event of an empty `tp_btf/sched_switch`
  program ({floor:.0f} ns here). bpf_stats brackets each run with two clock
  reads; on this machine that costs as much as the floor, which is timer
  overhead, not work of the program.
- *BPF CPU*: BPF run time over the window, as a share of all CPUs.
{noise}
## Targets

{ttable}

## Method

For each run, `scripts/bench.sh` starts a holder shell that will `exec`
pingpong when a FIFO is written, so the target PID exists before the
workload runs; starts the tracer on that PID (or whole system, or on an idle
`sleep`) with output to `/dev/null` and a duration longer than the run; waits
{env("BENCH_ATTACH_WAIT", "1.5")} s for it to attach; finds its programs through
`/proc/TRACER/fdinfo` (`prog_id`); reads their bpf_stats; releases pingpong;
reads the stats again once pingpong has exited; then stops the tracer
(SIGINT) and waits for it. bpf_stats stay enabled in every run, untraced
included (only runs with a program pay for them). Everything started is
killed on exit, and `kernel.bpf_stats_enabled` is restored.

Knobs: `BENCH_SECONDS`, `BENCH_REPS`, `BENCH_PAIRS`, `ATTACH_WAIT`,
`OFFCPUTIME` (see the head of `scripts/bench.sh`). Raw per-run data:
`build/bench/results.tsv`.

## Raw data

{chr(10).join(raw)}
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
