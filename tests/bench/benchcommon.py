"""What report.py and semlat.py share: the machine facts both read from BENCH_*,
reading a TSV of runs that were kept or done again, medians and their spread.
Imported, not run.
"""
import csv
import os
import statistics

# share of the machine taken by others (processes, BPF programs, steal) above
# which a run is flagged (and redone, while retries are left)
NOISY_PCT = float(os.environ.get("BENCH_NOISY_PCT", "5"))
NPROC = int(os.environ.get("BENCH_NPROC", "1"))


def number(v):
    return float(v) if "." in v else int(v)


def others(r):
    """what the rest of the machine took during run R, in % of all CPUs: what the scripts compare to NOISY_PCT"""
    return r["foreign_cpu_pct"] + r["steal_pct"] + 100 * r["foreign_bpf_ns"] / r["window_ns"] / NPROC


def load_kept(path, derive):
    """({config: [run]}, [run done again]) from a TSV whose last column says whether the run was kept;
    DERIVE(run) adds its figures"""
    kept, redone = {}, []
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            r = {k: (v if k == "config" else number(v)) for k, v in row.items()}
            derive(r)
            r["others"] = others(r)
            if r["kept"]:
                kept.setdefault(r["config"], []).append(r)
            else:
                redone.append(r)
    return kept, redone


def ran(kept, configs):
    """(config, label, command, runs) of each (config, label, command) of CONFIGS that has kept runs"""
    for config, label, cmd in configs:
        if kept.get(config):
            yield config, label, cmd, kept[config]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs, fmt):
    xs = [x for x in xs if x is not None]
    return " (%s–%s)" % (fmt(min(xs)), fmt(max(xs))) if len(xs) > 1 else ""


def times(n):
    return {1: "once", 2: "twice"}.get(n, "%d times" % n)
