"""Whole user stacks without frame pointers: a fixture built as users' binaries are
(-O2 -fomit-frame-pointer) calling Debian's glibc (no frame pointers either)."""

import json
from types import SimpleNamespace

from conftest import (WAITERS_NOCFI, WAITERS_NOFP, assert_waiters_match, parse_json,
                      stack_funcs, steal_us, wait_attached)

# each waiting thread's chain from the thread start down to its blocking call
CHAINS = {
    "w-mutex": ("lock", ["start_thread", "mutex_thread", "mutex_wait"]),
    "w-sleep": ("sleep", ["start_thread", "sleep_thread", "sleep_wait"]),
}


def biggest_stack(doc, tid, reason, pid=None):
    stacks = [s for s in doc["stacks"] if s["tid"] == tid and s["reason"] == reason
              and pid in (None, s["pid"])]
    assert stacks, f"tid {tid}: no {reason} stacks: {doc['stacks'][:3]}"
    return max(stacks, key=lambda s: s["total_us"])


def user_frames(stack):
    return [f for f in stack["frames"] if not f.endswith("_[k]")]


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


def assert_fp_short(fp, w):
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
    assert_chains(doc, w, "--stack auto")
    assert_fp_short(fp, w)
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
    assert_chains(doc, w, "no tables in the program")
    assert text.returncode == 0, text.stderr
    line = next(x for x in text.stdout.splitlines() if x.startswith("user stacks:"))
    assert "without (frame pointers there)" in line and " 0 without" not in line, line


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
    assert_fp_short(fp, w)
    assert_tables_sane(doc["unwind"])
    assert not fp["unwind"]["tables"] and fp["unwind"]["walked"] == 0, fp["unwind"]
    assert text.returncode == 0, text.stderr
    line = next(x for x in text.stdout.splitlines() if x.startswith("user stacks:"))
    assert " processes, " in line and "without (frame pointers there)" in line, line
