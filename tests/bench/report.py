#!/usr/bin/env python3
"""Turns build/bench/results.tsv (written by scripts/bench.sh) into
docs/benchmarks.md and prints the goals, the summary tables and the targets.

usage: report.py RESULTS.tsv OUT.md [DISCARDED.tsv]
(machine facts come in BENCH_* variables; DISCARDED holds the pingpong runs
done again because the rest of the machine was busy; the other sections'
data come in BENCH_INTERVAL_TSV, BENCH_PG_TSV and BENCH_STARTUP_TSV; the
section that scripts/bench-semlat.sh wrote into OUT.md is kept as it is)
"""
import csv
import os
import re
import statistics
import sys
import textwrap

import poolwait  # their sections of the document are kept when this one rewrites the rest
import semlat
from benchcommon import NOISY_PCT, NPROC, load_kept, med, number, others, ran, spread, times

FILTERED_TARGET_NS = 40.0  # target: cost per event of a filtered-out task
COST_RATIO_GOAL = 0.5  # goal: offcpu's cost at most this share of offcputime's
STACK_RATIO_GOAL = 2.0  # goal (issue 12): offcpu --stack auto's cost at most this times --stack fp's
ATTACH_GOAL_S = 0.3  # goal: offcpu -p attached within this
STUCK_GOAL_S = 0.3  # goal: offcpu --stuck answered within this

# (config, label, command) in table order; PP = pingpong's PID, IDLE = a sleeping process
CONFIGS = [
    ("base", "untraced", "pingpong alone"),
    ("floor", "bpf_stats floor", "empty tp_btf/sched_switch program"),
    ("offcpu-p", "offcpu, traced", "offcpu -p PP"),
    ("offcpu-fp", "offcpu, traced, frame pointers only", "offcpu -p PP --stack fp"),
    ("offcputime-p", "offcputime, traced", "offcputime -p PP"),
    ("offcpu-wakers", "offcpu, traced, with wakers", "offcpu -p PP --wakers"),
    ("offcpu-interval", "offcpu, traced, 1 s interval reports", "offcpu -p PP -i 1"),
    ("offcpu-all", "offcpu, whole system", "offcpu"),
    ("offcputime-all", "offcputime, whole system", "offcputime"),
    ("offcpu-idle", "offcpu, filtered out", "offcpu -p IDLE"),
    ("offcputime-idle", "offcputime, filtered out", "offcputime -p IDLE"),
    ("paired-p:offcpu", "offcpu, traced, both attached", "offcpu -p PP & offcputime -p PP"),
    ("paired-p:offcputime", "offcputime, traced, both attached", "offcpu -p PP & offcputime -p PP"),
    ("paired-fp:offcpu", "offcpu, traced, both offcpu attached", "offcpu -p PP & offcpu -p PP --stack fp"),
    ("paired-fp:offcpu-fp", "offcpu, frame pointers only, both offcpu attached",
     "offcpu -p PP & offcpu -p PP --stack fp"),
]


def block_rewalk(header="bpf/offcpu.h"):
    """offcpu walks the stacks anew in one blocked period out of this many where a thread blocked before"""
    try:
        with open(header) as f:
            m = re.search(r"^#define BLOCK_REWALK (\d+)", f.read(), re.M)
    except OSError:
        m = None
    return m.group(1) if m else "BLOCK_REWALK"


BLOCK_REWALK = block_rewalk()

# how each pingpong binary is built (Makefile)
FIXTURES = {
    "pingpong": "built with frame pointers (`-O1 -fno-omit-frame-pointer`) over Debian's glibc, "
                "which has none",
    "pingpong-nofp": "built as users build, without frame pointers (`-O2 -fomit-frame-pointer`), over "
                     "Debian's glibc, which has none either",
}

PG_CONFIGS = [
    ("pg-base", "untraced", None),
    ("pg-offcpu", "offcpu, whole system", "offcpu"),
    ("pg-offcputime", "offcputime, whole system", "offcputime"),
]

STARTUP = [
    ("offcpu-attach", "offcpu attached", "offcpu -p SLEEP", ATTACH_GOAL_S),
    ("offcputime-attach", "offcputime attached (reference)", "offcputime -p SLEEP", None),
    ("offcpu-stuck", "offcpu --stuck answered (exec to exit)", "offcpu --stuck -p SLEEP", STUCK_GOAL_S),
]


def load(path):
    """{(fixture, pairs): {config: [run]}} from a results.tsv."""
    shapes = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            # "-": a figure that the run has not (user stacks of a tracer other than offcpu -p PP)
            r = {k: (v if k in ("config", "fixture") else None if v in (None, "", "-") else number(v))
                 for k, v in row.items()}
            r.setdefault("pairs", 2)  # results of a script before BENCH_SHAPES
            r["fixture"] = r.get("fixture") or "pingpong"  # before pingpong-nofp
            r["rt_s"] = r["roundtrips"] / r["seconds"]
            r["ns_ev"] = r["run_time_ns"] / r["run_cnt"] if r["run_cnt"] else None
            # program runs per sched_switch event: bpf_stats' overhead is paid per run
            r["per_ev"] = r["runs"] / r["run_cnt"] if r.get("runs") and r["run_cnt"] else 1.0
            r["ev_rt"] = r["run_cnt"] / r["roundtrips"] if r["roundtrips"] else None
            r["cpu"] = r["run_time_ns"] / r["window_ns"]  # CPUs' worth of BPF time
            r["others"] = others(r)
            # other processes, and other people's sched_switch programs, in % of the machine
            r["foreign"] = r["others"] - r["steal_pct"]
            # user stacks walked by offcpu's unwind tables, per second of the window and per event
            walked = r.get("unwind_walked") if r.get("unwind_tables") else None
            r["walk_s"] = walked / r["window_ns"] * 1e9 if walked is not None else None
            r["walk_ev"] = walked / r["run_cnt"] if walked is not None and r["run_cnt"] else None
            shapes.setdefault((r["fixture"], r["pairs"]), {}).setdefault(r["config"], []).append(r)
    return shapes


