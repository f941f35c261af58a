"""offcpu's command line: errors, signals, closed stdout, the live status line."""

import os
import pty
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import (OFFCPU, assert_waiters_match, frame_func, parse_json, steal_us,
                      wait_attached)


def one_line(text):
    lines = text.splitlines()
    return len(lines) == 1 and lines[0].strip() != ""


def unused_pid():
    with open("/proc/sys/kernel/pid_max") as f:
        pid = int(f.read()) - 1
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    return pid


def test_unknown_pid(procs):
    pid = unused_pid()
    r = procs.offcpu(["-p", pid, 1], timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert one_line(r.stderr), f"expected one line on stderr, got {r.stderr!r}"
    assert str(pid) in r.stderr
    assert r.stdout == ""


def test_thread_id_given_as_pid(procs):
    w = procs.waiters("sleep", d=10)
    tid = w.threads["w-sleep"]
    r = procs.offcpu(["-p", tid, 1], timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert one_line(r.stderr), f"expected one line on stderr, got {r.stderr!r}"
    assert f"-p {w.pid}" in r.stderr and f"-t {tid}" in r.stderr, r.stderr
    assert r.stdout == ""


def test_thread_of_another_process(procs):
    a = procs.waiters("sleep", d=10)
    b = procs.waiters("sleep", d=10)
    r = procs.offcpu(["-p", a.pid, "-t", b.threads["w-sleep"], 1], timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert one_line(r.stderr) and str(b.pid) in r.stderr, r.stderr
    assert r.stdout == ""


def test_unknown_pid_among_known(procs):
    w = procs.waiters("sleep")
    r = procs.offcpu(["-p", f"{w.pid},{unused_pid()}", 1], timeout=30)
    w.finish()
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert one_line(r.stderr), r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("args,named", [
    (["--no-such-flag", 1], "--no-such-flag"), (["-m", "abc", 1], "abc"),
    (["--by", "nothing", 1], "nothing"), (["-Z", 1], "-Z"), (["1", "-p"], "-p"),
    (["--json=3", 1], "--json=3"), (["-u", "-k", 1], "-k"), (["1", "2"], "2"),
    (["0"], "0")])
def test_bad_usage(procs, args, named):
    """One line that names what is wrong, exit 2, nothing on stdout."""
    r = procs.offcpu(args, timeout=30)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert one_line(r.stderr), f"expected one line on stderr, got {r.stderr!r}"
    assert r.stderr.startswith("offcpu: ") and named in r.stderr, r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("flag,says", [("--help", "EXAMPLES"), ("--version", "offcpu"),
                                       ("--usage", "Usage: offcpu")])
def test_help_exits_at_once(procs, flag, says):
    r = procs.offcpu([flag], timeout=10)
    assert r.returncode == 0, (flag, r.returncode, r.stderr)
    assert says in r.stdout, r.stdout


def test_not_root(procs):
    """As an unprivileged user: one clear line and exit 1, no verifier dump."""
    if not shutil.which("runuser"):
        pytest.fail("runuser (util-linux) is needed for this test")
    d = tempfile.mkdtemp(prefix="offcpu-nobody-")
    try:
        os.chmod(d, 0o755)
        exe = os.path.join(d, "offcpu")
        shutil.copy(OFFCPU, exe)
        os.chmod(exe, 0o755)
        r = subprocess.run(["runuser", "-u", "nobody", "--", exe, "1"], capture_output=True,
                           text=True, timeout=30, cwd=d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert one_line(r.stderr), f"expected one line on stderr, got {r.stderr!r}"
    assert r.stdout == ""


def test_missing_btf(procs):
    r = procs.offcpu(["--btf", "/nonexistent", 1], timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert one_line(r.stderr), f"expected one line on stderr, got {r.stderr!r}"
    assert r.stdout == ""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_prints_report(procs, sig):
    w = procs.waiters("sleep", "pipe")
    steal0 = steal_us()
    off = procs.offcpu_popen(["-p", w.pid, "--json"])
    wait_attached(off)
    time.sleep(2)
    assert off.poll() is None, f"offcpu without a duration ended early: {off.communicate()}"
    off.send_signal(sig)
    out, err = off.communicate(timeout=30)
    steal = steal_us() - steal0
    w.finish()
    assert off.returncode == 0, (off.returncode, err)
    doc = parse_json(subprocess.CompletedProcess(off.args, off.returncode, out, err))
    assert 1.5e6 <= doc["duration_us"] <= 5e6, doc["duration_us"]
    assert_waiters_match(doc, w, ("w-sleep", "w-pipe"), f"after {sig.name}", steal)


def test_head_one_is_quiet(procs, tmp_path):
    """`offcpu ... | head -1`: head takes one line and goes; offcpu ends quietly."""
    w = procs.waiters("sleep", "pipe", "mutex")
    err = tmp_path / "err"
    r = subprocess.run(["bash", "-c", f'"{OFFCPU}" -p {w.pid} 2 2>"{err}" | head -1; '
                        'echo "rc=${PIPESTATUS[0]}"'], capture_output=True, text=True, timeout=60)
    w.finish()
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[0].strip(), r.stdout
    assert lines[1] == "rc=0", f"offcpu exit status in the pipeline: {lines[1]}"
    assert err.read_text() == "", f"offcpu wrote to stderr: {err.read_text()!r}"


@pytest.mark.parametrize("fmt", [[], ["-f"], ["--json"]], ids=["text", "folded", "json"])
def test_closed_stdout_is_quiet(procs, fmt):
    """The reader is gone before the report is written (`| true`): EPIPE, not an error."""
    w = procs.waiters("sleep", "pipe")
    off = procs.offcpu_popen(["-p", w.pid] + fmt + [2])
    off.stdout.close()
    err = off.stderr.read()
    off.wait(30)
    w.finish()
    assert off.returncode == 0, (off.returncode, err)
    assert err == "", f"offcpu wrote to stderr: {err!r}"


class Screen:
    """Enough of a terminal to tell what a status line leaves on the screen."""

    def __init__(self):
        self.lines = [[]]
        self.col = 0
        self.snapshots = []  # the current line each time it is about to be erased or replaced

    def _cur(self):
        return self.lines[-1]

    def feed(self, data):
        i = 0
        while i < len(data):
            c = data[i]
            if c == "\x1b":
                m = re.match(r"\x1b\[([0-9;?]*)([A-Za-z])", data[i:])
                if m:
                    arg, cmd = m.group(1), m.group(2)
                    if cmd == "K":
                        self.snapshots.append("".join(self._cur()))
                        if arg in ("", "0"):
                            del self._cur()[self.col:]
                        elif arg == "2":
                            self.lines[-1] = [" "] * self.col
                        elif arg == "1":
                            self.lines[-1][: self.col] = [" "] * self.col
                    elif cmd == "G":
                        self.col = max(0, int(arg or 1) - 1)
                    elif cmd == "A":  # cursor up: the line above becomes current
                        n = int(arg or 1)
                        for _ in range(min(n, len(self.lines) - 1)):
                            self.snapshots.append("".join(self.lines.pop()))
                    i += len(m.group(0))
                    continue
                i += 1
                continue
            if c == "\r":
                self.col = 0
            elif c == "\n":
                self.lines.append([])
                self.col = 0
            elif c == "\b":
                self.col = max(0, self.col - 1)
            elif c >= " ":
                cur = self._cur()
                while len(cur) < self.col:
                    cur.append(" ")
                if self.col < len(cur):
                    cur[self.col] = c
                else:
                    cur.append(c)
                self.col += 1
            i += 1

    def text(self):
        return "\n".join("".join(l).rstrip() for l in self.lines).strip()


def read_pty(master, sink):
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            return
        if not data:
            return
        sink.append(data)


def test_live_status_on_a_terminal(procs):
    w = procs.waiters("sleep", "pipe")
    master, slave = pty.openpty()
    chunks = []
    reader = threading.Thread(target=read_pty, args=(master, chunks), daemon=True)
    reader.start()
    try:
        off = procs.offcpu_popen(["-p", w.pid, 3], stderr=slave)
        os.close(slave)
        out, _ = off.communicate(timeout=60)
        reader.join(5)
    finally:
        os.close(master)
    w.finish()
    assert off.returncode == 0
    raw = b"".join(chunks).decode(errors="replace")
    assert raw, "nothing on the terminal: no live status"
    screen = Screen()
    screen.feed(raw)
    shown = [s for s in screen.snapshots + [screen.text()] if s.strip()]
    assert shown, f"no status line was drawn: {raw!r}"
    assert any(re.search(r"\d+(\.\d+)?\s*(s|sec|seconds)\b|\d+:\d\d", s) for s in shown), (
        f"the status line shows no elapsed time: {shown}")
    assert screen.text() == "", (
        f"the status line was not erased before the report; the terminal shows {screen.text()!r}")
    # and the report is still printed, on stdout
    words = {frame_func(t) for t in out.split()}
    assert words & {"sleep_wait", "sleep_thread"}, f"no report on stdout:\n{out}"


@pytest.mark.parametrize("fmt", [[], ["--json"], ["-f"]], ids=["text", "json", "folded"])
def test_no_status_when_stderr_is_not_a_terminal(procs, fmt):
    w = procs.waiters("sleep", "pipe")
    r = procs.offcpu(["-p", w.pid] + fmt + [2])
    w.finish()
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", f"stderr is a pipe, yet offcpu wrote {r.stderr!r}"
    assert r.stdout.strip()
    words = {frame_func(t) for t in re.split(r"[\s;\"]+", r.stdout)}
    assert words & {"sleep_wait", "sleep_thread"}, f"no fixture stacks in:\n{r.stdout[:3000]}"
