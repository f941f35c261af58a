/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a tool's BPF skeleton: libbpf's log, what the kernel's BTF says
 * about its tracepoints, and the ladder of program sets ("flavours", e.g.
 * tp_btf then raw_tp) tried in order until one loads.
 */
#ifndef WAITSCOPE_LOADER_H
#define WAITSCOPE_LOADER_H

#include <stdbool.h>

/* libbpf's messages on stderr with -v, none otherwise (the tool says what failed). */
void loader_log(bool verbose);

/*
 * Does tracepoint tp pass at least nargs arguments? Its BTF typedef
 * btf_trace_TP says (void *ctx first). btf_path: --btf, or NULL for the
 * running kernel's.
 */
bool loader_tracepoint_args(const char *btf_path, const char *tp, int nargs);

struct loader {
	const char *tool;
	bool verbose;
	int nflavours;
	/* may flavour i be tried at all (flags can rule some out)? NULL: all */
	bool (*allowed)(void *ctx, int i);
	/* an opened, configured, loaded skeleton of flavour i, or NULL with errno set */
	void *(*load)(void *ctx, int i);
	void *ctx;
	int err; /* out: the first flavour's error, 0 if it loaded */
};

/*
 * The first flavour that loads, its index in *chosen; NULL after one line on
 * stderr that names the first flavour's error.
 */
void *loader_load(struct loader *l, int *chosen);

/*
 * Syscall tracepoints need tracefs: mounts it where it is missing. 0, or
 * -errno after one line on stderr.
 */
int loader_tracefs(const char *tool);
/* Does the kernel have this tracepoint (category/name, e.g. syscalls/sys_enter_futex_waitv)? */
bool loader_has_tracepoint(const char *category, const char *name);

#endif
