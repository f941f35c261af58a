// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "acquire.h"
#include "poolwait.skel.h"
#include "loader.h"
#include "target.h"
#include "taxonomy.h"

int acquire_resolve(const char *tool, const char *spec, const int *pids, int npids,
		    struct acquire *a)
{
	char sym[256], *release;

	snprintf(sym, sizeof(sym), "%s", spec);
	release = strchr(sym, ':');
	/* LIB:SYM keeps to one library: the release is after a second colon, or a first one
	 * followed by a name that is no library's */
	if (release)
		*release++ = '\0';
	for (int i = 0; i < npids; i++) {
		if (probes_find_or_say(tool, "--acquire", &a->probes, pids[i], sym, ACQ_ACQUIRE,
				       true) < 0)
			return EXIT_USAGE;
		if (release && release[0] &&
		    probes_find_or_say(tool, "--acquire", &a->probes, pids[i], release, ACQ_RELEASE,
				       false) < 0)
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
