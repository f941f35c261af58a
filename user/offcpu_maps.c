// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "offcpu.h"
#include "offcpu_maps.h"
#include "schedframes.h"

static int ncpus(void)
{
	static int n;

	if (n <= 0)
		n = libbpf_num_possible_cpus();
	return n;
}

/* Sum over CPUs of one per-CPU counter. */
static uint64_t counter(const struct offcpu_maps *m, __u32 idx)
{
	int n = ncpus();
	uint64_t sum = 0;

	if (n <= 0)
		return 0;
	uint64_t vals[n];

	if (bpf_map_lookup_elem(m->counters, &idx, vals))
		return 0;
	for (int i = 0; i < n; i++)
		sum += vals[i];
	return sum;
}

void offcpu_progress(const struct offcpu_maps *m, uint64_t *periods, uint64_t *drops)
{
	*periods = counter(m, DROP_NR + CNT_PERIODS);
	*drops = 0;
	for (int i = 0; i < DROP_NR; i++)
		*drops += counter(m, i);
}

static void read_lost(const struct offcpu_maps *m, struct profile *p)
{
	static const int map[DROP_NR] = {
		[DROP_THREADS_FULL] = LOST_THREADS_FULL,
		[DROP_PERIODS_FULL] = LOST_PERIODS_FULL,
		[DROP_HISTS_FULL] = LOST_HISTS_FULL,
		[DROP_STACKS_FULL] = LOST_STACKS_FULL,
		[DROP_USTACK_FAILED] = LOST_USTACK_FAILED,
		[DROP_KSTACK_FAILED] = LOST_KSTACK_FAILED,
		[DROP_EVENTS_LOST] = LOST_EVENTS,
	};
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	for (int i = 0; i < DROP_NR; i++)
		p->lost[map[i]] = counter(m, i);
	if (m->prog >= 0 && !bpf_obj_get_info_by_fd(m->prog, &info, &len))
		p->lost[LOST_RECURSION] = info.recursion_misses;
}

static int by_tid(const void *a, const void *b)
{
	return ((const struct pthread *)a)->tid - ((const struct pthread *)b)->tid;
}

/* Threads are sorted by tid while the maps are read. */
static struct pthread *find_thread(struct profile *p, int tid)
{
	struct pthread key = {.tid = tid};

	return bsearch(&key, p->threads, p->nthreads, sizeof(key), by_tid);
}

static int read_threads(const struct offcpu_maps *m, struct profile *p)
{
	__u32 key, *prev = NULL;
	struct thread t;
	size_t cap = 0;

	while (!bpf_map_get_next_key(m->threads, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(m->threads, &key, &t))
			continue;
		if (p->nthreads == cap) {
			cap = cap ? cap * 2 : 256;
			void *n = realloc(p->threads, cap * sizeof(*p->threads));
			if (!n)
				return -ENOMEM;
			p->threads = n;
		}
		struct pthread *pt = &p->threads[p->nthreads++];
		memset(pt, 0, sizeof(*pt));
		pt->tid = key;
		pt->pid = t.tgid;
		pt->kernel = t.flags & THREAD_KERNEL;
		memcpy(pt->comm, t.comm, sizeof(pt->comm));
		pt->comm[COMM_LEN - 1] = 0;
		pt->oncpu_ns = t.oncpu_ns;
		memcpy(pt->offcpu_ns, t.offcpu_ns, sizeof(pt->offcpu_ns));
		memcpy(pt->periods, t.periods, sizeof(pt->periods));
	}
	qsort(p->threads, p->nthreads, sizeof(*p->threads), by_tid);
	return 0;
}

static void read_hists(const struct offcpu_maps *m, struct profile *p)
{
	struct hist_key key, *prev = NULL;
	struct hist_val v;

	while (!bpf_map_get_next_key(m->hists, prev, &key)) {
		struct pthread *t;

		prev = &key;
		if (key.reason >= REASON_NR || bpf_map_lookup_elem(m->hists, &key, &v))
			continue;
		t = find_thread(p, key.pid);
		if (t)
			hist_add_fine(&t->hist[key.reason], v.slots, HIST_FINE_SLOTS, v.total_ns,
				      v.max_ns);
	}
}

static bool is_tracer_frame(const char *name)
{
	return !strncmp(name, "bpf_prog_", 9) || !strncmp(name, "bpf_trace_run", 13) ||
	       !strncmp(name, "__bpf_trace_", 12) || !strncmp(name, "__traceiter_", 12);
}

/* Appends a stored stack's frames outermost first; returns how many. */
static int add_frames(const struct offcpu_maps *m, struct syms *syms, int tgid, __u64 hash,
		      const struct schedframes *sf, const char **out, struct profile *p)
{
	bool kernel = sf != NULL, partial = false;
	struct stack st;
	struct syms_stats before, after;
	int n;

	__u64 full;

	/* a stack walked without its scheduler frames, whose full walk came later */
	if (kernel && hash && !bpf_map_lookup_elem(m->full_of, &hash, &full))
		hash = full;
	if (!hash || bpf_map_lookup_elem(m->stacks, &hash, &st))
		return 0;
	n = st.nr < MAX_STACK_DEPTH ? st.nr : MAX_STACK_DEPTH;
	if (kernel)
		n = schedframes_fill(sf, (uint64_t *)st.ips, n, MAX_STACK_DEPTH - 1, &partial);
	syms_get_stats(syms, &before);
	for (int i = 0; i < n; i++)
		out[i] = kernel ? syms_kernel(syms, st.ips[n - 1 - i])
				: syms_user(syms, tgid, st.ips[n - 1 - i]);
	syms_get_stats(syms, &after);
	/* the tracer's own frames (our program, the tracepoint glue) say nothing */
	while (kernel && n > 0 && is_tracer_frame(out[n - 1]))
		n--;
	/* a place seen once, walked without the scheduler's frames: say so */
	if (partial)
		out[n++] = "[scheduler]";
	p->lost[LOST_NO_MAPS] += after.no_maps - before.no_maps;
	return n;
}

