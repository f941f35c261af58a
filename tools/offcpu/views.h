/* SPDX-License-Identifier: GPL-2.0 */
/*
 * offcpu's views beyond stacks and threads: actors, threads stuck right now,
 * wakers, and the flame graph and pprof files.
 */
#ifndef WAITSCOPE_OFFCPU_VIEWS_H
#define WAITSCOPE_OFFCPU_VIEWS_H

#include <stdio.h>
#include "actors.h"
#include "json.h"
#include "profile.h"

/* "lock (futex)": the reason, and the syscall it blocked in if any. */
const char *views_reason_label(int reason, int syscall, char *buf, size_t n);
/* A stack innermost frame first, as bcc prints them: kernel, "--", user. */
void views_frames_text(FILE *f, const char *const *frames, int n, int nkernel);
/* "frames" (outermost first) and "kernel_frames" keys. */
void views_frames_json(struct json *j, const char *const *frames, int n, int nkernel);

/* One role: the threads, or the blocked stacks, its rules gave it. */
struct pactor {
	char name[ACTOR_LEN];
	int nthreads;
	uint64_t oncpu_ns;
	uint64_t reason_ns[REASON_NR]; /* blocked by reason; [REASON_RUNQUEUE] waiting for a CPU */
	struct hist hist;	       /* blocked periods (runqueue ones aside) */
	size_t *stacks;		       /* indexes into profile.stacks, by off-CPU time */
	size_t nstacks;
};

/*
 * Threads get their actor from the thread-name rules; blocked stacks and stuck
 * threads from all rules, sym:GLOB ones matching their user frames.
 */
void views_assign_actors(struct profile *p, const struct actor_rules *r);

/* Actors sorted by off-CPU time; *n of them. Free with views_actors_free(). */
struct pactor *views_actors(const struct profile *p, size_t *n);
void views_actors_free(struct pactor *a, size_t n);

void views_actors_text(FILE *f, const struct profile *p, int top);
void views_actors_json(struct json *j, const struct profile *p);

void views_stuck_text(FILE *f, const struct profile *p, int top);
void views_stuck_json_array(struct json *j, const struct profile *p);
/* offcpu --stuck --json: a document of its own */

/* The top waker of a stack, one indented line for the text report. */
void views_top_waker_text(FILE *f, const struct pstack *s);
void views_wakers_json(struct json *j, const struct pstack *s);
/* Off-wake folded stacks: waiter frames;--;waker frames reversed;waker comm. */
void views_offwake_folded(FILE *f, const struct profile *p);

int views_svg(FILE *f, const struct profile *p);
int views_pprof(FILE *f, const struct profile *p);

#endif
