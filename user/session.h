/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The run loop every tool shares: wait for the duration, a signal or the
 * targets' exit, poll the ring buffer, call back each second, and keep a
 * live status line on a terminal.
 */
#ifndef WAITSCOPE_SESSION_H
#define WAITSCOPE_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct ring_buffer;

enum stop_reason {
	STOP_DURATION,
	STOP_SIGNAL,
	STOP_TARGETS_EXITED,
};

struct session {
	const char *tool;
	double duration; /* seconds; 0 runs until a signal or the targets exit */
	const int *pids; /* targets watched for exit */
	int npids;
	bool *exited;		/* out: per target, set when it exited */
	struct ring_buffer *rb; /* polled when not NULL */
	/* poll after each wait (about 10 times a second), tick each second; status fills the
	 * live status line (stderr on a terminal only) */
	void (*poll)(void *ctx);
	void (*tick)(void *ctx);
	void (*status)(void *ctx, char *buf, size_t n);
	/* every interval seconds (0: never), with the status line cleared */
	double interval;
	void (*on_interval)(void *ctx);
	void *ctx;
	double elapsed; /* out: seconds traced */
};

/* Blocks until the session ends; returns why. */
enum stop_reason session_run(struct session *s);

/* Seconds on CLOCK_MONOTONIC, and the same in ns (the clock of bpf_ktime_get_ns). */
double mono_seconds(void);
unsigned long long mono_ns(void);

/*
 * Output to a reader that went away (`| head`) is not an error: exit 0
 * quietly. Call after writing the report.
 */
void finish_stdout(void);

#endif
