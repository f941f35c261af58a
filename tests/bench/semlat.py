#!/usr/bin/env python3
"""The semlat part of the benchmarks, for scripts/bench-semlat.sh.

usage:
  semlat.py stats ID...
        print "BPF_NS BPF_RUNS UPROBE_NS UPROBE_RUNS": run_time_ns and run_cnt
        of the programs ID... (bpftool, kernel.bpf_stats_enabled=1), all of
        them and those attached as uprobes or uretprobes (type kprobe)
  semlat.py count JSON T0_NS
        print "WAITS SYMBOL_CALLS LATE" from semlat's --json output: futex and
        semop calls that could block, calls of the --symbol functions, and 1
        if its window began after CLOCK_MONOTONIC T0_NS (it was not attached
        for the whole of the workload's run)
  semlat.py report TSV DOC
        write the semlat section, from the runs in TSV, into DOC between its
        markers (replaced where they are, else put before "## Method", else at
        the end), leaving the rest of DOC alone; print its tables
(machine facts come in BENCH_* variables, as for report.py)
"""
import json
import os
import re
import subprocess
import sys
import textwrap

from benchcommon import NOISY_PCT, NPROC, load_kept, med, ran, spread, times

BEGIN = "<!-- semlat-bench:begin (scripts/bench-semlat.sh writes this part; do not edit by hand) -->"
END = "<!-- semlat-bench:end -->"
DROP_GOAL_PCT = 3.0  # goal: semlat -p costs the uncontended loop at most this much throughput

# (config, label, command); P = the workload's PID, LIBC and LOCKLOOP the objects' paths
OWN = [
    ("own-base", "untraced", None),
    ("own-semlat", "semlat", "semlat -p P"),
    ("own-hold", "semlat --hold", "semlat -p P --hold"),
]
SHARED = [
    ("shared-base", "untraced", None),
    ("shared-semlat", "semlat", "semlat -p P"),
    ("shared-bpftrace", "bpftrace uprobe on pthread_mutex_lock",
     "bpftrace -p P -e 'uprobe:LIBC:pthread_mutex_lock /pid == P/ { @start[tid] = nsecs } "
     "uretprobe:LIBC:pthread_mutex_lock /@start[tid]/ { @lat = hist(nsecs - @start[tid]); "
     "delete(@start[tid]) }'"),
]
CALL = [
    ("call-base", "untraced", None),
    ("call-floor", "empty uprobe + uretprobe (floor)",
     "bpftrace -p P -e 'uprobe:LOCKLOOP:lockloop_call {} uretprobe:LOCKLOOP:lockloop_call {}'"),
    ("call-symbol", "semlat --symbol", "semlat -p P --symbol lockloop_call"),
]


def stats(ids):
    t = n = ut = un = 0
    for i in ids:
        out = subprocess.run(["bpftool", "prog", "show", "id", i, "-j"], capture_output=True, text=True)
        if out.returncode:
            continue
        p = json.loads(out.stdout)
        t += p.get("run_time_ns", 0)
        n += p.get("run_cnt", 0)
        if p.get("type") == "kprobe":
            ut += p.get("run_time_ns", 0)
            un += p.get("run_cnt", 0)
    print(t, n, ut, un)


def count(path, t0):
    with open(path) as f:
        d = json.load(f)
    late = d.get("window", {}).get("start_ns", 0) > t0
    print(d.get("calls", 0), sum(s.get("calls", 0) for s in d.get("symbols", [])), int(late))


SECTION = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)


def splice(doc, section):
    """DOC with SECTION in place of its semlat section, else before "## Method", else at the end."""
    if SECTION.search(doc):
        return SECTION.sub(lambda _: section, doc, count=1)
    if "\n## Method\n" in doc:
        return doc.replace("\n## Method\n", "\n" + section + "\n\n## Method\n", 1)
    return doc.rstrip("\n") + ("\n\n" if doc else "") + section + "\n"


def carry_over(old, new):
    """NEW (report.py's whole document) with the semlat section of OLD, if it had one."""
    m = SECTION.search(old)
    return splice(new, m.group(0)) if m else new


def rate(x):
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            return "%.3g%s" % (x / div, unit)
    return "%.0f" % x


def ns(x):
    return "–" if x is None else "%.1f µs" % (x / 1000) if abs(x) >= 10000 else "%.0f ns" % x


