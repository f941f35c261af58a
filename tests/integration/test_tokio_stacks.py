"""offcpu on a tokio service built as users build them (tokiosvc idle: cargo --release, no frame
pointers): a runtime of 4 workers with next to nothing to do, timing their parks with tokio's
own park/unpark callbacks, beside 3 std threads that contend on a std Mutex and time their own
lock calls. The blockers' stacks and lock time, and the parked workers' idle time, are checked
against the fixture's clocks."""

import time

from conftest import TOKIOSVC, assert_matches_truth, parse_json, threads_by_tid, tolerance_us, window

SECONDS = 12  # the fixture's life: both traces below, each tool's start-up included


def user_frames(stack):
    return [f for f in stack["frames"] if not f.endswith("_[k]")]


def biggest_user_frames(doc, tid, reason):
    stacks = [s for s in doc["stacks"] if s["tid"] == tid and s["reason"] == reason]
    assert stacks, f"tid {tid}: no {reason} stacks: {[s['frames'] for s in doc['stacks'][:3]]}"
    return user_frames(max(stacks, key=lambda s: s["total_us"]))


def index(frames, pred, what):
    found = [i for i, f in enumerate(frames) if pred(f)]
    assert found, f"no {what} frame: {frames}"
    return found[0]


def test_tokio_blockers_whole_stacks_and_lock_time(procs):
    """Each blocker's lock stack reaches from start_thread through std's thread start and the
    fixture's blocker function to std's contended Mutex lock, which that function calls; its
    lock time matches the fixture's own lock waits within 5 %; --stack fp stops short. The
    fixture's tids are the report's threads."""
    svc = procs.fixture(TOKIOSVC, SECONDS, "idle", lifetime=SECONDS)
    blockers = sorted(t for t, n in svc.names.items() if n == "blocker")
    workers = sorted(t for t, n in svc.names.items() if n == "tokio-runtime-worker")
    assert len(blockers) == 3 and len(workers) == 4, svc.lines
    time.sleep(0.3)
    r = procs.offcpu(["-p", svc.pid, "--json", 3])
    assert r.returncode == 0, r.stderr
    rfp = procs.offcpu(["-p", svc.pid, "--stack", "fp", "--json", 2])
    assert rfp.returncode == 0, rfp.stderr
    svc.finish()
    doc, fp = parse_json(r), parse_json(rfp)
    assert rfp.elapsed + r.elapsed < SECONDS - 0.5, (r.elapsed, rfp.elapsed)
    th = threads_by_tid(doc)
    start, end = window(doc)
    assert {t for t in th if th[t]["comm"] == "tokio-runtime-w"} == set(workers), (workers, th)
    for tid in blockers:
        assert tid in th and th[tid]["comm"] == "blocker", (tid, sorted(th))
        truth = svc.truth_us(tid, start, end)
        assert truth > 500000, f"blocker {tid} hardly waited for the lock: {truth:.0f} us"
        assert_matches_truth(th[tid], "lock", truth, "tokiosvc idle", svc.calls(tid, start, end),
                             r.steal_us)
        frames = biggest_user_frames(doc, tid, "lock")
        outer = index(frames, lambda f: f == "start_thread", "start_thread")
        # std's thread start: <std::sys::thread::unix::Thread>::new::thread_start in this
        # rustc, std::sys::pal::unix::thread::Thread::new::thread_start in others
        spawn = index(frames, lambda f: f.endswith("Thread>::new::thread_start")
                      or f.endswith("Thread::new::thread_start"), "std thread start")
        fn = index(frames, lambda f: f == "tokiosvc::blocker", "tokiosvc::blocker")
        assert outer < spawn < fn < len(frames) - 1, frames
        # std's futex Mutex, however this rustc names it (<std::sys::sync::mutex::futex::Mutex>
        # ::lock_contended, std::sys::unix::locks::futex_mutex::Mutex::lock_contended)
        below = frames[fn + 1]
        assert below.startswith(("std::", "<std::")) and "mutex" in below.lower(), (
            f"blocker {tid}: tokiosvc::blocker calls {below}, not std's Mutex: {frames}")
        short = biggest_user_frames(fp, tid, "lock")
        assert len(short) < len(frames) and "start_thread" not in short and not any(
            "thread_start" in f for f in short), (
            f"blocker {tid}: --stack fp should stop short: {short}, tables: {frames}")
    u = doc["unwind"]
    assert u["tables"] and u["walked"] > 50 and u["cut_short"] <= 0.05 * u["walked"], u


def parked(thread):
    """A worker's parked time as offcpu tells it: idle (a worker in tokio's Parker), and poll
    for the one that parks in the I/O driver's epoll_wait; with the CPU waits after them."""
    after = thread["runqueue_after"]
    return {**thread, "reasons": {"parked": thread["reasons"]["idle"] + thread["reasons"]["poll"]},
            "runqueue_after": {"parked": after["idle"] + after["poll"]}}


def test_tokio_parked_workers_are_idle_not_lock(procs):
    """The issue's case: a quiet tokio service must not read as lock contention. Each worker's
    idle + poll time matches its parks as tokio's callbacks time them (5 %), its lock time is
    next to nothing, and the main thread in block_on is idle all along; the process's lock
    time is the blockers' own lock waits (5 %), and the summary line says how much was idle."""
    svc = procs.fixture(TOKIOSVC, SECONDS, "idle", lifetime=SECONDS)
    workers = sorted(t for t, n in svc.names.items() if n == "tokio-runtime-worker")
    blockers = sorted(t for t, n in svc.names.items() if n == "blocker")
    time.sleep(0.3)
    r = procs.offcpu(["-p", svc.pid, "--json", 3])
    assert r.returncode == 0, r.stderr
    text = procs.offcpu(["-p", svc.pid, 1])
    assert text.returncode == 0, text.stderr
    svc.finish()
    doc = parse_json(r)
    th = threads_by_tid(doc)
    start, end = window(doc)
    idle = 0.0
    for tid in workers:
        truth = svc.truth_us(tid, start, end)
        assert truth > 0.5 * (end - start) / 1000, f"worker {tid} hardly parked: {truth:.0f} us"
        assert_matches_truth(parked(th[tid]), "parked", truth, "tokiosvc idle worker",
                             svc.calls(tid, start, end), r.steal_us)
        assert th[tid]["reasons"]["lock"] <= 0.02 * truth, (
            f"worker {tid}: parked time read as lock: {th[tid]['reasons']}")
        idle += th[tid]["reasons"]["idle"]
    # three of the four park in a Parker at any time: idle is most of the workers' time
    assert idle > 0.5 * sum(th[t]["reasons"]["idle"] + th[t]["reasons"]["poll"] for t in workers)
    main = th[svc.pid]["reasons"]
    assert main["lock"] == 0.0 and main["idle"] >= 0.95 * (end - start) / 1000, main
    lock_truth = sum(svc.truth_us(t, start, end) for t in blockers)
    rq = sum(th[t]["runqueue_after"]["lock"] for t in blockers)
    assert doc["reasons"]["lock"] - tolerance_us(lock_truth) <= lock_truth <= (
        doc["reasons"]["lock"] + rq + tolerance_us(lock_truth) + r.steal_us), (
        f"process lock {doc['reasons']['lock']:.0f} us, the blockers' waits {lock_truth:.0f} us")
    idle_stacks = [x for x in doc["stacks"] if x["reason"] == "idle"]
    assert idle_stacks and all(x["tid"] in workers + [svc.pid] for x in idle_stacks)
    summary = text.stdout.splitlines()[0]
    assert "idle, workers waiting for work" in summary, summary
