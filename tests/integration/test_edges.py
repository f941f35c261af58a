"""offcpu on the states an investigation starts from, each held against the
threads' own timing (tests/fixtures/edges.c): threads asleep before the
trace, wakeups that come before a thread can sleep, interval reports of long
periods, tids reused by another process, exec, threads born and gone
mid-trace, zombies, leaders that call pthread_exit, and -m's last slices.
"""

import json
import time

from conftest import (BUILD, HOGS, assert_matches_truth, parse_json, stack_funcs,
                      threads_by_tid, tolerance_us, validate_json, window)

EDGES = BUILD / "fixtures" / "edges"


def edges(procs, *args, lifetime):
    return procs.fixture(EDGES, *args, lifetime=lifetime)


def line_fields(w, tag):
    return [l.split()[1:] for l in w.lines if l.startswith(tag + " ")]


def record_truth_us(rec, start, end):
    """One timed call's off-CPU time inside [start, end], as Waiters.truth_us counts it."""
    _, _, s, e, off = rec
    inside = min(e, end) - max(s, start)
    return max(inside, 0) * off / (e - s) / 1000.0 if e > s else 0.0


def test_asleep_before_the_trace(procs):
    """A thread asleep since before the trace that wakes inside it: the traced part counts."""
    w = edges(procs, "nap", 3, lifetime=3)
    time.sleep(1)
    r = procs.offcpu(["-p", w.pid, "--json", 5])
    w.finish()
    doc = parse_json(r)
    tid = w.tid("e-nap")
    start, end = window(doc)
    truth = w.truth_us(tid, start, end)
    assert truth > 0.5e6, f"the trace missed the sleep: {w.records}, window {start}..{end}"
    th = threads_by_tid(doc)
    assert tid in th, f"e-nap missing: {sorted(th)}"
    assert_matches_truth(th[tid], "sleep", truth, "asleep at the start", steal=r.steal_us)


def test_wakeup_before_sleeping_ends_nothing(procs):
    """A timer that fires before its thread could sleep leaves no mark on its next period:
    every pipe wait of the reader has the feeder as its waker and its runqueue share."""
    w = edges(procs, "earlywake", 30, 100, lifetime=3)
    r = procs.offcpu(["-p", w.pid, "--wakers", "--json", 10])
    w.finish()
    doc = parse_json(r)
    reader, feed = w.tid("e-reader"), w.tid("e-feed")
    start, end = window(doc)
    th = threads_by_tid(doc)
    assert_matches_truth(th[reader], "pipe", w.truth_us(reader, start, end), "early wakes",
                         steal=r.steal_us)
    stacks = [s for s in doc["stacks"] if s["tid"] == reader and s["reason"] == "pipe"]
    total = sum(s["total_us"] for s in stacks)
    periods = sum(s["count"] for s in stacks)
    fed = [wk for s in stacks for wk in s.get("wakers", []) if wk["tid"] == feed]
    fed_us = sum(wk["total_us"] for wk in fed)
    fed_count = sum(wk["count"] for wk in fed)
    assert periods >= 10, f"too few pipe waits traced: {stacks}"
    assert fed_us >= 0.9 * total and fed_count >= 0.9 * periods, (
        f"e-feed woke {fed_count} of {periods} pipe waits ({fed_us:.0f} of {total:.0f} us): "
        f"{json.dumps(stacks)[:3000]}")


def json_documents(text):
    dec, pos, docs = json.JSONDecoder(), 0, []
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            break
        doc, pos = dec.raw_decode(text, pos)
        validate_json(doc)
        docs.append(doc)
    return docs


def test_interval_holds_its_own_part(procs):
    """-i 1 over 2 s sleeps: each interval has the part of a sleep inside it, never more."""
    w = edges(procs, "nap", 2, 3, lifetime=6)
    r = procs.offcpu(["-p", w.pid, "-i", 1, "--json", 4.5], timeout=60)
    w.finish()
    assert r.returncode == 0, r.stderr
    docs = json_documents(r.stdout)
    assert len(docs) >= 4, f"{len(docs)} interval reports"
    tid = w.tid("e-nap")
    for doc in docs:
        start, end = window(doc)
        th = threads_by_tid(doc)
        truth = w.truth_us(tid, start, end)
        assert tid in th or truth < tolerance_us(truth), (start, end, truth, sorted(th))
        if tid in th:
            got = th[tid]["reasons"]["sleep"]
            assert got <= (end - start) / 1000 + 2000, (
                f"{got / 1e3:.0f} ms of sleep in a {(end - start) / 1e6:.0f} ms interval")
            assert_matches_truth(th[tid], "sleep", truth, f"interval {start}..{end}",
                                 steal=r.steal_us)
            # the stacks hold the same part as the thread: a period reported open is not
            # counted again when it closes
            in_stacks = sum(s["total_us"] for s in doc["stacks"]
                            if s["tid"] == tid and s["reason"] == "sleep")
            assert abs(in_stacks - got) <= max(0.01 * got, 1000), (
                f"interval {start}..{end}: stacks {in_stacks:.0f} us, thread {got:.0f} us")


