"""semlat against tests/fixtures/locks.c, whose threads time each lock call themselves."""

import json
import subprocess
import time

from conftest import (DISPATCH, LOCKS, PG_DSN, REPO, RLOCKS, TOKIOSVC, parse_json,
                      validate_json, window)

FLAME_CHECK = REPO / "tests" / "integration" / "flame_check.py"

# kind, the lock's global (a lock may be several futex words inside it: name+0x28),
# a function that waits on it, a function that releases it
LOCKS_OF = {
    "mutex": ("mutex", "g_mutex", "mutex_hold", "mutex_hold"),
    "condvar": ("condvar", "g_cond", "consume", "producer_thread"),
    "sem": ("semaphore", "g_sem", "sem_hold", "sem_hold"),
    "rwlock": ("rwlock", "g_rwlock", None, None),
    "pi": ("pi-mutex", "g_pi", "mutex_hold", "mutex_hold"),
}


def locks_named(doc, symbol):
    return [l for l in doc["locks"] if l["name"] == symbol or l["name"].startswith(symbol + "+")]


def funcs(stacks):
    return {f.split(" ")[0] for s in stacks for f in s["frames"]}


def assert_lock_waits(doc, fixture, symbol, kind):
    """The locks named symbol: all of that kind, their waits within 5 % (+2 ms) of the
    fixture's own timing of its calls of that kind. Returns them."""
    start, end = window(doc)
    found = locks_named(doc, symbol)
    assert found, f"no lock named {symbol}: {[l['name'] for l in doc['locks']]}"
    assert {l["kind"] for l in found} == {kind}, [(l["name"], l["kind"]) for l in found]
    got = sum(l["wait_us"] for l in found)
    want = truth_us(fixture, kind, start, end)
    assert want > 100000, f"{symbol}: the fixture hardly waited ({want:.0f} us)"
    assert abs(got - want) <= 0.05 * want + 2000, (
        f"{symbol}: semlat {got:.0f} us waited on it, the fixture {want:.0f} us")
    return found


def traced(procs, fixture, *args, semlat=(), seconds=3, settle=0.3):
    """Runs the fixture (6 s by itself), traces it with semlat --json for seconds once it
    has settled, collects its records: (fixture, document)."""
    fx = procs.fixture(fixture, *args, lifetime=6)
    time.sleep(settle)
    r = procs.semlat(["-p", fx.pid, *semlat, "--json", seconds])
    fx.finish()
    assert r.returncode == 0, r.stderr
    return fx, parse_json(r)


def truth_us(fixture, kind, start, end):
    """The fixture's own time in calls of that kind that began and ended inside the window."""
    return sum(e - s for _, k, s, e, _ in fixture.records
               if k == kind and s >= start and e <= end) / 1000


def test_waits_match_the_fixture(procs):
    """Per lock: total wait within 5 % (+2 ms) of the fixture's own timing of its lock calls;
    kind and name right (globals by symbol); waiter stacks show the waiting function and
    releaser stacks the releasing one, through glibc without frame pointers."""
    lk, doc = traced(procs, LOCKS, "-d", 6, *LOCKS_OF)
    assert doc["lost"] and not any(doc["lost"].values()), doc["lost"]
    for mode, (kind, symbol, waiter, releaser) in LOCKS_OF.items():
        found = assert_lock_waits(doc, lk, symbol, kind)
        if waiter:
            seen = funcs(s for l in found for s in l["waiter_stacks"])
            assert waiter in seen, f"{mode}: no waiter stack with {waiter}: {sorted(seen)}"
            seen = funcs(s for l in found for s in l["waker_stacks"])
            assert releaser in seen, f"{mode}: no releaser stack with {releaser}: {sorted(seen)}"
        for l in found:
            assert l["p50_us"] <= l["p99_us"] <= l["max_us"] * 1.01, l
            assert 0 <= l["runqueue_us"] <= l["wait_us"], l


def test_no_contention(procs):
    """A process that takes no contended lock: said so, exit 0."""
    p = procs._track(subprocess.Popen(["sleep", "30"]))
    r = procs.semlat(["-p", p.pid, 1])
    assert r.returncode == 0, r.stderr
    assert "no contention" in r.stdout, r.stdout