def f2(x):
    return "%.2fx" % x


def f0(x):
    return "%.0f" % x


def shape_name(shape):
    fixture, pairs = shape
    name = "1 pair" if pairs == 1 else "%d pairs" % pairs
    return name + (", no frame pointers" if fixture.endswith("-nofp") else "")


def shape_run(shape):
    """the shape as the console and the raw data name it: pingpong -n 2, pingpong-nofp -n 2"""
    return "%s -n %d" % shape


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


def ratio_verdict(raw, net, goal=COST_RATIO_GOAL):
    if raw <= goal and net <= goal:
        return "PASS"
    if net <= goal:
        return "PASS only net of the floor; FAIL raw"
    if raw <= goal:
        return "PASS only raw; FAIL net of the floor"
    return "FAIL"


def stacks_table(runs):
    """offcpu's user stack walks, from the --json reports of its -p PP runs: the table, or None"""
    rows = []
    for config, label, cmd in CONFIGS:
        rs = [r for r in runs.get(config, []) if r.get("unwind_tables") is not None]
        if not rs:
            continue
        frames = [r["user_frames"] for r in rs]
        frames_s = ("%.2f" % med(frames) + spread(frames, lambda x: "%.2f" % x)) if med(frames) is not None else "–"
        whole = [r.get("whole_stacks") for r in rs]
        whole_s = ("%.0f %%" % (100 * med(whole)) + spread(whole, lambda x: "%.0f %%" % (100 * x))
                   if med(whole) is not None else "–")
        if not all(r["unwind_tables"] for r in rs):
            rows.append("| %s | `%s` | %s | %s | – | – | – | none: frame pointers only |"
                        % (label, cmd, frames_s, whole_s))
            continue
        walk_s = [r["walk_s"] for r in rs]
        cut = med(r["unwind_cut_short"] for r in rs)
        rows.append("| %s | `%s` | %s | %s | %s%s | %.2f | %s (%.1f %%) | %s binaries, %s rows |" % (
            label, cmd, frames_s, whole_s, "{:,.0f}".format(med(walk_s)), spread(walk_s, "{:,.0f}".format),
            med(r["walk_ev"] for r in rs), "{:,.0f}".format(cut),
            100 * cut / (med(r["unwind_walked"] for r in rs) or 1),
            "{:,.0f}".format(med(r["unwind_binaries"] for r in rs)),
            "{:,.0f}".format(med(r["unwind_rows"] for r in rs))))
    if not rows:
        return None
    return "\n".join([
        "| configuration | command | user frames a period | periods with whole user stacks "
        "| stacks walked by unwind tables per second | walks per sched_switch event | cut short (of walks) "
        "| tables loaded |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |"] + rows)