def test_tid_reused_by_another_process(procs):
    """A tid that another process takes over is another thread: each keeps its own sleep,
    stacks and name, and no stack holds more than its thread."""
    w = edges(procs, "reuse", 2.5, 0.8, lifetime=4)
    r = procs.offcpu(["--json", 4], timeout=60)
    w.finish()
    doc = parse_json(r)
    tid = w.tid("e-first")
    first, second = sorted((rec for rec in w.records if rec[0] == tid), key=lambda x: x[2])
    start, end = window(doc)
    mine = {t["pid"]: t for t in doc["threads"] if t["tid"] == tid}
    assert set(mine) >= {w.pid, tid}, f"tid {tid}: records for processes {sorted(mine)}"
    for pid, rec, name in ((w.pid, first, "e-first"), (tid, second, "e-second")):
        t = mine[pid]
        assert t["comm"] == name, t
        truth = record_truth_us(rec, start, end)
        assert truth > 0.3e6, f"{name}: the trace missed its sleep ({rec}, {start}..{end})"
        assert_matches_truth(t, "sleep", truth, name, steal=r.steal_us)
        stacks = [s for s in doc["stacks"] if s["tid"] == tid and s["pid"] == pid]
        assert stacks and all(s["comm"] == name for s in stacks), stacks
        in_stacks = sum(s["total_us"] for s in stacks if s["reason"] == "sleep")
        assert abs(in_stacks - t["reasons"]["sleep"]) <= 1000, (name, in_stacks, t)


def test_stacks_before_exec_keep_their_names(procs):
    """A program blocked before it execs keeps its own frames and name in the report."""
    w = edges(procs, "exec", 2, lifetime=3)
    r = procs.offcpu(["-p", w.pid, "--json", 6])
    w.finish()
    doc = parse_json(r)
    start, end = window(doc)
    pre = [s for s in doc["stacks"] if s["tid"] == w.pid and s["reason"] == "sleep" and
           stack_funcs(s) & {"pre_exec_wait", "pre_exec_sleep"}]
    assert pre, "no stack of the sleep before exec names pre_exec_wait: " + json.dumps(
        [s for s in doc["stacks"] if s["tid"] == w.pid])[:3000]
    assert all(s["comm"] == "e-pre" for s in pre), pre
    assert all("[unknown]" not in s["frames"] for s in pre), pre
    rec = [x for x in w.records if x[0] == w.pid]
    truth = sum(record_truth_us(x, start, end) for x in rec)
    assert abs(sum(s["total_us"] for s in pre) - truth) <= tolerance_us(truth), (pre, rec)
    nap = w.tid("e-nap")
    after = [s for s in doc["stacks"] if s["tid"] == nap and s["reason"] == "sleep"]
    assert after and all(stack_funcs(s) & {"nap_thread", "nap_named"} and s["comm"] == "e-nap"
                         for s in after), after


def test_new_thread_counts_its_first_slice(procs):
    """A thread born mid-trace that spins: all its CPU time is on-CPU time, and its traced
    time ends when it exits (on-CPU + blocked + runqueue = traced)."""
    w = edges(procs, "late", 1.5, 1.3, lifetime=4)
    r = procs.offcpu(["-p", w.pid, "--json", 8])
    w.finish()
    doc = parse_json(r)
    tid_s, t0, t1, cpu = line_fields(w, "spin")[0]
    tid, life_us, cpu_us = int(tid_s), (int(t1) - int(t0)) / 1000, int(cpu) / 1000
    t = threads_by_tid(doc)[tid]
    tol = max(0.03 * cpu_us, 5000)
    # the thread CPU clock stops while the hypervisor steals the vCPU; the scheduler's does not
    assert cpu_us - tol <= t["oncpu_us"] <= cpu_us + tol + r.steal_us, (cpu_us, t)
    total = t["oncpu_us"] + t["blocked_us"] + t["runqueue_us"]
    assert abs(total - t["traced_us"]) <= 0.01 * t["traced_us"], t
    assert abs(t["traced_us"] - life_us) <= max(0.03 * life_us, 20000), (life_us, t)


