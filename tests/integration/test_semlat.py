"""semlat against tests/fixtures/locks.c, whose threads time each lock call themselves."""

import subprocess
import time

from conftest import LOCKS, parse_json, window

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


def truth_us(fixture, kind, start, end):
    """The fixture's own time in calls of that kind that began and ended inside the window."""
    return sum(e - s for _, k, s, e, _ in fixture.records
               if k == kind and s >= start and e <= end) / 1000


def test_waits_match_the_fixture(procs):
    """Per lock: total wait within 5 % (+2 ms) of the fixture's own timing of its lock calls;
    kind and name right (globals by symbol); waiter stacks show the waiting function and
    releaser stacks the releasing one, through glibc without frame pointers."""
    lk = procs.fixture(LOCKS, "-d", 6, *LOCKS_OF, lifetime=6)
    time.sleep(0.3)
    r = procs.semlat(["-p", lk.pid, "--json", 3])
    lk.finish()
    assert r.returncode == 0, r.stderr
    doc = parse_json(r)
    start, end = window(doc)
    assert doc["lost"] and not any(doc["lost"].values()), doc["lost"]
    for mode, (kind, symbol, waiter, releaser) in LOCKS_OF.items():
        found = locks_named(doc, symbol)
        assert found, f"{mode}: no lock named {symbol}: {[l['name'] for l in doc['locks']]}"
        assert {l["kind"] for l in found} == {kind}, [(l["name"], l["kind"]) for l in found]
        got = sum(l["wait_us"] for l in found)
        want = truth_us(lk, kind, start, end)
        assert want > 100000, f"{mode}: the fixture hardly waited ({want:.0f} us)"
        assert abs(got - want) <= 0.05 * want + 2000, (
            f"{mode}: semlat {got:.0f} us waited on {symbol}, the fixture {want:.0f} us")
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
                       (["-p", "1", "--stack", "x"], "--stack"), (["-p", "1", "abc"], "duration")):
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

