"""Integration tests of build/offcpu against real workloads.

The workloads (tests/fixtures/waiters.c, pingpong.c) time their own blocking
calls; the tests hold offcpu's figures against those measurements. Run as
root after `make all`:

    python3 -m pytest -q tests/integration            # everything
    python3 -m pytest -q tests/integration -m 'not slow'
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"
OFFCPU = BUILD / "offcpu"
SEMLAT = BUILD / "semlat"
STATIC = BUILD / "static"  # make static: the self-contained tools
LOCKS = BUILD / "fixtures" / "locks"
RLOCKS = BUILD / "fixtures" / "rlocks"  # Rust std Mutex/RwLock, release build
TOKIOSVC = BUILD / "fixtures" / "tokiosvc"  # tokio semaphores, Mutex, RwLock, mpsc; release
DISPATCH = BUILD / "fixtures" / "dispatch"  # libpq: gate, pool, query
PG_DSN = "host=127.0.0.1 port=%s user=postgres dbname=postgres" % os.environ.get(
    "WAITSCOPE_PGPORT", "54329")
WAITERS = BUILD / "fixtures" / "waiters"
WAITERS_NOFP = BUILD / "fixtures" / "waiters-nofp"  # -O2 -fomit-frame-pointer
WAITERS_NOCFI = BUILD / "fixtures" / "waiters-nocfi"  # frame pointers, no unwind tables
CXXWAITERS = BUILD / "fixtures" / "cxxwaiters"  # waiters' protocol in C++, g++ -O2, no fp
INLINED = BUILD / "fixtures" / "inlined"  # -O2 -g -fomit-frame-pointer, waits in inlined code
PINGPONG = BUILD / "fixtures" / "pingpong"
HOGS = BUILD / "fixtures" / "hogs"
DEADLOCK = BUILD / "fixtures" / "deadlock"
SCHEMA = REPO / "docs" / "offcpu.schema.json"

REASONS = ["runqueue", "lock", "net", "poll", "pipe", "disk", "sleep", "child", "fault", "other", "idle"]

# Timed thread of waiters -> (wait reason, fixture functions its stacks must show).
# A frame-pointer walk starting in glibc (built without frame pointers) may
# skip the wait function's own frame, so either function counts.
WAITING = {
    "w-sleep": ("sleep", ("sleep_wait", "sleep_thread")),
    "w-mutex": ("lock", ("mutex_wait", "mutex_thread")),
    "w-pipe": ("pipe", ("pipe_wait", "pipe_thread")),
    "w-sock": ("net", ("sock_wait", "sock_thread")),
    "w-fsync": ("disk", ("fsync_wait", "fsync_thread")),
    "w-late": ("sleep", ("sleep_wait", "late_thread")),
}
FIXTURE_FUNCS = {f for _, fs in WAITING.values() for f in fs} | {
    "holder_thread", "pipefeed_thread", "sockfeed_thread"}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test (deselect with -m 'not slow')")


# ---------------------------------------------------------------- helpers

def frame_func(frame):
    """'sleep_wait (waiters.c:12)' / 'schedule+0x2a' / 'foo_[k]' -> the bare function name."""
    if frame.endswith("_[k]"):
        frame = frame[:-4]
    return re.split(r"[ +]", frame, maxsplit=1)[0]


def stack_funcs(stack):
    return {frame_func(f) for f in stack["frames"]}


def tolerance_us(truth_us):
    return max(0.05 * truth_us, 2000.0)


def steal_us():
    """Time the hypervisor took from this machine's CPUs so far (all CPUs, /proc/stat), in us."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    steal = int(fields[8]) if len(fields) > 8 else 0
    return steal * 1e6 / os.sysconf("SC_CLK_TCK")


def assert_matches_truth(thread, reason, truth_us, what="", calls=None, steal=0.0):
    """The workload's own off-CPU time of its calls against offcpu's figure.

    The workload's figure (wall - CPU time over each call) includes the
    runqueue wait after the wakeup, which offcpu may account as 'runqueue',
    so the truth must lie in [reason, reason + runqueue], give or take the
    tolerance max(5 %, 2 ms).

    In a VM with paravirt steal-time accounting the thread CPU clock stops
    while the host has taken the vCPU away, though the thread is still on
    its CPU for the scheduler (and for offcpu): the workload's figure then
    exceeds offcpu's by up to the steal time. I/O-heavy calls (fsync) are
    hit hardest, as the vCPU exits to the host on each I/O. `steal` (us,
    all CPUs, over the trace; see steal_us) widens the upper bound only.
    """
    got = thread["reasons"][reason]
    # the wait for a CPU that followed this reason's wakeups (older documents: all runqueue)
    rq = thread.get("runqueue_after", thread["reasons"]).get(
        reason if "runqueue_after" in thread else "runqueue", 0.0)
    tol = tolerance_us(truth_us)
    ok = got - tol <= truth_us <= got + rq + tol + steal
    desc = (f"{what} tid {thread['tid']} ({thread['comm']}): workload measured "
            f"{truth_us / 1000:.1f} ms off-CPU in its {reason} calls; offcpu says "
            f"{reason} {got / 1000:.1f} ms, runqueue {rq / 1000:.1f} ms (tolerance "
            f"{tol / 1000:.1f} ms, hypervisor steal during the trace {steal / 1000:.1f} ms); "
            f"thread: {json.dumps(thread)}")
    if calls and not ok:
        big = sorted(calls, key=lambda c: -c[4])[:5]
        desc += "\nlongest calls in the window (start_ns, end_ns, offcpu_us): " + ", ".join(
            f"({c[2]}, {c[3]}, {c[4] / 1000:.0f})" for c in big)
    assert ok, desc


