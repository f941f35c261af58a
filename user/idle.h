/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `idle` wait reason: a worker parked waiting for work, told from its
 * blocked stack. The BPF side cannot name frames, so every tool files such a
 * period under what the kernel saw (a futex wait is `lock`) and user space
 * moves it to `idle` once the stack has names.
 *
 * A stack is judged by its innermost frame that is not wait plumbing (the
 * syscall stub, glibc's futex and condvar internals, Rust std's and
 * parking_lot's lock code, the scheduler): the function that chose to wait.
 * tokio's worker parked in Parker::park is idle; the same worker blocked in a
 * std Mutex::lock inside a task is not, since the task's function is then the
 * innermost frame above the plumbing.
 */
#ifndef WAITSCOPE_IDLE_H
#define WAITSCOPE_IDLE_H

#include <stdbool.h>
#include <stddef.h>

/* The rules users add (--idle sym:GLOB, "idle sym:GLOB" lines of an actors file). */
struct idle_rules {
	char **globs;
	size_t n;
};

/*
 * Adds "sym:GLOB": GLOB (fnmatch(3)) against the function that chose to wait.
 * Returns 0, or -EINVAL with a one-line message in err, or -ENOMEM.
 */
int idle_rules_add(struct idle_rules *r, const char *spec, char *err, size_t errlen);
void idle_rules_free(struct idle_rules *r);

/*
 * True if a blocked period filed under reason (enum reason) is a worker
 * waiting for work. frames are outermost first, the last nkernel of them the
 * kernel's. Built-in rules judge futex waits (`lock`) of user threads by their
 * user frames and any blocked period of a kernel thread by its kernel frames;
 * users' rules judge user frames of any blocked period. Runqueue time is never
 * idle: the thread wanted a CPU.
 */
bool idle_stack(const struct idle_rules *r, int reason, bool kernel_thread,
		const char *const *frames, int nframes, int nkernel);

/*
 * fnmatch(glob, frame) on a frame name without the " (file.c:12)" --lines
 * appends, and with a leading "<Type>" written "Type" (Rust's v0 names
 * "<tokio::...::Parker>::park" where legacy ones read "tokio::...::Parker::park").
 */
bool frame_glob_match(const char *glob, const char *frame);

#endif
