#!/usr/bin/env python3
"""CPU used by everything but the benchmark, so that a noisy machine shows.

usage:
  sysload.py snap FILE SHELL_PID [TRACER_PID]
                               save the machine's busy ticks and ours: the
                               benchmark shell's own and its reaped children's
                               (pingpong is one once waited for), the tracer's
  sysload.py foreign FILE0 FILE1
                               print the share of the machine (percent) that
                               everything else used between the two snaps
  sysload.py quiet MAX_S PCT   wait up to MAX_S seconds until the machine is
                               below PCT percent busy over 0.5 s and no
                               sched_switch BPF program runs (between runs
                               none is ours); print the seconds waited
"""
import json
import os
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
    """(busy, total) of the machine: user nice system irq softirq / all."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6], sum(v[:8])


def sched_switch_progs():
    """BPF programs on sched_switch: between runs, none of them is ours."""
    try:
        progs = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True,
                                          text=True, check=True).stdout)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0
    return sum(1 for p in progs if p.get("name", "").startswith("sched_switch"))


def main():
    cmd = sys.argv[1]
    if cmd == "snap":
        busy, total = cpu_ticks()
        ours = proc_ticks(sys.argv[3], True)
        if len(sys.argv) > 4:
            ours += proc_ticks(sys.argv[4], False)
        with open(sys.argv[2], "w") as f:
            json.dump({"busy": busy, "total": total, "ours": ours}, f)
    elif cmd == "foreign":
        with open(sys.argv[2]) as f:
            a = json.load(f)
        with open(sys.argv[3]) as f:
            b = json.load(f)
        other = (b["busy"] - a["busy"]) - (b["ours"] - a["ours"])
        print("%.1f" % max(0.0, 100.0 * other / max(1, b["total"] - a["total"])))
    elif cmd == "quiet":
        limit, pct = float(sys.argv[2]), float(sys.argv[3])
        t0 = time.monotonic()
        while True:
            b0, t_0 = cpu_ticks()
            time.sleep(0.5)
            b1, t_1 = cpu_ticks()
            load = 100.0 * (b1 - b0) / max(1, t_1 - t_0)
            waited = time.monotonic() - t0
            if (load < pct and not sched_switch_progs()) or waited >= limit:
                print("%.1f" % waited)
                return
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
