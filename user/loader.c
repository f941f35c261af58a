// SPDX-License-Identifier: GPL-2.0
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "loader.h"

static bool log_verbose;

static int print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	return log_verbose ? vfprintf(stderr, fmt, args) : 0;
}

void loader_log(bool verbose)
{
	log_verbose = verbose;
	libbpf_set_print(print);
}

bool loader_tracepoint_args(const char *btf_path, const char *tp, int nargs)
{
	struct btf *btf = btf_path ? btf__parse(btf_path, NULL) : btf__load_vmlinux_btf();
	const struct btf_type *t;
	char name[128];
	bool yes;
	int id;

	if (!btf)
		return false;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	t = t ? btf__type_by_id(btf, t->type) : NULL; /* pointer to the prototype */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	yes = t && btf_is_func_proto(t) && btf_vlen(t) >= nargs + 1;
	btf__free(btf);
	return yes;
}

void *loader_load(struct loader *l, int *chosen)
{
	l->err = 0;

	for (int i = 0; i < l->nflavours; i++) {
		void *skel;

		if (l->allowed && !l->allowed(l->ctx, i))
			continue;
		errno = 0;
		skel = l->load(l->ctx, i);
		if (skel) {
			*chosen = i;
			return skel;
		}
		if (!l->err)
			l->err = errno ? errno : EINVAL;
	}
	fprintf(stderr, "%s: cannot load the BPF program: %s%s\n", l->tool, strerror(l->err),
		l->verbose ? "" : " (run with -v for libbpf's log)");
	return NULL;
}

#define TRACEFS "/sys/kernel/tracing"

int loader_tracefs(const char *tool)
{
	struct stat st;

	if (!stat(TRACEFS "/events", &st) || !stat("/sys/kernel/debug/tracing/events", &st))
		return 0;
	if (!mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return 0;
	fprintf(stderr,
		"%s: tracefs is not mounted and cannot be (%s): mount -t tracefs nodev " TRACEFS
		"\n",
		tool, strerror(errno));
	return -errno;
}

bool loader_has_tracepoint(const char *category, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), TRACEFS "/events/%s/%s", category, name);
	if (!stat(path, &st))
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s/%s", category, name);
	return !stat(path, &st);
}