static int add_stack(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		     const struct schedframes *sf, const struct period_key *k,
		     const struct period_val *v, size_t *cap)
{
	const char *frames[2 * MAX_STACK_DEPTH];
	struct pstack *s;
	struct pthread *t;
	int nu, nk;

	if (p->nstacks == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		void *n = realloc(p->stacks, *cap * sizeof(*p->stacks));
		if (!n)
			return -ENOMEM;
		p->stacks = n;
	}
	nu = add_frames(m, syms, k->tgid, k->ustack, NULL, frames, p);
	nk = add_frames(m, syms, k->tgid, k->kstack, sf, frames + nu, p);
	s = &p->stacks[p->nstacks];
	memset(s, 0, sizeof(*s));
	s->frames = malloc((nu + nk + 1) * sizeof(*s->frames));
	if (!s->frames)
		return -ENOMEM;
	memcpy(s->frames, frames, (nu + nk) * sizeof(*frames));
	s->nframes = nu + nk;
	s->nkernel = nk;
	s->pid = k->tgid;
	s->tid = k->pid;
	t = find_thread(p, k->pid);
	snprintf(s->comm, sizeof(s->comm), "%s", t ? t->comm : "?");
	s->reason = k->reason < REASON_NR ? k->reason : REASON_OTHER;
	s->syscall = k->syscall == NO_SYSCALL ? -1 : k->syscall;
	s->total_ns = v->total_ns;
	s->count = v->count;
	s->max_ns = v->max_ns;
	p->nstacks++;
	return 0;
}

static int cmp_frames(const struct pstack *a, const struct pstack *b)
{
	if (a->nframes != b->nframes)
		return a->nframes - b->nframes;
	if (a->nkernel != b->nkernel)
		return a->nkernel - b->nkernel;
	for (int i = 0; i < a->nframes; i++) {
		int c = a->frames[i] == b->frames[i] ? 0 : strcmp(a->frames[i], b->frames[i]);
		if (c)
			return c;
	}
	return 0;
}

static int cmp_stack_identity(const void *x, const void *y)
{
	const struct pstack *a = x, *b = y;

	if (a->tid != b->tid)
		return a->tid - b->tid;
	if (a->reason != b->reason)
		return a->reason - b->reason;
	if (a->syscall != b->syscall)
		return a->syscall - b->syscall;
	return cmp_frames(a, b);
}

/* Stacks that differ only in call-site offsets name the same code path: one entry. */
static void merge_same_stacks(struct profile *p)
{
	size_t out = 0;

	qsort(p->stacks, p->nstacks, sizeof(*p->stacks), cmp_stack_identity);
	for (size_t i = 0; i < p->nstacks; i++) {
		struct pstack *s = &p->stacks[i];

		if (out && !cmp_stack_identity(&p->stacks[out - 1], s)) {
			struct pstack *d = &p->stacks[out - 1];
			d->total_ns += s->total_ns;
			d->count += s->count;
			d->max_ns = s->max_ns > d->max_ns ? s->max_ns : d->max_ns;
			free(s->frames);
			continue;
		}
		p->stacks[out++] = *s;
	}
	p->nstacks = out;
}

/* The scheduler frames of every full kernel walk, by call site. */
static void learn_sched_frames(const struct offcpu_maps *m, struct schedframes *sf)
{
	struct period_key key, *prev = NULL;
	struct stack st;

	while (!bpf_map_get_next_key(m->periods, prev, &key)) {
		prev = &key;
		if (key.kstack && !bpf_map_lookup_elem(m->stacks, &key.kstack, &st))
			schedframes_learn(sf, (uint64_t *)st.ips,
					  st.nr < MAX_STACK_DEPTH ? st.nr : MAX_STACK_DEPTH);
	}
}

static int read_periods(const struct offcpu_maps *m, struct syms *syms, struct profile *p)
{
	struct period_key key, *prev = NULL;
	struct schedframes sf;
	struct period_val v;
	size_t cap = 0;
	int err = 0;

	if (!schedframes_init(&sf))
		learn_sched_frames(m, &sf);
	while (!err && !bpf_map_get_next_key(m->periods, prev, &key)) {
		prev = &key;
		if (!bpf_map_lookup_elem(m->periods, &key, &v))
			err = add_stack(m, syms, p, &sf, &key, &v, &cap);
	}
	schedframes_free(&sf);
	if (!err)
		merge_same_stacks(p);
	return err;
}

int offcpu_read(const struct offcpu_maps *m, struct syms *syms, struct profile *p)
{
	int err;

	read_lost(m, p);
	err = read_threads(m, p);
	if (err)
		return err;
	read_hists(m, p);
	return read_periods(m, syms, p);
}
