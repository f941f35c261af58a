#!/usr/bin/env python3
"""What the rest of the machine did during a run, so that noise shows.

usage:
  sysload.py snap FILE SHELL_PID "TRACER_PID..."|- [OUR_PROG_ID...]
        save the machine's busy and steal ticks; ours: the benchmark shell's
        own and its reaped children's ticks (pingpong is one once waited for)
        and the tracers'; a +PID among the tracers counts PID with its reaped
        children (the postmaster, whose backends end with their connection);
        and the bpf_stats of every sched_switch program that is not ours
  sysload.py foreign FILE0 FILE1
        print "FOREIGN_PCT STEAL_PCT PROGS PROG_NS": the share of the machine
        that other processes used between the snaps, the share the hypervisor
        stole, how many other sched_switch programs ran and their run time
  sysload.py quiet MAX_S PCT
        wait up to MAX_S seconds until, over 0.5 s, the machine is below PCT
        percent busy and no sched_switch program runs (between runs none is
        ours); print the seconds waited
"""
import json
import subprocess
import sys
import time


def proc_ticks(pid, children):
    """utime+stime of PID (all its threads), plus cutime+cstime if CHILDREN."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            st = f.read()
    except OSError:
        return 0
    fields = st[st.rindex(")") + 2:].split()  # fields[0] is field 3, state
    return sum(int(x) for x in fields[11:15 if children else 13])


def cpu_ticks():
    """busy (user nice system irq softirq), steal and total ticks of the machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return {"busy": v[0] + v[1] + v[2] + v[5] + v[6], "steal": v[7], "total": sum(v[:8])}


def sched_switch_progs(ours=()):
    """{id: [run_cnt, run_time_ns]} of the sched_switch programs not in OURS."""
    try:
        progs = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True,
                                          text=True, check=True).stdout)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return {}
    return {str(p["id"]): [p.get("run_cnt", 0), p.get("run_time_ns", 0)] for p in progs
            if p.get("name", "").startswith("sched_switch") and str(p["id"]) not in ours}


def running(a, b):
    """The programs of snapshot B that ran since snapshot A: {id: run_time_ns delta}."""
    return {i: v[1] - a.get(i, [0, 0])[1] for i, v in b.items() if v[0] > a.get(i, [0, 0])[0]}


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "snap":
        snap = cpu_ticks()
        snap["ours"] = proc_ticks(sys.argv[3], True)
        for pid in sys.argv[4].replace(",", " ").split():
            if pid != "-":
                snap["ours"] += proc_ticks(pid.lstrip("+"), pid.startswith("+"))
        snap["progs"] = sched_switch_progs(set(sys.argv[5:]))
        with open(sys.argv[2], "w") as f:
            json.dump(snap, f)
    elif cmd == "foreign":
        with open(sys.argv[2]) as f:
            a = json.load(f)
        with open(sys.argv[3]) as f:
            b = json.load(f)
        total = max(1, b["total"] - a["total"])
        other = (b["busy"] - a["busy"]) - (b["ours"] - a["ours"])
        progs = running(a["progs"], b["progs"])
        print("%.1f %.1f %d %d" % (max(0.0, 100.0 * other / total),
                                   100.0 * (b["steal"] - a["steal"]) / total,
                                   len(progs), sum(progs.values())))
    elif cmd == "quiet":
        limit, pct = float(sys.argv[2]), float(sys.argv[3])
        t0 = time.monotonic()
        while True:
            c0, p0 = cpu_ticks(), sched_switch_progs()
            time.sleep(0.5)
            c1, p1 = cpu_ticks(), sched_switch_progs()
            load = 100.0 * (c1["busy"] - c0["busy"]) / max(1, c1["total"] - c0["total"])
            waited = time.monotonic() - t0
            if (load < pct and not running(p0, p1)) or waited >= limit:
                print("%.1f" % waited)
                return
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