def test_bad_input(procs):
    for args, what in (([], "-p PID"), (["-p", "999999999"], "999999999"),
                       (["-p", "1", "--stack", "x"], "--stack"), (["-p", "1", "abc"], "duration"),
                       (["-p", "1", "--by", "x"], "--by"), (["-p", "1", "-m", "x"], "MIN_US"),
                       (["-p", "1", "-i", "0"], "interval"), (["-p", "1", "-i", "1", "-f"], "-i")):
        r = procs.semlat(args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert what in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)


def test_target_exits_mid_trace(procs):
    """The target exits after 1.5 s of a 20 s trace: semlat stops and reports what it saw."""
    lk = procs.fixture(LOCKS, "-d", 1.5, "mutex", lifetime=1.5)
    r = procs.semlat(["-p", lk.pid, 20], timeout=30)
    lk.finish()
    assert r.returncode == 0, r.stderr
    assert r.elapsed < 8, f"semlat took {r.elapsed:.1f} s; the target exited after 1.5 s"
    assert "exited" in r.stdout and "g_mutex" in r.stdout, r.stdout



def parts_us(fixture, kind, start, end):
    """(count, wall us, off-CPU us) of the fixture's records of that kind inside the window."""
    recs = [(s, e, off) for _, k, s, e, off in fixture.records
            if k == kind and s >= start and e <= end]
    return len(recs), sum(e - s for s, e, _ in recs) / 1000, sum(o for _, _, o in recs) / 1000


def test_symbol_breakdown_matches_the_fixture(procs):
    """--symbol dispatch on a libpq service (tests/fixtures/dispatch.c, -O2 without frame
    pointers): calls and wall time as the fixture's own; the breakdown adds up to the wall
    time, and its gate (semaphore), pool (mutex + condvar) and query (the socket wait) parts
    are within 10 % of the fixture's timings of those parts. Waiter stacks reach the thread's
    start through the uretprobe trampoline that --symbol puts on the stack."""
    svc, doc = traced(procs, DISPATCH, "-d", 6, PG_DSN, semlat=("--symbol", "dispatch"))
    start, end = window(doc)
    assert not any(doc["lost"].values()), doc["lost"]
    [sym] = doc["symbols"]
    assert (sym["name"], sym["object"]) == ("dispatch", "dispatch"), sym
    calls, wall, off = parts_us(svc, "dispatch", start, end)
    assert calls > 200, f"the fixture hardly ran: {calls} calls in the window"
    assert abs(sym["calls"] - calls) <= 0.02 * calls + 2, (sym["calls"], calls)
    assert abs(sym["total_us"] - wall) <= 0.05 * wall, (sym["total_us"], wall)
    b = sym["breakdown"]
    parts = b["oncpu"] + sum(v for k, v in b.items() if k not in ("oncpu", "locks")) + sum(
        b["locks"].values())
    assert abs(parts - sym["total_us"]) <= 0.01 * sym["total_us"], (parts, sym)
    rq = b["runqueue"]
    gate = sum(v for k, v in b["locks"].items() if k.startswith("g_gate"))
    pool = sum(v for k, v in b["locks"].items() if k.startswith("g_pool"))
    query = b.get("poll", 0) + b.get("net", 0)
    for name, got in (("gate", gate), ("pool", pool), ("query", query)):
        _, _, truth = parts_us(svc, name, start, end)
        tol = 0.10 * truth + 2000
        # the fixture's off-CPU time of a part includes its wait for a CPU: runqueue, apart
        assert got - tol <= truth <= got + rq + tol, (
            f"{name}: semlat {got:.0f} us (+ runqueue {rq:.0f} us of all parts), the fixture "
            f"{truth:.0f} us; breakdown {b}")
    assert 3 <= sym["concurrency_max"] <= 8, sym["concurrency_max"]
    # JSON carries one decimal
    assert abs(sym["concurrency_mean"] - sym["total_us"] / doc["duration_us"]) <= 0.051, sym
    gate_lock = locks_named(doc, "g_gate")[0]
    stack = [f.split(" ")[0] for f in gate_lock["waiter_stacks"][0]["frames"]]
    assert stack[:3] == ["__clone3", "start_thread", "worker_thread"] and "dispatch" in stack, (
        f"the waiter's stack does not reach the thread's start: {stack}")