def test_zombies_are_not_blocked(procs):
    """An exited, unreaped child waits for nothing: not in a trace, not among the stuck."""
    w = edges(procs, "zombie", 5, lifetime=5)
    child = int(line_fields(w, "child")[0][0])
    r = procs.offcpu(["--json", 1.5], timeout=60)
    doc = parse_json(r)
    zombie = [t for t in doc["threads"] if t["tid"] == child]
    assert not zombie or zombie[0]["offcpu_us"] == 0, zombie
    assert child not in {s["tid"] for s in doc.get("stuck", [])}
    r = procs.offcpu(["--stuck", "--json"], timeout=60)
    w.finish()
    assert r.returncode == 0, r.stderr
    assert child not in {s["tid"] for s in json.loads(r.stdout)["stuck"]}


def test_leader_pthread_exit(procs):
    """A process whose main thread called pthread_exit lives while its workers do."""
    w = edges(procs, "leaderexit", 4.5, lifetime=4.5)
    time.sleep(0.3)
    r = procs.offcpu(["-p", w.pid, "--json", 3])
    w.finish()
    assert r.returncode == 0, r.stderr
    doc = parse_json(r)
    assert doc["duration_us"] >= 2.9e6, f"stopped early: {doc['duration_us']} us; {r.stderr}"
    assert not any(t["exited"] for t in doc["targets"]), doc["targets"]
    tid = [t for t in w.records][0][0]
    start, end = window(doc)
    assert_matches_truth(threads_by_tid(doc)[tid], "sleep", w.truth_us(tid, start, end),
                         "worker of an exited leader", steal=r.steal_us)


def cpu_between(samples, start, end):
    """A hog's CPU time (us) inside [start, end], interpolated between its samples."""
    def at(t):
        for (m0, c0), (m1, c1) in zip(samples, samples[1:]):
            if m0 <= t <= m1:
                return c0 + (c1 - c0) * (t - m0) / (m1 - m0)
        raise AssertionError(f"no samples around {t}")
    return (at(end) - at(start)) / 1000.0


def test_min_keeps_last_slice(procs):
    """-m leaves out short blocked periods, never on-CPU time: a hog's is all there."""
    hogs = procs.fixture(HOGS, "-n", 1, "-d", 4, lifetime=4)
    r = procs.offcpu(["-p", hogs.pid, "-m", 1, "--json", 2])
    hogs.finish()
    doc = parse_json(r)
    start, end = window(doc)
    (tid, samples), = hogs.samples.items()
    want = cpu_between(samples, start, end)
    got = threads_by_tid(doc)[tid]["oncpu_us"]
    tol = max(0.03 * want, 5000)
    assert want - tol <= got <= want + tol + r.steal_us, (want, got)


def test_threads_come_and_go(procs):
    """100 000 threads that come and go under -i 1: what an exited thread leaves is freed once
    reported, so no table fills, and the long-lived thread's figures stay right."""
    w = edges(procs, "churn", 100000, lifetime=90)
    r = procs.offcpu(["-p", w.pid, "-i", 1, "--json", 150], timeout=180)
    w.finish(timeout=30)
    assert r.returncode == 0, r.stderr[-2000:]
    docs = json_documents(r.stdout)
    made = int(line_fields(w, "made")[0][0])
    nap = w.tid("e-nap")
    # its last sleep is cut by the exit, unrecorded: intervals up to its last record
    last = max(rec[3] for rec in w.records if rec[0] == nap)
    reported = 0
    for doc in docs:
        full = {k: doc["lost"][k] for k in ("threads_full", "periods_full")}
        assert not any(full.values()), f"interval {window(doc)}: {full}"
        # an exited thread is reported in the interval it ended in, then forgotten
        reported += sum(1 for t in doc["threads"] if t["tid"] != nap)
        start, end = window(doc)
        th = threads_by_tid(doc)
        truth = w.truth_us(nap, start, end)
        if end <= last and (nap in th or truth > tolerance_us(truth)):
            assert_matches_truth(th[nap], "sleep", truth, f"e-nap in {start}..{end}",
                                 steal=r.steal_us)
    # the first threads may come and go before offcpu has attached; tids are reused
    assert reported >= 0.8 * made, f"{reported} thread reports for {made} threads"
