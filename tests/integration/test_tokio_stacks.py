"""offcpu on a tokio service built as users build them (tokiosvc idle: cargo --release, no frame
pointers): a runtime of 4 workers with next to nothing to do, beside 3 std threads that contend
on a std Mutex and time their own lock calls. The blockers' stacks and lock time are checked
here; what the parked workers' time is called is not (the fixture prints their tids for that)."""

import time

from conftest import TOKIOSVC, assert_matches_truth, parse_json, threads_by_tid, window

SECONDS = 9  # the fixture's life: both traces below, each tool's start-up included


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
