/* SPDX-License-Identifier: GPL-2.0 */
/* What a tool traces, and whether this machine lets it: pids, liveness, preflight checks. */
#ifndef WAITSCOPE_TARGET_H
#define WAITSCOPE_TARGET_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes of every tool. */
#define EXIT_ENV   1 /* the machine lacks something: privileges, BTF, kernel */
#define EXIT_USAGE 2 /* bad flags or targets */

/* Parses "PID[,PID..]"; returns how many, or -1 after printing a one-line error. */
int target_parse_pids(const char *tool, const char *arg, int *out, int max);
/*
 * -t TID: its process becomes the one target (pids[0], *npids = 1), so that
 * its exit ends the trace. 0 when tid is 0 or fine, else EXIT_USAGE after
 * one line: no such thread, or -p names another process.
 */
int target_resolve_tid(const char *tool, int tid, int *pids, int *npids);
/* Alive and not a zombie. */
bool pid_alive(int pid);
/* Thread group of a thread id, -1 if there is no such thread. */
int tid_tgid(int tid);
/* Thread or process name from /proc, "?" when gone. */
void proc_comm(int pid, int tid, char *buf, size_t n);

/*
 * Checks kernel version, BTF and privileges before any BPF is loaded, so a
 * user gets one clear line instead of a verifier dump. btf_path is a
 * user-supplied BTF file or NULL. Returns 0 or the exit code to use.
 */
int preflight(const char *tool, const char *btf_path);

struct argp;

/* One line on stderr, "(see TOOL --help)", exit EXIT_USAGE: bad input never gets a page. */
__attribute__((noreturn, format(printf, 2, 3))) void usage_error(const char *tool, const char *fmt,
								 ...);
/* argp_parse with argp's own two-line errors replaced by usage_error(). */
int parse_args(const char *tool, const struct argp *argp, int argc, char **argv);

/* Parses a positive number of seconds; returns -1 when it is not one. */
double parse_seconds(const char *s);
/* A whole number >= 0 of a flag (what: "MIN_US"); exits with a usage error if it is not. */
long parse_count(const char *tool, const char *what, const char *arg);
/* -n N: 0 (all) to 1000000; exits with a usage error if it is not. */
int parse_top(const char *tool, const char *arg);
/*
 * The index of arg among names (a flag's values: --by thread); exits with a usage error that
 * lists them if it is none ("--by takes lock, thread or actor, not x").
 */
int parse_choice(const char *tool, const char *flag, const char *arg, const char *const *names,
		 int n);
/* -i SECONDS: seconds > 0; exits with a usage error if not. */
double parse_interval(const char *tool, const char *arg);

#endif
