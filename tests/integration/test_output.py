"""offcpu's report faces: JSON against its schema, folded stacks, --lines, --by."""

import json
import re

import pytest

from conftest import (FIXTURE_FUNCS, HOGS, REASONS, SCHEMA, WAITERS, WAITING, frame_func, parse_json,
                      stack_funcs, threads_by_tid, validate_json)

FIXTURE_SRC = WAITERS.parents[2] / "tests" / "fixtures" / "waiters.c"


def test_schema_is_valid_and_not_vacuous(traced_all):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    _, doc, _ = traced_all
    validate_json(doc)
    broken = [
        dict(doc, duration_us=str(doc["duration_us"])),
        {k: v for k, v in doc.items() if k != "lost"},
        dict(doc, reasons={k: v for k, v in doc["reasons"].items() if k != "sleep"}),
        dict(doc, stacks=[dict(doc["stacks"][0], reason="waiting")]),
        dict(doc, threads=[{k: v for k, v in doc["threads"][0].items() if k != "tid"}]),
    ]
    for b in broken:
        with pytest.raises(AssertionError):
            validate_json(b)


def test_whole_system_json_validates(procs):
    w = procs.waiters("sleep", "pipe")
    r = procs.offcpu(["--json", 2], timeout=90)
    w.finish()
    assert r.returncode == 0, r.stderr
    doc = parse_json(r)  # validates
    assert doc["targets"] == []
    pids = {t["pid"] for t in doc["threads"]}
    assert w.pid in pids and len(pids) > 1, "a whole-system trace shows other processes too"
    assert doc["reasons"]["sleep"] > 0 and doc["reasons"]["pipe"] > 0


FOLDED_LINE = re.compile(r"^.+ \d+$")


def test_folded(procs):
    w = procs.waiters("sleep", "pipe", "mutex")
    rf = procs.offcpu(["-p", w.pid, "-f", 3])
    rj = procs.offcpu(["-p", w.pid, "--json", 3])
    w.finish()
    assert rf.returncode == 0 and rj.returncode == 0, (rf.stderr, rj.stderr)
    doc = parse_json(rj)
    lines = rf.stdout.splitlines()
    assert lines, "no folded output"
    bad = [l for l in lines if not FOLDED_LINE.match(l)]
    assert not bad, f"lines not in folded format: {bad[:5]}"
    total = 0
    seen_k = False
    names = set(w.names.values()) | {"waiters"}
    for l in lines:
        stack, value = l.rsplit(" ", 1)
        total += int(value)
        frames = stack.split(";")
        assert frames[0] in names, f"first frame is not the thread's comm: {l}"
        # "[reason]"; the other reason names its syscall: "[other:ioctl]" (docs/offcpu.md)
        assert re.fullmatch(r"\[(%s|other:[^\]]+)\]" % "|".join(REASONS), frames[-1]), (
            f"last frame is not [reason]: {l}")
        kflags = [f.endswith("_[k]") for f in frames[1:-1]]
        if True in kflags:
            seen_k = True
            first = kflags.index(True)
            assert all(kflags[first:]), f"user frames after kernel frames: {l}"
    assert seen_k, "no kernel frames (_[k]) in the folded output"
    json_total = sum(s["total_us"] for s in doc["stacks"])
    assert 0.75 * json_total <= total <= 1.33 * json_total, (
        f"folded values sum to {total} us, a similar JSON run's stacks to {json_total} us")
    funcs = {frame_func(f) for l in lines for f in l.rsplit(" ", 1)[0].split(";")}
    for name in ("w-sleep", "w-pipe", "w-mutex"):
        assert funcs & set(WAITING[name][1]), f"{name}'s functions missing from folded output"


def function_bodies(src):
    """Line ranges of the top-level functions of a C file: name -> (first, last)."""
    lines = src.read_text().splitlines()
    out = {}
    for i, l in enumerate(lines):
        m = re.match(r"^(?:__attribute__\(\([^)]*\)\)\s*)?[A-Za-z_][\w \*]*?\b(\w+)\(", l)
        if m and not l.rstrip().endswith(";"):
            for j in range(i + 1, len(lines)):
                if lines[j] == "}":
                    out[m.group(1)] = (i + 1, j + 1)
                    break
    return out


def test_lines_point_into_the_fixture(procs):
    w = procs.waiters("sleep", "pipe")
    r = procs.offcpu(["-p", w.pid, "--lines", "--json", 2])
    w.finish()
    assert r.returncode == 0, r.stderr
    doc = parse_json(r)
    bodies = function_bodies(FIXTURE_SRC)
    checked = 0
    for s in doc["stacks"]:
        for f in s["frames"]:
            fn = frame_func(f)
            if fn not in FIXTURE_FUNCS:
                continue
            m = re.search(r"waiters\.c:(\d+)", f)
            assert m, f"--lines: no waiters.c:LINE in frame {f!r}"
            first, last = bodies[fn]
            assert first <= int(m.group(1)) <= last, (
                f"{f!r}: line outside {fn}, which spans waiters.c:{first}-{last}")
            checked += 1
    assert checked, "no fixture frames to check"


@pytest.mark.parametrize("by", ["thread", "reason", "stack"])
def test_by(procs, by):
    w = procs.waiters("sleep", "pipe")
    r = procs.offcpu(["-p", w.pid, "--by", by, 2])
    w.finish()
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "sleep" in out and "pipe" in out
    words = set(re.split(r"\s+", out))
    if by == "thread":
        for name in ("w-sleep", "w-pipe"):
            assert str(w.tid(name)) in words and name in words, f"{name} not in:\n{out}"
    elif by == "stack":
        assert {frame_func(x) for x in words} & {"sleep_wait", "sleep_thread"}, out


def test_folded_one_line_per_stack(procs):
    """Threads of the same name give the same folded line: it is written once, with the sum."""
    hogs = procs.fixture(HOGS, "-n", 4, "-d", 5, lifetime=5)
    rf = procs.offcpu(["-p", hogs.pid, "-f", 2])
    hogs.finish()
    assert rf.returncode == 0, rf.stderr
    stacks = [l.rsplit(" ", 1)[0] for l in rf.stdout.splitlines()]
    assert any(s.startswith("hog;") for s in stacks), stacks[:5]
    dups = {s for s in stacks if stacks.count(s) > 1}
    assert not dups, f"{len(dups)} stacks on more than one line, e.g. {sorted(dups)[:2]}"
