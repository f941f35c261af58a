"""What report.py, semlat.py and poolwait.py share: the machine facts they read
from BENCH_*, reading a TSV of runs that were kept or done again, medians and
their spread, the bpf_stats of programs, the formats of figures, the tables of
throughput against untraced runs and the goal row of a throughput drop, and the
sections of the document that one script writes between markers.
Imported, not run.
"""
import csv
import json
import os
import re
import statistics
import subprocess
import textwrap

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


def bpf_progs(ids=()):
    """{id: bpftool's JSON of the program} of every BPF program loaded (run_time_ns and run_cnt with
    kernel.bpf_stats_enabled=1), asked again (three times at most) while bpftool fails or one of IDS is
    missing; then the programs of IDS that are missing are asked one by one; {} if all fails"""
    progs = {}
    for _ in range(3):
        try:
            out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True,
                                 check=True).stdout
            progs = {p["id"]: p for p in json.loads(out)}
        except (OSError, subprocess.CalledProcessError, ValueError):
            continue
        if all(int(i) in progs for i in ids):
            return progs
    for i in ids:
        if int(i) not in progs:
            out = subprocess.run(["bpftool", "prog", "show", "id", str(i), "-j"], capture_output=True, text=True)
            if out.returncode == 0:
                progs[int(i)] = json.loads(out.stdout)
    return progs


def para(t):
    return textwrap.fill(t, 76)


def rate(x):
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            return "%.3g%s" % (x / div, unit)
    return "%.0f" % x


def ns(x):
    return "–" if x is None else "%.1f µs" % (x / 1000) if abs(x) >= 10000 else "%.0f ns" % x


def ratio(x, digits=3):
    """a throughput ratio; one of a traced --symbol loop is thousandths of a thousandth"""
    return "%.*fx" % (digits, x) if x >= 0.01 else "%.2gx" % x


def ratio_cell(s):
    return ratio(s["ratio"]) + spread(s["ratios"], lambda x: ratio(x, 2))


def table(unit, heads, configs, part, workload, cells, absent=None):
    """The markdown table of a part: configuration, command (WORKLOAD for the untraced one), UNIT
    (min–max) and the ratio to untraced, then the columns HEADS, which CELLS(config, cmd, figures)
    fills. PART: {config: figures with rate, rates, ratio, ratios}. A configuration that did not run
    has no row, or one saying ABSENT[config]."""
    lines = ["| configuration | command | %s (min–max) | vs untraced | %s |" % (unit, " | ".join(heads)),
             "|" + " --- |" * (4 + len(heads))]
    for config, label, cmd in configs:
        s = part.get(config)
        if s:
            lines.append("| %s | `%s` | %s%s | %s | %s |" % (
                label, cmd or workload, rate(s["rate"]), spread(s["rates"], rate), ratio_cell(s),
                " | ".join(cells(config, cmd, s))))
        elif config in (absent or {}):
            lines.append("| %s | `%s` | %s |%s" % (label, cmd, absent[config], " – |" * (1 + len(heads))))
    return "\n".join(lines)


def noise(part):
    """half the spread of PART's untraced runs (its first configuration), in % of their median"""
    b = part and next(iter(part.values()))
    return 100 * (max(b["rates"]) - min(b["rates"])) / 2 / b["rate"] if b and b["n"] > 1 else None


def drop_goal(what, cmd, s, noise_pct, unit, goal_pct):
    """the goal row of a configuration that should cost (nearly) nothing: throughput within GOAL_PCT of
    untraced; NOISE_PCT the untraced runs' half spread, in %; S's bpf_op is BPF ns per UNIT"""
    drop = 100 * (1 - s["ratio"])
    verdict = "PASS" if drop <= goal_pct else "FAIL"
    # on a machine noisier than the goal, a difference inside the noise decides nothing
    if noise_pct is not None and noise_pct > goal_pct and abs(drop) <= noise_pct:
        verdict += " (within noise: the untraced runs alone spread ±%.1f %%)" % noise_pct
    return ("| %s: throughput under `%s` within %.0f %% of untraced (medians) | **%.3fx** (throughput "
            "%+.1f %%); BPF %s per %s%s | **%s** |"
            % (what, cmd, goal_pct, s["ratio"], -drop, "–" if s["bpf_op"] is None else "%.1f ns" % s["bpf_op"],
               unit, "; untraced runs spread ±%.1f %%" % noise_pct if noise_pct is not None else "", verdict))


class Section:
    """A part of the document that one script writes, between the markers BEGIN and END."""

    def __init__(self, begin, end):
        self.pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)

    def splice(self, doc, section):
        """DOC with SECTION in place of this section, else before "## Method", else at the end."""
        if self.pattern.search(doc):
            return self.pattern.sub(lambda _: section, doc, count=1)
        if "\n## Method\n" in doc:
            return doc.replace("\n## Method\n", "\n" + section + "\n\n## Method\n", 1)
        return doc.rstrip("\n") + ("\n\n" if doc else "") + section + "\n"

    def carry_over(self, old, new):
        """NEW (report.py's whole document) with this section of OLD, if it had one."""
        m = self.pattern.search(old)
        return self.splice(new, m.group(0)) if m else new

    def write(self, path, section):
        """the document at PATH with SECTION in place"""
        doc = ""
        if os.path.exists(path):
            with open(path) as f:
                doc = f.read()
        with open(path, "w") as f:
            f.write(self.splice(doc, section))
