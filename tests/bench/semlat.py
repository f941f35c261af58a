#!/usr/bin/env python3
"""The semlat part of the benchmarks, for scripts/bench-semlat.sh.

usage:
  semlat.py stats ID...
        print "BPF_NS BPF_RUNS UPROBE_NS UPROBE_RUNS": run_time_ns and run_cnt
        of the programs ID... (bpftool, kernel.bpf_stats_enabled=1), all of
        them and those attached as uprobes or uretprobes (type kprobe)
  semlat.py count JSON T0_NS
        print "WAITS SYMBOL_CALLS LATE QUEUED" from semlat's --json output:
        futex and semop calls that could block, calls of the --symbol
        functions, 1 if its window began after CLOCK_MONOTONIC T0_NS (it was
        not attached for the whole of the workload's run), and the async
        (tokio) acquires it saw queue
  semlat.py report TSV DOC
        write the semlat section, from the runs in TSV, into DOC between its
        markers (replaced where they are, else put before "## Method", else at
        the end), leaving the rest of DOC alone; print its tables
(machine facts come in BENCH_* variables, as for report.py)
"""
import json
import os
import sys

from benchcommon import (NOISY_PCT, NPROC, Section, bpf_progs, drop_goal, load_kept, med, noise, ns, para, ran,
                         rate, ratio, table, times)

BEGIN = "<!-- semlat-bench:begin (scripts/bench-semlat.sh writes this part; do not edit by hand) -->"
END = "<!-- semlat-bench:end -->"
DROP_GOAL_PCT = 3.0  # goal: semlat -p costs the uncontended loop at most this much throughput

SEMLAT = ("semlat", "semlat", "semlat -p P")


def part(name, *traced):
    """a part's (config, label, command) list: its untraced run first, then each (config suffix, label,
    command) of TRACED; P is the workload's PID, LIBC and LOCKLOOP the objects' paths"""
    return [(name + "-base", "untraced", None)] + [(name + "-" + c, label, cmd) for c, label, cmd in traced]


OWN = part("own", SEMLAT, ("hold", "semlat --hold", "semlat -p P --hold"))
SHARED = part("shared", SEMLAT, (
    "bpftrace", "bpftrace uprobe on pthread_mutex_lock",
    "bpftrace -p P -e 'uprobe:LIBC:pthread_mutex_lock /pid == P/ { @start[tid] = nsecs } "
    "uretprobe:LIBC:pthread_mutex_lock /@start[tid]/ { @lat = hist(nsecs - @start[tid]); delete(@start[tid]) }'"))
CALL = part("call", ("floor", "empty uprobe + uretprobe (floor)",
                     "bpftrace -p P -e 'uprobe:LOCKLOOP:lockloop_call {} uretprobe:LOCKLOOP:lockloop_call {}'"),
            ("symbol", "semlat --symbol", "semlat -p P --symbol lockloop_call"))
TOKIO = part("tokio", SEMLAT, ("noasync", "semlat --no-async", "semlat -p P --no-async"))
TOKIOC = part("tokioc", SEMLAT)

def stats(ids):
    t = n = ut = un = 0
    progs = bpf_progs(ids)
    for i in ids:
        p = progs.get(int(i))
        if p is None:
            continue
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
    print(d.get("calls", 0), sum(s.get("calls", 0) for s in d.get("symbols", [])), int(late),
          (d.get("async") or {}).get("queued") or 0)


SECTION = Section(BEGIN, END)
# report.py keeps the semlat section of the document when it rewrites the rest
carry_over = SECTION.carry_over


def derive(r):
    r["rate"] = r["ops"] / r["seconds"]


def summarize(kept, configs, side_by_side=True):
    """{config: figures} of those that ran, against the section's untraced runs. SIDE_BY_SIDE: the
    threads (tasks) loop in parallel, and the cost of an operation is one thread's time for it,
    what a caller pays (threads / rate); else they take turns, and it is the process's (1 / rate)."""
    base = kept.get(configs[0][0])
    if not base:
        return {}

    def per_op(r):
        return (r["threads"] if side_by_side else 1) / r["rate"] * 1e9

    b_rate, b_per_op = med(r["rate"] for r in base), med(per_op(r) for r in base)
    out = {}
    for config, _, _, rs in ran(kept, configs):
        rates = [r["rate"] for r in rs]
        m = med(rates)
        waits = [r["futex_waits"] for r in rs if r["futex_waits"]]
        out[config] = {
            "rates": rates, "rate": m, "ratio": m / b_rate, "ratios": [x / b_rate for x in rates],
            "cost": med(per_op(r) for r in rs) - b_per_op,
            "bpf_op": med(r["bpf_ns"] / r["ops"] for r in rs) if rs[0]["bpf_runs"] else None,
            "uprobe_op": med(r["uprobe_ns"] / r["ops"] for r in rs) if rs[0]["uprobe_runs"] else None,
            # traps: every uprobe or uretprobe hit runs one program
            "traps_op": med(r["uprobe_runs"] / r["ops"] for r in rs) if rs[0]["uprobe_runs"] else None,
            "queued_op": med(r["async_queued"] / r["ops"] for r in rs) if rs[0]["async_queued"] else None,
            "per_run": med(r["bpf_ns"] / r["bpf_runs"] for r in rs if r["bpf_runs"]),
            "waits_s": med(r["futex_waits"] / r["seconds"] for r in rs) if waits else None,
            "per_wait": med(r["bpf_ns"] / r["futex_waits"] for r in rs if r["futex_waits"]) if waits else None,
            "syms": med(r["sym_calls"] / r["ops"] for r in rs) if rs[0]["sym_calls"] else None,
            "threads": int(rs[0]["threads"]), "n": len(rs),
        }
    return out