def test_symbol_bad_input(procs, tmp_path):
    """No match names the nearest functions; a stripped program says so; exit 2, one line."""
    lk = procs.fixture(LOCKS, "mutex")
    stripped = tmp_path / "locks-stripped"
    subprocess.run(["strip", "--strip-all", "-o", stripped, LOCKS], check=True)
    st = procs.fixture(stripped, "mutex")
    for args, says in (
            (["-p", lk.pid, "--symbol", "mutex_hol"], "nearest: mutex_hold"),
            (["-p", lk.pid, "--symbol", "nosuch_function_at_all"], "no function"),
            (["-p", st.pid, "--symbol", "mutex_hold"], "locks-stripped is stripped"),
            (["-p", lk.pid, "--symbol", ""], "--symbol")):
        r = procs.semlat(args + ["1"])
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)


def test_rust_std_locks(procs):
    """A Rust release binary (std Mutex and RwLock, futex-based, no frame pointers, linked by
    lld, whose text segment does not start on a page of its own): per-lock waits within 5 % of
    the threads' own timing, kinds from Rust std's lock code, statics named by their
    (demangled) symbols, waiter stacks whole from the thread's start to the waiting function."""
    assert_rust_locks(procs, "std", (
        ("rlocks::G_MUTEX", "mutex", {"rlocks::mutex_hold"}),
        ("rlocks::G_RWLOCK", "rwlock", {"rlocks::write_locked", "rlocks::read_locked"})))


def test_parking_lot_locks(procs):
    """parking_lot parks each thread on a futex word of its own; semlat finds the lock from
    the slow path the thread is in (uprobes there, taken only when contended): one row per
    lock, named by its static, waits within 5 % of the threads' own timing, and nearly all
    the wait time on those two rows."""
    doc = assert_rust_locks(procs, "parking_lot", (
        ("rlocks::PL_MUTEX", "mutex", {"rlocks::pl_mutex_hold"}),
        ("rlocks::PL_RWLOCK", "rwlock", {"rlocks::pl_write_locked", "rlocks::pl_read_locked"})))
    # a thread already inside a slow path as the probes attach parks unnamed until it leaves
    # it: at most a few of those waits, at the start
    named = sum(l["wait_us"] for l in doc["locks"] if l["name"].startswith("rlocks::PL_"))
    total = sum(l["wait_us"] for l in doc["locks"])
    assert named >= 0.98 * total, [(l["name"], l["wait_us"]) for l in doc["locks"]]


def assert_rust_locks(procs, mode, expected):
    rl, doc = traced(procs, RLOCKS, 6, mode)
    for symbol, kind, waiters in expected:
        found = assert_lock_waits(doc, rl, symbol, kind)
        stack = max((s for l in found for s in l["waiter_stacks"]), key=lambda s: s["wait_us"])
        frames = [f.split(" ")[0] for f in stack["frames"]]
        assert frames[:2] == ["__clone3", "start_thread"] and waiters & set(frames), (
            f"{symbol}: the biggest waiter stack is not whole: {frames}")
    return doc


# --hold: the fixture's own hold timing per lock, kind, and the function that held it
HOLDS_OF = (("g_mutex", "mutex", "mutex_hold"), ("g_sem", "semaphore", "sem_hold"),
            ("g_rwlock", "rwlock-write", "write_locked"),
            ("g_rwlock", "rwlock-read", "read_locked"))