def shape_section(shape, runs):
    """One pingpong shape: its markdown, its printed tables, its goal rows ({"offcputime": row,
    "stack": row}, each maybe None)."""
    fixture, pairs = shape
    if "base" not in runs:
        sys.exit("report: no untraced runs of %s" % shape_run(shape))
    base = med(r["rt_s"] for r in runs["base"])
    floor = med(r["ns_ev"] for r in runs.get("floor", [])) or 0.0
    secs = runs["base"][0]["seconds"]
    reps = max(r["rep"] for r in runs["base"])
    preps = max(len(runs.get(c, [])) for c in ("paired-p:offcpu", "paired-fp:offcpu"))
    workload = "build/fixtures/%s -n %d -d %s" % (fixture, pairs, secs)

    summary, rows = {}, []
    for config, label, cmd in CONFIGS:
        rs = runs.get(config)
        if not rs:
            continue
        ratios = [r["rt_s"] / base for r in rs]
        ns = [r["ns_ev"] for r in rs if r["ns_ev"] is not None]
        # the floor is per program run: offcpu also runs on sched_waking
        cfloor = floor * med([r["per_ev"] for r in rs])
        summary[config] = {"ns": med(ns), "all": ns, "floor": cfloor,
                           "ev_rt": med(r["ev_rt"] for r in rs)}
        ratio_s = f2(med(ratios)) + spread(ratios, f2)
        if config == "base":
            ratio_s = "1.00x (%s)" % ", ".join(f2(x) for x in ratios)
        if not ns:
            ns_s = net_s = ev_s = cpu_s = "–"
        else:
            ns_s = f0(med(ns)) + spread(ns, f0)
            net_s = "–" if config == "floor" else f0(med(ns) - cfloor)
            ev_s = "%.2f" % summary[config]["ev_rt"]
            cpu_s = "%.1f %%" % (100 * med(r["cpu"] for r in rs) / NPROC)
        rows.append("| %s | `%s` | %s | %s | %s | %s | %s |" % (label, cmd, ratio_s, ns_s, net_s, ev_s, cpu_s))

    def have(*configs):
        return all(c in summary and summary[c]["ns"] is not None for c in configs)

    def cost(a, b):
        """A's BPF ns/event over B's, raw and net of floor: (raw, net, a, b, a net, b net), or None"""
        if not have(a, b):
            return None
        x, y = summary[a]["ns"], summary[b]["ns"]
        fx, fy = summary[a]["floor"], summary[b]["floor"]
        return x / y, (x - fx) / (y - fy), x, y, x - fx, y - fy

    def measured(c, extra="", check=""):
        """the measured cell of ratio C (cost's)"""
        raw, net, x, y, xn, yn = c
        return "**%.2f** net of floor (%.0f / %.0f ns), %.2f raw (%.0f / %.0f ns)%s%s" % (
            net, xn, yn, raw, x, y, check, extra)

    targets = []

    def ratio_target(found, goal, title, a, b, what, extra=""):
        """a target row: A's cost over B's at most GOAL; the ratio kept in FOUND[A]"""
        c = cost(a, b)
        if not c:
            return
        found[a] = c
        targets.append("| %s: %s | %s | **%s** |" % (title, what, measured(c, extra), ratio_verdict(c[0], c[1], goal)))

    # the goal: offcpu's BPF ns per context switch at most half offcputime's
    ratios = {}
    half = "offcpu BPF ns per context switch at most %.1f × offcputime's" % COST_RATIO_GOAL
    ratio_target(ratios, COST_RATIO_GOAL, half, "offcpu-p", "offcputime-p", "separate runs, `-p PP`")
    ratio_target(ratios, COST_RATIO_GOAL, half, "offcpu-all", "offcputime-all", "separate runs, whole system")
    ratio_target(ratios, COST_RATIO_GOAL, half, "paired-p:offcpu", "paired-p:offcputime", "both attached, same events")

    def separate(a, b, what):
        if not have(a, b):
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

    # issue 12's goal: walking user stacks by the unwind tables (--stack auto) costs at most twice
    # the frame-pointer walk per context switch; offcputime (frame pointers too) for reference
    def reference(config, what):
        if not have(config):
            return ""
        x, fx = summary[config]["ns"], summary[config]["floor"]
        return "; %s: %.0f ns net of floor, %.0f raw" % (what, x - fx, x)

    stack = {}
    twice = "offcpu `--stack auto` BPF ns per context switch at most %.0f × `--stack fp`'s" % STACK_RATIO_GOAL
    fp_ref = reference("offcputime-p", "`offcputime -p PP`")
    ratio_target(stack, STACK_RATIO_GOAL, twice, "offcpu-p", "offcpu-fp", "separate runs, `-p PP`", fp_ref)
    ratio_target(stack, STACK_RATIO_GOAL, twice, "paired-fp:offcpu", "paired-fp:offcpu-fp",
                 "both attached, same events")

    def goal_row(found, goal, what, sep, paired, extra=""):
        """the summary's goal row: separate -p PP runs (SEP), with the same-events (PAIRED) cross-check"""
        if sep not in found:
            return None
        check = ""
        if paired in found:
            check = "; both attached, same events: %.2f net, %.2f raw" % (found[paired][1], found[paired][0])
        return "| pingpong, %s (`%s`): %s | %s | **%s** |" % (
            shape_name(shape), workload, what, measured(found[sep], extra, check),
            ratio_verdict(found[sep][0], found[sep][1], goal))

    goals = {
        "offcputime": goal_row(ratios, COST_RATIO_GOAL, "offcpu's BPF ns per context switch at most %.1f × "
                               "offcputime's (`offcpu -p PP` vs `offcputime -p PP`, medians)" % COST_RATIO_GOAL,
                               "offcpu-p", "paired-p:offcpu"),
        "stack": goal_row(stack, STACK_RATIO_GOAL, "%s (`offcpu -p PP` vs `offcpu -p PP --stack fp`, medians)"
                          % twice, "offcpu-p", "paired-fp:offcpu", fp_ref),
    }

    # what the workload is: to-and-from idle or thread to thread, by the switches it made
    who = "one pair of threads" if pairs == 1 else "%d pairs of threads" % pairs
    shape_s = "%s bouncing a byte over pipes, a blocking context switch per hop, %s" % (
        who, FIXTURES.get(fixture, "built by the Makefile"))
    ev = {c: summary[c]["ev_rt"] for c in ("offcpu-p", "offcputime-p") if summary.get(c, {}).get("ev_rt")}
    if "offcpu-p" in ev:
        shape_s += ("; %.2f sched_switch events per round trip under `offcpu -p PP` (4 when every "
                    "switch is to or from the idle task, the two threads of a pair on different CPUs; "
                    "2 when the CPU passes from one pingpong thread to another)" % ev["offcpu-p"])

    notes = ["Untraced, %s made %s round trips/s here (the ratio, not that rate, is the "
             "metric); the floor was %.0f ns per program run." % (fixture, "{:,.0f}".format(base), floor)]
    sep = summary.get("offcpu-p", {}).get("all") or []
    if len(sep) > 1:
        notes.append("Across separate runs, offcpu's ns/event moved by ±%.0f %%."
                     % (100 * (max(sep) - min(sep)) / 2 / med(sep)))
    steals = [r["steal_pct"] for rs in runs.values() for r in rs]
    if med(steals) > 2:
        notes.append("The hypervisor stole a median %.1f %% (up to %.1f %%) of the CPUs during these runs%s."
                     % (med(steals), max(steals),
                        ": with switches to and from idle, a vCPU halts whenever its thread blocks, and "
                        "the host's delay in running it again once woken counts as steal, so part of it "
                        "is the workload's own" if ev.get("offcpu-p", 0) >= 3 else ""))
    caution = ""
    if len(ev) == 2 and abs(ev["offcpu-p"] - ev["offcputime-p"]) > 0.3:
        caution = ("**Caution:** `offcpu -p PP` and `offcputime -p PP` ran with different events per "
                   "round trip (%.2f vs %.2f): the scheduler placed the threads differently in their "
                   "runs, and a switch to or from idle does not cost what a switch between two threads "
                   "costs. The *both attached* rows, which see the same events, are the comparison to "
                   "trust for this shape." % (ev["offcpu-p"], ev["offcputime-p"]))
    if pairs == 1 and ev.get("offcpu-p", 4) < 3:
        caution = ("**Caution:** with fewer than 3 events per round trip, the pair mostly shared one "
                   "CPU (something else kept the other busy, or the scheduler put them together): "
                   "these runs are not the to-and-from-idle shape. " + caution).strip()
    if paired and paired[3] is not None:
        notes.append("Both attached, the program attached first paid %+.0f ns/event for it; the "
                     "difference row of the targets averages both attach orders." % paired[3])

    table = "\n".join([
        "| configuration | command | round trips/s vs untraced | BPF ns/event, raw | net of floor "
        "| events per round trip | BPF CPU (of %d CPUs) |" % NPROC,
        "| --- | --- | --- | --- | --- | --- | --- |",
    ] + rows)
    ttable = "\n".join(["| target | measured (medians unless said) | result |", "| --- | --- | --- |"] + targets)
    stable = stacks_table(runs)
    stacks_md = []
    if stable:
        stacks_md = ["### User stacks, %s" % shape_name(shape), "",
                     textwrap.fill("offcpu walks them in BPF, at the switch-out: there is no user-space "
                                   "unwinding rate (see *user stacks* under *Reading the pingpong tables*); "
                                   "from each `offcpu -p PP` run's `--json` report:", 76), "",
                     stable, ""]
    both = " (\"both attached\" %s, half in each attach order)" % times(preps) if preps else ""
    md = "\n".join([
        "## Pingpong, %s" % shape_name(shape), "",
        textwrap.fill("Workload: `%s`: %s. Every configuration ran %s%s, %s s each, in alternating order; "
                      "figures are medians, the min–max of the repetitions in parentheses."
                      % (workload, shape_s, times(reps), both, secs), 76), "",
        table, "",
        textwrap.fill(" ".join(notes), 76), ""] + ([textwrap.fill(caution, 76), ""] if caution else []) +
        stacks_md + [
        "### Targets, %s" % shape_name(shape), "",
        ttable, ""])
    printed = [table, ""] + ([stable, ""] if stable else []) + [ttable, ""]
    return md, printed, goals


