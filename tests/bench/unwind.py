#!/usr/bin/env python3
"""How offcpu walked the user stacks of a pingpong run, from its --json report,
for scripts/bench.sh.

usage: unwind.py JSON
    print "TABLES WALKED CUT_SHORT BINARIES ROWS USER_FRAMES WHOLE": the
    report's `unwind` object (TABLES 1 if user stacks were walked by unwind
    tables, 0 with --stack fp; WALKED and CUT_SHORT the walks by the tables;
    BINARIES and ROWS the tables loaded), the user frames of a blocked
    period's stack, averaged over the periods (frames offcpu could not name,
    [unknown], not counted), and the share of the periods whose user stack
    is whole: from the thread's outermost frame (OUTERMOST) down; "- - - - -
    - -" if JSON is absent or empty (a tracer that writes no report); fails
    if JSON is not an offcpu report

offcpu unwinds in BPF: the report's counts are all there is to say about the
walks in user space, where nothing is unwound.
"""
import json
import os
import sys

NONE = "- - - - - - -"
# where a thread's stack begins (glibc's new threads, the main thread): a stack from there is whole
OUTERMOST = ("__clone3", "__clone", "clone3", "clone", "_start")


def user_stacks(stacks):
    """(user frames per blocked period, share of the periods with a whole user stack), weighted by the
    periods of each stack; (None, None) without periods"""
    frames = whole = periods = 0
    for s in stacks:
        user = s["frames"][:len(s["frames"]) - s.get("kernel_frames", 0)]
        frames += s["count"] * sum(1 for f in user if f != "[unknown]")
        whole += s["count"] if user and user[0] in OUTERMOST else 0
        periods += s["count"]
    return (frames / periods, whole / periods) if periods else (None, None)


def main():
    path = sys.argv[1]
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        print(NONE)
        return
    with open(path) as f:
        doc = json.load(f)
    u = doc["unwind"]
    frames, whole = user_stacks(doc.get("stacks", []))
    print(int(u["tables"]), u["walked"], u["cut_short"], u["binaries"], u["rows"],
          *("-" if x is None else "%.3f" % x for x in (frames, whole)))


if __name__ == "__main__":
    main()
