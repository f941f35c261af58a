"""Whole user stacks without frame pointers: fixtures built as users' binaries are
(-O2 -fomit-frame-pointer, C and C++) calling Debian's glibc and libstdc++ (no frame pointers
either)."""

import json
from types import SimpleNamespace

from conftest import (CXXWAITERS, WAITERS_NOCFI, WAITERS_NOFP, assert_waiters_match, parse_json,
                      stack_funcs, steal_us, wait_attached)

# each waiting thread's chain from the thread start down to its blocking call
CHAINS = {
    "w-mutex": ("lock", ["start_thread", "mutex_thread", "mutex_wait"]),
    "w-sleep": ("sleep", ["start_thread", "sleep_thread", "sleep_wait"]),
}

# cxxwaiters' timed threads: wait reason, its fixture functions from the thread function down
# to the one that makes the blocking call, and the glibc function that call enters (found by
# substring: glibc's symbols for it vary, __pthread_mutex_lock, __nanosleep)
CXX_WAITS = {
    "cx-mutex": ("lock", ["waitfx::mutex_thread", "waitfx::mutex_wait"], "pthread_mutex_lock"),
    "cx-condvar": ("lock", ["waitfx::condvar_thread", "waitfx::JobQueue::wait_for_job"],
                   "pthread_cond_wait"),
    "cx-sleep": ("sleep", ["waitfx::sleep_thread", "waitfx::sleep_wait"], "nanosleep"),
}
# as conftest's WAITING: the functions as the report names them, demangled with parameters
CXX_WAITING = {name: (reason, tuple(f + "(waitfx::Worker&)" for f in funcs))
               for name, (reason, funcs, _) in CXX_WAITS.items()}


def biggest_stack(doc, tid, reason, pid=None):
    stacks = [s for s in doc["stacks"] if s["tid"] == tid and s["reason"] == reason
              and pid in (None, s["pid"])]
    assert stacks, f"tid {tid}: no {reason} stacks: {doc['stacks'][:3]}"
    return max(stacks, key=lambda s: s["total_us"])


def user_frames(stack):
    return [f for f in stack["frames"] if not f.endswith("_[k]")]


def frame_name(frame):
    """A frame's function without its C++ parameters or source line: 'ns::f(int)' -> 'ns::f'."""
    return frame.split("(")[0].split(" ")[0]


def assert_chain(doc, tid, reason, chain, what):
    """The thread's biggest stack in reason holds the functions of chain in order (outermost
    first) and more below the last (the blocking call). Returns its user frames' names."""
    frames = [frame_name(f) for f in user_frames(biggest_stack(doc, tid, reason))]
    at = [frames.index(c) if c in frames else -1 for c in chain]
    assert -1 not in at and at == sorted(at), f"{what}: the stack lacks {chain} in order: {frames}"
    assert at[-1] < len(frames) - 1, f"{what}: nothing below {chain[-1]}: {frames}"
    return frames


def assert_fp_short(fp, tid, reason, func, what):
    """A frame-pointer walk from the unframed libraries does not get as far as func."""
    short = {frame_name(f) for f in biggest_stack(fp, tid, reason)["frames"]}
    assert func not in short, f"{what}: --stack fp should stop short of {func} here: {short}"


def assert_unwound(doc, fp, binaries):
    """Every walk by the tables is counted; the threads' stacks end at clone3: none cut short.
    --stack fp walks by none."""
    u = doc["unwind"]
    assert u["tables"] and u["walked"] > 50 and u["binaries"] >= binaries, u
    assert u["cut_short"] <= 0.05 * u["walked"], u
    assert not fp["unwind"]["tables"] and fp["unwind"]["walked"] == 0, fp["unwind"]


def trace(procs, w, mode):
    r = procs.offcpu(["-p", w.pid, "--stack", mode, "--json", 2])
    assert r.returncode == 0, r.stderr
    return r, parse_json(r)


def assert_chains(doc, w, what):
    """Each fixture thread's biggest stack (of w's pid) reaches start_thread through its
    functions, down to the blocking call."""
    for name, (reason, chain) in CHAINS.items():
        frames = [f.split(" ")[0] for f in
                  user_frames(biggest_stack(doc, w.tid(name), reason, w.pid))]
        at = [frames.index(c) if c in frames else -1 for c in chain]
        assert -1 not in at and at == sorted(at), f"{what}, {name}: {chain} not in order: {frames}"
        assert frames.index(chain[-1]) < len(frames) - 1, frames


def assert_chains_fp_short(fp, w):
    """By frame pointers the fixture's biggest stacks stop short of its thread functions."""
    for name, (reason, chain) in CHAINS.items():
        short = stack_funcs(biggest_stack(fp, w.tid(name), reason, w.pid))
        assert chain[1] not in short, (
            f"{name}: --stack fp should stop short of {chain[1]} here: {sorted(short)}")


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
        assert_chain(doc, tid, reason, chain, name)
        assert_fp_short(fp, tid, reason, chain[1], name)
    assert_unwound(doc, fp, 2)
    mutex = [frame_name(f) for f in user_frames(biggest_stack(doc, w.tid("w-mutex"), "lock"))]
    lock = next(i for i, f in enumerate(mutex) if "pthread_mutex_lock" in f)
    assert mutex[lock - 1] == "mutex_wait", (
        f"the caller of pthread_mutex_lock is not shown: {mutex}")


