"""poolwait against workloads whose truth is known without it.

- pgbench: its own transaction count and latency average (-r: per statement), and what it sends,
  checked with strace once: with -n and a built-in script, one set-up connection with exactly
  two queries ("select count(*) from pgbench_branches" and the partition query), closed before
  the clients connect; then one connection per client; every transaction under way at -T's end
  is completed and counted, so each client connection's round trips are its transactions x the
  script's statements.
- dispatch (tests/fixtures/dispatch.c): its threads time pool_get and the query themselves.
- tokiosvc dispatch (tests/fixtures/rlocks/src/bin/tokiosvc.rs): three tokio-postgres clients;
  a query_one of a &str is three Syncs (checked with strace: Parse/Describe/Sync, Bind/Execute/
  Sync, and the Close/Sync of the dropped statement), so three round trips per "query" record.
- pgtx (tests/fixtures/pgtx.c): one connection, each step (statement, idle in a transaction,
  idle) timed back to back.
- pgbouncer (scripts/pgbouncer.sh, transaction pooling, pool of WAITSCOPE_PGBOUNCER_POOL=2):
  every pgbench transaction is one round trip on a server connection, besides at most two of
  its own per server connection (server_check_query "select 1" on one idle for more than 30 s,
  "SET application_name='pgbench'" when a server connection changes hands from psql).

A trace of a process started after poolwait covers its whole life: counts are exact. A trace
that starts mid-life (-p) is held against the workload's records (CLOCK_MONOTONIC) over the
trace window, which the document does not give: it lies between an inner window, from the
tool's "tracing" line (all attached) to its report, and an outer one, from duration_us before
the report (its clock starts before it attaches) to the report (Poolwait.windows). A figure
must lie between what the records wholly inside the inner window shrunk by MARGIN_NS add up
to, and what those overlapping the outer window grown by MARGIN_NS add up to (whole), give or
take 5 % (counts: exactly).

Not covered: the server going away mid-trace (it needs a second private cluster).
Needs the private cluster (scripts/postgres.sh start); the tests start pgbouncer themselves.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import BUILD, DISPATCH, PG_DSN, REPO, TOKIOSVC, validate_json

POOLWAIT = BUILD / "poolwait"
PGTX = BUILD / "fixtures" / "pgtx"
SCHEMA = REPO / "docs" / "poolwait.schema.json"
PGPORT = os.environ.get("WAITSCOPE_PGPORT", "54329")
BOUNCER_PORT = os.environ.get("WAITSCOPE_PGBOUNCER_PORT", "54330")
BOUNCER_POOL = int(os.environ.get("WAITSCOPE_PGBOUNCER_POOL", "2"))
PG_UNIX_DSN = f"host=/tmp port={PGPORT} user=postgres dbname=postgres"
TCP_ENDPOINT = f"127.0.0.1:{PGPORT}"
UNIX_ENDPOINT = f"/tmp/.s.PGSQL.{PGPORT}"
SERVER = f"postgresql://postgres@127.0.0.1:{PGPORT}/postgres"
PASSWORD = "s3cretPW"
PW_DSN = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{PGPORT}/postgres"
MARGIN_NS = 50_000_000
# pgbench -n with a built-in script: its set-up connection's queries (see the docstring)
PGBENCH_SETUP_QUERIES = 2


# ---------------------------------------------------------------- environment

def psql(sql, port=PGPORT):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-Atc",
                           sql, "postgres"], capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module", autouse=True)
def pw_env(env_ok):
    problems = []
    for b in (POOLWAIT, PGTX, DISPATCH, TOKIOSVC):
        if not os.access(b, os.X_OK):
            problems.append(f"{b.relative_to(REPO)} is missing: run `make all` first")
    for tool in ("pgbench", "psql"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            problems.append(f"no {tool} (make deps)")
    if not problems and psql("select 1").returncode:
        problems.append(f"no PostgreSQL on 127.0.0.1:{PGPORT}: run scripts/postgres.sh start")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def pgbench_tables(pw_env):
    """pgbench's tables, made once (-s 1) if missing; a bigger scale made by hand is kept."""
    if psql("select count(*) from pgbench_branches").returncode:
        r = subprocess.run(["pgbench", "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", PGPORT,
                            "-U", "postgres", "postgres"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, f"pgbench -i failed: {r.stdout}{r.stderr}"


@pytest.fixture(scope="module")
def bouncer(pw_env):
    """The private pgbouncer's pid; stopped at the end unless it ran before."""
    pidfile = BUILD / f"pgbouncer.{BOUNCER_PORT}" / "pgbouncer.pid"
    ran = False
    try:
        os.kill(int(pidfile.read_text()), 0)
        ran = True
    except (OSError, ValueError):
        pass
    r = subprocess.run([str(REPO / "scripts" / "pgbouncer.sh"), "start"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, f"scripts/pgbouncer.sh start: {r.stdout}{r.stderr}"
    m = re.search(r"\bpid (\d+)", r.stdout)
    assert m, f"scripts/pgbouncer.sh start printed no pid: {r.stdout!r}"
    yield int(m.group(1))
    if not ran:
        subprocess.run([str(REPO / "scripts" / "pgbouncer.sh"), "stop"], timeout=60)


# ---------------------------------------------------------------- poolwait

class Poolwait:
    """A running poolwait: its stdout and stderr read as they come, the CLOCK_MONOTONIC time
    of its "Tracing" line noted."""

    def __init__(self, procs, args):
        self.args = [str(a) for a in args]
        self.popen = procs._track(subprocess.Popen(
            [str(POOLWAIT)] + self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        self.pid = self.popen.pid
        self.err_lines = []
        self.out = ""
        self.t_tracing = None  # when it said it was tracing (attached)
        self.t_out = None  # when its report began to come (it ended its trace just before)
        self.rc = None
        self._tracing = threading.Event()
        self._threads = [threading.Thread(target=self._read_err, daemon=True),
                         threading.Thread(target=self._read_out, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_err(self):
        for line in self.popen.stderr:
            line = line.decode(errors="replace")
            # the spec says "Tracing ..."; the tool says "poolwait: tracing connections to ..."
            if self.t_tracing is None and re.search(r"\btracing\b", line, re.I):
                self.t_tracing = time.monotonic_ns()
                self._tracing.set()
            self.err_lines.append(line)
        self._tracing.set()

    def _read_out(self):
        chunks = []
        fd = self.popen.stdout.fileno()
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            if self.t_out is None:
                self.t_out = time.monotonic_ns()
            chunks.append(b)
        self.out = b"".join(chunks).decode(errors="replace")

    @property
    def err(self):
        return "".join(self.err_lines)

    def wait_tracing(self, timeout=60):
        self._tracing.wait(timeout)
        assert self.t_tracing is not None, (
            f"poolwait {' '.join(self.args)} printed no 'Tracing' within {timeout} s (rc "
            f"{self.popen.poll()}); stderr: {self.err[-2000:]!r}")
        return self

    def finish(self, interrupt=False, timeout=60):
        """Waits for the end (SIGINT first if interrupt); returns self with rc, out, err."""
        if interrupt and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
        try:
            self.rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"poolwait {' '.join(self.args)} did not end within {timeout} s;"
                                 f" stderr: {self.err[-2000:]!r}")
        for t in self._threads:
            t.join(10)
        return self

    def doc(self):
        assert self.rc == 0, f"poolwait {' '.join(self.args)}: rc {self.rc}; stderr: {self.err!r}"
        assert self.out.strip(), f"poolwait printed nothing on stdout; stderr: {self.err!r}"
        try:
            doc = json.loads(self.out)
        except ValueError as e:
            raise AssertionError(f"poolwait --json output is not JSON ({e}): {self.out[:2000]!r}")
        assert doc.get("tool") == "poolwait", doc.get("tool")
        check_schema(doc)
        lost = dict(doc.get("lost") or {})
        # a ReadyForQuery whose request went before the trace: only on a connection opened
        # before it, at most as many as it had requests in flight (tokiosvc: 3 Syncs)
        unmatched = lost.pop("ready_unmatched", 0)
        before = sum(c["opened_before_trace"] for c in doc["connections"])
        assert unmatched <= 3 * before, (
            f"poolwait: {unmatched} ReadyForQuery without their request, {before} connections "
            f"opened before the trace")
        assert not any(lost.values()), f"poolwait lost events: {lost}"
        return doc

    def windows(self, doc):
        """(inner, outer): (start_ns, end_ns) pairs, CLOCK_MONOTONIC like the workloads'
        records, between which the trace window lies: inner from its "Tracing" line (all
        attached) to its report, outer from duration_us before the report (the tool's clock
        starts before it attaches) to the report. The document's "window", if it has one."""
        if isinstance(doc.get("window"), dict):
            w = doc["window"]["start_ns"], doc["window"]["end_ns"]
            return w, w
        assert self.t_tracing is not None and self.t_out is not None, (self.args, self.err)
        end = self.t_out
        return (self.t_tracing, end), (end - doc["duration_us"] * 1000, end)


def check_schema(doc):
    """Holds a --json document against docs/poolwait.schema.json (python3-jsonschema), as
    test_semlat holds semlat's: each of its objects admits only the keys it lists, so a key
    poolwait writes and the schema does not know fails here (lost's counters excepted)."""
    assert SCHEMA.exists(), f"{SCHEMA.relative_to(REPO)} is missing"
    validate_json(doc)


def poolwait(procs, args, timeout=60):
    """Runs poolwait to its end (its duration argument); returns the finished Poolwait."""
    return Poolwait(procs, args).finish(timeout=timeout)


def endpoints(doc):
    """The endpoints, a list by the spec (test_json_shape holds that; here a string of them
    is taken too, so that the other checks run)."""
    e = doc["endpoints"]
    return re.split(r"[,\s]+", e.strip()) if isinstance(e, str) else e


def conns_of(doc, pid):
    return [c for c in doc["connections"] if c["pid"] == pid]


def process_of(doc, pid):
    found = [p for p in doc["processes"] if p["pid"] == pid]
    assert len(found) == 1, (f"pid {pid}: {len(found)} entries in processes "
                             f"{[(p['pid'], p['comm']) for p in doc['processes']]}")
    return found[0]


def show(conns):
    keys = ("id", "laddr", "raddr", "queries", "busy_us", "idle_us", "idle_in_tx_us",
            "opened_before_trace", "closed")
    return json.dumps([{k: c.get(k) for k in keys} for c in conns])


def bracket(records, kinds, windows, margin=MARGIN_NS):
    """((n, us) of the records of those kinds wholly inside the inner window shrunk by the
    margin, (n, us) of those overlapping the outer window grown by it, whole); windows as
    Poolwait.windows() gives them."""
    (in_start, in_end), (out_start, out_end) = windows
    lo_n = hi_n = 0
    lo_us = hi_us = 0.0
    for _, kind, s, e, _ in records:
        if kind not in kinds:
            continue
        if s >= in_start + margin and e <= in_end - margin:
            lo_n += 1
            lo_us += (e - s) / 1000
        if e > out_start - margin and s < out_end + margin:
            hi_n += 1
            hi_us += (e - s) / 1000
    return (lo_n, lo_us), (hi_n, hi_us)


def assert_between(got, lo, hi, what, rel=0.05, slack=0.0):
    assert lo * (1 - rel) - slack <= got <= hi * (1 + rel) + slack, (
        f"{what}: poolwait says {got:.0f}; the workload's own records give {lo:.0f} (wholly "
        f"inside the trace window) to {hi:.0f} (overlapping it), tolerance {rel:.0%}"
        + (f" + {slack:.0f}" if slack else ""))


# ---------------------------------------------------------------- pgbench

class Pgbench:
    def __init__(self, popen, out, elapsed):
        self.pid = popen.pid
        self.out = out
        self.elapsed = elapsed

        def number(pattern):
            m = re.search(pattern, out, re.M)
            assert m, f"no {pattern!r} in pgbench's output: {out}"
            return float(m.group(1))

        self.processed = int(number(r"^number of transactions actually processed: (\d+)"))
        self.failed = int(number(r"^number of failed transactions: (\d+)"))
        self.latency_ms = number(r"^latency average = ([\d.]+) ms")
        self.tps = number(r"^tps = ([\d.]+)")
        # -r: "  0.162  0  SELECT abalance ..." per command; \set lines are no statements
        self.statement_ms = [float(m.group(1)) for m in re.finditer(
            r"^\s+([\d.]+)\s+\d+\s+([^\\\s].*)$", out, re.M)]
        assert self.failed == 0, out


def pgbench(procs, host, port, args, timeout=60):
    """pgbench -n -M simple ... postgres, to its end: a Pgbench."""
    cmd = ["pgbench", "-n", "-M", "simple", "-h", str(host), "-p", str(port), "-U", "postgres",
           *[str(a) for a in args], "postgres"]
    t0 = time.monotonic()
    p = procs._track(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True))
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError(f"{' '.join(cmd)} did not end within {timeout} s")
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, f"{' '.join(cmd)}: rc {p.returncode}: {out}"
    return Pgbench(p, out, elapsed)


# transport: (poolwait's DSN, pgbench -h, endpoint poolwait names, pgbench script options,
# statements per transaction: select-only 1, TPC-B 7 (BEGIN, 3 UPDATE, SELECT, INSERT, END))
PGBENCH_CASES = {
    "tcp-select-only": (PG_DSN, "127.0.0.1", TCP_ENDPOINT, ["-S"], 1),
    "unix-tpcb": (PG_UNIX_DSN, "/tmp", UNIX_ENDPOINT, [], 7),
}


@pytest.mark.parametrize("case", sorted(PGBENCH_CASES))
def test_pgbench_roundtrips_and_latency(procs, pgbench_tables, case):
    """poolwait (all processes) from before pgbench starts to after it ends: pgbench's
    connections (its set-up one and one per client, all opened and closed in the trace, at most
    -c at once), the clients' round trips exactly its transactions x statements per
    transaction (-r: the script has that many statements), and their mean round trip x
    statements per transaction between 70 % and 100 % of its latency average (which adds
    pgbench's own time between statements: about 10 to 20 % here). pgbench's per-statement
    latency (-r) is no bound: it comes out some 15 % below the sendto-to-recvfrom time that
    bpftrace measures. Over TCP pgbench's SSLRequest (answered 'N') is no round trip."""
    dsn, host, endpoint, script, per_tx = PGBENCH_CASES[case]
    clients = 4
    pw = Poolwait(procs, ["--dsn", dsn, "--json", 120]).wait_tracing()
    b = pgbench(procs, host, PGPORT, ["-r", "-c", clients, "-j", 2, "-T", 4, *script])
    time.sleep(0.3)
    doc = pw.finish(interrupt=True).doc()
    assert endpoint in endpoints(doc), doc["endpoints"]
    assert doc["targets"] == [], doc["targets"]

    conns = conns_of(doc, b.pid)
    assert len(conns) == clients + 1, (
        f"pgbench (pid {b.pid}) opened {clients + 1} connections (a set-up one, then one per "
        f"client); poolwait shows {len(conns)}: {show(conns)}")
    for c in conns:
        assert not c["opened_before_trace"] and c["closed"], show([c])
        assert not c["tls"], show([c])
        if endpoint.startswith("/"):  # the spec does not say: the socket's path, or "unix"
            assert c["raddr"] in (endpoint, "unix"), show([c])
        else:
            assert c["raddr"] == endpoint, show([c])
        assert c["queries"] == c["roundtrips"]["count"], c
        # pgbench waits for each result before it sends the next statement: the time with a
        # request in flight is the sum of the round trips
        rt = c["roundtrips"]["total_us"]
        assert abs(c["busy_us"] - rt) <= 0.02 * rt + 1000, c
        assert c["connect_us"] >= 0 and 0 < c["startup_us"] < 1e6, c
    setup, *cl = sorted(conns, key=lambda c: c["queries"])
    assert setup["queries"] == PGBENCH_SETUP_QUERIES, (
        f"pgbench's set-up connection sends {PGBENCH_SETUP_QUERIES} queries; poolwait: "
        f"{show([setup])}")
    got = sum(c["queries"] for c in cl)
    want = b.processed * per_tx
    assert got == want, (
        f"pgbench processed {b.processed} transactions of {per_tx} statements: {want} round "
        f"trips; poolwait counts {got} on its client connections {show(cl)}")

    if per_tx == 1:  # no transaction blocks: never idle in one
        assert all(c["idle_in_tx_us"] == 0 for c in conns), show(conns)
    else:  # BEGIN ... END: between statements in a transaction
        assert all(c["idle_in_tx_us"] > 0 for c in cl), show(cl)

    proc = process_of(doc, b.pid)
    assert (proc["connections"], proc["opens"], proc["closes"]) == (clients + 1,) * 3, proc
    assert proc["open_max"] == clients and proc["open_min"] == 0, proc

    mean = sum(c["roundtrips"]["total_us"] for c in cl) / sum(c["roundtrips"]["count"] for c in cl)
    per_tx_us = mean * per_tx
    latency_us = b.latency_ms * 1000
    assert len(b.statement_ms) == per_tx, b.out
    # pgbench prints ms with 3 decimals: 0.5 us of rounding
    assert 0.7 * latency_us <= per_tx_us <= latency_us * 1.02 + 0.5, (
        f"mean round trip {mean:.1f} us x {per_tx} statements = {per_tx_us:.1f} us; pgbench's "
        f"latency average {latency_us:.1f} us (it must be between 70 % and 100 % of it)")


# ---------------------------------------------------------------- dispatch (libpq pool)

def traced_dispatch(procs, threads, conns, seconds=3):
    svc = procs.fixture(DISPATCH, "-d", 0, "-n", threads, "-g", threads, "-c", conns, "-q", 5,
                        PG_DSN)
    time.sleep(0.3)
    pw = poolwait(procs, ["--dsn", PG_DSN, "-p", svc.pid, "--acquire", "pool_get:pool_put",
                          "--json", seconds])
    svc.finish()
    doc = pw.doc()
    assert doc["targets"] == [svc.pid], doc["targets"]
    return svc, doc, pw.windows(doc)


def test_dispatch_oversubscribed_pool(procs):
    """8 threads share 2 connections (mutex+condvar pool, 5 ms queries): --acquire pool_get:
    pool_put's calls, wait and hold within 5 % of the fixture's own timing of pool_get and of
    the query it runs while holding the connection, the waits made of lock (condvar) time; the
    queries as the fixture's; the pool exhausted more than half of the time."""
    svc, doc, win = traced_dispatch(procs, 8, 2)
    conns = conns_of(doc, svc.pid)
    assert len(conns) == 2, show(conns)
    assert all(c["opened_before_trace"] and not c["closed"] for c in conns), show(conns)

    acq = doc["acquire"]
    (lo_n, lo_us), (hi_n, hi_us) = bracket(svc.records, {"pool"}, win)
    assert lo_n > 300, f"the fixture hardly ran: {lo_n} pool_get calls in the window"
    assert_between(acq["calls"], lo_n, hi_n, "acquire calls")
    assert_between(acq["wait_us"], lo_us, hi_us, "acquire wait_us (total)")
    assert acq["p50_us"] <= acq["p99_us"] <= acq["max_us"], acq
    assert 1 <= acq["concurrency_max"] <= 8, acq
    # what the waits were made of: pool_get sleeps on the pool's condvar, a futex
    parts = acq["breakdown"]
    assert abs(sum(parts.values()) - acq["wait_us"]) <= 0.01 * acq["wait_us"] + 100, acq
    assert parts["lock"] >= 0.9 * acq["wait_us"], f"pool_get waits on a condvar: {acq}"
    # held from pool_get's return to pool_put: the query, give or take the fixture's clock reads
    (qlo_n, qlo_us), (qhi_n, qhi_us) = bracket(svc.records, {"query"}, win)
    assert_between(acq["hold_us"], qlo_us, qhi_us, "acquire hold_us (total)")
    assert_between(sum(c["queries"] for c in conns), qlo_n, qhi_n, "round trips")

    proc = process_of(doc, svc.pid)
    assert proc["connections"] == 2 and proc["open_max"] == 2, proc
    assert proc["exhausted_us"] > 0.5 * doc["duration_us"], (
        f"8 threads on 2 connections: exhausted {proc['exhausted_us']} us of "
        f"{doc['duration_us']} us; {proc}")
    assert proc["exhausted_count"] >= 1 and proc["exhausted_max_us"] <= proc["exhausted_us"], proc
    # both open all along: out of connections only while each is in use
    for c in conns:
        in_use = c["busy_us"] + c["idle_in_tx_us"]
        assert proc["exhausted_us"] <= in_use * 1.01 + 1000, (proc, show([c]))
    assert doc["exhausted_us"] >= proc["exhausted_us"], (doc["exhausted_us"], proc)


def test_dispatch_spare_connection(procs):
    """1 thread, 2 connections: the pool is a stack, so the thread always gets the same one
    and the other never leaves the pool: it shows no round trip, the pool is never exhausted
    (a connection left silent since before the trace counts as not in use) and pool_get never
    waits."""
    svc, doc, win = traced_dispatch(procs, 1, 2)
    conns = conns_of(doc, svc.pid)
    assert len(conns) == 2, show(conns)
    assert sorted(c["queries"] == 0 for c in conns) == [False, True], show(conns)
    (qlo_n, _), (qhi_n, _) = bracket(svc.records, {"query"}, win)
    assert qlo_n > 100, f"the fixture hardly ran: {qlo_n} queries in the window"
    assert_between(sum(c["queries"] for c in conns), qlo_n, qhi_n, "round trips")

    proc = process_of(doc, svc.pid)
    assert proc["connections"] == 2 and proc["open_max"] == 2, proc
    assert proc["exhausted_us"] <= 0.02 * doc["duration_us"], (
        f"one thread on two connections is never out of connections; poolwait says exhausted "
        f"{proc['exhausted_us']} us of {doc['duration_us']} us: {proc}")
    acq = doc["acquire"]
    (lo_n, lo_us), (hi_n, hi_us) = bracket(svc.records, {"pool"}, win)
    assert_between(acq["calls"], lo_n, hi_n, "acquire calls")
    # the fixture's timing of a call adds a thread CPU clock read (a system call) and the
    # uprobes' traps to it: some us a call, which the calls of this uncontended pool show
    assert_between(acq["wait_us"], lo_us, hi_us, "acquire wait_us", slack=20 * hi_n)
    assert acq["concurrency_max"] == 1, acq


def test_json_shape(procs):
    """The document has the spec's fields, of the spec's types, and matches docs/poolwait.
    schema.json (dispatch -n 2 -c 2, 1 s: with --acquire and --by thread, then with --by
    actor)."""
    svc = procs.fixture(DISPATCH, "-d", 0, "-n", 2, "-c", 2, "-q", 2, PG_DSN)
    docs = [poolwait(procs, ["--dsn", PG_DSN, "-p", svc.pid, *extra, "--json", 1]).doc()
            for extra in (["--acquire", "pool_get:pool_put", "--by", "thread"],
                          ["--by", "actor"])]
    svc.finish()
    num = (int, float)
    problems = []

    def check(obj, where, fields):
        for name, types in fields.items():
            if name not in obj:
                problems.append(f"{where}: no {name}")
            elif not isinstance(obj[name], types) or (types is num and isinstance(
                    obj[name], bool)):
                problems.append(f"{where}.{name}: {obj[name]!r} is no {types}")

    stats = {k: num for k in ("count", "total_us", "p50_us", "p90_us", "p99_us", "max_us")}
    num_or_null = (int, float, type(None))  # connect and start-up not seen: opened before
    for doc in docs:
        check(doc, "top", {"tool": str, "duration_us": num, "server": str, "endpoints": list,
                           "targets": list, "connections": list, "processes": list,
                           "roundtrips": dict, "exhausted_us": num, "exhausted_count": int,
                           "lost": dict})
        check(doc["roundtrips"], "roundtrips", dict(stats, mean_us=num, hist=dict))
        conns = conns_of(doc, svc.pid)
        assert len(conns) == 2, show(doc["connections"])
        for c in conns:
            check(c, f"connection {c.get('id')}", {
                "id": int, "pid": int, "comm": str, "laddr": str, "raddr": str,
                "connect_us": num_or_null, "startup_us": num_or_null, "queries": int,
                "busy_us": num,
                "idle_us": num, "idle_in_tx_us": num, "opened_before_trace": bool,
                "closed": bool, "tls": bool, "roundtrips": dict})
            check(c["roundtrips"], "connection.roundtrips", dict(stats, slots=list))
            if c.get("comm") is not None:
                assert c["comm"] == "dispatch", c["comm"]
        proc = process_of(doc, svc.pid)
        check(proc, "process", {k: num for k in (
            "connections", "open_min", "open_mean", "open_max", "opens", "closes",
            "exhausted_us", "exhausted_count", "exhausted_max_us", "connect_failures")})
        check(proc, "process", {"pid": int, "comm": str})
    check(docs[0].get("acquire", {}), "acquire", {k: num for k in (
        "calls", "wait_us", "p50_us", "p99_us", "max_us", "hold_us", "concurrency_max")})
    if "acquire" in docs[1]:
        problems.append("acquire present without --acquire")
    # --by thread: the two workers that sent requests; --by actor: one role of two threads
    threads = [t for t in docs[0].get("threads", []) if t.get("pid") == svc.pid]
    if len(threads) != 2:
        problems.append(f"--by thread: {len(threads)} threads of the 2 workers")
    for t in threads:
        check(t, f"thread {t.get('tid')}", {"tid": int, "pid": int, "comm": str, "actor": str,
                                            "roundtrips": dict})
        check(t["roundtrips"], "thread.roundtrips", dict(stats, slots=list))
    actors = docs[1].get("actors", [])
    if [(a.get("actor"), a.get("threads")) for a in actors] != [("d-worker", 2)]:
        problems.append(f"--by actor: {[(a.get('actor'), a.get('threads')) for a in actors]}")
    for a in actors:
        check(a, "actor", {"actor": str, "threads": int, "roundtrips": dict})
    if "actors" in docs[0] or "threads" in docs[1]:
        problems.append("--by thread writes threads only, --by actor actors only")
    for doc in docs:
        check_schema(doc)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- tokio-postgres

def test_tokiosvc_whole_life(procs):
    """poolwait (all processes) around tokiosvc's whole life: its 3 clients opened and closed
    in the trace; 3 round trips per query it timed (see the module docstring); its pool of 3
    exhausted most of the time (12 tasks)."""
    pw = Poolwait(procs, ["--dsn", PG_DSN, "--json", 120]).wait_tracing()
    svc = procs.fixture(TOKIOSVC, 3, "dispatch", PG_DSN, lifetime=3)
    svc.finish()
    time.sleep(0.3)
    doc = pw.finish(interrupt=True).doc()
    conns = conns_of(doc, svc.pid)
    assert len(conns) == 3, show(conns)
    # closed: by the process's exit (it never drops its clients)
    assert all(not c["opened_before_trace"] and c["closed"] for c in conns), show(conns)
    queries = [r for r in svc.records if r[1] == "query"]
    assert len(queries) > 200, f"tokiosvc hardly ran: {len(queries)} queries"
    got = sum(c["queries"] for c in conns)
    # the exit may come before the last Close/Sync of each client is answered
    assert 3 * len(queries) - 3 <= got <= 3 * len(queries), (
        f"tokiosvc completed {len(queries)} queries, 3 Syncs each: {3 * len(queries)} round "
        f"trips; poolwait counts {got}: {show(conns)}")
    proc = process_of(doc, svc.pid)
    assert proc["connections"] == 3 and proc["open_max"] == 3 and proc["opens"] == 3, proc
    span_us = (max(r[3] for r in queries) - min(r[2] for r in svc.records)) / 1000
    assert proc["exhausted_us"] > 0.7 * span_us, (
        f"12 tasks on 3 clients: exhausted {proc['exhausted_us']} us of the {span_us:.0f} us "
        f"the service ran; {proc}")


def test_connections_opened_before_trace(procs):
    """tokiosvc connects at start; poolwait -p attaches 1 s later: its 3 connections are
    listed as opened before the trace, still open, and their round trips counted as in
    test_tokiosvc_whole_life, over the window."""
    svc = procs.fixture(TOKIOSVC, 6, "dispatch", PG_DSN, lifetime=6)
    time.sleep(1)
    pw = poolwait(procs, ["--dsn", PG_DSN, "-p", svc.pid, "--json", 2])
    svc.finish()
    doc = pw.doc()
    win = pw.windows(doc)
    end = win[1][1]
    last = max(r[3] for r in svc.records)
    assert end < last - 500_000_000, (
        f"poolwait's trace ended {(end - last) / 1e9:+.1f} s after tokiosvc's last query: its "
        f"start-up took too long for this test (tokiosvc runs 6 s)")
    conns = conns_of(doc, svc.pid)
    assert len(conns) == 3, show(conns)
    assert all(c["opened_before_trace"] and not c["closed"] for c in conns), show(conns)
    assert all(c["queries"] > 0 for c in conns), show(conns)
    (lo_n, _), (hi_n, _) = bracket(svc.records, {"query"}, win)
    assert_between(sum(c["queries"] for c in conns), 3 * lo_n, 3 * hi_n,
                   "round trips (3 per query)", rel=0)
    proc = process_of(doc, svc.pid)
    # (whether "opens" counts the connections found open at the start, the spec does not say)
    assert proc["connections"] == 3 and proc["closes"] == 0, proc
    assert proc["exhausted_us"] > 0.7 * doc["duration_us"], proc


# ---------------------------------------------------------------- pgtx

@pytest.mark.parametrize("leader", ["live", "exited"])
def test_pgtx_idle_in_transaction(procs, leader):
    """One connection: BEGIN, 3 x {5 ms query, 20 ms idle}, COMMIT, 20 ms idle. busy_us,
    idle_in_tx_us and idle_us within 5 % of the fixture's own timing of its statements, its
    pauses inside transactions and outside them, over the window; round trips as its
    statements. Also with the main thread gone (pthread_exit) before the trace: the
    connection, open before it, is found through the process's other thread."""
    tx = procs.fixture(PGTX, "-d", 0, "-t", 20, "-q", 5, "-L", int(leader == "exited"), PG_DSN)
    time.sleep(0.3)
    pw = poolwait(procs, ["--dsn", PG_DSN, "-p", tx.pid, "--json", 3])
    tx.finish()
    doc = pw.doc()
    win = pw.windows(doc)
    conns = conns_of(doc, tx.pid)
    assert len(conns) == 1, show(conns)
    [c] = conns
    assert c["opened_before_trace"] and not c["closed"], show(conns)
    for field, kinds in (("idle_in_tx_us", {"idle_in_tx"}), ("idle_us", {"idle"}),
                         ("busy_us", {"begin", "query", "commit"})):
        (_, lo_us), (_, hi_us) = bracket(tx.records, kinds, win)
        assert lo_us > 100000, f"{field}: the fixture hardly ran ({lo_us:.0f} us)"
        assert_between(c[field], lo_us, hi_us, f"pgtx {field}")
    (lo_n, _), (hi_n, _) = bracket(tx.records, {"begin", "query", "commit"}, win)
    assert_between(c["queries"], lo_n, hi_n, "pgtx round trips", rel=0)
    # the three states share the connection's time; before its first request in the trace
    # the connection's state is unknown (at most the longest step, 25 ms)
    total = c["busy_us"] + c["idle_us"] + c["idle_in_tx_us"]
    traced_us = (win[0][1] - win[0][0]) / 1000
    assert traced_us - 60000 <= total <= doc["duration_us"] * 1.01, (
        f"busy + idle + idle in transaction = {total:.0f} us; traced {traced_us:.0f} us "
        f"(duration_us {doc['duration_us']}): {show([c])}")
    # a pool of one: out of connections exactly while it is in use
    proc = process_of(doc, tx.pid)
    in_use = c["busy_us"] + c["idle_in_tx_us"]
    assert abs(proc["exhausted_us"] - in_use) <= 0.01 * in_use + 1000, (
        f"one connection: exhausted {proc['exhausted_us']} us, in use (busy or idle in a "
        f"transaction) {in_use:.0f} us")


# ---------------------------------------------------------------- pgbouncer

def test_pgbouncer_server_pool(procs, bouncer):
    """pgbench -c 6 through pgbouncer (transaction pooling, pool of 2), `poolwait -p
    PGBOUNCER_PID` around the run: exactly 2 server connections carry round trips, as many
    as pgbench's transactions (plus at most two of pgbouncer's own per connection), each at
    least the 2 ms its query sleeps; the two are busy most of the run."""
    script = procs.tmpdir / "sleep.sql"
    script.write_text("SELECT pg_sleep(0.002);\n")
    pw = Poolwait(procs, ["--dsn", PG_DSN, "-p", bouncer, "--json", 120]).wait_tracing()
    b = pgbench(procs, "127.0.0.1", BOUNCER_PORT, ["-c", 6, "-j", 2, "-T", 4, "-f", script])
    time.sleep(0.2)
    doc = pw.finish(interrupt=True).doc()
    assert doc["targets"] == [bouncer], doc["targets"]
    assert not conns_of(doc, b.pid), "pgbench talks to pgbouncer, not to the server"
    conns = conns_of(doc, bouncer)
    assert all(c["raddr"] == TCP_ENDPOINT for c in conns), show(conns)
    used = [c for c in conns if c["queries"] > 0]
    assert len(conns) <= BOUNCER_POOL and len(used) == BOUNCER_POOL, (
        f"pgbouncer's pool holds {BOUNCER_POOL} server connections; poolwait: {show(conns)}")
    got = sum(c["queries"] for c in used)
    assert b.processed <= got <= b.processed + 2 * BOUNCER_POOL, (
        f"pgbench processed {b.processed} transactions (one statement each) through "
        f"pgbouncer; its server connections carried {got} round trips: {show(used)}")
    for c in used:
        assert c["busy_us"] >= 2000 * (c["queries"] - 2), (
            f"each round trip sleeps 2 ms on the server: {show([c])}")
    busy = sum(c["busy_us"] for c in used) / (BOUNCER_POOL * b.elapsed * 1e6)
    assert busy > 0.5, (
        f"6 clients flat out on {BOUNCER_POOL} server connections: busy only {busy:.0%} of "
        f"pgbench's {b.elapsed:.2f} s; {show(used)}")


# ---------------------------------------------------------------- errors and edges

def test_password_never_shown(procs):
    """A DSN with a password: in no output of a run (JSON, text, -v); the server is named
    without it."""
    tx = procs.fixture(PGTX, "-d", 0, PG_DSN)
    runs = [poolwait(procs, ["--dsn", PW_DSN, "-p", tx.pid, *extra, 1])
            for extra in (["--json"], ["-v"])]
    for r in runs:
        assert r.rc == 0, (r.args, r.rc, r.err)
        assert PASSWORD not in r.out + r.err, (r.args, r.out, r.err)
    tx.finish()
    doc = runs[0].doc()
    assert doc["server"] == SERVER, doc["server"]
    assert len(conns_of(doc, tx.pid)) == 1, show(doc["connections"])


@pytest.mark.parametrize("args,what", [
    (["--dsn", f"postgresql://postgres:{PASSWORD}@127.0.0.1:54x/postgres", 1], "54x"),
    (["--dsn", "host=127.0.0.1 port=99999", 1], "99999"),
    ([1], "--dsn"),
    (["--dsn", PG_DSN, "--by", "nothing", 1], "--by"),
    (["--dsn", PG_DSN, "abc"], "duration"),
], ids=["bad-port-with-password", "port-out-of-range", "no-dsn", "bad-by", "bad-duration"])
def test_bad_input(procs, args, what):
    """Exit 2, one line on stderr naming the bad part, nothing on stdout, no password."""
    r = poolwait(procs, args, timeout=30)
    assert r.rc == 2, (args, r.rc, r.err)
    assert len(r.err.strip().splitlines()) == 1 and what in r.err, (args, r.err)
    assert not r.out.strip(), (args, r.out)
    assert PASSWORD not in r.out + r.err, (args, r.err)


REFUSER = r'''
import errno, os, select, signal, socket, sys, time
blocking = sys.argv[1] == "blocking"
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
print("ready", os.getpid(), flush=True)
recs = []
while not stop:
    s = socket.socket()
    s.setblocking(blocking)
    t0 = time.monotonic_ns()
    err = s.connect_ex(("127.0.0.1", 1))
    if err == errno.EINPROGRESS:  # as libpq and most drivers connect: refused later
        select.select([], [s], [], 1)
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err:
        recs.append((t0, time.monotonic_ns()))
    s.close()
    time.sleep(0.02)
for a, b in recs:
    print("wait", os.getpid(), "connect", a, b, 0)
print("done", os.getpid(), flush=True)
'''


@pytest.mark.parametrize("mode", ["blocking", "nonblocking"])
def test_refused_connects(procs, mode):
    """A process whose connects to 127.0.0.1:1 are refused (it times each), blocking or not
    (a non-blocking one returns EINPROGRESS and fails later, the socket closed unused):
    processes[].connect_failures as its attempts over the window; no connection listed."""
    if subprocess.run(["sh", "-c", "ss -Htln 'sport = :1' | grep -q ."]).returncode == 0:
        pytest.skip("something listens on port 1")
    script = procs.tmpdir / "refuser.py"
    script.write_text(REFUSER)
    fx = procs.fixture(sys.executable, script, mode)
    time.sleep(0.2)
    pw = poolwait(procs, ["--dsn", "host=127.0.0.1 port=1 user=postgres", "-p", fx.pid,
                          "--json", 2])
    fx.finish()
    doc = pw.doc()
    assert endpoints(doc) == ["127.0.0.1:1"], doc["endpoints"]
    win = pw.windows(doc)
    assert conns_of(doc, fx.pid) == [], show(doc["connections"])
    proc = process_of(doc, fx.pid)
    (lo_n, _), (hi_n, _) = bracket(fx.records, {"connect"}, win)
    assert lo_n > 20, f"the fixture hardly tried: {lo_n} attempts in the window"
    assert_between(proc["connect_failures"], lo_n, hi_n, "refused connects", rel=0)
    assert proc["connections"] == 0, proc


def test_no_connections(procs):
    """A target that never talks to the server: exit 0, the text says so, JSON has no
    connection."""
    p = procs._track(subprocess.Popen(["sleep", "30"]))
    text, js = [poolwait(procs, ["--dsn", PG_DSN, "-p", p.pid, *extra, 2])
                for extra in ([], ["--json"])]
    assert text.rc == 0, text.err
    assert re.search(r"no connections to \S+ from the targets", text.out + text.err), (
        text.out, text.err)
    doc = js.doc()
    assert doc["connections"] == [], show(doc["connections"])
    assert all(q["connections"] == 0 for q in doc["processes"]), doc["processes"]


def test_server_stopped_mid_trace(procs, pw_env):
    """The server goes away under a traced client (a private pgbouncer of its own, stopped
    1.5 s into the trace): the client's connection shows closed, what came before it is kept
    (its round trips), and poolwait ends normally with the target."""
    port = "54332"
    env = dict(os.environ, WAITSCOPE_PGBOUNCER_PORT=port, WAITSCOPE_PGBOUNCER_POOL="1")
    script = str(REPO / "scripts" / "pgbouncer.sh")
    r = subprocess.run([script, "start"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, f"scripts/pgbouncer.sh start: {r.stdout}{r.stderr}"
    try:
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        svc = procs.fixture(PGTX, "-d", 0, "-t", 5, "-q", 2, dsn)
        pw = Poolwait(procs, ["--dsn", f"host=127.0.0.1 port={port}", "-p", svc.pid, "--json",
                              20]).wait_tracing()
        time.sleep(1.5)
        subprocess.run([script, "stop"], timeout=60, env=env)
        pw.finish(timeout=30)  # the client fails and exits: so does the trace
    finally:
        subprocess.run([script, "stop"], timeout=60, env=env)
    assert svc.popen.wait(10) != 0, "pgtx should have failed when its server went away"
    doc = pw.doc()
    conns = conns_of(doc, svc.pid)
    assert len(conns) == 1 and conns[0]["closed"], show(conns)
    assert conns[0]["queries"] > 50, show(conns)
    assert doc["duration_us"] < 15e6, doc["duration_us"]
