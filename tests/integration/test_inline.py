"""Inlined frames: tests/fixtures/inlined.c, built as release code with DWARF (-O2 -g
-fomit-frame-pointer), blocks inside functions the compiler inlined into their callers. offcpu
shows them as frames of their own between the physical function and the call into glibc, each
with its own line under --lines; a copy without DWARF shows the physical functions alone."""

import re
import subprocess

from conftest import INLINED, REPO, assert_waiters_match, frame_func, parse_json

SRC = REPO / "tests" / "fixtures" / "inlined.c"

# thread -> (wait reason, its frames outermost first: the physical function then the functions
# inlined into it, and a function the innermost of them calls in glibc)
CHAINS = {
    "i-lock": ("lock", ["lock_worker", "wait_for_job", "take_lock"], "pthread_mutex_lock"),
    "i-sleep": ("sleep", ["sleep_worker", "doze"], "nanosleep"),
}
# as conftest's WAITING: the reason and a function every good stack of the thread shows
WAITING = {name: (reason, (chain[0],)) for name, (reason, chain, _) in CHAINS.items()}


def sites():
    """Each function's line in the fixture's chains: the line marked 'inline-site: FUNC'."""
    out = {}
    for no, line in enumerate(SRC.read_text().splitlines(), 1):
        m = re.search(r"inline-site: (\w+)", line)
        if m:
            out[m.group(1)] = no
    assert set(out) >= {f for _, chain, _ in CHAINS.values() for f in chain}, out
    return out


def blocked_frames(doc, tid, reason):
    """The user frames of the thread's biggest stack in reason."""
    stacks = [s for s in doc["stacks"] if s["tid"] == tid and s["reason"] == reason]
    assert stacks, f"tid {tid}: no {reason} stacks: {doc['stacks'][:3]}"
    s = max(stacks, key=lambda s: s["total_us"])
    return s["frames"][:len(s["frames"]) - s["kernel_frames"]]


def chain_at(frames, chain):
    """Where the physical function of chain is in frames (a ValueError if it is not)."""
    return [frame_func(f) for f in frames].index(chain[0])


def offcpu_json(procs, w, *args):
    r = procs.offcpu(["-p", w.pid, *args, "--json", 2])
    assert r.returncode == 0, r.stderr
    return r, parse_json(r)


def test_inlined_frames_in_order(procs):
    """Each blocked stack holds the physical function, the functions inlined into it in call
    order, then glibc's function; folded stacks have them too; times match the fixture's own
    within 5 %."""
    w = procs.fixture(INLINED)
    r, doc = offcpu_json(procs, w)
    folded = procs.offcpu(["-p", w.pid, "-f", 1])
    w.finish()
    assert_waiters_match(doc, w, CHAINS, "inlined", r.steal_us, waiting=WAITING)
    for name, (reason, chain, callee) in CHAINS.items():
        frames = blocked_frames(doc, w.tid(name), reason)
        at = chain_at(frames, chain)
        names = [frame_func(f) for f in frames]
        assert names[at:at + len(chain)] == chain, f"{name}: not {chain} in a row: {names}"
        assert callee in names[at + len(chain)], (
            f"{name}: {chain[-1]} is not followed by glibc's {callee}: {names}")
    assert folded.returncode == 0, folded.stderr
    assert ";lock_worker;wait_for_job;take_lock;" in folded.stdout, folded.stdout[:2000]


def test_inlined_frames_lines(procs):
    """--lines: each frame of a chain has its own line, in its own function: the innermost
    the blocking call's, the others where they call the next one."""
    line = sites()
    w = procs.fixture(INLINED)
    _, doc = offcpu_json(procs, w, "--lines")
    w.finish()
    for name, (reason, chain, _) in CHAINS.items():
        frames = blocked_frames(doc, w.tid(name), reason)
        at = chain_at(frames, chain)
        want = [f"{fn} (inlined.c:{line[fn]})" for fn in chain]
        assert frames[at:at + len(chain)] == want, (
            f"{name}: want {want}, got {frames[at:at + len(chain)]}; stack: {frames}")


def test_without_dwarf_no_inlined_frames(procs):
    """The same binary without its DWARF (strip -g): whole stacks still, by the physical
    functions alone, and the same times."""
    bare = procs.tmpdir / "inlined-nodwarf"
    subprocess.run(["strip", "-g", "-o", str(bare), str(INLINED)], check=True)
    assert b".debug_info" not in bare.read_bytes()
    w = procs.fixture(bare)
    r, doc = offcpu_json(procs, w, "--lines")
    w.finish()
    assert_waiters_match(doc, w, CHAINS, "without DWARF", r.steal_us, waiting=WAITING)
    for name, (reason, chain, callee) in CHAINS.items():
        frames = blocked_frames(doc, w.tid(name), reason)
        names = [frame_func(f) for f in frames]
        at = chain_at(frames, chain)
        assert callee in names[at + 1], f"{name}: {chain[0]} does not call {callee}: {names}"
        assert not set(chain[1:]) & set(names), f"{name}: inlined frames without DWARF: {names}"
        assert frames[at] == chain[0], f"{name}: a line without DWARF: {frames[at]}"
        assert "start_thread" in names, names