def derive(r):
    r["rate"] = r["ops"] / r["seconds"]
    # one thread's time per operation: what a caller of the lock or the function pays
    r["per_op"] = r["threads"] / r["rate"] * 1e9


def summarize(kept, configs):
    """{config: figures} of those that ran, against the section's untraced runs."""
    base = kept.get(configs[0][0])
    if not base:
        return {}
    b_rate, b_per_op = med(r["rate"] for r in base), med(r["per_op"] for r in base)
    out = {}
    for config, _, _, rs in ran(kept, configs):
        rates = [r["rate"] for r in rs]
        m = med(rates)
        waits = [r["futex_waits"] for r in rs if r["futex_waits"]]
        out[config] = {
            "rates": rates, "rate": m, "ratio": m / b_rate, "ratios": [x / b_rate for x in rates],
            "cost": med(r["per_op"] for r in rs) - b_per_op,
            "bpf_op": med(r["bpf_ns"] / r["ops"] for r in rs) if rs[0]["bpf_runs"] else None,
            "uprobe_op": med(r["uprobe_ns"] / r["ops"] for r in rs) if rs[0]["uprobe_runs"] else None,
            "per_run": med(r["bpf_ns"] / r["bpf_runs"] for r in rs if r["bpf_runs"]),
            "waits_s": med(r["futex_waits"] / r["seconds"] for r in rs) if waits else None,
            "per_wait": med(r["bpf_ns"] / r["futex_waits"] for r in rs if r["futex_waits"]) if waits else None,
            "syms": med(r["sym_calls"] / r["ops"] for r in rs) if rs[0]["sym_calls"] else None,
            "threads": int(rs[0]["threads"]), "n": len(rs),
        }
    return out


def ratio(x, digits=3):
    """a throughput ratio; one of a traced --symbol loop is thousandths of a thousandth"""
    return "%.*fx" % (digits, x) if x >= 0.01 else "%.2gx" % x


def ratio_cell(s):
    return ratio(s["ratio"]) + spread(s["ratios"], lambda x: ratio(x, 2))


def table(unit, heads, configs, part, workload, cells, absent=None):
    """The markdown table of a part: configuration, command (WORKLOAD for the untraced one), UNIT
    (min–max) and the ratio to untraced, then the columns HEADS, which CELLS(config, cmd, figures)
    fills. A configuration that did not run has no row, or one saying ABSENT[config]."""
    lines = ["| configuration | command | %s (min–max) | vs untraced | %s |" % (unit, " | ".join(heads)),
             "|" + " --- |" * (4 + len(heads))]
    for config, label, cmd in configs:
        s = part.get(config)
        if s:
            lines.append("| %s | `%s` | %s%s | %s | %s |" % (
                label, cmd or workload, rate(s["rate"]), spread(s["rates"], rate), ratio_cell(s),
                " | ".join(cells(config, cmd, s))))
        elif config in (absent or {}):
            lines.append("| %s | `%s` | %s |%s" % (label, cmd, absent[config], " – |" * (1 + len(heads))))
    return "\n".join(lines)