def share(x):
    return "–" if x is None else "%.2f %%" % (100 * x)


def traps(x):
    return "–" if x is None else "%.2f" % x


def report(path, doc_path):
    env = os.environ
    kept, redone = load_kept(path, derive)
    secs = env.get("BENCH_SEMLAT_SECONDS", "?")
    no_hold = ("not built: `semlat --help` lists no `--hold`" if env.get("BENCH_SEMLAT_HOLD") != "built"
               else "not measured")
    own, shared, call = summarize(kept, OWN), summarize(kept, SHARED), summarize(kept, CALL)
    tokio, tokioc = summarize(kept, TOKIO), summarize(kept, TOKIOC, side_by_side=False)
    reps = max([s["n"] for part in (own, shared, call, tokio, tokioc) for s in part.values()] or [0])
    workload = {"own": env.get("BENCH_SEMLAT_OWN", "lockloop own"),
                "shared": env.get("BENCH_SEMLAT_SHARED", "lockloop shared"),
                "call": env.get("BENCH_SEMLAT_CALL", "lockloop call"),
                "tokio": env.get("BENCH_SEMLAT_TOKIO", "tokiosvc acquire-loop"),
                "tokioc": env.get("BENCH_SEMLAT_TOKIO_CONTENDED", "tokiosvc acquire-contended")}
    goals, md = [], []

    # 1. uncontended
    own_table = table("lock/unlock pairs/s", ["cost per pair, per thread", "uprobe runs per pair",
                                              "BPF ns per pair"], OWN, own,
                      workload["own"], lambda config, cmd, s: [
                          "–" if cmd is None else ns(s["cost"]), traps(s["traps_op"]),
                          "–" if s["bpf_op"] is None else "%.1f ns" % s["bpf_op"]],
                      absent={"own-hold": no_hold})
    if "own-semlat" in own:
        goals.append(drop_goal("uncontended lock loop (`%s`)" % workload["own"], "semlat -p P", own["own-semlat"],
                               noise(own), "pair", DROP_GOAL_PCT))
    if "own-hold" in own:
        s = own["own-hold"]
        goals.append("| `semlat -p P --hold`: cost per lock/unlock pair stated (uprobes on "
                     "`pthread_mutex_lock` entry and return, `pthread_mutex_unlock` entry) | **%s** per pair "
                     "and thread (%s throughput), of which BPF %s; %s uprobe runs per pair | stated |"
                     % (ns(s["cost"]), ratio(s["ratio"]), ns(s["bpf_op"]), traps(s["traps_op"])))
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

    # 4. tokio
    def tokio_table(part, configs, key, cost_head):
        return table("acquires/s", [cost_head, "uprobe runs per acquire", "BPF per acquire",
                                    "counted as queued by semlat"], configs, part, workload[key],
                     lambda config, cmd, s: ["–" if cmd is None else ns(s["cost"]), traps(s["traps_op"]),
                                             ns(s["bpf_op"]), share(s["queued_op"])])

    tokio_table_md = tokio_table(tokio, TOKIO, "tokio", "cost per acquire, per task")
    tokioc_table_md = tokio_table(tokioc, TOKIOC, "tokioc", "cost per acquire, whole process")
    if "tokio-semlat" in tokio:
        s = tokio["tokio-semlat"]
        goals.append("| uncontended tokio `Semaphore::acquire` loop (`%s`, %s acquires/s untraced): cost per "
                     "acquire under `semlat -p P` stated (uprobe and uretprobe on tokio's `Acquire::poll`) | "
                     "**%s** per acquire and task (%s throughput), of which BPF %s; %s uprobe runs per acquire "
                     "| stated |" % (workload["tokio"], rate(tokio["tokio-base"]["rate"]), ns(s["cost"]),
                                     ratio(s["ratio"]), ns(s["bpf_op"]), traps(s["traps_op"])))
    if "tokio-noasync" in tokio:
        goals.append(drop_goal("uncontended tokio loop (`%s`)" % workload["tokio"], "semlat -p P --no-async",
                               tokio["tokio-noasync"], noise(tokio), "acquire", DROP_GOAL_PCT))
    if "tokioc-semlat" in tokioc:
        s = tokioc["tokioc-semlat"]
        goals.append("| contended tokio semaphore (`%s`: more tasks than its one permit): throughput under "
                     "`semlat -p P` stated | **%s** of untraced (%s vs %s acquires/s); **%s** per acquire "
                     "(whole process), of which BPF %s; %s uprobe runs per acquire | stated |"
                     % (workload["tokioc"], ratio(s["ratio"]), rate(s["rate"]), rate(tokioc["tokioc-base"]["rate"]),
                        ns(s["cost"]), ns(s["bpf_op"]), traps(s["traps_op"])))

    gtable = "\n".join(["| goal | measured | result |", "| --- | --- | --- |"] + goals)
    busy = [r for rs in kept.values() for r in rs if r["others"] > NOISY_PCT]

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
                "nothing. `--hold` puts uprobes on `pthread_mutex_lock` (entry and return) and "
                "`pthread_mutex_unlock` (entry): three traps per pair, contended or not. *cost per pair, per "
                "thread*: threads / traced pairs/s − threads / untraced pairs/s (medians): what one thread "
                "pays per lock/unlock pair. *uprobe runs per pair*: runs of the tracer's uprobe and uretprobe "
                "programs / pairs, one per trap. *BPF ns per pair*: run time of all the tracer's programs over "
                "the run (they run machine-wide on futex calls and wakeups, filtered out by PID) / pairs."
                % (workload["own"], secs)), "",
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
           call_table, "",
           "### tokio: `Semaphore::acquire`", "",
           para("semlat finds tokio in a target by the symbol of `<tokio::sync::batch_semaphore::Acquire as "
                "Future>::poll` and puts a uprobe on its entry and a uretprobe on its return: every poll of "
                "an acquire traps twice, contended or not; an acquire that queues is polled again when it "
                "gets its permit. Uncontended: `%s`: each task acquires a permit of a `tokio::sync::"
                "Semaphore` that has one for every task, and drops it, in a loop, on a 2-worker runtime. *cost per "
                "acquire, per task*: tasks / traced acquires/s − tasks / untraced acquires/s (medians). "
                "*uprobe runs per acquire*: runs of semlat's uprobe and uretprobe programs / acquires, one "
                "per trap. *BPF per acquire*: run time of all semlat's programs / acquires. *counted as "
                "queued*: semlat's own count of acquires that queued (its JSON `async.queued`) / acquires."
                % workload["tokio"]), "",
           tokio_table_md, "",
           para("Contended: `%s`: the tasks share one permit and hold it across a `yield_now`, so that "
                "nearly every acquire queues behind the others and is woken when the permit is handed to "
                "it. *cost per acquire, whole process*: 1 / traced acquires/s − 1 / untraced acquires/s "
                "(medians): the tasks take turns, so this is wall time of the process per acquire. TOKIOSVC: "
                "`build/fixtures/tokiosvc` (`tests/fixtures/rlocks`, a cargo release build)."
                % workload["tokioc"]), "",
           tokioc_table_md, ""]
    notes = []
    if "call-symbol" in call and "call-floor" in call:
        notes.append("Of a `--symbol` call's %s, an empty uprobe + uretprobe already costs %s here: the "
                     "kernel's uprobe machinery (the traps), not semlat's programs (%s of BPF per call), is "
                     "most of the cost." % (ns(call["call-symbol"]["cost"]), ns(call["call-floor"]["cost"]),
                                            ns(call["call-symbol"]["uprobe_op"])))
    if "call-symbol" in call and call["call-symbol"]["syms"] is not None:
        notes.append("`semlat --symbol` counted %.4f of the calls lockloop counted itself (median; 1 when it "
                     "was attached for the whole run and missed none)." % call["call-symbol"]["syms"])
    q = tokio.get("tokio-semlat", {}).get("queued_op")
    if q:
        # 1 in 128 is tokio's coop budget, not a wait: say so rather than leave it unexplained
        notes.append("In the uncontended loop, where no acquire waits, semlat counted 1 acquire in %.0f as "
                     "queued%s." % (1 / q, ": the budget of tokio's cooperative scheduling (128) runs out, "
                                    "and `Acquire::poll` returns Pending without queuing; semlat counts that "
                                    "Pending as a queued acquire" if 120 <= 1 / q <= 136 else ""))
    traced = [(what, s) for what, s in (("a tokio acquire", tokio.get("tokio-semlat")),
                                         ("a `--hold` lock/unlock pair", own.get("own-hold")),
                                         ("a `--symbol` call", call.get("call-symbol"))) if s and s["traps_op"]]
    if len(traced) > 1:
        # the kernel emulates some probed instructions (a push) and steps others out of line, a second
        # exception: traps are not alike, and a reader should not take one figure for all
        notes.append("Per trap (cost / uprobe runs), the uprobes cost unlike amounts: %s."
                     % "; ".join("%s %s over %s traps, %s a trap" % (what, ns(s["cost"]), traps(s["traps_op"]),
                                                                    ns(s["cost"] / s["traps_op"]))
                                 for what, s in traced))
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
                "`build/fixtures/lockloop -g`, or `build/fixtures/tokiosvc` in an acquire mode, with its "
                "stdin on a FIFO: it prints `ready` and waits for a line before starting its threads (tasks) "
                "and its clock. The tracer, if any, is started on its PID "
                "(output to a file, no duration: it ends when the workload exits), given %s s to attach and "
                "then until its file descriptors stop changing; its programs, found through "
                "`/proc/TRACER/fdinfo` (`prog_id`) as for offcpu, are pinned so that their statistics outlive "
                "it. Their bpf_stats (`kernel.bpf_stats_enabled=1`) are read, the workload is released for %s "
                "s, and the stats are read again once it has exited; the workload's own count and clock give "
                "the throughput. Each "
                "configuration ran %s, in alternating order (reversed on every other repetition); before "
                "each run the script waits (bounded, QUIET_BUDGET) for the machine to be under QUIET_PCT %% "
                "busy, and a run during which others took more than %.0f %% of the machine is done again "
                "(BENCH_RETRIES runs in all). Everything it starts is killed, the pins removed and "
                "`kernel.bpf_stats_enabled` restored on exit."
                % (env.get("BENCH_ATTACH_WAIT", "1.5"), secs, times(reps), NOISY_PCT)), "",
           para("Knobs: `BENCH_SEMLAT_SECONDS` (each run), `BENCH_SEMLAT_REPS` (0 skips the section), "
                "`BENCH_SEMLAT_THREADS` (uncontended and `--symbol` loops), `BENCH_SEMLAT_CONTENDED_THREADS`, "
                "`BENCH_SEMLAT_SPINS` (the contended critical section), `BENCH_SEMLAT_TOKIO_TASKS`, "
                "`BENCH_SEMLAT_TOKIO_CONTENDED_TASKS`, `BENCH_SEMLAT_ONLY=1` (`make bench` "
                "runs this section alone), and `ATTACH_WAIT`, `QUIET_BUDGET`, `QUIET_PCT`, `NOISY_PCT`, "
                "`BENCH_RETRIES`, `BENCH_DOC`, `BPFTRACE` as for offcpu (see the head of "
                "`scripts/bench-semlat.sh`). Raw data: `build/bench/semlat.tsv`."), "",
           "### Raw data: semlat", "",
           para("*others*: what the rest of the machine took during the run (other processes' CPU, the "
                "hypervisor's steal, other sched_switch programs), in % of all CPUs."), ""]

    def count_cell(x):
        return "{:,.0f}".format(x) if x else "–"

    def raw_rows(rs):
        return ["| %s | %d | %d | %.3f | %s | %s | %s | %s | %s | %s | %s | %.1f %% | %.1f |" % (
            r["config"], r["rep"], r["threads"], r["seconds"], "{:,.0f}".format(r["ops"]),
            "{:,.0f}".format(r["rate"]), "{:,.0f}".format(r["bpf_ns"] / 1e3) if r["bpf_runs"] else "–",
            count_cell(r["bpf_runs"]), count_cell(r["uprobe_runs"]), count_cell(r["futex_waits"]),
            count_cell(r["async_queued"]), r["others"], r["quiet_wait_s"]) for r in rs]
    head = ["| configuration | rep | threads (tasks) | seconds | operations | per second | BPF run time (µs) "
            "| BPF program runs | uprobe runs | futex waits | async queued | others | quiet wait (s) |",
            "|" + " --- |" * 13]
    order = [c for part in (OWN, SHARED, CALL, TOKIO, TOKIOC) for c, _, _ in part]
    md += head + raw_rows(sorted((r for rs in kept.values() for r in rs),
                                 key=lambda r: (order.index(r["config"]), r["rep"])))
    if redone:
        md += ["", "Runs done again because others took more than %.0f %% of the machine:" % NOISY_PCT, ""]
        md += head + raw_rows(redone)
    md += [END]
    section = "\n".join(md)

    SECTION.write(doc_path, section)
    print("semlat goals:", gtable, "", "uncontended:", own_table, "", "contended:", shared_table, "",
          "--symbol:", call_table, "", "tokio, uncontended:", tokio_table_md, "", "tokio, contended:",
          tokioc_table_md, sep="\n")
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