def test_hold_times_match_the_fixture(procs):
    """--hold on glibc's mutex, semaphore and rwlock (read and write), in a -O2 fixture and
    Debian's glibc (no frame pointers): per lock and kind, the number of holds and their total
    within 5 % of the holders' own timing (clock_gettime after the lock call returns and before
    the unlock); the holder stacks end in the unlock call and contain the holding function;
    a condvar's mutex shows held while the condvar wait has it."""
    lk, doc = traced(procs, LOCKS, "-d", 6, "mutex", "sem", "rwlock", "condvar",
                     semlat=("--hold",))
    start, end = window(doc)
    assert not any(doc["lost"].values()), doc["lost"]
    assert doc["locks"], "--hold lost the contention report"
    for symbol, kind, holder in HOLDS_OF:
        [h] = [h for h in doc["holds"] if h["name"] == symbol and h["kind"] == kind] or [None]
        assert h, f"no {kind} hold of {symbol}: {[(x['name'], x['kind']) for x in doc['holds']]}"
        truth = [(s, e) for _, k, s, e in lk.holds if k == kind and s >= start and e <= end]
        want = sum(e - s for s, e in truth) / 1000
        assert len(truth) > 50, f"{symbol} {kind}: the fixture hardly held it ({len(truth)})"
        assert abs(h["holds"] - len(truth)) <= 0.05 * len(truth), (h["holds"], len(truth))
        assert abs(h["hold_us"] - want) <= 0.05 * want, (
            f"{symbol} {kind}: semlat {h['hold_us']:.0f} us held, the fixture {want:.0f} us")
        longest = max(e - s for s, e in truth) / 1000
        assert longest * 0.95 <= h["max_us"], (h["max_us"], longest)
        assert h["p50_us"] <= h["p99_us"] <= h["max_us"] * 1.01, h
        stacks = h["holder_stacks"]
        assert sum(s["count"] for s in stacks) == h["holds"], h
        inner = {s["frames"][-1].split(" ")[0] for s in stacks}
        assert inner <= {"pthread_mutex_unlock", "__pthread_mutex_unlock", "sem_post",
                         "__new_sem_post", "pthread_rwlock_unlock",
                         "__pthread_rwlock_unlock"}, inner
        assert holder in funcs(stacks), f"{symbol}: no holder stack with {holder}"
    cond = [h for h in doc["holds"] if h["name"] == "g_cmutex"]
    assert cond and cond[0]["holds"] > 20, [(h["name"], h["holds"]) for h in doc["holds"]]


def test_hold_bad_input(procs, tmp_path):
    """--hold on a process without glibc's libc.so.6 (a static binary): one line, exit 2."""
    static = tmp_path / "sleeper"
    subprocess.run(["cc", "-static", "-O2", "-o", static, "-x", "c", "-"], check=True,
                   input=b"#include <unistd.h>\nint main(void) { sleep(30); return 0; }\n")
    p = procs._track(subprocess.Popen([static]))
    time.sleep(0.1)
    r = procs.semlat(["-p", p.pid, "--hold", 1])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "libc.so.6" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def waits_of(fixture, kind, start, end, min_ns=0):
    """The fixture's calls of that kind that began and ended inside the window, at least
    min_ns long: (count, microseconds)."""
    recs = [e - s for _, k, s, e, _ in fixture.records
            if k == kind and s >= start and e <= end and e - s >= min_ns]
    return len(recs), sum(recs) / 1000


def test_interval_reports_add_up(procs):
    """-i 1 --json: one document per interval, windows back to back; each interval holds the
    waits that ended in it (begun since the trace started), within 5 % (+2 ms) of the
    fixture's own timing of those."""
    lk = procs.fixture(LOCKS, "-d", 6, "mutex", lifetime=6)
    time.sleep(0.3)
    r = procs.semlat(["-p", lk.pid, "-i", 1, "--json", 3.5])
    lk.finish()
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert len(docs) == 4, f"{len(docs)} documents for 3.5 s at -i 1"
    first = docs[0]["window"]["start_ns"]
    for a, b in zip(docs, docs[1:]):
        assert a["window"]["end_ns"] == b["window"]["start_ns"], (a["window"], b["window"])
    for d in docs:
        validate_json(d)
        start, end = window(d)
        recs = [e - s for _, k, s, e, _ in lk.records
                if k == "mutex" and s >= first and start < e <= end]
        want = sum(recs) / 1000
        got = sum(l["wait_us"] for l in locks_named(d, "g_mutex"))
        assert want > 50000, f"the fixture hardly waited in {d['window']}"
        assert abs(got - want) <= 0.05 * want + 2000, (d["window"], got, want)


def test_min_leaves_short_waits_out(procs):
    """-m 20000 on the mutex fixture (waits from 0 to about 40 ms): the waits left are the
    fixture's of at least 20 ms, within 5 % (waits within 1 ms of the line may fall either
    side), and the rest are counted as left out."""
    lk, doc = traced(procs, LOCKS, "-d", 6, "mutex", semlat=("-m", 20000))
    start, end = window(doc)
    [l] = locks_named(doc, "g_mutex")
    n, want = waits_of(lk, "mutex", start, end, 20_000_000)
    near, near_us = waits_of(lk, "mutex", start, end, 19_000_000)
    edge = (near - n) + 2
    assert n > 20 and near_us - want < 0.5 * want, "the fixture's waits are not spread as assumed"
    assert abs(l["waits"] - n) <= 0.05 * n + edge, (l["waits"], n)
    assert abs(l["wait_us"] - want) <= 0.05 * want + edge * 21000, (l["wait_us"], want)
    assert l["p50_us"] >= 19000 and doc["min_us"] == 20000, l
    total, _ = waits_of(lk, "mutex", start, end)
    assert abs(doc["short_waits"] - (total - n)) <= 0.05 * total + edge, (doc["short_waits"],
                                                                          total, n)


