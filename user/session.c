// SPDX-License-Identifier: GPL-2.0
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "session.h"
#include "target.h"

#define POLL_MS 100

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

double mono_seconds(void)
{
	return mono_ns() / 1e9;
}

unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed stdout shows up as EPIPE, handled by finish_stdout() */
	signal(SIGPIPE, SIG_IGN);
}

/* True when every target has exited; marks each one that has. */
static bool targets_gone(struct session *s)
{
	int gone = 0;

	for (int i = 0; i < s->npids; i++) {
		if (!s->exited[i] && !pid_alive(s->pids[i]))
			s->exited[i] = true;
		gone += s->exited[i];
	}
	return s->npids && gone == s->npids;
}

static void draw_status(struct session *s, bool tty)
{
	char buf[160] = "";

	if (!tty || !s->status)
		return;
	s->status(s->ctx, buf, sizeof(buf));
	if (s->duration)
		fprintf(stderr, "\r\033[K%s: %.0f/%.0f s, %s", s->tool, s->elapsed, s->duration,
			buf);
	else
		fprintf(stderr, "\r\033[K%s: %.0f s (Ctrl-C to stop), %s", s->tool, s->elapsed,
			buf);
}

static void wait_a_moment(struct session *s)
{
	if (s->rb) {
		ring_buffer__poll(s->rb, POLL_MS);
		return;
	}
	usleep(POLL_MS * 1000);
}

enum stop_reason session_run(struct session *s)
{
	bool tty = isatty(STDERR_FILENO);
	double start = mono_seconds(), next_tick = start + 1, next_report = start + s->interval;
	enum stop_reason why = STOP_SIGNAL;

	install_signals();
	draw_status(s, tty);
	while (!stop_signal) {
		wait_a_moment(s);
		if (s->poll)
			s->poll(s->ctx);
		s->elapsed = mono_seconds() - start;
		if (s->duration && s->elapsed >= s->duration) {
			why = STOP_DURATION;
			break;
		}
		if (targets_gone(s)) {
			why = STOP_TARGETS_EXITED;
			break;
		}
		if (s->interval > 0 && mono_seconds() >= next_report) {
			next_report += s->interval;
			if (tty && s->status)
				fprintf(stderr, "\r\033[K");
			s->on_interval(s->ctx);
		}
		if (mono_seconds() >= next_tick) {
			next_tick += 1;
			/* exec notices first: a refresh must not take an exec'ed image for the old
			 * one */
			if (s->rb)
				ring_buffer__consume(s->rb);
			if (s->tick)
				s->tick(s->ctx);
			draw_status(s, tty);
		}
	}
	s->elapsed = mono_seconds() - start;
	if (tty && s->status)
		fprintf(stderr, "\r\033[K");
	return why;
}

void finish_stdout(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return;
	if (errno == EPIPE)
		_exit(0);
	perror("write");
	_exit(1);
}