def long_run_section(path):
    """offcpu's own CPU time with and without -i 1 over one long pingpong run each."""
    if not path or not os.path.exists(path):
        return ""
    with open(path, newline="") as f:
        rows = {r["mode"]: r for r in csv.DictReader(f, delimiter="\t")}
    if "plain" not in rows or "interval" not in rows:
        return ""
    secs = float(rows["plain"]["seconds"])
    pairs = int(rows["plain"].get("pairs") or 2)
    out = ["", "## Interval reports (`-i 1`) over %.0f s" % secs, "",
           textwrap.fill("offcpu's own CPU time (utime + stime of the process) while following "
                         "`build/fixtures/pingpong -n %d -d %.0f` (PP), without and with a report every "
                         "second; the BPF side is the same in both (rows *offcpu, traced* and *offcpu, "
                         "traced, 1 s interval reports* of pingpong, %s)."
                         % (pairs, secs, shape_name(("pingpong", pairs))),
                         76), "",
           "| mode | reports printed | offcpu CPU time | share of one CPU | round trips vs plain |",
           "| --- | --- | --- | --- | --- |"]
    plain_rt = float(rows["plain"]["roundtrips"]) or 1.0
    for mode, label in (("plain", "`offcpu -p PP %.0f`" % secs), ("interval", "`offcpu -p PP -i 1 %.0f`" % secs)):
        r = rows[mode]
        cpu = float(r["offcpu_cpu_s"])
        out.append("| %s | %s | %.2f s | %.2f %% | %.2fx |" % (
            label, r["reports"], cpu, 100 * cpu / secs, float(r["roundtrips"]) / plain_rt))
    return "\n".join(out) + "\n"


