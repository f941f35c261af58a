#!/usr/bin/env python3
"""The poolwait part of the benchmarks, for scripts/bench-poolwait.sh.

usage:
  poolwait.py snap FILE ID...
        save into FILE the bpf_stats (kernel.bpf_stats_enabled=1) of the
        programs ID... (poolwait's) and when they were read (CLOCK_MONOTONIC,
        the middle of bpftool's run), poolwait's own count of socket calls on
        traced connections (CNT_CALLS of its counters map, found among the
        programs' maps; its index from bpf/poolwait.h), and the stats of every
        other program named like one of poolwait's socket-call programs: another
        poolwait on the machine traces the benchmark's clients too
  poolwait.py delta FILE0 FILE1 CONFIG REP PROGS_TSV
        print "BPF_NS BPF_RUNS UPROBE_NS UPROBE_RUNS CALLS FOREIGN_PROGS
        FOREIGN_NS" between two snaps: run time and runs of the programs, of
        those attached as uprobes or uretprobes (type kprobe), the socket calls
        poolwait read (-1 if its counters map was not found, or its size is not
        bpf/poolwait.h's), the other socket-call programs that ran and their run
        time; and append a line per program that ran (CONFIG REP NAME TYPE
        RUN_TIME_NS RUN_CNT) to PROGS_TSV
  poolwait.py count JSON PID
        print "ROUNDTRIPS OWN_ROUNDTRIPS ACQUIRE_CALLS" from poolwait's --json:
        all the round trips it counted, those of PID's connections, and the
        --acquire calls (0 without)
  poolwait.py dispatch OUT FILE0 FILE1 [JSON]
        print "WINDOW_NS DISPATCHES POOL_NS QUERY_NS DISPATCH_NS
        WINDOW_QUERIES" from build/fixtures/dispatch's records (OUT) over the
        window between two snaps, the one the BPF figures cover: its length,
        the dispatch() calls that began in it, the medians of the fixture's
        own timings of pool_get, of the query and of the whole call among
        those, and the queries that began and ended inside poolwait's window
        (its JSON "window"; -1 without)
  poolwait.py quiet MAX_S
        wait up to MAX_S seconds until, over 0.3 s, no program named like
        poolwait's socket-call programs runs (between runs none is ours);
        print the seconds waited
  poolwait.py report PGBENCH_TSV DISPATCH_TSV PROGS_TSV STARTUP_TSV DOC
        write the poolwait section, from those runs, into DOC between its
        markers (replaced where they are, else put before "## Method", else at
        the end), leaving the rest of DOC alone; print its tables
(machine facts come in BENCH_* variables, as for report.py)
"""
import csv
import json
import os
import re
import subprocess
import sys
import time

from benchcommon import NOISY_PCT, NPROC, Section, bpf_progs, drop_goal, load_kept, med, noise, ns, para, ran, spread, \
    table, times

BEGIN = "<!-- poolwait-bench:begin (scripts/bench-poolwait.sh writes this part; do not edit by hand) -->"
END = "<!-- poolwait-bench:end -->"
SECTION = Section(BEGIN, END)
DROP_GOAL_PCT = 3.0  # goal: poolwait with default options costs pgbench -S at most this much throughput
HEADER = "bpf/poolwait.h"
# poolwait's socket-call programs (IO_PROGS in bpf/poolwait.bpf.c, connect, close, the tail-call target)
SOCKET_PROG = re.compile(r"^((read|write|recvfrom|sendto|readv|writev|recvmsg|sendmsg|connect)_(enter|exit)"
                         r"|close_enter|io_exit)$")
# pgbench -n with a built-in script: its set-up connection's queries (tests/integration/test_poolwait.py)
PGBENCH_SETUP_QUERIES = 2

POOLWAIT = "poolwait --dsn DSN"
PGBENCH_MODES = ("simple", "prepared")
DISPATCH = [("dispatch-base", "untraced", None),
            ("dispatch-poolwait", "poolwait -p", POOLWAIT + " -p P"),
            ("dispatch-acquire", "poolwait -p --acquire", POOLWAIT + " -p P --acquire pool_get:pool_put"),
            ("dispatch-libpq", "poolwait -p --libpq", POOLWAIT + " -p P --libpq")]


def pgbench_configs(mode):
    return [(mode + "-base", "untraced", None), (mode + "-poolwait", "poolwait, every process", POOLWAIT)]


# ---------------------------------------------------------------- during the runs