def test_by_thread_actor_stack_and_svg(procs, tmp_path):
    """--by thread: each thread's waits within 5 % (+2 ms) of its own timing; --by actor: the
    four l-mutex-N threads as one l-mutex-* of 4 threads, its waits the sum of theirs; --by
    stack: the biggest stack is the mutex's, through mutex_hold, in text and JSON; --svg: a
    flame graph with the lock and the function."""
    lk = procs.fixture(LOCKS, "-d", 10, "mutex", lifetime=10)
    time.sleep(0.3)
    by_thread = procs.semlat(["-p", lk.pid, "--by", "thread", "--json", 2])
    by_actor = procs.semlat(["-p", lk.pid, "--by", "actor", "--json", 1.5])
    svg = tmp_path / "locks.svg"
    by_stack = procs.semlat(["-p", lk.pid, "--by", "stack", "--svg", svg, 1.5])
    lk.finish()
    for r in (by_thread, by_actor, by_stack):
        assert r.returncode == 0, r.stderr
    doc = parse_json(by_thread)
    start, end = window(doc)
    groups = doc["groups"]["groups"]
    assert doc["groups"]["by"] == "thread" and len(groups) == 4, groups
    for g in groups:
        want = sum(e - s for t, k, s, e, _ in lk.records
                   if t == g["tid"] and s >= start and e <= end) / 1000
        assert want > 50000 and abs(g["wait_us"] - want) <= 0.05 * want + 2000, (g, want)
        assert g["label"] == lk.names[g["tid"]] and list(g["locks"]) == ["g_mutex"], g
    doc = parse_json(by_actor)
    [g] = doc["groups"]["groups"]
    assert (g["label"], g["threads"]) == ("l-mutex-*", 4), g
    assert abs(g["wait_us"] - sum(l["wait_us"] for l in doc["locks"])) <= 1, (g, doc["locks"])
    first = by_stack.stdout.split("#1 ", 1)[1].split("\n#2", 1)[0]
    assert "g_mutex (mutex), by 4 threads (l-mutex-*)" in first and "mutex_hold" in first, first
    c = subprocess.run(["/usr/bin/python3", str(FLAME_CHECK), str(svg), "g_mutex", "mutex_hold"],
                       capture_output=True, text=True, timeout=300)
    assert c.returncode == 0, c.stdout + c.stderr


def async_truth_us(fixture, kind, start, end):
    return sum(e - s for _, k, s, e, _ in fixture.records
               if k == kind and s >= start and e <= end) / 1000


def test_tokio_semaphores(procs):
    """A tokio service (release build, no frame pointers) whose 12 tasks pass a GATE semaphore
    of 10 permits, then a POOL semaphore of 3 clients, then a query on the private PostgreSQL:
    no thread blocks, and semlat finds tokio by itself. Each semaphore's waits within 10 % of
    the tasks' own timing of their acquires, named by its static, kind async-semaphore, the
    acquires queued at once at most the tasks beyond its permits."""
    svc, doc = traced(procs, TOKIOSVC, 6, "dispatch", PG_DSN, settle=0.5)
    start, end = window(doc)
    assert doc["async"]["runtime"] == "tokio" and doc["async"]["queued"] > 100, doc["async"]
    assert not any(doc["lost"].values()), doc["lost"]
    for symbol, part, beyond in (("tokiosvc::GATE", "gate", 2), ("tokiosvc::POOL", "pool", 9)):
        # the semaphore's own wait list is behind a std Mutex inside it: a futex row may be there
        found = [x for x in locks_named(doc, symbol) if x["kind"].startswith("async-")]
        assert len(found) == 1, f"{symbol}: {[(x['name'], x['addr'], x['kind']) for x in found]}"
        l = found[0]
        want = async_truth_us(svc, part, start, end)
        assert want > 100000, f"{part}: the fixture hardly waited ({want:.0f} us)"
        assert l["kind"] == "async-semaphore" and 1 <= l["max_queued"] <= beyond, l
        assert abs(l["wait_us"] - want) <= 0.10 * want, (symbol, l["wait_us"], want)
        assert l["waiter_stacks"] and not l["waker_stacks"], l