def pg_section(path):
    """pgbench -S tps untraced and under each tool: (markdown, printed table, goal row) or None."""
    if not path or not os.path.exists(path):
        return None

    def derive(r):
        r["ns_ev"] = r["run_time_ns"] / r["run_cnt"] if r["run_cnt"] else None
        r["cs_s"] = r["run_cnt"] / r["window_ns"] * 1e9
        r["cpu"] = r["run_time_ns"] / r["window_ns"]
        r["own"] = r.get("tracer_cpu_s", 0) * 1e9 / r["window_ns"]  # the tracer's user space + syscalls

    kept, redone = load_kept(path, derive)
    if "pg-base" not in kept:
        return None
    secs = kept["pg-base"][0]["seconds"]
    reps = len(kept["pg-base"])
    base = med(r["tps"] for r in kept["pg-base"])
    bases = [r["tps"] for r in kept["pg-base"]]
    base_noise = 100 * (max(bases) - min(bases)) / 2 / base if len(bases) > 1 else None
    bench = "pgbench -S -c 8 -j 2 -T %s" % secs
    rows, drops = [], {}
    for config, label, cmd, rs in ran(kept, PG_CONFIGS):
        tps = [r["tps"] for r in rs]
        m = med(tps)
        drop = 100 * (1 - m / base)
        if config != "pg-base":
            drops[config] = drop
        ns = [r["ns_ev"] for r in rs if r["ns_ev"] is not None]
        rows.append("| %s | `%s` | %s%s | %.2fx | %s | %s | %s | %s | %s |" % (
            label, bench if cmd is None else "%s` during `%s" % (cmd, bench),
            "{:,.0f}".format(m), spread(tps, lambda x: "{:,.0f}".format(x)), m / base,
            "–" if config == "pg-base" else "%.1f %%" % drop,
            f0(med(ns)) + spread(ns, f0) if ns else "–",
            "{:,.0f}".format(med(r["cs_s"] for r in rs)) if ns else "–",
            "%.1f %%" % (100 * med(r["cpu"] for r in rs) / NPROC) if ns else "–",
            "%.1f %%" % (100 * med(r["own"] for r in rs) / NPROC) if ns else "–"))
    table = "\n".join([
        "| configuration | command | tps (min–max) | vs untraced | throughput drop "
        "| BPF ns per context switch | context switches/s | BPF CPU (of {0} CPUs) "
        "| tracer's own CPU (of {0} CPUs) |".format(NPROC),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"] + rows)

    goal = verdict = None
    if "pg-offcpu" in drops and "pg-offcputime" in drops:
        a, b = drops["pg-offcpu"], drops["pg-offcputime"]
        within = base_noise is not None and b <= base_noise
        if b <= 0:
            measured, verdict = ("no ratio: offcputime's drop is %.1f %% (none measurable); offcpu's %.1f %%"
                                 % (b, a)), "n/a"
        else:
            measured = "**%.2f** (offcpu −%.1f %%, offcputime −%.1f %% tps vs untraced)" % (a / b, a, b)
            verdict = "PASS" if a / b <= COST_RATIO_GOAL else "FAIL"
        if within:
            verdict += " (offcputime's drop is within the untraced runs' ±%.1f %%: noise)" % base_noise
        goal = ("| pgbench -S (`%s`): offcpu's throughput drop at most %.1f × offcputime's (both on the "
                "whole system, medians) | %s | **%s** |" % (bench, COST_RATIO_GOAL, measured, verdict))

    def raw_rows(rs):
        return ["| %s | %d | %s | %s | %s | %.1f %% | %.1f %% | %d | %.1f |" % (
            r["config"], r["rep"], "{:,.0f}".format(r["tps"]),
            "%.1f" % r["ns_ev"] if r["ns_ev"] is not None else "–",
            "{:,.0f}".format(r["run_cnt"]) if r["run_cnt"] else "–",
            r["foreign_cpu_pct"], r["steal_pct"], r["foreign_progs"], r["quiet_wait_s"]) for r in rs]
    raw_head = ["| configuration | rep | tps | BPF ns per context switch | context switches "
                "| foreign CPU | steal | foreign sched_switch programs | quiet wait (s) |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    raw = raw_head + raw_rows(sorted((r for c, _, _ in PG_CONFIGS for r in kept.get(c, [])),
                                     key=lambda r: (r["config"], r["rep"])))
    raw_s = "\n".join(raw)
    if redone:
        raw_s += ("\n\nRuns done again because others took more than %.0f %% of the machine:\n\n"
                  % NOISY_PCT + "\n".join(raw_head + raw_rows(redone)))

    info = os.environ.get("BENCH_PG_INFO", "")
    text = ("A private PostgreSQL (%s) on 127.0.0.1 (`scripts/postgres.sh start`), initialized with "
            "`pgbench -i -s 10` into database `waitscope_bench`; then `%s waitscope_bench` "
            "(select-only, 8 clients on 2 threads) untraced, during `offcpu` and during `offcputime` "
            "(whole system, no `-p`, attached %s s before pgbench starts, output to /dev/null), "
            "in alternating order, %s each; tps is pgbench's (without initial connection time), "
            "medians with the min–max in parentheses. *throughput drop*: 1 − median tps / untraced "
            "median tps. The BPF columns cover the whole pgbench process (connections, vacuum, the "
            "timed part); *tracer's own CPU* is the tracer process's (utime + stime, `/proc/TRACER/stat`) "
            "over the same window." % (info or "version unknown", bench, os.environ.get("BENCH_ATTACH_WAIT", "1.5"),
                              times(reps)))
    if base_noise is not None:
        text += " The untraced runs spread by ±%.1f %% around their median." % base_noise
    busy = [r for rs in kept.values() for r in rs if r["others"] > NOISY_PCT]
    if busy:
        text += ("\n\n**Noise warning:** in %d of %d pgbench runs, others (processes, BPF programs, "
                 "the hypervisor) took more than %.0f %% of the machine (up to %.0f %%; raw data at the "
                 "end); throughput drops measured then are not the tracers' alone."
                 % (len(busy), sum(len(rs) for rs in kept.values()), NOISY_PCT, max(r["others"] for r in busy)))
    if redone:
        text += ("\n\n%d pgbench run(s) were done again because others took more than %.0f %% of the "
                 "machine (the first attempts are at the end of the raw data)." % (len(redone), NOISY_PCT))
    md = ["", "## pgbench -S", "", "\n\n".join(textwrap.fill(t, 76) for t in text.split("\n\n")), "", table, ""]
    if goal:
        md += ["| goal | measured | result |", "| --- | --- | --- |", goal, ""]
    raw_md = "\n".join(["", "## Raw data: pgbench", "",
                        textwrap.fill("*foreign CPU*: other processes' share of the machine during the run, "
                                      "the postmaster's backends counted as the benchmark's own; *steal* and "
                                      "*foreign sched_switch programs* as for pingpong; *quiet wait*: how "
                                      "long the script waited for the machine to quieten down first.", 76),
                        "", raw_s, ""])
    return "\n".join(md), table, goal, raw_md


def startup_section(path):
    """Start-up times: (markdown, printed table, goal rows) or None."""
    if not path or not os.path.exists(path):
        return None
    runs = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            runs.setdefault(row["measurement"], []).append(float(row["seconds"]))
    if not runs:
        return None
    n = max(len(v) for v in runs.values())
    rows, goals = [], []
    for key, label, cmd, target in STARTUP:
        xs = runs.get(key)
        if not xs:
            continue
        m = med(xs)
        if target is None:
            verdict, goal_s = "–", "–"
        else:
            goal_s = "≤ %.1f s" % target
            verdict = "PASS" if m <= target else "FAIL"
            if m <= target < max(xs):
                verdict += " (median; slowest %.3f s)" % max(xs)
            goals.append("| start-up: `%s` %s within %.1f s (median of %d) | **%.3f s** (%.3f–%.3f s) | **%s** |"
                         % (cmd, "attached" if "attach" in key else "answered", target, len(xs), m,
                            min(xs), max(xs), verdict))
        rows.append("| %s | `%s` | %.3f s | %.3f–%.3f s | %s | %s | %s |"
                    % (label, cmd, m, min(xs), max(xs), ", ".join("%.3f" % x for x in xs), goal_s,
                       "**%s**" % verdict if target is not None else verdict))
    table = "\n".join(["| measurement | command | median | min–max | every run (s) | goal | result |",
                       "| --- | --- | --- | --- | --- | --- | --- |"] + rows)
    extra = ""
    if runs.get("offcpu-attach") and runs.get("offcputime-attach"):
        extra = (" offcpu took %.2f× offcputime's time to attach (medians)."
                 % (med(runs["offcpu-attach"]) / med(runs["offcputime-attach"])))
    text = ("SLEEP is a `sleep` that never wakes. *attached*: from just before the tool's fork and exec "
            "(`tests/bench/startup.py`, CLOCK_MONOTONIC) to the first moment `/proc/TOOL/fd` holds a link "
            "to `anon_inode:bpf_link` (its first BPF program is attached), polled every 2 ms; the tool is "
            "then stopped with SIGINT. *answered*: from just before the fork and exec to the exit of "
            "`offcpu --stuck -p SLEEP` (exit status 0). Each measurement ran %s, order alternating; "
            "before each one the machine is given time to quieten down (QUIET_BUDGET)." % times(n)) + extra
    md = "\n".join(["", "## Start-up time", "", textwrap.fill(text, 76), "", table, ""])
    return md, table, goals


def main():
    results, out = sys.argv[1], sys.argv[2]
    shapes = load(results)
    env = os.environ.get
    if not shapes:
        sys.exit("report: no runs in " + results)

    sections, printed, goals, stack_goals = [], [], [], []
    for shape in sorted(shapes):
        md, lines, goal = shape_section(shape, shapes[shape])
        sections.append(md)
        printed += ["pingpong, %s:" % shape_name(shape)] + lines
        goals += [goal["offcputime"]] if goal["offcputime"] else []
        stack_goals += [goal["stack"]] if goal["stack"] else []
    goals += stack_goals
    pg = pg_section(env("BENCH_PG_TSV"))
    if pg:
        printed += ["pgbench -S:", pg[1], ""]
        if pg[2]:
            goals.append(pg[2])
    st = startup_section(env("BENCH_STARTUP_TSV"))
    if st:
        printed += ["start-up:", st[1], ""]
        goals += st[2]
    gtable = "\n".join(["| goal | measured | result |", "| --- | --- | --- |"] + goals)

    discarded = load(sys.argv[3]) if len(sys.argv) > 3 and os.path.exists(sys.argv[3]) else {}
    allruns = [r for runs in shapes.values() for rs in runs.values() for r in rs]
    foreign = int(max(r["foreign_progs"] for r in allruns))
    busy = [r for r in allruns if r["others"] > NOISY_PCT]
    steal = max(r["steal_pct"] for r in allruns)
    waited = sum(r["quiet_wait_s"] for r in allruns if r["position"] <= 1)

    noise = ""
    if foreign:
        noise += ("\n**Noise warning:** up to %d sched_switch BPF program(s) loaded by something else "
                  "ran during some runs (last column of the raw data). They run on every context "
                  "switch, so they slow pingpong in whichever configuration they overlap.\n" % foreign)
    if busy:
        noise += ("\n**Noise warning:** in %d of %d pingpong runs, others took more than %.0f %% of the machine "
                  "(up to %.0f %%; *foreign CPU* + *steal* in the raw data; a run is done again once at most, "
                  "and BENCH_RETRIES times in all). "
                  "Throughput ratios of those runs are biased down; BPF ns/event less so.\n"
                  % (len(busy), len(allruns), NOISY_PCT, max(r["others"] for r in busy)))
    if steal > 5:
        noise += "\n**Noise warning:** the hypervisor stole up to %.0f %% of the CPUs in some runs.\n" % steal
    redone = sorted({(shape_run(shape), r["config"].split(":")[0], r["rep"])
                     for shape, runs in discarded.items() for rs in runs.values() for r in rs})
    if redone:
        noise += ("\n%d pingpong run(s) were done again because others took more than %.0f %% of the machine: "
                  "%s (the first attempts are listed at the end of the raw data).\n"
                  % (len(redone), NOISY_PCT, ", ".join("%s %s rep %d" % x for x in redone)))
    if waited:
        noise += ("\nThe script waited %.0f s in all for the machine to quieten down between pingpong runs.\n"
                  % waited)

    def raw_table(by_shape):
        lines = ["| workload | configuration | rep | attach position | round trips/s vs untraced median "
                 "| sched_switch events | BPF ns/event | foreign CPU | steal | foreign sched_switch programs |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for shape in sorted(by_shape):
            base = med(r["rt_s"] for r in shapes.get(shape, {}).get("base", [])) or float("nan")
            for config, _, _ in CONFIGS:
                for r in sorted(by_shape[shape].get(config, []), key=lambda r: r["rep"]):
                    lines.append("| %s | %s | %d | %s | %.3fx | %d | %s | %.1f %% | %.1f %% | %d |" % (
                        shape_run(shape), config, r["rep"], r["position"] or "–", r["rt_s"] / base, r["run_cnt"],
                        "%.1f" % r["ns_ev"] if r["ns_ev"] is not None else "–",
                        r["foreign"], r["steal_pct"], r["foreign_progs"]))
        return "\n".join(lines)

    raw = raw_table(shapes)
    if discarded:
        raw += ("\n\nPingpong runs done again because others took more than %.0f %% of the machine "
                "(not in the results above):\n\n" % NOISY_PCT + raw_table(discarded))

    longrun = long_run_section(env("BENCH_INTERVAL_TSV"))
    shape_list = ", ".join("`%s`" % shape_run(shape) for shape in sorted(shapes))
    reading = f"""### Reading the pingpong tables

- *round trips/s vs untraced*: pingpong's round trips per second divided by
  the median of the untraced runs of the same shape.
- *BPF ns/event*: delta of `run_time_ns` of the tracer's scheduler programs /
  delta of `run_cnt` of its sched_switch program (`bpftool prog show -j`, `kernel.bpf_stats_enabled=1`)
  over exactly the window in which pingpong ran: the BPF cost per context
  switch. The program runs on every context switch of the machine; under
  `-p PP` nearly all of them are pingpong's (*events per round trip*: 2 when
  every switch hands the CPU from one pingpong thread to another, 4 when
  every switch is to or from the idle task), under `-p IDLE` none is traced.
- *BPF ns/event* counts every scheduler program of the tracer: offcpu runs
  on `sched_waking` too (to split blocked from runqueue time), about once per
  switch under pingpong, so its figure holds two programs' runs per event.
- *net of floor*: minus the median ns/event of an empty `tp_btf/sched_switch`
  program (same shape) times the tracer's program runs per event:
  bpf_stats brackets every run of a program with two clock reads, and on
  this machine that costs as much as the floor. It is timer overhead, not
  work of the program, and tracers pay it only while bpf_stats are enabled.
- *both attached*: offcpu and offcputime on the same pingpong at once, so
  both programs run on exactly the same events: the tightest comparison of
  their cost, free of the conditions that change from run to run (where the
  scheduler puts the threads, the state of the caches). The program attached
  first runs first on each event and pays for colder caches in the stack
  walks, so the attach order alternates. *both offcpu attached*: the same
  with `offcpu -p PP` (`--stack auto`) and `offcpu -p PP --stack fp`.
- *BPF CPU*: BPF run time over the window, as a share of all CPUs.
- *frame pointers only*: `offcpu -p PP --stack fp` walks user stacks by
  frame pointers alone, as offcputime does; `offcpu -p PP` (`--stack auto`,
  the default) walks them by the binaries' unwind tables (`.eh_frame`). The
  goal of issue 12: `--stack auto` at most {STACK_RATIO_GOAL:.0f} × `--stack fp`'s BPF ns
  per context switch. `pingpong-nofp` is pingpong built without frame
  pointers, as users build: there a frame-pointer walk stops after a frame
  or two, and the tables give the whole stack.
- *user stacks*: offcpu unwinds user stacks in BPF, at the switch-out, from
  tables it loads into a BPF array; no stack is copied to user space or
  unwound there, so there is no user-space unwinding rate (stacks/s) to
  measure, and the whole cost of the walks is in *BPF ns/event*. Each
  `offcpu -p PP` run writes its report with `--json` to a file (after the
  window, when pingpong has exited); its `unwind` object gives the walks by
  the tables over the run (`walked`, here per second of the window and per
  sched_switch event of the machine; `cut_short`: those stopped before the
  outermost frame) and the tables loaded (`binaries`, `rows`). *user frames
  a period*: the user frames of a blocked period's stack, averaged over the
  periods (frames offcpu could not name, `[unknown]`, not counted); *whole
  user stacks*: the share of the periods whose user stack reaches the
  thread's outermost frame (`__clone3`, `_start`): with the tables all of
  them, with frame pointers only none (glibc has no frame pointers). But
  the tables of pingpong's binaries are built once the holder has `exec`ed
  pingpong, in the window, and until they are in (tens of milliseconds on
  a quiet machine, longer on a busy one) its stacks are short: walked by
  frame pointers, or, in `pingpong-nofp`, walks cut short. That phase is
  what keeps *whole user stacks* under `--stack auto` from 100 %.
- *walks per event*: offcpu walks a thread's stacks only where it blocks
  somewhere new, and in one blocked period out of {BLOCK_REWALK} where it blocked
  before (`BLOCK_REWALK`, `bpf/offcpu.h`); the other periods take the
  stacks of the last walk there. pingpong blocks in the same few places,
  so about one sched_switch event in {BLOCK_REWALK} walks a user stack, and *BPF
  ns/event* holds the walks' cost spread over the events, as for any
  process that blocks in the same places over and over; a thread that
  blocked somewhere new every time would pay a walk every time.
"""

    pg_md = pg[0] if pg else ("\n## pgbench -S\n\nNot measured in this run (`BENCH_PG_SECONDS=0`).\n")
    st_md = st[0] if st else ("\n## Start-up time\n\nNot measured in this run (`BENCH_STARTUP_REPS=0`).\n")
    doc = f"""# Benchmarks: offcpu vs offcputime

Generated by `make bench` (`scripts/bench.sh`, `tests/bench/`); do not edit by
hand, re-run it.

- **Date:** {env("BENCH_DATE", "?")}
- **Machine:** kernel {env("BENCH_KERNEL", "?")}, CPU {env("BENCH_CPU", "?")}, nproc {NPROC}
- **Command:** `{env("BENCH_COMMAND", "make bench")}` (as root, from the repository root; it reproduces every figure below)
- **offcpu:** `build/offcpu` at {env("BENCH_REV", "?")}
- **offcputime:** {env("BENCH_OFFCPUTIME", "?")}
- **Tools:** {env("BENCH_TOOLS", "?")}

## Goals: offcpu at half the cost of offcputime, `--stack auto` at most twice `--stack fp`

Measured side by side in this one run; the sections below give the detail.

{gtable}

{"".join(s + chr(10) for s in sections)}{reading}{noise}{longrun}{pg_md}{st_md}
## Method

Pingpong ({shape_list}): for each run, `scripts/bench.sh`
starts a holder shell that `exec`s pingpong when a FIFO is written, so that
the target PID exists before the workload runs; starts the tracer(s) on that
PID (or on the whole system, or on an idle `sleep`), one at a time, output
to `/dev/null` (but `offcpu -p PP`'s `--json` report, to a file read once it
has exited: `tests/bench/unwind.py`), with a duration longer than the run; waits {env("BENCH_ATTACH_WAIT", "1.5")} s after
each for it to attach (up to 30 s more if its programs have not run by
then); finds each tracer's programs through `/proc/TRACER/fdinfo`
(`prog_id`), so other people's tracers are never mistaken for ours, and pins
them (so that their statistics outlive an `offcpu -p` that detaches as its
target exits); reads their bpf_stats; releases pingpong; reads the stats
again once pingpong has exited; then stops the tracers (SIGINT) and waits
for them. The shapes alternate like the configurations. Before each run
(pgbench and start-up included) it waits (bounded, QUIET_BUDGET) for the
machine to be under 15 % busy with no other sched_switch program running,
and a run during which others took more than {NOISY_PCT:.0f} % of the machine is done
again (pgbench too; BENCH_RETRIES runs in all). bpf_stats stay enabled
throughout, untraced runs included (only runs with a program pay for them);
`kernel.bpf_stats_enabled` is restored and everything started is killed on
exit; the pgbench database is dropped, and a PostgreSQL cluster the script
started is stopped, after the pgbench section (or on exit).

Knobs: `BENCH_SECONDS`, `BENCH_REPS`, `BENCH_SHAPES` (`BENCH_PAIRS` if it is
unset; `N-nofp` runs `pingpong-nofp -n N`), `BENCH_CONFIGS`,
`BENCH_LONG_SECONDS`, `BENCH_PG_SECONDS` (0 skips pgbench),
`WAITSCOPE_PGPORT`, `BENCH_STARTUP_REPS` (0 skips start-up), `ATTACH_WAIT`,
`QUIET_BUDGET`, `QUIET_PCT`, `NOISY_PCT`, `BENCH_RETRIES`, `OFFCPUTIME`,
`BENCH_DOC` (see the head of `scripts/bench.sh`). `BENCH_PINGPONG_ONLY=1
make bench` runs the pingpong part alone (the other sections of this file
are kept, or say they were not measured). semlat's section has a
Method of its own: `scripts/bench-semlat.sh` writes it after these, and
`BENCH_SEMLAT_ONLY=1 make bench` runs it alone. Raw data:
`build/bench/results.tsv` (pingpong), `build/bench/pgbench.tsv`,
`build/bench/startup.tsv`, `build/bench/interval.tsv`.

## Raw data: pingpong

*foreign CPU*: what the rest of the machine used during the window, as a
share of all CPUs (busy ticks of `/proc/stat` minus the benchmark's own,
plus the run time of sched_switch programs loaded by others). *steal*: time
the hypervisor did not give this machine's CPUs.

{raw}
{pg[3] if pg else ""}"""
    old = ""
    if os.path.exists(out):
        with open(out) as f:
            old = f.read()
    with open(out, "w") as f:
        f.write(poolwait.SECTION.carry_over(old, semlat.carry_over(old, doc)))
    print("goals:")
    print(gtable)
    print()
    print("\n".join(printed).rstrip())
    if noise:
        print()
        print(noise.strip())


if __name__ == "__main__":
    main()
