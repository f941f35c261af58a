"""What lands on a production host: the static tools, run from a root that holds nothing but
themselves; targets whose files the tool cannot see; make install; --version."""

import os
import re
import subprocess
from pathlib import Path

from conftest import (LOCKS, OFFCPU, REPO, SEMLAT, STATIC, assert_waiters_match, parse_json,
                      threads_by_tid)

# Runs $2.. in a root of its own: a tmpfs at $1 holding the tool ($2) and /proc and /sys only.
EMPTY_ROOT = """set -e
mount -t tmpfs -o size=64m none "$1"
mkdir "$1/proc" "$1/sys"
mount --rbind /proc "$1/proc"
mount --rbind /sys "$1/sys"
cp "$2" "$1/tool"
root=$1; shift 2
exec chroot "$root" /tool "$@"
"""

# Execs $2.. as $1/wt from a tmpfs of its own mount namespace: a container's files.
CONTAINER = """set -e
mount -t tmpfs -o size=64m none "$1"
cp "$2" "$1/wt"
dir=$1; shift 2
exec "$dir/wt" "$@"
"""


def empty_root(procs, tool, args, timeout=60):
    root = Path(procs.tmpdir) / "root"
    root.mkdir(exist_ok=True)
    return procs.offcpu(["-m", "sh", "-c", EMPTY_ROOT, "sh", root, STATIC / tool] + args,
                        timeout, tool="unshare")


def stack_names(doc, tid, reason):
    """User frames of the thread's biggest stack in that reason, innermost first."""
    stacks = [s for s in doc["stacks"] if s["tid"] == tid and s["reason"] == reason]
    assert stacks, f"tid {tid}: no {reason} stacks"
    big = max(stacks, key=lambda s: s["total_us"])
    return [f for f in big["frames"] if not f.endswith("_[k]")]


def test_static_offcpu_from_an_empty_root(procs):
    """The static offcpu in a root of its own, traced until the target exits: figures match
    the fixture's own, and every name matches the dynamic build's run beside it (the binaries
    and glibc's debug file are read through what the tool held while the target lived)."""
    w = procs.waiters("mutex", "sleep", d=3)
    dyn = procs.offcpu_popen(["-p", w.pid, "--json", 10])
    r = empty_root(procs, "offcpu", ["-p", w.pid, "--json", 10])
    out, err = dyn.communicate(timeout=30)
    w.finish()
    assert r.returncode == 0 and dyn.returncode == 0, (r.stderr, err)
    doc = parse_json(r)
    ref = parse_json(subprocess.CompletedProcess([], 0, out, err))
    assert_waiters_match(doc, w, ("w-mutex", "w-sleep"), "static, empty root", r.steal_us)
    for name, reason in (("w-mutex", "lock"), ("w-sleep", "sleep")):
        tid = w.tid(name)
        got, want = stack_names(doc, tid, reason), stack_names(ref, tid, reason)
        assert got == want, f"{name}: static {got}, dynamic {want}"
        assert "start_thread" in got, got  # glibc's debug file, by build ID, under the root
    frames = {f for s in doc["stacks"] for f in s["frames"]}
    assert not [f for f in frames if f.startswith("waiters+")], sorted(frames)
    assert threads_by_tid(doc).keys() == threads_by_tid(ref).keys()


def test_target_in_its_own_mount_namespace_exits(procs):
    """A target whose binary lives on a tmpfs that only its mount namespace has, exiting
    before the report: its frames keep their names (it used to give 'wt+0x2a2e')."""
    fs = Path(procs.tmpdir) / "container"
    fs.mkdir()
    prefix = ["unshare", "-m", "sh", "-c", CONTAINER, "sh", str(fs)]
    w = procs.waiters("mutex", "sleep", d=2, prefix=prefix)
    assert os.readlink(f"/proc/{w.pid}/exe") == f"{fs}/wt"
    assert not (fs / "wt").exists()  # not in our view
    r = procs.offcpu(["-p", w.pid, "--json", 10])
    w.finish()
    assert r.returncode == 0, r.stderr
    doc = parse_json(r)
    assert_waiters_match(doc, w, ("w-mutex", "w-sleep"), "container target", r.steal_us)
    frames = {f for s in doc["stacks"] for f in s["frames"]}
    assert not [f for f in frames if f.startswith("wt+")], sorted(frames)


def test_static_semlat_from_an_empty_root(procs):
    """semlat's static build: the fixture's global mutex named by its symbol, from a root that
    does not hold the fixture's binary."""
    lk = procs.fixture(LOCKS, "-d", 4, "mutex", lifetime=4)
    r = empty_root(procs, "semlat", ["-p", lk.pid, "--json", 2])
    lk.finish()
    assert r.returncode == 0, r.stderr
    doc = parse_json(r)
    named = [l for l in doc["locks"] if l["name"] == "g_mutex" or l["name"].startswith("g_mutex+")]
    assert named and sum(l["waits"] for l in named) > 10, [l["name"] for l in doc["locks"]]


def test_static_tools_need_no_library():
    for tool in ("offcpu", "semlat", "poolwait"):
        r = subprocess.run(["ldd", STATIC / tool], capture_output=True, text=True)
        assert "not a dynamic executable" in r.stdout + r.stderr, r.stdout


def test_version_names_the_commit():
    version = (REPO / "VERSION").read_text().strip()
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True)
    for tool in (OFFCPU, SEMLAT, STATIC / "offcpu", STATIC / "semlat"):
        r = subprocess.run([tool, "--version"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        m = re.fullmatch(r"(\w+) \(waitscope\) (\S+), commit (\S+)\n", r.stdout)
        assert m and m.group(1) == tool.name and m.group(2) == version, r.stdout
        if head.returncode == 0:
            assert m.group(3).split("-")[0] == head.stdout.strip(), (r.stdout, head.stdout)


def test_make_install_and_uninstall(tmp_path):
    dest = REPO / "build" / "destdir-test"
    subprocess.run(["rm", "-rf", dest], check=True)
    make = ["make", "-C", REPO, "--no-print-directory", f"DESTDIR={dest}", "PREFIX=/usr"]
    r = subprocess.run(make + ["install"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    tools = ("offcpu", "semlat", "poolwait")
    want = sorted([f"usr/sbin/{t}" for t in tools] +
                  [f"usr/share/man/man8/{t}.8" for t in tools] +
                  [f"usr/share/waitscope/{t}.schema.json" for t in tools])
    assert files == want, files
    for t in tools:
        assert os.access(dest / "usr/sbin" / t, os.X_OK)
        page = subprocess.run(["man", "-l", dest / f"usr/share/man/man8/{t}.8"],
                              capture_output=True, text=True, env=dict(os.environ, MANPAGER="cat",
                                                                       MANWIDTH="100"))
        assert page.returncode == 0, page.stderr
        for section in ("NAME", "SYNOPSIS", "OPTIONS"):
            assert re.search(rf"^{section}$", page.stdout, re.M), (t, section, page.stdout[:500])
        assert f"{t} - " in page.stdout and re.search(r"^ +-p[ ,]", page.stdout, re.M)
    r = subprocess.run(make + ["uninstall"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not [p for p in dest.rglob("*") if p.is_file()], list(dest.rglob("*"))
    subprocess.run(["rm", "-rf", dest], check=True)