def test_cxx_stacks_reach_thread_start_without_frame_pointers(procs):
    """A C++ fixture built as users' services are (g++ -O2 -fomit-frame-pointer over Debian's
    libstdc++ and glibc): the stacks of threads blocked in std::mutex, std::condition_variable
    and std::this_thread::sleep_for reach from start_thread through libstdc++'s thread routine
    and every fixture function, demangled (a class method among them), to glibc's function
    the blocking call enters, called from the fixture's; --stack fp stops short. Times match
    the fixture's own within 5 %."""
    w = procs.waiters("mutex", "condvar", "sleep", binary=CXXWAITERS)
    r, doc = trace(procs, w, "auto")
    _, fp = trace(procs, w, "fp")
    w.finish()
    assert_waiters_match(doc, w, CXX_WAITS, "C++, --stack auto", r.steal_us,
                         waiting=CXX_WAITING)
    for name, (reason, funcs, call) in CXX_WAITS.items():
        tid = w.tid(name)
        frames = assert_chain(doc, tid, reason, ["start_thread", *funcs], name)
        # std::thread's start: execute_native_thread_routine, a static function of libstdc++,
        # named only with its debug symbols (libstdc++6-12-dbg); else the library and offset
        outer = frames[frames.index("start_thread") + 1:frames.index(funcs[0])]
        assert any(f == "execute_native_thread_routine" or f.startswith("libstdc++")
                   for f in outer), f"{name}: no libstdc++ frame above {funcs[0]}: {frames}"
        # in between, at most what the C++ headers inline there (their DWARF names them:
        # std::mutex::lock, __gthread_mutex_lock, condition_variable's wait<Predicate>)
        rest = frames[frames.index(funcs[-1]) + 1:]
        at = next((i for i, f in enumerate(rest) if call in f), None)
        assert at is not None and at <= 2, f"{name}: {funcs[-1]} does not call {call}: {frames}"
        assert_fp_short(fp, tid, reason, funcs[0], name)
    # the fixture, libstdc++ and glibc at least
    assert_unwound(doc, fp, 3)


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


def test_binary_without_unwind_tables_falls_back_to_frame_pointers(procs):
    """A binary with no .eh_frame or .debug_frame (frame pointers kept) is walked by its frame
    pointers, between glibc's frames walked by the tables: the stacks stay whole, and the
    report says how many binaries had no tables, in text and JSON."""
    w = procs.waiters("mutex", "sleep", binary=WAITERS_NOCFI)
    r, doc = trace(procs, w, "auto")
    text = procs.offcpu(["-p", w.pid, "-n", "1", 1])
    w.finish()
    assert_waiters_match(doc, w, ("w-mutex", "w-sleep"), "--stack auto", r.steal_us)
    u = doc["unwind"]
    assert u["tables"] and u["without_cfi"] >= 1 and u["binaries"] >= 1, u
    for name, (reason, chain) in CHAINS.items():
        assert_chain(doc, w.tid(name), reason, chain, f"{name}, no unwind tables")
    assert text.returncode == 0, text.stderr
    line = next(x for x in text.stdout.splitlines() if x.startswith("user stacks:"))
    assert "without (frame pointers there)" in line and " 0 without" not in line, line


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


# the whole system's tables: at most this many rows (bpf/cfi_rows.h), in kernel chunks of 1 MiB
ROWS_MAX = 64 * 65536
CHUNK = 1 << 20


def assert_tables_sane(u):
    """The unwind counters of a whole-system trace: there, within the budget."""
    assert u["tables"] and u["walked"] > 50 and u["processes"] >= 2 and u["binaries"] >= 2, u
    assert u["cut_short"] <= 0.2 * u["walked"], u
    assert 0 < u["rows"] <= u["rows_max"] == ROWS_MAX, u
    assert u["rows"] * 16 <= u["table_bytes"] <= ROWS_MAX * 16, u
    assert u["table_bytes"] % CHUNK == 0, u
    for k in ("rows_full", "maps_full", "procs_full", "without_cfi"):
        assert isinstance(u[k], int) and u[k] >= 0, (k, u)


def test_whole_system_stacks_without_frame_pointers(procs):
    """Without -p, --stack auto (the default) walks by the tables too: a process running
    before offcpu attached, and one started after (its tables load when it first blocks),
    show stacks from start_thread through every fixture function to the blocking call;
    --stack fp stops short. Times match the fixtures' own within 5 %. The unwind counters
    say what the tables took, within their budget; --stack dwarf is taken without -p."""
    w = procs.waiters("mutex", "sleep", binary=WAITERS_NOFP)
    steal0 = steal_us()
    p = procs.offcpu_popen(["--json", 3])
    wait_attached(p)
    late = procs.waiters("mutex", "sleep", binary=WAITERS_NOFP)
    out, err = p.communicate(timeout=90)
    steal = steal_us() - steal0
    assert p.returncode == 0, err
    doc = parse_json(SimpleNamespace(stdout=out, returncode=p.returncode))
    fp = parse_json(procs.offcpu(["--stack", "fp", "--json", 2], timeout=90))
    text = procs.offcpu(["--stack", "dwarf", "-n", "1", 1], timeout=90)
    w.finish()
    late.finish()
    for x, what in ((w, "running before"), (late, "started after the attach")):
        assert_waiters_match(doc, x, ("w-mutex", "w-sleep"), f"whole system, {what}", steal,
                             same_pid=True)
        assert_chains(doc, x, f"whole system, {what}")
    assert_chains_fp_short(fp, w)
    assert_tables_sane(doc["unwind"])
    assert not fp["unwind"]["tables"] and fp["unwind"]["walked"] == 0, fp["unwind"]
    assert text.returncode == 0, text.stderr
    line = next(x for x in text.stdout.splitlines() if x.startswith("user stacks:"))
    assert " processes, " in line and "without (frame pointers there)" in line, line