def kallsyms_names():
    names = set()
    with open("/proc/kallsyms") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                names.add(parts[2])
    return names


def is_kernel_thread(tid):
    """Ground truth from /proc: PF_KTHREAD in the task's flags; None when the task is gone."""
    try:
        with open(f"/proc/{tid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    flags = int(fields[6])  # field 9 of proc(5), counting from 1 with pid and comm
    return bool(flags & 0x00200000)


_validators = {}


def validate_json(doc):
    """Checks a document against docs/TOOL.schema.json, TOOL its "tool" (if jsonschema is
    importable)."""
    try:
        import jsonschema
    except ImportError:
        return
    tool = doc.get("tool", "offcpu") if isinstance(doc, dict) else "offcpu"
    path = REPO / "docs" / f"{tool}.schema.json"
    if tool not in _validators:
        schema = json.loads(path.read_text())
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _validators[tool] = cls(schema)
    errors = sorted(_validators[tool].iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, f"{tool} --json does not match {path.name}:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors[:20])


def parse_json(result):
    assert result.stdout.strip(), (
        f"offcpu printed nothing on stdout (rc {result.returncode}); stderr: {result.stderr!r}")
    try:
        doc = json.loads(result.stdout)
    except ValueError as e:
        raise AssertionError(f"offcpu --json output is not JSON ({e}): {result.stdout[:2000]!r}")
    validate_json(doc)
    return doc


def threads_by_tid(doc):
    return {t["tid"]: t for t in doc["threads"]}


def window(doc):
    """The trace window (start_ns, end_ns), CLOCK_MONOTONIC like the workload's records."""
    return doc["window"]["start_ns"], doc["window"]["end_ns"]


def fixture_stacks_ok(doc, tid, reason, funcs, min_share=0.5):
    """At least one stack of the thread in the reason shows a fixture function,
    and such stacks carry at least min_share of the thread's time in that
    reason. Returns a message on failure, None when fine."""
    stacks = [s for s in doc["stacks"] if s["tid"] == tid and s["reason"] == reason]
    if not stacks:
        return f"tid {tid}: no {reason} stacks at all"
    total = sum(s["total_us"] for s in stacks)
    good = [s for s in stacks if stack_funcs(s) & set(funcs)]
    if not good:
        return (f"tid {tid}: none of its {len(stacks)} {reason} stacks contains any of {funcs}; "
                f"biggest: {max(stacks, key=lambda s: s['total_us'])['frames']}")
    share = sum(s["total_us"] for s in good) / total if total else 1.0
    if share < min_share:
        bad = max((s for s in stacks if s not in good), key=lambda s: s["total_us"])
        return (f"tid {tid}: only {share:.0%} of its {reason} time has stacks with {funcs}; "
                f"biggest stack without: {bad['frames']}")
    return None


def assert_waiters_match(doc, w, names, what, steal, same_pid=False, waiting=WAITING):
    """Each named thread of the workload w is in the report (with w's pid if
    same_pid), its time in its wait reason matches the workload's own figure
    over the window (assert_matches_truth), and its stacks show the fixture
    functions (fixture_stacks_ok). waiting: thread name -> (reason, functions),
    as WAITING is for waiters."""
    start, end = window(doc)
    th = threads_by_tid(doc)
    for name in names:
        tid = w.tid(name)
        reason, funcs = waiting[name]
        assert tid in th, f"{what}: {name} (tid {tid}) missing from the report: {sorted(th)}"
        if same_pid:
            assert th[tid]["pid"] == w.pid, (what, name, th[tid])
        msg = fixture_stacks_ok(doc, tid, reason, funcs)
        assert msg is None, f"{what}, {name}: {msg}"
        assert_matches_truth(th[tid], reason, w.truth_us(tid, start, end), what, steal=steal)


def wait_attached(popen, timeout=30):
    """Waits until the tool has attached its BPF programs (it holds a bpf_link), so that a
    test's own timing starts with the trace, whatever the load and verification took."""
    fds = f"/proc/{popen.pid}/fd"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert popen.poll() is None, f"the tool ended before it attached: {popen.communicate()}"
        try:
            if any(os.readlink(f"{fds}/{fd}") == "anon_inode:bpf_link" for fd in os.listdir(fds)):
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"not attached within {timeout} s")


# ---------------------------------------------------------------- processes

class Waiters:
    """A running waiters (or pingpong) process and what it printed."""

    def __init__(self, popen, cmd, lifetime=None):
        self.popen = popen
        self.cmd = cmd
        self.lifetime = lifetime  # seconds it runs by itself, None: until SIGTERM
        self.pid = popen.pid
        self.lines = []
        self.threads = {}  # name -> tid
        self.names = {}  # tid -> name
        self.records = []  # (tid, reason, start_ns, end_ns, offcpu_ns)
        self.holds = []  # (tid, kind, start_ns, end_ns): locks held (locks.c)
        self.overflow = {}
        self.roundtrips = None
        self.samples = {}  # tid -> [(mono_ns, thread_cpu_ns)] (hogs)
        self.done = False
        self._ready = threading.Event()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.popen.stdout:
            parts = line.split()
            with self._cond:
                self.lines.append(line)
                if not parts:
                    continue
                if parts[0] == "thread":
                    self.threads[parts[2]] = int(parts[1])
                    self.names[int(parts[1])] = parts[2]
                elif parts[0] == "ready":
                    self._ready.set()
                elif parts[0] == "wait":
                    self.records.append((int(parts[1]), parts[2], int(parts[3]), int(parts[4]),
                                         int(parts[5])))
                elif parts[0] == "hold":
                    self.holds.append((int(parts[1]), parts[2], int(parts[3]), int(parts[4])))
                elif parts[0] == "overflow":
                    self.overflow[int(parts[1])] = int(parts[2])
                elif parts[0] == "roundtrips":
                    self.roundtrips = int(parts[1])
                elif parts[0] == "sample":
                    self.samples.setdefault(int(parts[1]), []).append(
                        (int(parts[2]), int(parts[3])))
                elif parts[0] == "done":
                    self.done = True
                self._cond.notify_all()
        self._ready.set()

    def wait_ready(self, timeout=10):
        self._ready.wait(timeout)
        assert any(l.startswith("ready") for l in self.lines), (
            f"{self.cmd} did not get ready: {self.lines} rc {self.popen.poll()}")

    def wait_thread(self, name, timeout=10):
        with self._cond:
            assert self._cond.wait_for(lambda: name in self.threads, timeout), (
                f"{self.cmd}: no thread {name} in {self.lines}")
        return self.threads[name]

    def tid(self, name):
        assert name in self.threads, f"{self.cmd}: no thread {name}: {self.threads}"
        return self.threads[name]

    def finish(self, timeout=15):
        """Ends the workload and collects its records. A workload started
        with a duration (-d/-x) is waited for; any other gets SIGTERM."""
        if self.lifetime is None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        else:
            timeout += self.lifetime or 0
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            raise AssertionError(f"{self.cmd} did not end within {timeout} s")
        self._reader.join(timeout)
        assert self.done, f"{self.cmd} ended (rc {self.popen.returncode}) without 'done'"
        assert not self.overflow, f"{self.cmd}: record arrays overflowed: {self.overflow}"
        return self

    def truth_us(self, tid, start_ns, end_ns, min_ns=0, max_ns=None):
        """Off-CPU time (us) of the thread's timed calls inside [start_ns, end_ns]. offcpu
        counts the periods open at either end of the window up to the window's edge, so a
        call that straddles an edge counts for its share inside (a blocking call is off-CPU
        nearly all along). With min_ns/max_ns (offcpu -m/-M) only whole calls count, as
        offcpu filters whole periods."""
        total = 0.0
        whole = min_ns > 0 or max_ns is not None
        for t, _, s, e, off in self.records:
            if t != tid or off < min_ns or (max_ns is not None and off > max_ns):
                continue
            inside = min(e, end_ns) - max(s, start_ns)
            if inside <= 0 or (whole and (s < start_ns or e > end_ns)):
                continue
            total += off * inside / (e - s) if e > s else off
        return total / 1000.0

    def calls(self, tid, start_ns=0, end_ns=None):
        return [r for r in self.records if r[0] == tid and r[2] >= start_ns and (
            end_ns is None or r[3] <= end_ns)]


class Procs:
    """Starts processes for one test and kills whatever is left at teardown."""

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.popens = []

    def _track(self, p):
        self.popens.append(p)
        return p

    def waiters(self, *modes, d=None, x=None, late=None, env=None, exec_after=None,
                binary=WAITERS, prefix=()):
        """Starts waiters and waits for its "ready". exec_after=S: a shell
        runs S seconds first, then execs waiters in the same process. prefix: a
        command that execs the rest of its arguments in the same process."""
        cmd = [str(binary)]
        if d is not None:
            cmd += ["-d", str(d)]
        if x is not None:
            cmd += ["-x", str(x)]
        if late is not None:
            cmd += ["-l", str(late)]
        cmd += list(modes)
        e = dict(os.environ, WAITERS_DIR=str(self.tmpdir))
        e.update(env or {})
        argv = cmd if exec_after is None else (
            ["sh", "-c", f'sleep {exec_after}; exec "$0" "$@"'] + cmd)
        argv = list(prefix) + argv
        p = self._track(subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=e,
                                         cwd=self.tmpdir))
        ends = [v + (exec_after or 0) for v in (d, x) if v is not None]
        w = Waiters(p, "waiters " + " ".join(cmd[1:]), min(ends) if ends else None)
        w.wait_ready()
        return w

    def pingpong(self, pairs=2, d=60):
        cmd = [str(PINGPONG), "-n", str(pairs), "-d", str(d)]
        p = self._track(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
        w = Waiters(p, "pingpong")
        w.wait_ready()
        return w

    def fixture(self, path, *args, lifetime=None):
        """Any other fixture that prints "ready PID" (hogs, deadlock)."""
        cmd = [str(path)] + [str(a) for a in args]
        p = self._track(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
        w = Waiters(p, " ".join(cmd), lifetime)
        w.wait_ready()
        return w

    def offcpu_popen(self, args, tool=OFFCPU, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("text", True)
        return self._track(subprocess.Popen([str(tool)] + [str(a) for a in args], **kw))

    def semlat(self, args, timeout=60):
        return self.offcpu(args, timeout, tool=SEMLAT)

    def offcpu(self, args, timeout=60, tool=OFFCPU):
        """Runs offcpu (or another tool) to completion; returns a CompletedProcess with
        .elapsed."""
        t0 = time.monotonic()
        steal0 = steal_us()
        p = self.offcpu_popen(args, tool)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            raise AssertionError(f"offcpu {args} did not end within {timeout} s; "
                                 f"stderr: {err[-2000:]!r}")
        r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        r.elapsed = time.monotonic() - t0
        r.steal_us = steal_us() - steal0
        return r

    def cleanup(self):
        for p in self.popens:
            if p.poll() is None:
                p.kill()
        for p in self.popens:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for f in (p.stdout, p.stderr):
                if f:
                    try:
                        f.close()
                    except OSError:
                        pass


def _check_environment():
    problems = []
    if os.geteuid() != 0:
        problems.append("the integration tests must run as root")
    for b in (OFFCPU, WAITERS, PINGPONG):
        if not os.access(b, os.X_OK):
            problems.append(f"{b.relative_to(REPO)} is missing: run `make all` first")
    return problems


@pytest.fixture(scope="session")
def env_ok():
    problems = _check_environment()
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


def _disk_tmpdir():
    """A scratch directory on a real disk file system (fsync must reach a disk)."""
    for base in (BUILD, Path("/var/tmp")):
        try:
            base.mkdir(parents=True, exist_ok=True)
            d = Path(tempfile.mkdtemp(prefix="itest-", dir=base))
        except OSError:
            continue
        fstype = None
        best = ""
        with open("/proc/mounts") as f:
            for line in f:
                mnt, typ = line.split()[1], line.split()[2]
                if str(d).startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best):
                    best, fstype = mnt, typ
        if fstype not in ("tmpfs", "ramfs", "overlay"):
            return d
        shutil.rmtree(d, ignore_errors=True)
    pytest.fail("no scratch directory on a disk file system (build/ and /var/tmp are tmpfs)")


def _scratch_procs():
    """A Procs in a fresh scratch directory; both go when the fixture ends."""
    d = _disk_tmpdir()
    p = Procs(d)
    yield p
    p.cleanup()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def procs(env_ok):
    yield from _scratch_procs()


@pytest.fixture(scope="session")
def session_procs(env_ok):
    yield from _scratch_procs()


@pytest.fixture(scope="session")
def traced_all(session_procs):
    """One 4 s `offcpu -p PID --json` of waiters running the five waiting modes,
    and the workload's own records; shared by the accuracy and stack tests."""
    w = session_procs.waiters("sleep", "mutex", "pipe", "socket", "fsync")
    time.sleep(0.2)
    r = session_procs.offcpu(["-p", w.pid, "--json", 4])
    w.finish()
    assert r.returncode == 0, f"offcpu rc {r.returncode}; stderr: {r.stderr!r}"
    doc = parse_json(r)
    return w, doc, r
