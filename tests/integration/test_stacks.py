"""Whole user stacks without frame pointers: a fixture built as users' binaries are
(-O2 -fomit-frame-pointer) calling Debian's glibc (no frame pointers either)."""

import json

from conftest import WAITERS_NOFP, assert_waiters_match, parse_json, stack_funcs

# each waiting thread's chain from the thread start down to its blocking call
CHAINS = {
    "w-mutex": ("lock", ["start_thread", "mutex_thread", "mutex_wait"]),
    "w-sleep": ("sleep", ["start_thread", "sleep_thread", "sleep_wait"]),
}


def biggest_stack(doc, tid, reason):
    stacks = [s for s in doc["stacks"] if s["tid"] == tid and s["reason"] == reason]
    assert stacks, f"tid {tid}: no {reason} stacks: {doc['stacks'][:3]}"
    return max(stacks, key=lambda s: s["total_us"])


def user_frames(stack):
    return [f for f in stack["frames"] if not f.endswith("_[k]")]


def trace(procs, w, mode):
    r = procs.offcpu(["-p", w.pid, "--stack", mode, "--json", 2])
    assert r.returncode == 0, r.stderr
    return r, parse_json(r)


def test_stacks_reach_thread_start_without_frame_pointers(procs):
    """--stack auto (the default): each blocked stack reaches from start_thread through every
    fixture function to the blocking call, through glibc (the caller of pthread_mutex_lock
    is there); --stack fp stops short. Times match the fixture's own within 5 %."""
    w = procs.waiters("mutex", "sleep", binary=WAITERS_NOFP)
    r, doc = trace(procs, w, "auto")
    _, fp = trace(procs, w, "fp")
    w.finish()
    assert_waiters_match(doc, w, ("w-mutex", "w-sleep"), "--stack auto", r.steal_us)
    for name, (reason, chain) in CHAINS.items():
        tid = w.tid(name)
        frames = [f.split(" ")[0] for f in user_frames(biggest_stack(doc, tid, reason))]
        at = [frames.index(c) if c in frames else -1 for c in chain]
        assert -1 not in at and at == sorted(at), (
            f"{name}: the stack lacks {chain} in order: {frames}")
        assert frames.index(chain[-1]) < len(frames) - 1, frames
        short = stack_funcs(biggest_stack(fp, tid, reason))
        assert chain[1] not in short, (
            f"{name}: --stack fp should stop short of {chain[1]} here: {sorted(short)}")
    # every walk by the tables is counted; these threads' stacks end at clone3: none cut
    u = doc["unwind"]
    assert u["tables"] and u["walked"] > 50 and u["binaries"] >= 2, u
    assert u["cut_short"] <= 0.05 * u["walked"], u
    assert not fp["unwind"]["tables"] and fp["unwind"]["walked"] == 0, fp["unwind"]
    mutex = [f.split(" ")[0] for f in
             user_frames(biggest_stack(doc, w.tid("w-mutex"), "lock"))]
    lock = next(i for i, f in enumerate(mutex) if "pthread_mutex_lock" in f)
    assert mutex[lock - 1] == "mutex_wait", (
        f"the caller of pthread_mutex_lock is not shown: {mutex}")


def test_stuck_and_seeded_stacks_without_frame_pointers(procs):
    """Threads blocked before offcpu starts are walked by the task iterator: --stuck and a
    trace's first stacks reach start_thread (or main) through glibc too."""
    w = procs.waiters("mutex", "sleep", binary=WAITERS_NOFP)
    r = procs.offcpu(["--stuck", "--json", "-p", w.pid])
    assert r.returncode == 0, r.stderr
    stuck = {s["tid"]: s for s in json.loads(r.stdout)["stuck"]}
    main = stuck[w.pid]
    assert {"main", "__libc_start_main"} <= stack_funcs(main), main["frames"]
    for name, (_, chain) in CHAINS.items():
        s = stuck.get(w.tid(name))
        if s is None or s["reason"] != CHAINS[name][0]:
            continue  # caught between two waits: no blocked stack to check
        assert set(chain) <= stack_funcs(s), f"--stuck {name}: {s['frames']}"
    # seeded: the main thread has been blocked since before the trace
    r, doc = trace(procs, w, "auto")
    w.finish()
    seeded = biggest_stack(doc, w.pid, "sleep")
    assert {"main", "__libc_start_main"} <= stack_funcs(seeded), seeded["frames"]


# waiting thread -> (reason, the thread that wakes it, that thread's chain from its start to
# the releasing function)
WAKERS = {
    "w-mutex": ("lock", "w-holder", ["start_thread", "holder_thread"]),
    "w-pipe": ("pipe", "w-pipefeed", ["start_thread", "pipefeed_thread"]),
}


def top_waker(doc, tid, reason):
    wakers = biggest_stack(doc, tid, reason).get("wakers")
    assert wakers, f"tid {tid}: no wakers on its biggest {reason} stack"
    return max(wakers, key=lambda x: x["total_us"])


def waker_user_frames(waker):
    user = waker["frames"][:len(waker["frames"]) - waker["kernel_frames"]]
    return [f.split(" ")[0] for f in user]


def test_waker_stacks_without_frame_pointers(procs):
    """--wakers: the releasing thread's user stack is walked by the tables too, from the
    waking call back to its thread's start (start_thread, __clone3), through glibc; --stack
    fp stops short of the releasing function. A sleep's waker is the timer interrupt, not the
    thread it interrupted, in both modes."""
    w = procs.waiters("mutex", "pipe", "sleep", binary=WAITERS_NOFP)
    r = procs.offcpu(["-p", w.pid, "--wakers", "--json", 2])
    rf = procs.offcpu(["-p", w.pid, "--wakers", "--stack", "fp", "--json", 2])
    w.finish()
    doc, fp = parse_json(r), parse_json(rf)
    for name, (reason, waker, chain) in WAKERS.items():
        tid = w.tid(name)
        best = top_waker(doc, tid, reason)
        assert best["tid"] == w.tid(waker) and best["context"] == "thread", (name, best)
        frames = waker_user_frames(best)
        at = [frames.index(c) if c in frames else -1 for c in chain]
        assert -1 not in at and at == sorted(at), (
            f"{name}'s waker {waker}: its stack lacks {chain} in order: {frames}")
        assert frames[0] in ("__clone3", "clone3", "start_thread"), (
            f"{name}'s waker {waker}: its stack does not reach its thread's start: {frames}")
        assert frames.index(chain[-1]) < len(frames) - 1, (
            f"{name}'s waker {waker}: no frame below {chain[-1]}: {frames}")
        short = top_waker(fp, tid, reason)
        assert short["tid"] == w.tid(waker), (name, short)
        assert chain[-1] not in waker_user_frames(short), (
            f"{name}'s waker: --stack fp should stop short of {chain[-1]} here: {short}")
    # walks of waker stacks are counted with the others; they end at clone3: few cut short
    u = doc["unwind"]
    assert u["tables"] and u["walked"] > 50 and u["cut_short"] <= 0.05 * u["walked"], u
    for d, mode in ((doc, "auto"), (fp, "fp")):
        wakers = biggest_stack(d, w.tid("w-sleep"), "sleep")["wakers"]
        irq = sum(x["total_us"] for x in wakers if x["context"] in ("hardirq", "softirq"))
        total = sum(x["total_us"] for x in wakers)
        assert wakers and irq >= 0.95 * total, (
            f"--stack {mode}: a sleep is woken by the timer interrupt, not a thread: {wakers}")
        assert all(x["tid"] == 0 for x in wakers if x["context"] != "thread"), wakers
