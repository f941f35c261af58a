"""No loss under a context-switch storm."""

import pytest

from conftest import parse_json, threads_by_tid

TRACE_S = 30


@pytest.mark.slow
def test_no_loss_under_load(procs):
    pp = procs.pingpong(pairs=2, d=TRACE_S + 30)
    r = procs.offcpu(["--json", TRACE_S], timeout=TRACE_S + 120)
    pp.finish()
    assert r.returncode == 0, r.stderr
    assert pp.roundtrips and pp.roundtrips > 100000, f"pingpong only did {pp.roundtrips} roundtrips"
    doc = parse_json(r)
    lost = doc["lost"]
    assert "recursion_misses" in lost, lost
    dropped = {k: v for k, v in lost.items() if k != "recursion_misses" and v}
    assert not dropped, f"offcpu lost data under load: {lost}"
    periods = doc.get("periods", sum(t["periods"] for t in doc["threads"]))
    assert periods > 100000, f"only {periods} blocked periods in {TRACE_S} s of pingpong"
    th = threads_by_tid(doc)
    for name, tid in pp.threads.items():
        assert tid in th, f"pingpong thread {name} missing"
        assert th[tid]["periods"] > 1000, th[tid]
        assert th[tid]["reasons"]["pipe"] > 0, th[tid]
