// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "acquire.h"
#include "poolwait.skel.h"
#include "loader.h"
#include "target.h"
#include "taxonomy.h"

/* The single colons of s (a Rust path's "::" is none), at most 3. */
static int single_colons(const char *s, const char **at)
{
	int n = 0;

	for (const char *p = s; *p; p++) {
		if (p[0] == ':' && p[1] == ':') {
			p++;
			continue;
		}
		if (*p == ':' && n < 3)
			at[n++] = p;
	}
	return n;
}

/*
 * SYM, SYM:RELEASE or LIB:SYM:RELEASE (then the release is looked for in LIB too) into the
 * acquire's and the release's patterns. 0, or -1 when it is none of these.
 */
int acquire_split(const char *spec, char *sym, size_t symlen, char *rel, size_t rellen)
{
	const char *at[3];
	int n = single_colons(spec, at);

	rel[0] = '\0';
	if (!spec[0])
		return -1;
	if (n == 0)
		return snprintf(sym, symlen, "%s", spec) < (int)symlen ? 0 : -1;
	if (n > 2 || !at[n - 1][1] || at[0] == spec)
		return -1;
	snprintf(sym, symlen, "%.*s", (int)(at[n - 1] - spec), spec);
	if (n == 1)
		snprintf(rel, rellen, "%s", at[0] + 1);
	else
		snprintf(rel, rellen, "%.*s%s", (int)(at[0] + 1 - spec), spec, at[1] + 1);
	return 0;
}

int acquire_resolve(const char *tool, const char *spec, const int *pids, int npids,
		    struct acquire *a)
{
	char sym[256], rel[256];

	if (acquire_split(spec, sym, sizeof(sym), rel, sizeof(rel))) {
		fprintf(stderr, "%s: --acquire %s: expected SYM, SYM:RELEASE or LIB:SYM:RELEASE\n",
			tool, spec);
		return EXIT_USAGE;
	}
	a->release = rel[0] != '\0';
	for (int i = 0; i < npids; i++) {
		if (probes_find_or_say(tool, "--acquire", &a->probes, pids[i], sym, ACQ_ACQUIRE,
				       true) < 0)
			return EXIT_USAGE;
		if (a->release && probes_find_or_say(tool, "--acquire", &a->probes, pids[i], rel,
						     ACQ_RELEASE, false) < 0)
			return EXIT_USAGE;
	}
	return 0;
}

void acquire_configure(const struct acquire *a, struct poolwait_bpf *s, bool btf)
{
	bool on = a->probes.funcs.n > 0;

	bpf_program__set_autoload(s->progs.acquire_enter, on);
	bpf_program__set_autoload(s->progs.acquire_return, on);
	/* the switches that split a wait into its reasons */
	bpf_program__set_autoload(s->progs.sched_switch_btf, on && btf);
	bpf_program__set_autoload(s->progs.sched_switch_raw, on && !btf);
	s->rodata->acquire_holds = a->release;
	if (on) {
		s->rodata->has_prev_state = loader_tracepoint_args(NULL, "sched_switch", 4);
		reasons_fill_syscall_classes((uint8_t *)s->rodata->sys_class, MAX_SYSCALLS);
	}
	if (!on) {
		bpf_map__set_max_entries(s->maps.acquiring, 1);
		bpf_map__set_max_entries(s->maps.held, 1);
	}
}

int acquire_attach(const char *tool, struct acquire *a, const struct poolwait_bpf *s)
{
	a->skel = s;
	return probes_attach(tool, &a->probes, s->progs.acquire_enter, s->progs.acquire_return);
}

void acquire_detach(struct acquire *a)
{
	probes_detach(&a->probes);
}

void acquire_free(struct acquire *a)
{
	probes_free(&a->probes);
}

void acquire_read(const struct acquire *a, struct acquire_stats *out)
{
	const struct acquire_totals *t = &a->skel->bss->acq;

	memset(out, 0, sizeof(*out));
	out->calls = t->calls;
	out->wait_ns = t->wait_ns;
	out->holds = t->holds;
	out->hold_ns = t->hold_ns;
	out->concurrency_max = t->waiting_max > 0 ? t->waiting_max : 0;
	for (int i = 0; i < REASON_NR; i++)
		out->off_ns[i] = t->off_ns[i];
	hist_add_fine(&out->hist, t->fine, HIST_FINE_SLOTS, t->wait_ns, t->max_ns);
}

uint64_t acquire_waiting(const struct acquire *a)
{
	return a->skel && a->skel->bss->acq.waiting > 0 ? a->skel->bss->acq.waiting : 0;
}