def counter_index(name):
    """(index of NAME among poolwait's counters, number of counters) from bpf/poolwait.h: the drops
    (enum poolwait_drop, up to DROP_NR), then the event counters (enum poolwait_counter, up to CNT_NR)"""
    with open(HEADER) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)

    def members(enum):
        body = re.search(r"enum\s+%s\s*\{(.*?)\}" % enum, text, re.S).group(1)
        return [m.split("=")[0].strip() for m in body.split(",") if m.strip()]

    drops, counters = members("poolwait_drop"), members("poolwait_counter")
    n_drop = drops.index("DROP_NR")
    return n_drop + counters.index(name), n_drop + counters.index("CNT_NR")


def map_counter(map_id, index):
    """the sum over the CPUs of entry INDEX of the per-CPU array MAP_ID"""
    out = subprocess.run(["bpftool", "map", "lookup", "id", str(map_id), "key"] +
                         [str(b) for b in index.to_bytes(4, "little")] + ["-j"],
                         capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    if "formatted" in d:
        return sum(v["value"] for v in d["formatted"]["values"])
    return sum(int.from_bytes(bytes(int(b, 16) for b in v["value"]), "little") for v in d["values"])


def calls_of(progs, ids):
    """poolwait's CNT_CALLS, from the counters map of its programs IDS; None if not found or not as
    bpf/poolwait.h says"""
    try:
        index, size = counter_index("CNT_CALLS")
    except (OSError, AttributeError, ValueError):
        return None
    maps = {m for i in ids for m in progs.get(i, {}).get("map_ids", [])}
    for m in sorted(maps):
        try:
            info = json.loads(subprocess.run(["bpftool", "map", "show", "id", str(m), "-j"],
                                             capture_output=True, text=True, check=True).stdout)
            if info.get("name") == "counters":
                return map_counter(m, index) if info.get("max_entries") == size else None
        except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
            continue
    return None


def snap(path, ids):
    ids = [int(i) for i in ids]
    t0 = time.monotonic_ns()
    progs = bpf_progs(ids)
    t = (t0 + time.monotonic_ns()) // 2
    ours = {i: {k: progs[i].get(k, 0) for k in ("name", "type", "run_time_ns", "run_cnt")}
            for i in ids if i in progs}
    foreign = {i: [p.get("run_cnt", 0), p.get("run_time_ns", 0)] for i, p in progs.items()
               if i not in ids and SOCKET_PROG.match(p.get("name", ""))}
    with open(path, "w") as f:
        json.dump({"t_ns": t, "ours": ours, "foreign": foreign, "calls": calls_of(progs, ids) if ids else 0}, f)


def delta(path0, path1, config, rep, progs_tsv):
    with open(path0) as f:
        a = json.load(f)
    with open(path1) as f:
        b = json.load(f)
    t = n = ut = un = 0
    rows = []
    for i, p in b["ours"].items():
        p0 = a["ours"].get(i, {})
        dt, dn = p["run_time_ns"] - p0.get("run_time_ns", 0), p["run_cnt"] - p0.get("run_cnt", 0)
        t += dt
        n += dn
        if p["type"] == "kprobe":
            ut += dt
            un += dn
        if dn:
            rows.append((config, rep, p["name"], p["type"], dt, dn))
    calls = -1 if a["calls"] is None or b["calls"] is None else b["calls"] - a["calls"]
    ran_ = {i: v[1] - a["foreign"].get(i, [0, 0])[1] for i, v in b["foreign"].items()
            if v[0] > a["foreign"].get(i, [0, 0])[0]}
    with open(progs_tsv, "a") as f:
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")
    print(t, n, ut, un, calls, len(ran_), sum(ran_.values()))


def foreign_running():
    """{id: run_cnt} of the programs named like poolwait's socket-call programs"""
    return {i: p.get("run_cnt", 0) for i, p in bpf_progs().items() if SOCKET_PROG.match(p.get("name", ""))}


def quiet(limit):
    t0 = time.monotonic()
    while True:
        a = foreign_running()
        time.sleep(0.3)  # they run on every read and write of the machine: 0.3 s sees them
        b = foreign_running()
        waited = time.monotonic() - t0
        if not any(n > a.get(i, 0) for i, n in b.items()) or waited >= limit:
            print("%.1f" % waited)
            return


def count(path, pid):
    with open(path) as f:
        d = json.load(f)
    own = sum(c.get("queries", 0) for c in d.get("connections", []) if c.get("pid") == pid)
    print(d.get("roundtrips", {}).get("count", 0), own, (d.get("acquire") or {}).get("calls", 0))


def dispatch(out, snap0, snap1, json_path=None):
    with open(snap0) as f:
        t0 = json.load(f)["t_ns"]
    with open(snap1) as f:
        t1 = json.load(f)["t_ns"]
    recs, overflow = [], 0
    with open(out) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "wait" and len(w) == 6:
                recs.append((w[2], int(w[3]), int(w[4])))
            elif w and w[0] == "overflow":
                overflow += int(w[2])
    if overflow:
        sys.exit("poolwait.py: dispatch dropped %d records (MAX_RECORDS): a shorter window, please" % overflow)

    def inside(kind):
        return [e - s for k, s, e in recs if k == kind and t0 <= s < t1]

    queries = -1
    if json_path:
        with open(json_path) as f:
            w = json.load(f).get("window")
        if w:
            queries = sum(1 for k, s, e in recs if k == "query" and w["start_ns"] <= s and e <= w["end_ns"])
    whole = inside("dispatch")
    if not whole:
        sys.exit("poolwait.py: no dispatch() call began in the window")
    print(t1 - t0, len(whole), round(med(inside("pool"))), round(med(inside("query"))), round(med(whole)), queries)


# ---------------------------------------------------------------- the report

def derive_pgbench(r):
    r["rate"] = r["tps"]
    prepared = r["config"].startswith("prepared")
    r["expected"] = r["transactions"] + PGBENCH_SETUP_QUERIES + (r["clients"] if prepared else 0)


def derive_dispatch(r):
    r["rate"] = r["dispatches"] / r["seconds"]


def last_rows(path):
    """{(config, rep): {program: (type, run_time_ns, run_cnt)}} from PROGS_TSV; a run done again (run_kept)
    follows its first attempt at once: the last rows of a (config, rep) are the kept run's"""
    runs, prev = {}, None
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key = (row["config"], int(row["rep"]))
            if key != prev:
                runs[key] = {}
                prev = key
            runs[key][row["name"]] = (row["type"], int(row["run_time_ns"]), int(row["run_cnt"]))
    return runs


def summarize(kept, configs, per):
    """{config: figures} of those that ran, against the part's untraced runs; PER(run) is the count
    that BPF run time is divided by (round trips, dispatches)"""
    base = kept.get(configs[0][0])
    if not base:
        return {}
    b_rate = med(r["rate"] for r in base)
    out = {}
    for config, _, _, rs in ran(kept, configs):
        rates = [r["rate"] for r in rs]
        m = med(rates)
        traced = rs[0]["bpf_runs"] > 0
        out[config] = {
            "rates": rates, "rate": m, "ratio": m / b_rate, "ratios": [x / b_rate for x in rates], "n": len(rs),
            "bpf_op": med(r["bpf_ns"] / per(r) for r in rs if per(r)) if traced else None,
            "runs_op": med(r["bpf_runs"] / per(r) for r in rs if per(r)) if traced else None,
            "per_call": med(r["bpf_ns"] / r["calls"] for r in rs if r["calls"] > 0) if traced else None,
            "calls_op": med(r["calls"] / per(r) for r in rs if r["calls"] > 0 and per(r)) if traced else None,
            "bpf_cpu": med(r["bpf_ns"] / r["window_ns"] / NPROC for r in rs) if traced else None,
            "runs": rs,
        }
    return out


def pct(x):
    return "–" if x is None else "%.1f %%" % (100 * x)


def count_cell(x):
    return "{:,.0f}".format(x) if x and x > 0 else "–"


def report(pg_tsv, dispatch_tsv, progs_tsv, startup_tsv, doc_path):
    env = os.environ
    pg_kept, pg_redone = load_kept(pg_tsv, derive_pgbench)
    d_kept, d_redone = load_kept(dispatch_tsv, derive_dispatch)
    progs = last_rows(progs_tsv)
    pgbench_cmd = env.get("BENCH_POOLWAIT_PGBENCH", "pgbench -n -S -c 2 -j 2 -T 8")
    dsn = env.get("BENCH_POOLWAIT_DSN", "DSN")
    libpq_built = env.get("BENCH_POOLWAIT_LIBPQ") == "built"
    modes = [m for m in PGBENCH_MODES if pg_kept.get(m + "-base")]
    parts = {m: summarize(pg_kept, pgbench_configs(m), lambda r: r["own_roundtrips"]) for m in modes}
    dparts = summarize(d_kept, DISPATCH, lambda r: r["dispatches"])
    reps = max([s["n"] for part in list(parts.values()) + [dparts] for s in part.values()] or [0])
    goals = []

    # 1. pgbench
    for m in modes:
        s = parts[m].get(m + "-poolwait")
        if s:
            goals.append(drop_goal("pgbench -S -M %s (`%s`)" % (m, pgbench_cmd.replace(" -S", " -S -M " + m)),
                                   POOLWAIT, s, noise(parts[m]), "round trip", DROP_GOAL_PCT))

    def rt_cell(rs):
        xs = [r["own_roundtrips"] / r["expected"] for r in rs]
        exact = all(r["own_roundtrips"] == r["expected"] for r in rs)
        return "%s%s" % ("exact (%d runs)" % len(rs) if exact else "%.5f" % med(xs),
                         "" if exact else spread(xs, lambda x: "%.5f" % x))

    pg_tables = []
    for m in modes:
        part = parts[m]
        pg_tables.append((m, table("tps", ["throughput drop", "BPF per round trip", "BPF per traced socket call",
                                           "program runs per round trip", "traced socket calls per round trip",
                                           "BPF CPU (of %d CPUs)" % NPROC,
                                           "pgbench's round trips counted / expected"],
                                   pgbench_configs(m), part, pgbench_cmd.replace(" -S", " -S -M " + m),
                                   lambda config, cmd, s: [
                                       "–" if cmd is None else "%.1f %%" % (100 * (1 - s["ratio"])),
                                       ns(s["bpf_op"]), ns(s["per_call"]),
                                       "–" if s["runs_op"] is None else "%.2f" % s["runs_op"],
                                       "–" if s["calls_op"] is None else "%.2f" % s["calls_op"],
                                       pct(s["bpf_cpu"]),
                                       "–" if cmd is None else rt_cell(s["runs"])])))
    rt_exact = [r["own_roundtrips"] == r["expected"] for m in modes
                for r in pg_kept.get(m + "-poolwait", [])]
    if rt_exact:
        bad = [r for m in modes for r in pg_kept.get(m + "-poolwait", []) if r["own_roundtrips"] != r["expected"]]
        goals.append("| poolwait counts pgbench's round trips exactly: transactions + %d set-up queries (+ one "
                     "prepare per client with `-M prepared`) | %s | **%s** |"
                     % (PGBENCH_SETUP_QUERIES, "%d of %d runs exact%s" % (
                         rt_exact.count(True), len(rt_exact),
                         "; off by " + ", ".join("%+d (%s rep %d)" % (r["own_roundtrips"] - r["expected"],
                                                                       r["config"], r["rep"]) for r in bad)
                         if bad else ""), "PASS" if all(rt_exact) else "FAIL"))

    # per program, under pgbench
    names = sorted({n for (config, rep), ps in progs.items() if config.endswith("-poolwait")
                    and config.split("-")[0] in modes for n in ps},
                   key=lambda n: (SOCKET_PROG.match(n) is None, n))
    prog_head = ["| program | " + " | ".join("%s: runs per round trip | %s: ns per run" % (m, m) for m in modes)
                 + " |", "|" + " --- |" * (1 + 2 * len(modes))]
    prog_rows = []
    for n in names:
        cells = []
        for m in modes:
            rs = [(progs.get((r["config"], r["rep"]), {}).get(n), r) for r in pg_kept.get(m + "-poolwait", [])]
            rs = [(p, r) for p, r in rs if p and p[2]]
            cells += ["%.3f" % med(p[2] / r["own_roundtrips"] for p, r in rs) if rs else "–",
                      "%.0f" % med(p[1] / p[2] for p, r in rs) if rs else "–"]
        prog_rows.append("| `%s` | %s |" % (n, " | ".join(cells)))
    prog_rows.append("| `io_exit` | %s |" % " | ".join(["tail call"] * 2 * len(modes)))
    prog_table = "\n".join(prog_head + prog_rows)

    # 2. dispatch
    dbase = dparts.get("dispatch-base")
    no_libpq = "not built: `poolwait --help` lists no `--libpq`" if not libpq_built else "not measured"

    def dcells(config, cmd, s):
        rs = s["runs"]
        pool, query = med(r["pool_ns"] for r in rs), med(r["query_ns"] for r in rs)
        bp, bq = (med(r["pool_ns"] for r in dbase["runs"]), med(r["query_ns"] for r in dbase["runs"])) \
            if dbase else (None, None)
        up = med(r["uprobe_runs"] / r["dispatches"] for r in rs) if rs[0]["uprobe_runs"] else None
        per_up = med(r["uprobe_ns"] / r["uprobe_runs"] for r in rs if r["uprobe_runs"]) if up else None
        return [ns(pool), "–" if cmd is None or bp is None else ns(pool - bp),
                ns(query), "–" if cmd is None or bq is None else ns(query - bq),
                "–" if up is None else "%.2f" % up, ns(per_up), ns(s["bpf_op"])]

    dispatch_cmd = env.get("BENCH_POOLWAIT_DISPATCH", "dispatch")
    d_table = table("dispatch() calls/s", ["pool_get, median", "vs untraced", "query, median", "vs untraced",
                                          "uprobe runs per call", "BPF per uprobe run", "BPF per call, all programs"],
                    DISPATCH, dparts, dispatch_cmd, dcells, absent={"dispatch-libpq": no_libpq})
    for config, what in (("dispatch-acquire", "acquire"), ("dispatch-libpq", "libpq")):
        s = dparts.get(config)
        if not s:
            continue
        rs, key = s["runs"], "pool_ns" if what == "acquire" else "query_ns"
        cost = med(r[key] for r in rs) - med(r[key] for r in dbase["runs"]) if dbase else None
        up = med(r["uprobe_runs"] / r["dispatches"] for r in rs)
        upns = med(r["uprobe_ns"] / r["dispatches"] for r in rs)
        # the same without the uprobes: poolwait -p P, its socket-call programs alone
        plain = dparts.get("dispatch-poolwait")
        socket = med(r[key] for r in plain["runs"]) - med(r[key] for r in dbase["runs"]) if plain and dbase else None
        if what == "acquire":
            goals.append("| `poolwait -p P --acquire pool_get:pool_put`: cost per acquire stated (uprobe and "
                         "uretprobe on `pool_get`, uprobe on `pool_put`) | **%s** more per `pool_get` (the fixture's "
                         "own timing, medians), %s of BPF per acquire/release in the uprobe programs; %.2f uprobe "
                         "runs per dispatch() | stated |" % (ns(cost), ns(upns), up))
        else:
            goals.append("| cost with libpq uprobes on (`poolwait -p P --libpq`) stated, on the pool fixture "
                         "(`--libpq` needs `-p`, and pgbench lives only for its run) | **%s** more per query "
                         "(`PQexec`, the fixture's own timing, medians)%s, %s of BPF per query in the uprobe "
                         "programs; %.2f uprobe runs per query | stated |"
                         % (ns(cost), "" if socket is None else ", of which %s without `--libpq` (`poolwait -p P`)"
                            % ns(socket), ns(upns), up))
    if "dispatch-libpq" not in dparts:
        goals.append("| cost with libpq uprobes on stated | %s%s | – |"
                     % (no_libpq, "; pgbench itself is short-lived, and libpq uprobes need `-p`"
                        if libpq_built else ": poolwait has no libpq uprobes yet"))

    # 3. start-up
    st = {}
    with open(startup_tsv, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            st.setdefault(row["measurement"], []).append(float(row["seconds"]))
    st_rows = []
    for key, cmd in (("poolwait", POOLWAIT), ("poolwait-p", POOLWAIT + " -p SLEEP")):
        xs = st.get(key)
        if xs:
            st_rows.append("| `%s` | %.3f s | %.3f–%.3f s | %s |" % (cmd, med(xs), min(xs), max(xs),
                                                                  ", ".join("%.3f" % x for x in xs)))
            goals.append("| start-up: `%s` exec to its \"tracing connections to\" line stated | **%.3f s** "
                         "(median of %d) | stated |" % (cmd, med(xs), len(xs)))
    st_table = "\n".join(["| command | median | min–max | every run (s) |", "| --- | --- | --- | --- |"] + st_rows)

    gtable = "\n".join(["| goal | measured | result |", "| --- | --- | --- |"] + goals)
    all_runs = [r for k in (pg_kept, d_kept) for rs in k.values() for r in rs]
    busy = [r for r in all_runs if r["others"] > NOISY_PCT]
    redone = pg_redone + d_redone
    tracers = [r for r in all_runs if r["foreign_tracers"]]
    secs = env.get("BENCH_POOLWAIT_SECONDS", "?")
    command = env.get("BENCH_COMMAND", "BENCH_POOLWAIT_ONLY=1 make bench")

    md = [BEGIN, "## poolwait: cost on the traced clients", "",
          "- **Date:** %s" % env.get("BENCH_DATE", "?"),
          "- **Machine:** kernel %s, CPU %s, nproc %d" % (env.get("BENCH_KERNEL", "?"), env.get("BENCH_CPU", "?"),
                                                          NPROC),
          "- **Command:** `%s` (as root, from the repository root: this section alone; a plain `make bench` "
          "runs it too, after the semlat section)" % command,
          "- **poolwait:** `build/poolwait` at %s" % env.get("BENCH_REV", "?"),
          "- **PostgreSQL:** %s" % env.get("BENCH_PG_INFO", "?"), "",
          "### Goals, poolwait", "", gtable, ""]
    for m, t in pg_tables:
        md += ["### pgbench -S -M %s" % m, ""]
        if m == modes[0]:
            md += [para("Workload: `%s` (select-only, %s clients on as many threads, %s s, TCP to 127.0.0.1, "
                        "`-n`: no vacuum, the tables are shared with the tests) against the private PostgreSQL, "
                        "untraced and under `%s --json` on every process (no `-p`: pgbench lives only for the "
                        "run, and that is how poolwait is most often run), started and attached (its \"tracing "
                        "connections to\" line) before pgbench starts, stopped after it ends. DSN: `%s`. tps is "
                        "pgbench's (without initial connection time); *throughput drop*: 1 − median tps / "
                        "untraced median tps. The BPF figures cover pgbench's whole life: *BPF per round trip*: "
                        "run time of all poolwait's programs / pgbench's round trips as poolwait counted them "
                        "(its JSON, the connections of pgbench's PID); *BPF per traced socket call*: the same run "
                        "time / poolwait's own count of socket calls on traced connections (`CNT_CALLS`, read "
                        "from its counters map). poolwait traces the client side only: the server's backends "
                        "are no connection to the DSN, but its programs run on their socket calls too, and on "
                        "every other process's, and are filtered out there by a hash lookup: *program runs per "
                        "round trip* counts those runs. *pgbench's round trips counted / expected*: expected = "
                        "pgbench's transactions + %d set-up queries (+ one prepare per client with `-M "
                        "prepared`). bpf_stats are on in every run, as in the other sections: each of poolwait's "
                        "program runs also pays their two clock reads, which poolwait run without them does "
                        "not." % (pgbench_cmd.replace(" -S", " -S -M MODE"), env.get(
                            "BENCH_POOLWAIT_CLIENTS", "?"), secs, POOLWAIT, dsn, PGBENCH_SETUP_QUERIES)), ""]
        md += [t, ""]
    if names:
        md += ["### BPF run time per program, under pgbench", "",
               para("Medians over the runs. *runs per round trip*: the program's runs / pgbench's round trips: "
                    "every process's calls count (the server's backends make as many as pgbench). `io_exit` "
                    "is the tail call of every `*_exit` program (it frames the bytes of a traced call): "
                    "bpf_stats count a tail call's run time in the program that made it, so `io_exit` shows "
                    "none of its own. Every run holds bpf_stats' own two clock reads (the floor of the "
                    "pingpong sections)."), "", prog_table, ""]
    md += ["### A libpq pool: `--acquire` and `--libpq`", "",
           para("Workload: `%s` (tests/fixtures/dispatch.c): each thread takes a connection from a "
                "mutex+condvar pool (`pool_get`), runs a query on it with libpq's `PQexec` and puts it back "
                "(`pool_put`), then sleeps 1 ms; as many connections and semaphore permits as threads, so "
                "nothing waits. It times each part itself (CLOCK_MONOTONIC). Each run: the fixture is "
                "started, the tracer (if any) started on its PID and attached, then the window of %s s "
                "begins; its figures are over the dispatch() calls that began in the window. *pool_get, "
                "median*: the fixture's timing of `pool_get`: under `--acquire` it holds the traps of the "
                "uprobe on its entry and the uretprobe on its return; *query*: its timing of `PQexec`: under "
                "`--libpq` it holds the traps of the uprobes on libpq's functions; both hold poolwait's "
                "socket-call programs. *vs untraced*: minus the untraced median. *uprobe runs per call*: "
                "runs of poolwait's uprobe and uretprobe programs / dispatch() calls."
                % (dispatch_cmd, env.get("BENCH_POOLWAIT_DISPATCH_SECONDS", "?"))), "",
           d_table, "",
           "### Start-up", "",
           para("From just before the fork and exec of poolwait (bash's `$EPOCHREALTIME`) to the moment its "
                "\"tracing connections to\" line comes out on stderr (read from a FIFO): every program "
                "attached, and the connections opened before it found. Then it is killed. SLEEP is a `sleep` "
                "that never wakes."), "", st_table, ""]
    notes = []
    for m in modes:
        s = parts[m].get(m + "-poolwait")
        if s and s["bpf_op"] and s["bpf_cpu"] is not None:
            b = parts[m][m + "-base"]
            lost = 1 / s["rate"] - 1 / b["rate"]
            notes.append("`-M %s`: under poolwait a client's transaction took %s more wall time (clients / "
                         "traced tps − clients / untraced tps, medians), and each round trip %s of BPF run time, "
                         "spent on pgbench's CPUs and the server's backends' alike (the BPF CPU column)."
                         % (m, ns(lost * 1e9 * int(env.get("BENCH_POOLWAIT_CLIENTS", "1"))), ns(s["bpf_op"])))
    q = [r for r in d_kept.get("dispatch-poolwait", []) + d_kept.get("dispatch-acquire", [])
         + d_kept.get("dispatch-libpq", []) if r["window_queries"] >= 0]
    if q:
        xs = [r["own_roundtrips"] / r["window_queries"] for r in q if r["window_queries"]]
        if xs:
            notes.append("Under `-p P`, poolwait counted %.4f (%s) of the queries the fixture made inside "
                         "poolwait's window (its JSON `window`); a query under way at either edge may count on "
                         "one side only." % (med(xs), ", ".join("%.4f" % x for x in xs)))
    if tracers:
        notes.append("**Another tracer:** in %d run(s), programs named like poolwait's socket-call programs "
                     "but not this run's ran (another poolwait on the machine, tracing the same clients); their "
                     "run time is counted with *others*." % len(tracers))
    if busy:
        notes.append("**Noise warning:** in %d of %d runs, others (processes, BPF programs, the hypervisor) took "
                     "more than %.0f %% of the machine (up to %.0f %%; raw data below): the throughput of those "
                     "runs is not the tracer's doing alone." % (len(busy), len(all_runs), NOISY_PCT,
                                                               max(r["others"] for r in busy)))
    if redone:
        notes.append("%d run(s) were done again because others took more than %.0f %% of the machine (the "
                     "first attempts are at the end of the raw data)." % (len(redone), NOISY_PCT))
    md += [para(n) + "\n" for n in notes]
    md += ["### Method (poolwait)", "",
           para("`scripts/bench-poolwait.sh` (run by `make bench` after the semlat section, or alone: "
                "`BENCH_POOLWAIT_ONLY=1 make bench`, or `scripts/bench-poolwait.sh` after `make all`) uses the "
                "private PostgreSQL on 127.0.0.1:%s if it answers, else starts it (`scripts/postgres.sh "
                "start`) and stops it at the end; `pgbench -i -s 1` makes pgbench's tables in database "
                "`postgres` if they are missing, and they stay. poolwait is started with its output to a file "
                "and counted attached when it prints its \"tracing connections to\" line (%s s at least); its "
                "programs are found through `/proc/POOLWAIT/fdinfo` (`prog_id`) as for offcpu (no pins: "
                "poolwait is stopped only after the stats are read), and their bpf_stats "
                "(`kernel.bpf_stats_enabled=1`) read before and after the workload. Each configuration ran "
                "%s, in alternating order (reversed on every other repetition); before each run the script "
                "waits (bounded, QUIET_BUDGET) for the machine to be under QUIET_PCT %% busy, with no other "
                "program named like poolwait's socket-call programs running, and a run during "
                "which others took more than %.0f %% of the machine (other processes' CPU, the hypervisor's "
                "steal, other sched_switch programs, and other programs named like poolwait's socket-call "
                "programs) is done again (BENCH_RETRIES runs in all). The server's backends count as the "
                "benchmark's own. Everything it starts is killed and `kernel.bpf_stats_enabled` restored on "
                "exit." % (env.get("BENCH_PGPORT", "54329"), env.get("BENCH_ATTACH_WAIT", "1.5"), times(reps),
                           NOISY_PCT)), "",
           para("Knobs: `BENCH_POOLWAIT_SECONDS` (each pgbench run), `BENCH_POOLWAIT_REPS` (0 skips the "
                "section), `BENCH_POOLWAIT_CLIENTS`, `BENCH_POOLWAIT_MODES` (pgbench's `-M`), "
                "`BENCH_POOLWAIT_DISPATCH_SECONDS`, `BENCH_POOLWAIT_DISPATCH_REPS` (0 skips the pool), "
                "`BENCH_POOLWAIT_STARTUP_REPS` (0 skips start-up), `BENCH_POOLWAIT_ONLY=1` (`make bench` runs "
                "this section alone), and `WAITSCOPE_PGPORT`, `ATTACH_WAIT`, `QUIET_BUDGET`, `QUIET_PCT`, "
                "`NOISY_PCT`, `BENCH_RETRIES`, `BENCH_DOC` as for offcpu (see the head of "
                "`scripts/bench-poolwait.sh`). Raw data: `build/bench/poolwait-pgbench.tsv`, "
                "`build/bench/poolwait-dispatch.tsv`, `build/bench/poolwait-progs.tsv`, "
                "`build/bench/poolwait-startup.tsv`."), "",
           "### Raw data: poolwait", "",
           para("*others*: what the rest of the machine took during the run (other processes' CPU, the "
                "hypervisor's steal, other sched_switch programs and socket-call programs), in % of all CPUs."),
           ""]

    def pg_raw(rs):
        return ["| %s | %d | %s | %s | %s | %s | %s | %s | %s | %.1f %% | %.1f |" % (
            r["config"], r["rep"], "{:,.0f}".format(r["tps"]), "{:,.0f}".format(r["transactions"]),
            count_cell(r["own_roundtrips"]), count_cell(r["roundtrips"]),
            "{:,.0f}".format(r["bpf_ns"] / 1e3) if r["bpf_runs"] else "–", count_cell(r["bpf_runs"]),
            count_cell(r["calls"]), r["others"], r["quiet_wait_s"]) for r in rs]
    pg_head = ["| configuration | rep | tps | transactions | pgbench's round trips (poolwait) | all round trips "
               "(poolwait) | BPF run time (µs) | BPF program runs | traced socket calls | others | quiet wait (s) |",
               "|" + " --- |" * 11]
    order = [c for m in modes for c, _, _ in pgbench_configs(m)]
    md += pg_head + pg_raw(sorted((r for rs in pg_kept.values() for r in rs),
                                  key=lambda r: (order.index(r["config"]) if r["config"] in order else 99, r["rep"])))

    def d_raw(rs):
        return ["| %s | %d | %.3f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f %% | %.1f |" % (
            r["config"], r["rep"], r["seconds"], "{:,.0f}".format(r["dispatches"]), ns(r["pool_ns"]),
            ns(r["query_ns"]), ns(r["dispatch_ns"]),
            "{:,.0f}".format(r["bpf_ns"] / 1e3) if r["bpf_runs"] else "–", count_cell(r["bpf_runs"]),
            count_cell(r["uprobe_runs"]), count_cell(r["own_roundtrips"]), count_cell(r["window_queries"]),
            r["others"], r["quiet_wait_s"]) for r in rs]
    d_head = ["| configuration | rep | window (s) | dispatch() calls | pool_get | query | dispatch() | BPF run "
              "time (µs) | BPF program runs | uprobe runs | round trips (poolwait) | queries in poolwait's window "
              "| others | quiet wait (s) |", "|" + " --- |" * 14]
    dorder = [c for c, _, _ in DISPATCH]
    if d_kept:
        md += [""] + d_head + d_raw(sorted((r for rs in d_kept.values() for r in rs),
                                           key=lambda r: (dorder.index(r["config"]), r["rep"])))
    if redone:
        md += ["", "Runs done again because others took more than %.0f %% of the machine:" % NOISY_PCT, ""]
        if pg_redone:
            md += pg_head + pg_raw(pg_redone)
        if d_redone:
            md += ([""] if pg_redone else []) + d_head + d_raw(d_redone)
    md += [END]
    SECTION.write(doc_path, "\n".join(md))
    print("poolwait goals:", gtable, sep="\n")
    for m, t in pg_tables:
        print("", "pgbench -M %s:" % m, t, sep="\n")
    print("", "per program:", prog_table, "", "dispatch:", d_table, "", "start-up:", st_table, sep="\n")
    if busy or redone or tracers:
        print()
        print("\n".join(n for n in notes if "Noise" in n or "again" in n or "Another" in n))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "snap" and len(sys.argv) >= 3:
        snap(sys.argv[2], sys.argv[3:])
    elif cmd == "delta" and len(sys.argv) == 7:
        delta(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6])
    elif cmd == "count" and len(sys.argv) == 4:
        count(sys.argv[2], int(sys.argv[3]))
    elif cmd == "dispatch" and len(sys.argv) in (5, 6):
        dispatch(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) == 6 else None)
    elif cmd == "quiet" and len(sys.argv) == 3:
        quiet(float(sys.argv[2]))
    elif cmd == "report" and len(sys.argv) == 7:
        report(*sys.argv[2:7])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