def test_tokio_locks_and_channel(procs):
    """tokio's Mutex, RwLock (a slow writer) and a bounded mpsc channel whose consumer is
    slower than its producers: each a row of its own, waits within 10 % of the tasks' own
    timing (the channel's senders waiting for room); the RwLock kinded async-rwlock (its
    writers take every permit); the Mutex and the channel, whose tokio frames a release
    build inlines, async-semaphore."""
    svc, doc = traced(procs, TOKIOSVC, 6, "locks", settle=0.5)
    start, end = window(doc)
    async_locks = [l for l in doc["locks"] if l["kind"].startswith("async-")]
    for symbol, part, kind in (("tokiosvc::MUTEX", "mutex", "async-semaphore"),
                               ("tokiosvc::RWLOCK", "rwlock", "async-rwlock")):
        found = [l for l in async_locks if l["name"].startswith(symbol)]
        assert found, f"no lock {symbol}: {[x['name'] for x in async_locks]}"
        # an RwLock is told by its writers' permits; a Mutex by nothing in a release build
        assert {l["kind"] for l in found} == {kind}, [(l["name"], l["kind"]) for l in found]
        want = async_truth_us(svc, part, start, end)
        got = sum(l["wait_us"] for l in found)
        assert abs(got - want) <= 0.10 * want, (symbol, got, want)
    [chan] = [l for l in async_locks if not l["name"].startswith("tokiosvc::")]
    want = async_truth_us(svc, "channel", start, end)
    assert abs(chan["wait_us"] - want) <= 0.10 * want, (chan["name"], chan["wait_us"], want)


def test_no_tokio_and_tokio_without_its_poll(procs, tmp_path):
    """A service without tokio: semlat says it found no async runtime and reports its futex
    waits. A tokio binary whose Acquire::poll symbol is gone (as LTO may leave it; fat LTO
    here keeps it): one line says so, and the rest works. --no-async leaves tokio out."""
    lk = procs.fixture(LOCKS, "-d", 4, "mutex", lifetime=4)
    r = procs.semlat(["-p", lk.pid, 1])
    assert r.returncode == 0, r.stderr
    assert "no async runtime (tokio) found" in r.stdout and "g_mutex" in r.stdout, r.stdout
    lk.finish()
    nm = subprocess.run(["nm", TOKIOSVC], capture_output=True, text=True, check=True).stdout
    [poll] = [line.split()[-1] for line in nm.splitlines()
              if "batch_semaphore..Acquire" in line and "Future$GT$4poll" in line]
    cut = tmp_path / "tokiosvc-cut"
    subprocess.run(["objcopy", f"--strip-symbol={poll}", TOKIOSVC, cut], check=True)
    svc = procs.fixture(cut, 4, "locks", lifetime=4)
    time.sleep(0.5)
    r = procs.semlat(["-p", svc.pid, 1])
    assert r.returncode == 0, r.stderr
    assert "not Acquire::poll" in r.stdout, r.stdout
    # --no-async on a tokio service: said so, and no async lock
    full = procs.fixture(TOKIOSVC, 4, "locks", lifetime=4)
    time.sleep(0.5)
    r = procs.semlat(["-p", full.pid, "--no-async", "--json", 1])
    svc.finish()
    full.finish()
    doc = parse_json(r)
    assert doc["async"]["runtime"] is None and "--no-async" in doc["async"]["note"], doc["async"]
    assert not [l for l in doc["locks"] if l["kind"].startswith("async-")], doc["locks"]


