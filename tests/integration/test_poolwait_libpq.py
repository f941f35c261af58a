"""poolwait --libpq (TLS connections, whose bytes are opaque, timed through libpq) and
--statements (round trips per statement, literals out), against the workloads' own records.

TLS comes from a second private pgbouncer (scripts/pgbouncer.sh with WAITSCOPE_PGBOUNCER_TLS=1,
a self-signed certificate, clients must speak TLS) in front of the private cluster.
"""

import os
import re
import subprocess

import pytest

from conftest import DISPATCH, REPO, Waiters
# the fixtures (pw_env, pgbench_tables) and helpers of test_poolwait.py
from test_poolwait import (PG_DSN, PGPORT, Poolwait, assert_between, bracket, conns_of,  # noqa
                           pgbench_tables, poolwait, pw_env)

TLS_PORT = os.environ.get("WAITSCOPE_PGBOUNCER_TLS_PORT", "54331")
TLS_DSN = f"host=127.0.0.1 port={TLS_PORT} user=postgres dbname=postgres sslmode=require"
TLS_SERVER = f"host=127.0.0.1 port={TLS_PORT}"


@pytest.fixture(scope="module")
def tls_bouncer(pw_env):
    env = dict(os.environ, WAITSCOPE_PGBOUNCER_PORT=TLS_PORT, WAITSCOPE_PGBOUNCER_TLS="1",
               WAITSCOPE_PGBOUNCER_POOL="4")
    script = str(REPO / "scripts" / "pgbouncer.sh")
    r = subprocess.run([script, "start"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, f"scripts/pgbouncer.sh start (TLS): {r.stdout}{r.stderr}"
    yield
    subprocess.run([script, "stop"], timeout=60, env=env)


def dispatch_waiting(procs, *args):
    """dispatch -w 1: started, its connections not yet made (it waits for a line)."""
    cmd = [str(DISPATCH), "-w", "1"] + [str(a) for a in args]
    p = procs._track(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True))
    line = p.stdout.readline()
    assert line.startswith("waiting"), f"{cmd}: {line!r}"
    return p, cmd


def go(p, cmd):
    """Lets a waiting dispatch connect and run; its records as they come."""
    p.stdin.write("go\n")
    p.stdin.close()
    w = Waiters(p, " ".join(cmd), lifetime=None)
    w.wait_ready()
    return w


def test_tls_roundtrips_through_libpq(procs, tls_bouncer):
    """Two TLS connections made during the trace: their SSLRequest answered 'S', the bytes
    opaque; --libpq times each query from PQexec to PQgetResult's NULL. The round trips are
    the fixture's queries (exact, inside the window) and busy time its query time (5 %)."""
    p, cmd = dispatch_waiting(procs, "-d", 0, "-n", 4, "-g", 4, "-c", 2, "-q", 5, TLS_DSN)
    pw = Poolwait(procs, ["--dsn", TLS_SERVER, "-p", p.pid, "--libpq", "--json", 3])
    pw.wait_tracing()
    svc = go(p, cmd)
    pw.finish()
    svc.finish()
    doc = pw.doc()
    conns = conns_of(doc, p.pid)
    assert len(conns) == 2, conns
    for c in conns:
        assert c["tls"] and c["roundtrips_from"] == "libpq", c
        assert not c["opened_before_trace"] and c["connect_us"] > 0 and c["startup_us"] > 0, c
    windows = pw.windows(doc)
    (lo_n, lo_us), (hi_n, hi_us) = bracket(svc.records, {"query"}, windows)
    got = sum(c["queries"] for c in conns)
    assert lo_n <= got <= hi_n, f"round trips {got}, the fixture's queries {lo_n}..{hi_n}"
    assert_between(sum(c["busy_us"] for c in conns), lo_us, hi_us, "busy_us (TLS, libpq)")


def test_tls_without_libpq_says_so(procs, tls_bouncer):
    """Without --libpq a TLS connection found open is flagged, nothing framed from its bytes,
    and the text says how to time it."""
    svc = procs.fixture(DISPATCH, "-d", 0, "-n", 2, "-c", 2, "-q", 2, TLS_DSN)
    pw = poolwait(procs, ["--dsn", TLS_SERVER, "-p", svc.pid, "--json", 1.5])
    doc = pw.doc()
    conns = conns_of(doc, svc.pid)
    assert len(conns) == 2 and all(c["tls"] and c["opened_before_trace"] for c in conns), conns
    assert all(c["roundtrips_from"] == "none" and c["queries"] == 0 for c in conns), conns
    text = poolwait(procs, ["--dsn", TLS_SERVER, "-p", svc.pid, 1])
    assert text.rc == 0 and "--libpq times it" in text.out, text.out
    svc.finish()


STATEMENT_WORDS = re.compile(r"\$\d+|\"[^\"]*\"|[A-Za-z_][A-Za-z_0-9.]*|[^\w\s'\"$]+")


def literal_free(text):
    """Nothing left of a value: every word an identifier, a keyword or a $N."""
    rest = STATEMENT_WORDS.sub("", text.removesuffix("...")).strip()
    return not rest and "'" not in text


@pytest.mark.parametrize("mode", ["simple", "prepared"])
def test_statements_pgbench(procs, pgbench_tables, mode):
    """pgbench's TPC-B (7 statements a transaction, random literals or parameters): each of
    its statements shows once, normalized, as many times as transactions processed (plus one
    prepare per client with -M prepared), and no literal value is printed."""
    # pgbench waits for a line, so that poolwait -p has it from its first connection on
    cmd = ["pgbench", "-n", "-h", "127.0.0.1", "-p", PGPORT, "-U", "postgres", "-c", "2", "-t",
           "150", "-M", mode, "postgres"]
    p = procs._track(subprocess.Popen(["sh", "-c", 'read _ && exec "$@"', "sh", *cmd],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    pw = Poolwait(procs, ["--dsn", PG_DSN, "-p", p.pid, "--statements", "--json", 60])
    pw.wait_tracing()
    out, _ = p.communicate("go\n", timeout=60)
    assert p.returncode == 0, out
    processed = int(re.search(r"^number of transactions actually processed: (\d+)", out,
                              re.M).group(1))
    pw.finish()  # the target's exit ends the trace
    doc = pw.doc()
    stmts = {s["text"]: s["roundtrips"]["count"] for s in doc["statements"]}
    for text in stmts:
        assert literal_free(text), f"a value left in {text!r}"
    tpcb = {t: n for t, n in stmts.items() if "pgbench_" in t and not t.startswith(
        ("select count", "truncate", "vacuum"))} | {t: stmts[t] for t in ("BEGIN;", "END;")
                                                    if t in stmts}
    assert len(tpcb) == 7, f"pgbench's 7 statements, normalized once each: {stmts}"
    # -M prepared: each of the 2 clients prepares each statement once, a round trip of its own
    want = processed + (2 if mode == "prepared" else 0)
    assert all(n == want for n in tpcb.values()), (
        f"each statement {want} times (pgbench's transactions, and its prepares): {tpcb}")
