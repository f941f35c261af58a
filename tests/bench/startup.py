#!/usr/bin/env python3
"""How long a tracer takes to start, for scripts/bench.sh.

usage:
  startup.py attached TIMEOUT ERRFILE CMD...
        start CMD (stdout to /dev/null, stderr to ERRFILE) and print the
        seconds from just before its exec to the moment it holds a BPF link
        (/proc/PID/fd has a link to anon_inode:bpf_link: its first program is
        attached), polled every POLL_S; then stop it (SIGINT, SIGKILL after
        30 s) and wait for it. Fails if CMD ends first or TIMEOUT passes.
  startup.py wall TIMEOUT OUTFILE CMD...
        run CMD (stdout and stderr to OUTFILE) and print the seconds from just
        before its exec to its exit. Fails if CMD fails or TIMEOUT passes.

Time is CLOCK_MONOTONIC; the fork and exec of CMD are inside the figure, as
they are for someone who types the command.
"""
import os
import signal
import subprocess
import sys
import time

POLL_S = 0.002
child = None


def end_child(sig=signal.SIGKILL, grace=0.0):
    """Stop the child, politely first if GRACE, and reap it."""
    if child is None or child.poll() is not None:
        return
    child.send_signal(sig)
    try:
        child.wait(grace or None)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def on_signal(signum, _frame):
    """End the child, then die of the same signal, as the shell expects."""
    end_child()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def holds_link(pid):
    fds = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fds)
    except OSError:
        return False
    for fd in names:
        try:
            if os.readlink(fds + "/" + fd) == "anon_inode:bpf_link":
                return True
        except OSError:
            pass
    return False


def attached(timeout, errfile, cmd):
    global child
    with open(errfile, "w") as err:
        t0 = time.monotonic()
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        while True:
            if holds_link(child.pid):
                t1 = time.monotonic()
                break
            if child.poll() is not None:
                sys.exit("startup: %s ended (exit %d) before it attached" % (cmd[0], child.returncode))
            if time.monotonic() - t0 > timeout:
                end_child()
                sys.exit("startup: %s not attached within %.0f s" % (cmd[0], timeout))
            time.sleep(POLL_S)
    end_child(signal.SIGINT, 30.0)
    print("%.4f" % (t1 - t0))


def wall(timeout, outfile, cmd):
    global child
    with open(outfile, "w") as out:
        t0 = time.monotonic()
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            rc = child.wait(timeout)
        except subprocess.TimeoutExpired:
            end_child()
            sys.exit("startup: %s did not end within %.0f s" % (cmd[0], timeout))
        t1 = time.monotonic()
    if rc != 0:
        sys.exit("startup: %s failed (exit %d)" % (cmd[0], rc))
    print("%.4f" % (t1 - t0))


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("attached", "wall"):
        sys.exit(__doc__)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    (attached if sys.argv[1] == "attached" else wall)(float(sys.argv[2]), sys.argv[3], sys.argv[4:])


if __name__ == "__main__":
    main()