def test_symbol_on_an_async_fn(procs):
    """--symbol dispatch on the tokio service, where dispatch is an `async fn` (a boxed future,
    as frameworks call handlers): one call is one future, first poll to drop. Calls as the
    fixture counts them, total latency within 10 %, its GATE and POOL waits within 10 % of
    the tasks' own timing, the query's time pending, concurrency the 12 tasks."""
    svc, doc = traced(procs, TOKIOSVC, 6, "dispatch", PG_DSN, semlat=("--symbol", "dispatch"),
                      settle=0.5)
    start, end = window(doc)
    [sym] = [s for s in doc["symbols"] if s["name"] == "tokiosvc::dispatch"]
    assert sym["async"] and sym["polls_per_call"] >= 2, sym
    calls = [(s, e) for _, k, s, e, _ in svc.records if k == "dispatch" and s >= start and e <= end]
    wall = sum(e - s for s, e in calls) / 1000
    assert len(calls) > 200 and abs(sym["calls"] - len(calls)) <= 0.02 * len(calls) + 2, (
        sym["calls"], len(calls))
    assert abs(sym["total_us"] - wall) <= 0.10 * wall, (sym["total_us"], wall)
    b = sym["breakdown"]
    for lock, part in (("tokiosvc::GATE", "gate"), ("tokiosvc::POOL", "pool")):
        want = async_truth_us(svc, part, start, end)
        got = sum(v for k, v in b["locks"].items() if k.startswith(lock))
        assert abs(got - want) <= 0.10 * want, (lock, got, want, b)
    query = async_truth_us(svc, "query", start, end)
    assert abs(b["pending"] - query) <= 0.10 * query + 0.05 * wall, (b["pending"], query)
    assert 10 <= sym["concurrency_max"] <= 12, sym["concurrency_max"]
    # its polls timed as calls of their own: what the polled time is made of
    [polls] = [s for s in doc["symbols"] if s["name"] == "tokiosvc::dispatch (polls)"]
    assert polls["calls"] >= 2 * sym["calls"] and not polls["async"], polls
    assert abs(polls["total_us"] - b["oncpu"]) <= 0.10 * b["oncpu"] + 5000, (polls, b)


def test_async_fn_dropped_before_completing(procs):
    """An async fn awaited under a timeout that drops about half of its futures: those are
    counted apart (cancelled, told by the future's state at its drop), not as calls."""
    svc, doc = traced(procs, TOKIOSVC, 6, "cancel", semlat=("--symbol", "slow"), settle=0.5)
    start, end = window(doc)
    [sym] = [s for s in doc["symbols"] if s["name"] == "tokiosvc::slow"]
    done = sum(1 for _, k, s, e, _ in svc.records if k == "slow" and s >= start and e <= end)
    dropped = sum(1 for _, k, s, e, _ in svc.records
                  if k == "slow-cancelled" and s >= start and e <= end)
    assert done > 100 and dropped > 100, (done, dropped)
    assert abs(sym["calls"] - done) <= 0.02 * done + 2, (sym["calls"], done)
    assert abs(sym["cancelled"] - dropped) <= 0.02 * dropped + 2, (sym["cancelled"], dropped)


def test_parked_workers_are_listed_apart(procs):
    """tokio's parked workers wait on futexes of their own, which are no contention
    (tokiosvc locks: two workers that park and unpark all along). Those locks are flagged idle
    and listed after the contended ones, and the text says how much of the waited time was
    idle. A std Mutex between blocking threads (tokiosvc idle) stays a contended mutex whose
    waits match the fixture within 5 %."""
    fx = procs.fixture(TOKIOSVC, 6, "locks", lifetime=6)
    time.sleep(0.3)
    r = procs.semlat(["-p", fx.pid, "--no-async", "--json", 2])
    text = procs.semlat(["-p", fx.pid, "--no-async", 1])
    fx.finish()
    assert r.returncode == 0 and text.returncode == 0, r.stderr + text.stderr
    doc = parse_json(r)
    validate_json(doc)
    parked = [l for l in doc["locks"] if l["idle"]]
    assert parked, [(l["name"], l["kind"], l["idle_us"]) for l in doc["locks"]]
    flags = [l["idle"] for l in doc["locks"]]
    assert flags == sorted(flags), f"an idle lock before a contended one: {flags}"
    assert all(l["idle_us"] >= 0.5 * l["wait_us"] for l in parked), parked
    assert any(x.startswith("idle: ") and "workers parked" in x
               for x in text.stdout.splitlines()), text.stdout
    fx, doc = traced(procs, TOKIOSVC, 6, "idle", semlat=("--no-async",))
    [mutex] = assert_lock_waits(doc, fx, "tokiosvc::BLOCK_MUTEX", "mutex")
    assert not mutex["idle"] and mutex["idle_us"] == 0, mutex