def report(path, doc_path):
    env = os.environ
    kept, redone = load_kept(path, derive)
    secs = env.get("BENCH_SEMLAT_SECONDS", "?")
    no_hold = ("not built: `semlat --help` lists no `--hold`" if env.get("BENCH_SEMLAT_HOLD") != "built"
               else "not measured")
    own, shared, call = summarize(kept, OWN), summarize(kept, SHARED), summarize(kept, CALL)
    reps = max([s["n"] for part in (own, shared, call) for s in part.values()] or [0])
    workload = {"own": env.get("BENCH_SEMLAT_OWN", "lockloop own"),
                "shared": env.get("BENCH_SEMLAT_SHARED", "lockloop shared"),
                "call": env.get("BENCH_SEMLAT_CALL", "lockloop call")}
    goals, md = [], []

    def noise(part):
        """half the spread of the untraced runs, in % of their median"""
        b = part and next(iter(part.values()))
        return 100 * (max(b["rates"]) - min(b["rates"])) / 2 / b["rate"] if b and b["n"] > 1 else None

    # 1. uncontended
    own_table = table("lock/unlock pairs/s", ["cost per pair, per thread", "BPF ns per pair"], OWN, own,
                      workload["own"], lambda config, cmd, s: [
                          "–" if cmd is None else ns(s["cost"]),
                          "–" if s["bpf_op"] is None else "%.1f ns" % s["bpf_op"]],
                      absent={"own-hold": no_hold})
    n_own = noise(own)
    if "own-semlat" in own:
        s = own["own-semlat"]
        drop = 100 * (1 - s["ratio"])
        verdict = "PASS" if drop <= DROP_GOAL_PCT else "FAIL"
        # on a machine noisier than the goal, a difference inside the noise decides nothing
        if n_own is not None and n_own > DROP_GOAL_PCT and abs(drop) <= n_own:
            verdict += " (within noise: the untraced runs alone spread ±%.1f %%)" % n_own
        goals.append("| uncontended lock loop (`%s`): throughput under `semlat -p P` within %.0f %% of "
                     "untraced (medians) | **%.3fx** (throughput %+.1f %%); BPF %s per pair%s | **%s** |"
                     % (workload["own"], DROP_GOAL_PCT, s["ratio"], -drop,
                        "–" if s["bpf_op"] is None else "%.1f ns" % s["bpf_op"],
                        "; untraced runs spread ±%.1f %%" % n_own if n_own is not None else "", verdict))
    if "own-hold" in own:
        s = own["own-hold"]
        goals.append("| `semlat -p P --hold`: cost per lock/unlock pair stated (uprobes on "
                     "`pthread_mutex_lock` entry and return, `pthread_mutex_unlock` entry) | **%s** per pair "
                     "and thread (%s throughput), of which BPF %s | stated |"
                     % (ns(s["cost"]), ratio(s["ratio"]), ns(s["bpf_op"])))
    else:
        goals.append("| `semlat -p P --hold`: cost per lock/unlock pair stated | %s | – |" % no_hold)

    # 2. contended
    shared_table = table("lock/unlock pairs/s",
                         ["futex waits/s (semlat's count)", "BPF per futex wait", "BPF ns per probe hit"],
                         SHARED, shared, workload["shared"], lambda config, cmd, s: [
                             rate(s["waits_s"]) if s["waits_s"] else "–",
                             ns(s["per_wait"]) if s["per_wait"] is not None else "–",
                             "%.0f ns" % s["per_run"] if s["per_run"] is not None and "bpftrace" in config
                             else "–"])
    if "shared-semlat" in shared and "shared-bpftrace" in shared:
        a, b = shared["shared-semlat"], shared["shared-bpftrace"]
        goals.append("| contended mutex (`%s`): semlat slows it less than a bpftrace uprobe on "
                     "`pthread_mutex_lock` (throughput ratio to untraced higher) | %s vs %s of untraced throughput; "
                     "semlat %s BPF per futex wait, bpftrace %.0f ns per probe hit | **%s** |"
                     % (workload["shared"], ratio(a["ratio"]), ratio(b["ratio"]), ns(a["per_wait"]), b["per_run"] or 0,
                        "PASS" if a["ratio"] > b["ratio"] else "FAIL"))

    # 3. --symbol
    call_table = table("calls/s", ["cost per call, wall", "BPF per call, uprobes", "BPF per call, all programs"],
                       CALL, call, workload["call"], lambda config, cmd, s: [
                           "–" if cmd is None else ns(s["cost"]), ns(s["uprobe_op"]), ns(s["bpf_op"])])
    if "call-symbol" in call:
        s = call["call-symbol"]
        floor = call.get("call-floor")
        goals.append("| `semlat -p P --symbol FUNC`: cost per call stated | **%s** per call (wall; %s "
                     "calls/s traced), of which BPF %s (uprobe programs)%s | stated |"
                     % (ns(s["cost"]), rate(s["rate"]), ns(s["uprobe_op"]),
                        "; an empty uprobe + uretprobe costs %s" % ns(floor["cost"]) if floor else ""))

    gtable = "\n".join(["| goal | measured | result |", "| --- | --- | --- |"] + goals)
    busy = [r for rs in kept.values() for r in rs if r["others"] > NOISY_PCT]

    def para(t):
        return textwrap.fill(t, 76)

    command = env.get("BENCH_COMMAND", "BENCH_SEMLAT_ONLY=1 make bench")
    md += [BEGIN, "## semlat: cost on the traced process", "",
           "- **Date:** %s" % env.get("BENCH_DATE", "?"),
           "- **Machine:** kernel %s, CPU %s, nproc %d" % (env.get("BENCH_KERNEL", "?"), env.get("BENCH_CPU", "?"),
                                                           NPROC),
           "- **Command:** `%s` (as root, from the repository root: this section alone; a plain `make bench` "
           "runs it too, after the offcpu sections)" % command,
           "- **semlat:** `build/semlat` at %s" % env.get("BENCH_REV", "?"),
           "- **bpftrace:** %s" % env.get("BENCH_BPFTRACE", "?"), "",
           "### Goals, semlat", "", gtable, ""]
    if not own.get("own-semlat"):
        md += ["No uncontended runs in this set.", ""]
    md += ["### Uncontended lock loop", "",
           para("Workload: `%s`: each thread locks and unlocks a `pthread_mutex_t` of its own in a tight "
                "loop for %s s; glibc never calls futex, so semlat has nothing to see and should cost "
                "nothing. *cost per pair, per thread*: threads / traced pairs/s − threads / untraced pairs/s "
                "(medians): what one thread pays per lock/unlock pair. *BPF ns per pair*: run time of all "
                "the tracer's programs over the run (they run machine-wide on futex calls and wakeups, "
                "filtered out by PID) / pairs." % (workload["own"], secs)), "",
           own_table, "",
           "### Contended mutex", "",
           para("Workload: `%s`: the threads share one mutex (`g_shared`) with a short critical section and "
                "as much work outside, more threads than CPUs, so glibc waits in futex often. *futex "
                "waits/s*: futex and semop calls that could block, as semlat counts them (its JSON `calls`), "
                "over the timed part. *BPF per futex wait*: run time of all semlat's programs (futex "
                "enter/exit, sched_waking) / those waits. *BPF ns per probe hit*: run time / runs of "
                "bpftrace's programs (uprobe and uretprobe; every `pthread_mutex_lock` call runs both). "
                "Throughput of a contended lock depends on how the threads hand it over; slowing the waiters "
                "can raise it (the running thread keeps the lock): the ratios say what each tracer does to "
                "this workload, not a cost per operation. LIBC: `%s`." % (workload["shared"],
                                                             env.get("BENCH_LIBC", "?"))), "",
           shared_table, "",
           "### `--symbol`: cost per call", "",
           para("Workload: `%s`: each thread calls `lockloop_call` (not inlined, nearly empty) in a "
                "loop. *cost per call, wall*: threads / traced calls/s − threads / untraced calls/s "
                "(medians). *BPF per call*: run time of the uprobe programs (entry and return) / calls, and "
                "of all the tracer's programs / calls. The floor is bpftrace with empty programs on the same "
                "uprobe and uretprobe: what the kernel's uprobe machinery costs before any program does "
                "work. LOCKLOOP: `build/fixtures/lockloop`." % workload["call"]), "",
           call_table, ""]
    notes = []
    if "call-symbol" in call and "call-floor" in call:
        notes.append("Of a `--symbol` call's %s, an empty uprobe + uretprobe already costs %s here: the "
                     "kernel's uprobe machinery (the traps), not semlat's programs (%s of BPF per call), is "
                     "most of the cost." % (ns(call["call-symbol"]["cost"]), ns(call["call-floor"]["cost"]),
                                            ns(call["call-symbol"]["uprobe_op"])))
    if "call-symbol" in call and call["call-symbol"]["syms"] is not None:
        notes.append("`semlat --symbol` counted %.4f of the calls lockloop counted itself (median; 1 when it "
                     "was attached for the whole run and missed none)." % call["call-symbol"]["syms"])
    if busy:
        notes.append("**Noise warning:** in %d of %d runs, others (processes, BPF programs, the hypervisor) took "
                     "more than %.0f %% of the machine (up to %.0f %%; raw data below): the throughput of "
                     "those runs is not the tracers' doing alone."
                     % (len(busy), sum(len(rs) for rs in kept.values()), NOISY_PCT, max(r["others"] for r in busy)))
    if redone:
        notes.append("%d run(s) were done again because others took more than %.0f %% of the machine (the "
                     "first attempts are at the end of the raw data)." % (len(redone), NOISY_PCT))
    md += [para(n) + "\n" for n in notes]
    md += ["### Method (semlat)", "",
           para("`scripts/bench-semlat.sh` (run by `make bench` after the offcpu sections, or alone: "
                "`BENCH_SEMLAT_ONLY=1 make bench`, or `scripts/bench-semlat.sh` after `make all`) starts "
                "`build/fixtures/lockloop -g` with its stdin on a FIFO: it prints `ready` and waits for a "
                "line before starting its threads and its clock. The tracer, if any, is started on its PID "
                "(output to a file, no duration: it ends when lockloop exits), given %s s to attach and then "
                "until its file descriptors stop changing; its programs, found through `/proc/TRACER/fdinfo` "
                "(`prog_id`) as for offcpu, are pinned so that their statistics outlive it. Their bpf_stats "
                "(`kernel.bpf_stats_enabled=1`) are read, lockloop is released for %s s, and the stats are "
                "read again once it has exited; lockloop's own count and clock give the throughput. Each "
                "configuration ran %s, in alternating order (reversed on every other repetition); before "
                "each run the script waits (bounded, QUIET_BUDGET) for the machine to be under QUIET_PCT %% "
                "busy, and a run during which others took more than %.0f %% of the machine is done again "
                "(BENCH_RETRIES runs in all). Everything it starts is killed, the pins removed and "
                "`kernel.bpf_stats_enabled` restored on exit."
                % (env.get("BENCH_ATTACH_WAIT", "1.5"), secs, times(reps), NOISY_PCT)), "",
           para("Knobs: `BENCH_SEMLAT_SECONDS` (each run), `BENCH_SEMLAT_REPS` (0 skips the section), "
                "`BENCH_SEMLAT_THREADS` (uncontended and `--symbol` loops), `BENCH_SEMLAT_CONTENDED_THREADS`, "
                "`BENCH_SEMLAT_SPINS` (the contended critical section), `BENCH_SEMLAT_ONLY=1` (`make bench` "
                "runs this section alone), and `ATTACH_WAIT`, `QUIET_BUDGET`, `QUIET_PCT`, `NOISY_PCT`, "
                "`BENCH_RETRIES`, `BENCH_DOC`, `BPFTRACE` as for offcpu (see the head of "
                "`scripts/bench-semlat.sh`). Raw data: `build/bench/semlat.tsv`."), "",
           "### Raw data: semlat", "",
           para("*others*: what the rest of the machine took during the run (other processes' CPU, the "
                "hypervisor's steal, other sched_switch programs), in % of all CPUs."), ""]

    def raw_rows(rs):
        return ["| %s | %d | %d | %.3f | %s | %s | %s | %s | %s | %.1f %% | %.1f |" % (
            r["config"], r["rep"], r["threads"], r["seconds"], "{:,.0f}".format(r["ops"]),
            "{:,.0f}".format(r["rate"]), "{:,.0f}".format(r["bpf_ns"] / 1e3) if r["bpf_runs"] else "–",
            "{:,.0f}".format(r["bpf_runs"]) if r["bpf_runs"] else "–",
            "{:,.0f}".format(r["futex_waits"]) if r["futex_waits"] else "–",
            r["others"], r["quiet_wait_s"]) for r in rs]
    head = ["| configuration | rep | threads | seconds | operations | per second | BPF run time (µs) "
            "| BPF program runs | futex waits | others | quiet wait (s) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = [c for part in (OWN, SHARED, CALL) for c, _, _ in part]
    md += head + raw_rows(sorted((r for rs in kept.values() for r in rs),
                                 key=lambda r: (order.index(r["config"]), r["rep"])))
    if redone:
        md += ["", "Runs done again because others took more than %.0f %% of the machine:" % NOISY_PCT, ""]
        md += head + raw_rows(redone)
    md += [END]
    section = "\n".join(md)

    doc = ""
    if os.path.exists(doc_path):
        with open(doc_path) as f:
            doc = f.read()
    with open(doc_path, "w") as f:
        f.write(splice(doc, section))
    print("semlat goals:", gtable, "", "uncontended:", own_table, "", "contended:", shared_table, "",
          "--symbol:", call_table, sep="\n")
    if busy or redone:
        print()
        print("\n".join(n for n in notes if "Noise" in n or "again" in n))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "stats":
        stats(sys.argv[2:])
    elif cmd == "count" and len(sys.argv) == 4:
        count(sys.argv[2], int(sys.argv[3]))
    elif cmd == "report" and len(sys.argv) == 4:
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
