// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "offcpu.h"
#include "iter.h"
#include "maps.h"
#include "mapread.h"
#include "period.h"
#include "schedframes.h"
#include "session.h"

/* Sum over CPUs of one per-CPU counter. */
static uint64_t counter(const struct offcpu_maps *m, __u32 idx)
{
	return map_percpu_sum(m->counters, idx);
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
		[DROP_STACKS_FULL] = LOST_STACKS_FULL,
		[DROP_USTACK_FAILED] = LOST_USTACK_FAILED,
		[DROP_KSTACK_FAILED] = LOST_KSTACK_FAILED,
		[DROP_EVENTS_LOST] = LOST_EVENTS,
		[DROP_WAKES_FULL] = LOST_WAKES_FULL,
		[DROP_SCHED_FULL] = LOST_SCHED_FULL,
		[DROP_SWITCH_UNSEEN] = LOST_SWITCH_UNSEEN,
	};
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	for (int i = 0; i < DROP_NR; i++)
		p->lost[map[i]] = counter(m, i);
	p->unwind.walked = counter(m, DROP_NR + CNT_USTACKS);
	p->unwind.cut = counter(m, DROP_NR + CNT_USTACKS_CUT);
	if (m->prog >= 0 && !bpf_obj_get_info_by_fd(m->prog, &info, &len))
		p->lost[LOST_RECURSION] = info.recursion_misses;
}

/* The keys a map holds now: reading while deleting must not chase a moving iteration. */
static uint64_t sub_clip(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/*
 * Interval reports: what the last one read is subtracted; false when
 * nothing is new. A row can hold less than last time: a period reported
 * open and closed since under another kernel stack, or a row freed with its
 * exited thread and begun again by a thread that took over its key. The
 * difference is clipped at zero.
 */
static bool sub_period(void *val, const void *old)
{
	struct period_val *v = val;
	const struct period_val *o = old;

	if (v->count == o->count && v->total_ns == o->total_ns && v->rq_ns == o->rq_ns)
		return false;
	v->total_ns = sub_clip(v->total_ns, o->total_ns);
	v->count = sub_clip(v->count, o->count);
	v->rq_ns = sub_clip(v->rq_ns, o->rq_ns);
	for (int i = 0; i < HIST_LOG2_SLOTS; i++)
		v->slots[i] = sub_clip(v->slots[i], o->slots[i]);
	return true;
}

static bool sub_hist(void *val, const void *old)
{
	struct hist_val *v = val;
	const struct hist_val *o = old;

	if (v->total_ns == o->total_ns)
		return false;
	v->total_ns = sub_clip(v->total_ns, o->total_ns);
	for (int i = 0; i < HIST_FINE_SLOTS; i++)
		v->slots[i] = sub_clip(v->slots[i], o->slots[i]);
	return true;
}

static bool sub_wake(void *val, const void *old)
{
	struct wake_val *v = val;
	const struct wake_val *o = old;

	if (v->count == o->count && v->total_ns == o->total_ns)
		return false;
	v->total_ns = sub_clip(v->total_ns, o->total_ns);
	v->count = sub_clip(v->count, o->count);
	return true;
}

/* Interval reports: val becomes what is new since the last read. 0: use it, 1: nothing new. */
static int since_last(const struct offcpu_maps *m, int which, const void *key, void *val)
{
	static bool (*const sub[PREV_NR])(void *, const void *) = {sub_period, sub_hist, sub_wake};
	const void *old;

	if (!m->since)
		return 0;
	if (deltas_add(&m->since->next[which], key, val))
		return -1;
	old = deltas_find(&m->since->last[which], key);
	return !old || sub[which](val, old) ? 0 : 1;
}

/* One entry: as it is, or (interval reports) what is new since the last read. 0: use it. */
static int take(const struct offcpu_maps *m, int which, int fd, const void *key, void *val)
{
	if (bpf_map_lookup_elem(fd, key, val))
		return -1;
	return since_last(m, which, key, val);
}

static int by_thread(const void *a, const void *b)
{
	const struct pthread *x = a, *y = b;

	return x->tid != y->tid ? x->tid - y->tid : x->pid - y->pid;
}

/* Threads are sorted by (tid, pid) while the maps are read: a tid reused is another thread. */
static struct pthread *find_thread(struct profile *p, int tid, int pid)
{
	struct pthread key = {.tid = tid, .pid = pid};

	return bsearch(&key, p->threads, p->nthreads, sizeof(key), by_thread);
}

/* The thread records, read once: totals, and the periods open as they are read. */
struct records {
	struct thread_key *keys;
	struct thread *vals;
	size_t n;
};

static void free_records(struct records *rs)
{
	free(rs->keys);
	free(rs->vals);
}

static int read_records(const struct offcpu_maps *m, struct records *rs)
{
	size_t n = 0;

	memset(rs, 0, sizeof(*rs));
	rs->keys = map_keys(m->threads, sizeof(*rs->keys), &rs->n);
	rs->vals = calloc(rs->n + 1, sizeof(*rs->vals));
	if (!rs->keys || !rs->vals)
		return -ENOMEM;
	for (size_t i = 0; i < rs->n; i++) {
		if (bpf_map_lookup_elem(m->threads, &rs->keys[i], &rs->vals[n]))
			continue; /* gone since the keys were read */
		rs->keys[n++] = rs->keys[i];
	}
	rs->n = n;
	return 0;
}

static void thread_of(struct pthread *pt, const struct thread_key *k, const struct thread *t)
{
	memset(pt, 0, sizeof(*pt));
	pt->tid = k->pid;
	pt->pid = k->tgid;
	pt->image = t->image;
	pt->kernel = t->flags & THREAD_KERNEL;
	memcpy(pt->comm, t->comm, sizeof(pt->comm));
	pt->comm[COMM_LEN - 1] = 0;
	pt->oncpu_ns = t->oncpu_ns;
	pt->first_ns = t->first_ts;
	pt->end_ns = t->end_ts;
	memcpy(pt->offcpu_ns, t->offcpu_ns, sizeof(pt->offcpu_ns));
	memcpy(pt->periods, t->periods, sizeof(pt->periods));
	memcpy(pt->rq_after_ns, t->rq_after_ns, sizeof(pt->rq_after_ns));
}

static int read_threads(const struct records *rs, struct profile *p)
{
	p->threads = calloc(rs->n + 1, sizeof(*p->threads));
	if (!p->threads)
		return -ENOMEM;
	for (size_t i = 0; i < rs->n; i++)
		thread_of(&p->threads[i], &rs->keys[i], &rs->vals[i]);
	p->nthreads = rs->n;
	qsort(p->threads, p->nthreads, sizeof(*p->threads), by_thread);
	return 0;
}

/* Per-CPU rows summed: one histogram per reason. */
static int read_hist(const struct offcpu_maps *m, __u32 r, struct hist_val *sum)
{
	int n = map_ncpus();

	if (n <= 0)
		return -1;
	struct hist_val *v = calloc(n, sizeof(*v));

	if (!v || bpf_map_lookup_elem(m->hists, &r, v)) {
		free(v);
		return -1;
	}
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < n; c++) {
		for (int i = 0; i < HIST_FINE_SLOTS; i++)
			sum->slots[i] += v[c].slots[i];
		sum->total_ns += v[c].total_ns;
		sum->max_ns = v[c].max_ns > sum->max_ns ? v[c].max_ns : sum->max_ns;
	}
	free(v);
	return 0;
}

static void read_hists(const struct offcpu_maps *m, struct profile *p)
{
	struct hist_val v;

	for (__u32 r = 0; r < REASON_NR; r++)
		if (!read_hist(m, r, &v) && !since_last(m, PREV_HISTS, &r, &v))
			hist_add_fine(&p->reason_hist[r], v.slots, HIST_FINE_SLOTS, v.total_ns,
				      v.max_ns);
}

static bool is_tracer_frame(const char *name)
{
	return !strncmp(name, "bpf_prog_", 9) || !strncmp(name, "bpf_trace_run", 13) ||
	       !strncmp(name, "__bpf_trace_", 12) || !strncmp(name, "__traceiter_", 12);
}

/* The user stack's process: its tgid, and the image (exec) the stack was taken in. */
struct image_id {
	int tgid;
	__u32 image;
};

/* names a stack pair may take: user frames with their inlined callees, kernel frames, a note */
#define MAX_USER_NAMES SYMS_STACK_NAMES(MAX_STACK_DEPTH)
#define MAX_NAMES      (MAX_USER_NAMES + MAX_STACK_DEPTH + 1)

/*
 * Appends a stored stack's frames outermost first; returns how many. A kernel stack takes at
 * most MAX_STACK_DEPTH + 1, a user stack (inlined frames included) at most MAX_USER_NAMES.
 */
static int add_frames(const struct offcpu_maps *m, struct syms *syms, struct image_id id,
		      __u64 hash, const struct schedframes *sf, const char **out, struct profile *p)
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
	if (kernel)
		for (int i = 0; i < n; i++)
			out[i] = syms_kernel(syms, st.ips[n - 1 - i]);
	else
		n = syms_user_stack(syms, id.tgid, id.image, (const uint64_t *)st.ips, n, out,
				    MAX_USER_NAMES);
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

/* User then kernel frames of one stack pair, outermost first, in a malloc'ed array. */
static const char **symbolize(const struct offcpu_maps *m, struct syms *syms,
			      const struct schedframes *sf, struct image_id id, __u64 ustack,
			      __u64 kstack, int *nframes, int *nkernel, struct profile *p)
{
	const char *frames[MAX_NAMES], **out;
	int nu, nk;

	nu = add_frames(m, syms, id, ustack, NULL, frames, p);
	nk = add_frames(m, syms, id, kstack, sf, frames + nu, p);
	out = malloc((nu + nk + 1) * sizeof(*out));
	if (!out)
		return NULL;
	memcpy(out, frames, (nu + nk) * sizeof(*frames));
	*nframes = nu + nk;
	*nkernel = nk;
	return out;
}

static struct pstack *new_stack(struct profile *p, size_t *cap)
{
	if (p->nstacks == *cap) {
		size_t n = *cap ? *cap * 2 : 1024;
		void *v = realloc(p->stacks, n * sizeof(*p->stacks));

		if (!v)
			return NULL;
		p->stacks = v;
		*cap = n;
	}
	memset(&p->stacks[p->nstacks], 0, sizeof(*p->stacks));
	return &p->stacks[p->nstacks];
}

static int add_stack(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		     const struct schedframes *sf, const struct period_key *k,
		     const struct period_val *v, size_t *cap)
{
	struct pstack *s = new_stack(p, cap);
	struct image_id id = {(int)k->tgid, k->image};
	struct pthread *t;
	const char *comm;

	if (!s)
		return -ENOMEM;
	s->frames = symbolize(m, syms, sf, id, k->ustack, k->kstack, &s->nframes, &s->nkernel, p);
	if (!s->frames)
		return -ENOMEM;
	s->pid = k->tgid;
	s->tid = k->pid;
	t = find_thread(p, k->pid, k->tgid);
	comm = t ? t->comm : "?";
	/* blocked before an exec: named as the process was then */
	if (t && t->image != k->image && syms_image_comm(syms, id.tgid, id.image))
		comm = syms_image_comm(syms, id.tgid, id.image);
	snprintf(s->comm, sizeof(s->comm), "%s", comm);
	s->reason = k->reason < REASON_NR ? k->reason : REASON_OTHER;
	s->syscall = k->syscall == NO_SYSCALL ? -1 : k->syscall;
	s->total_ns = v->total_ns;
	s->count = v->count;
	s->max_ns = v->max_ns;
	s->rq_ns = v->rq_ns;
	for (int i = 0; i < HIST_LOG2_SLOTS && i < HIST_MAX_SLOTS; i++)
		s->log2[i] = v->slots[i];
	p->nstacks++;
	return 0;
}

/* Symbolized frames: names from the symbolizer are shared, so equal pointers are equal. */
static int cmp_frame_lists(const char **a, int na, int ka, const char **b, int nb, int kb)
{
	if (na != nb)
		return na - nb;
	if (ka != kb)
		return ka - kb;
	for (int i = 0; i < na; i++) {
		int c = a[i] == b[i] ? 0 : strcmp(a[i], b[i]);
		if (c)
			return c;
	}
	return 0;
}

static int cmp_frames(const struct pstack *a, const struct pstack *b)
{
	return cmp_frame_lists(a->frames, a->nframes, a->nkernel, b->frames, b->nframes,
			       b->nkernel);
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

static void merge_stack(struct pstack *d, struct pstack *s)
{
	struct pwaker *w = realloc(d->wakers, (d->nwakers + s->nwakers) * sizeof(*w));

	d->total_ns += s->total_ns;
	d->count += s->count;
	d->max_ns = s->max_ns > d->max_ns ? s->max_ns : d->max_ns;
	d->rq_ns += s->rq_ns;
	d->open |= s->open;
	for (int i = 0; i < HIST_MAX_SLOTS; i++)
		d->log2[i] += s->log2[i];
	if (w || !(d->nwakers + s->nwakers)) {
		d->wakers = w;
		memcpy(w + d->nwakers, s->wakers, s->nwakers * sizeof(*w));
		d->nwakers += s->nwakers;
	} else {
		for (size_t i = 0; i < s->nwakers; i++)
			free(s->wakers[i].frames);
	}
	free(s->wakers);
	free(s->frames);
}

/*
 * An interrupt's stack runs on into whatever it interrupted, which says
 * nothing about the wakeup: keep the frames from the interrupt's entry in.
 */
static void trim_interrupted(struct pwaker *w)
{
	int entry = -1;

	if (w->context != WAKE_HARDIRQ && w->context != WAKE_SOFTIRQ)
		return;
	for (int i = w->nframes - 1; i >= w->nframes - w->nkernel && entry < 0; i--)
		if (!strncmp(w->frames[i], "asm_", 4))
			entry = i;
	if (entry <= 0)
		return;
	memmove(w->frames, w->frames + entry, (w->nframes - entry) * sizeof(*w->frames));
	w->nframes -= entry;
	w->nkernel = w->nframes;
}

static int cmp_waker_identity(const void *x, const void *y)
{
	const struct pwaker *a = x, *b = y;

	if (a->context != b->context)
		return (int)a->context - (int)b->context;
	if (a->tid != b->tid)
		return a->tid - b->tid;
	return cmp_frame_lists(a->frames, a->nframes, a->nkernel, b->frames, b->nframes,
			       b->nkernel);
}

static int by_waker_total(const void *x, const void *y)
{
	const struct pwaker *a = x, *b = y;

	return a->total_ns < b->total_ns ? 1 : a->total_ns > b->total_ns ? -1 : 0;
}

/* One entry per waker thread and stack, the biggest first. */
static void merge_wakers(struct pstack *s)
{
	size_t out = 0;

	qsort(s->wakers, s->nwakers, sizeof(*s->wakers), cmp_waker_identity);
	for (size_t i = 0; i < s->nwakers; i++) {
		struct pwaker *w = &s->wakers[i];

		if (out && !cmp_waker_identity(&s->wakers[out - 1], w)) {
			s->wakers[out - 1].total_ns += w->total_ns;
			s->wakers[out - 1].count += w->count;
			free(w->frames);
			continue;
		}
		s->wakers[out++] = *w;
	}
	s->nwakers = out;
	qsort(s->wakers, s->nwakers, sizeof(*s->wakers), by_waker_total);
}

/* Stacks that differ only in call-site offsets name the same code path: one entry. */
static void merge_same_stacks(struct profile *p)
{
	size_t out = 0;

	qsort(p->stacks, p->nstacks, sizeof(*p->stacks), cmp_stack_identity);
	for (size_t i = 0; i < p->nstacks; i++) {
		struct pstack *s = &p->stacks[i];

		if (out && !cmp_stack_identity(&p->stacks[out - 1], s)) {
			merge_stack(&p->stacks[out - 1], s);
			continue;
		}
		p->stacks[out++] = *s;
	}
	p->nstacks = out;
	for (size_t i = 0; i < out; i++)
		merge_wakers(&p->stacks[i]);
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

static int cmp_waiter(const void *a, const void *b)
{
	return memcmp(&((const struct wake_key *)a)->waiter, &((const struct wake_key *)b)->waiter,
		      sizeof(struct period_key));
}

struct wakes {
	struct wake_key *keys;
	struct wake_val *vals;
	size_t n;
};

/* All wakes, sorted by waiter so that each period key finds its own. */
static int read_wakes(const struct offcpu_maps *m, struct wakes *w)
{
	memset(w, 0, sizeof(*w));
	if (m->wakes < 0)
		return 0;
	w->keys = map_keys(m->wakes, sizeof(*w->keys), &w->n);
	if (!w->keys)
		return -ENOMEM;
	qsort(w->keys, w->n, sizeof(*w->keys), cmp_waiter);
	w->vals = calloc(w->n + 1, sizeof(*w->vals));
	if (!w->vals)
		return -ENOMEM;
	for (size_t i = 0; i < w->n; i++)
		if (take(m, PREV_WAKES, m->wakes, &w->keys[i], &w->vals[i]))
			memset(&w->vals[i], 0, sizeof(w->vals[i])); /* nothing new */
	return 0;
}

/* Softirqs run on the interrupt stack too: their own frames tell them from hard interrupts. */
static enum wake_context irq_kind(const struct pwaker *w)
{
	for (int i = 0; i < w->nframes; i++)
		if (strstr(w->frames[i], "softirq") || !strcmp(w->frames[i], "net_rx_action"))
			return WAKE_SOFTIRQ;
	return WAKE_HARDIRQ;
}

static int add_wakers(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		      const struct wakes *w, const struct period_key *k, struct pstack *s)
{
	static const struct schedframes no_sched;
	struct wake_key probe = {.waiter = *k};
	const struct wake_key *hit = bsearch(&probe, w->keys, w->n, sizeof(probe), cmp_waiter);
	size_t lo, hi;

	if (!hit)
		return 0;
	for (lo = hit - w->keys; lo > 0 && !cmp_waiter(&w->keys[lo - 1], &probe); lo--)
		;
	for (hi = hit - w->keys; hi < w->n && !cmp_waiter(&w->keys[hi], &probe); hi++)
		;
	s->wakers = calloc(hi - lo, sizeof(*s->wakers));
	if (!s->wakers)
		return -ENOMEM;
	for (size_t i = lo; i < hi; i++) {
		const struct waker *wk = &w->keys[i].waker;
		struct pwaker *pw = &s->wakers[s->nwakers];

		if (!w->vals[i].count)
			continue; /* nothing new since the last interval report */

		pw->pid = wk->tgid;
		pw->tid = wk->pid;
		memcpy(pw->comm, wk->comm, sizeof(pw->comm));
		pw->comm[COMM_LEN - 1] = 0;
		pw->total_ns = w->vals[i].total_ns;
		pw->count = w->vals[i].count;
		/* a waker is not asleep: no scheduler frames to put back */
		pw->frames =
			symbolize(m, syms, &no_sched, (struct image_id){(int)wk->tgid, wk->image},
				  wk->ustack, wk->kstack, &pw->nframes, &pw->nkernel, p);
		if (!pw->frames)
			return -ENOMEM;
		pw->context = (wk->flags & WAKER_IRQ) ? WAKE_HARDIRQ : WAKE_THREAD;
		trim_interrupted(pw);
		if (pw->context != WAKE_THREAD)
			pw->context = irq_kind(pw);
		s->nwakers++;
	}
	return 0;
}

/* Open at the end of what is read: off-CPU since before it. */
static bool is_open(const struct thread *t, uint64_t end)
{
	return t->off_ts && t->off_ts < end;
}

/*
 * A period still open at the end: closed there, split at its wakeup if it
 * came. Its log2 slot only in whole-trace reports: an interval report counts
 * a period in its histograms once, when it ends.
 */
static void open_period(const struct thread *t, uint64_t end, bool slot, struct period_val *v)
{
	unsigned long long blocked, rq;
	uint64_t us;

	memset(v, 0, sizeof(*v));
	period_split(t->off_ts, t->wake_ts, end, &blocked, &rq);
	v->total_ns = v->max_ns = blocked;
	v->rq_ns = rq;
	v->count = 1;
	us = v->total_ns / 1000;
	if (slot)
		v->slots[hist_slot(us) < HIST_LOG2_SLOTS ? hist_slot(us) : HIST_LOG2_SLOTS - 1] = 1;
}

static int by_snap_pid(const void *a, const void *b)
{
	__u32 x = ((const struct task_snap *)a)->pid, y = ((const struct task_snap *)b)->pid;

	return x < y ? -1 : x > y;
}

/* snaps are sorted by pid (offcpu_snapshot) */
static const struct task_snap *find_snap(const struct task_snap *snaps, size_t n,
					 const struct thread_key *k)
{
	struct task_snap key = {.pid = k->pid};
	const struct task_snap *s = n ? bsearch(&key, snaps, n, sizeof(key), by_snap_pid) : NULL;

	return s && s->tgid == k->tgid ? s : NULL;
}

/* The kernel stack of an open period: walked at switch-out, or by the iterator now. */
static __u64 open_kstack(const struct thread *t, const struct task_snap *snap)
{
	if (t->flags & THREAD_KFULL)
		return t->kstack;
	return snap ? snap->kstack : 0;
}

static void account_open(struct pthread *pt, const struct thread *t, const struct period_val *v,
			 struct hist *hist)
{
	int r = t->reason < REASON_NR ? t->reason : REASON_OTHER;

	pt->offcpu_ns[r] += v->total_ns;
	pt->periods[r]++;
	if (hist)
		hist_add(&hist[r], v->total_ns);
	if (v->rq_ns) {
		pt->offcpu_ns[REASON_RUNQUEUE] += v->rq_ns;
		pt->rq_after_ns[r] += v->rq_ns;
		if (hist)
			hist_add(&hist[REASON_RUNQUEUE], v->rq_ns);
	}
}

/*
 * Periods and on-CPU slices open when the maps are read count up to
 * p->end_ns, so that per thread on-CPU + blocked + runqueue is the time it
 * was traced. With -m/-M a cut period is no whole one: only the on-CPU part.
 * Interval reports take the difference of these totals, so that each
 * interval holds its own part of a long period.
 */
static void add_open_parts(const struct offcpu_maps *m, const struct records *rs, struct profile *p)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct thread *t = &rs->vals[i];
		struct pthread *pt = find_thread(p, rs->keys[i].pid, rs->keys[i].tgid);
		struct period_val v;

		if (!pt)
			continue;
		if (t->on_ts && t->on_ts < p->end_ns)
			pt->oncpu_ns += p->end_ns - t->on_ts;
		if (m->whole || !is_open(t, p->end_ns))
			continue;
		open_period(t, p->end_ns, !m->since, &v);
		account_open(pt, t, &v, m->since ? NULL : p->reason_hist);
	}
}

/* Aggregated periods by key: the map's, plus the parts of periods open now. */
struct period_row {
	struct period_key key;
	struct period_val val;
	bool skip; /* gone, or nothing new since the last interval report */
	bool open;
};

struct periods {
	struct period_row *rows;
	size_t n, sorted;
};

static int cmp_row(const void *a, const void *b)
{
	return memcmp(&((const struct period_row *)a)->key, &((const struct period_row *)b)->key,
		      sizeof(struct period_key));
}

/* Read before the wakes: a wake is counted after its period, so none is left without one. */
static int read_period_values(const struct offcpu_maps *m, struct periods *ps, size_t extra)
{
	size_t n;
	struct period_key *keys = map_keys(m->periods, sizeof(*keys), &n);

	memset(ps, 0, sizeof(*ps));
	ps->rows = keys ? calloc(n + extra + 1, sizeof(*ps->rows)) : NULL;
	if (!ps->rows) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct period_row *r = &ps->rows[ps->n];

		r->key = keys[i];
		ps->n += !bpf_map_lookup_elem(m->periods, &keys[i], &r->val);
	}
	free(keys);
	qsort(ps->rows, ps->n, sizeof(*ps->rows), cmp_row);
	ps->sorted = ps->n;
	return 0;
}

static void add_to_row(struct period_val *d, const struct period_val *v)
{
	d->total_ns += v->total_ns;
	d->count += v->count;
	d->rq_ns += v->rq_ns;
	d->max_ns = v->max_ns > d->max_ns ? v->max_ns : d->max_ns;
	for (int i = 0; i < HIST_LOG2_SLOTS; i++)
		d->slots[i] += v->slots[i];
}

/* The open parts join the row of the key their period will close under. */
static void add_open_rows(const struct offcpu_maps *m, const struct records *rs,
			  const struct task_snap *snaps, size_t nsnaps, uint64_t end,
			  struct periods *ps)
{
	for (size_t i = 0; !m->whole && i < rs->n; i++) {
		const struct thread *t = &rs->vals[i];
		struct period_row probe = {.open = true}, *r;

		if (!is_open(t, end))
			continue;
		probe.key = (struct period_key){
			.tgid = rs->keys[i].tgid,
			.pid = rs->keys[i].pid,
			.ustack = t->ustack,
			.kstack = open_kstack(t, find_snap(snaps, nsnaps, &rs->keys[i])),
			.reason = t->reason,
			.syscall = t->syscall,
			.image = t->image,
		};
		open_period(t, end, !m->since, &probe.val);
		r = bsearch(&probe, ps->rows, ps->sorted, sizeof(probe), cmp_row);
		if (r) {
			add_to_row(&r->val, &probe.val);
			r->open = true;
		} else {
			ps->rows[ps->n++] = probe;
		}
	}
}

static int add_periods(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		       const struct schedframes *sf, struct periods *ps, const struct wakes *w,
		       size_t *cap)
{
	int err = 0;

	for (size_t i = 0; !err && i < ps->n; i++) {
		struct period_row *r = &ps->rows[i];

		if (since_last(m, PREV_PERIODS, &r->key, &r->val))
			continue;
		err = add_stack(m, syms, p, sf, &r->key, &r->val, cap);
		if (err)
			break;
		p->stacks[p->nstacks - 1].open = r->open;
		if (w->n)
			err = add_wakers(m, syms, p, w, &r->key, &p->stacks[p->nstacks - 1]);
	}
	return err;
}

static int add_stuck(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		     const struct schedframes *sf, const struct task_snap *snap)
{
	struct thread_key key = {.pid = snap->pid, .tgid = snap->tgid};
	struct thread t = {.tgid = 0};
	bool open = !bpf_map_lookup_elem(m->threads, &key, &t) && t.off_ts && !t.wake_ts;
	struct image_id id = {(int)snap->tgid, open ? t.image : snap->image};
	struct pstuck *st = &p->stuck[p->nstuck];

	memset(st, 0, sizeof(*st));
	st->tid = snap->pid;
	st->pid = snap->tgid;
	memcpy(st->comm, snap->comm, sizeof(st->comm));
	st->comm[COMM_LEN - 1] = 0;
	actor_of(st->comm, st->actor, sizeof(st->actor));
	st->reason = snap->reason < REASON_NR ? snap->reason : REASON_OTHER;
	st->kernel = snap->flags & THREAD_KERNEL;
	st->syscall = snap->syscall == NO_SYSCALL ? -1 : snap->syscall;
	/* our own switch-out is exact; a record seeded at the start knows only the estimate */
	st->since_exact = open && !(t.flags & THREAD_SEEDED);
	st->since_ns = open ? (t.since_ts ? t.since_ts : t.off_ts) : snap->since_ns;
	st->frames = symbolize(m, syms, sf, id, open ? t.ustack : snap->ustack,
			       open ? open_kstack(&t, snap) : snap->kstack, &st->nframes,
			       &st->nkernel, p);
	if (!st->frames)
		return -ENOMEM;
	p->nstuck++;
	return 0;
}

static int read_stuck(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		      const struct schedframes *sf, const struct task_snap *snaps, size_t n)
{
	int err = 0;

	p->stuck = calloc(n + 1, sizeof(*p->stuck));
	if (!p->stuck)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++)
		if (snaps[i].state == SNAP_BLOCKED)
			err = add_stuck(m, syms, p, sf, &snaps[i]);
	profile_sort_stuck(p);
	return err;
}

int offcpu_snapshot(int iter_link, struct task_snap **out, size_t *n)
{
	int err = iter_read(iter_link, sizeof(**out), (void **)out, n);

	/* on a read error, what was read before it is kept */
	if (*out)
		qsort(*out, *n, sizeof(**out), by_snap_pid);
	return err;
}

static int read_all(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		    const struct records *rs, const struct task_snap *snaps, size_t nsnaps)
{
	struct schedframes sf;
	struct wakes w = {0};
	struct periods ps;
	size_t cap = 0;
	int err;

	read_hists(m, p);
	if (schedframes_init(&sf))
		memset(&sf, 0, sizeof(sf));
	learn_sched_frames(m, &sf);
	err = read_period_values(m, &ps, rs->n);
	if (!err) {
		add_open_rows(m, rs, snaps, nsnaps, p->end_ns, &ps);
		err = read_wakes(m, &w);
	}
	if (!err)
		err = add_periods(m, syms, p, &sf, &ps, &w, &cap);
	free(ps.rows);
	if (!err)
		err = read_stuck(m, syms, p, &sf, snaps, nsnaps);
	if (!err)
		merge_same_stacks(p);
	free(w.keys);
	free(w.vals);
	schedframes_free(&sf);
	return err;
}

static int by_prev_thread(const void *a, const void *b)
{
	const struct prev_thread *x = a, *y = b;

	return x->tid != y->tid ? x->tid - y->tid : x->pid - y->pid;
}

/* Thread totals since the last interval; the current ones become the next baseline. */
static int subtract_prev(struct profile *p, struct offcpu_prev *prev)
{
	struct prev_thread *now = malloc((p->nthreads + 1) * sizeof(*now));

	if (!now)
		return -ENOMEM;
	for (size_t i = 0; i < p->nthreads; i++) {
		struct pthread *t = &p->threads[i];
		struct prev_thread key = {.tid = t->tid, .pid = t->pid}, *n = &now[i];
		const struct prev_thread *o =
			bsearch(&key, prev->threads, prev->n, sizeof(key), by_prev_thread);

		*n = (struct prev_thread){.tid = t->tid, .pid = t->pid, .oncpu_ns = t->oncpu_ns};
		memcpy(n->offcpu_ns, t->offcpu_ns, sizeof(n->offcpu_ns));
		memcpy(n->periods, t->periods, sizeof(n->periods));
		memcpy(n->rq_after_ns, t->rq_after_ns, sizeof(n->rq_after_ns));
		if (!o)
			continue;
		t->oncpu_ns = sub_clip(t->oncpu_ns, o->oncpu_ns);
		for (int r = 0; r < REASON_NR; r++) {
			t->offcpu_ns[r] = sub_clip(t->offcpu_ns[r], o->offcpu_ns[r]);
			t->periods[r] = sub_clip(t->periods[r], o->periods[r]);
			t->rq_after_ns[r] = sub_clip(t->rq_after_ns[r], o->rq_after_ns[r]);
		}
	}
	/* p->threads are sorted by (tid, pid) while the maps are read: so is now */
	free(prev->threads);
	prev->threads = now;
	prev->n = p->nthreads;
	return 0;
}

static void prev_drop_next(struct offcpu_prev *prev)
{
	for (int i = 0; i < PREV_NR; i++) {
		deltas_free(&prev->next[i]);
		deltas_init(&prev->next[i], prev->last[i].ksz, prev->last[i].vsz);
	}
}

/* What this read saw becomes what the next one subtracts. */
static void prev_advance(struct offcpu_prev *prev)
{
	for (int i = 0; i < PREV_NR; i++) {
		deltas_sort(&prev->next[i]);
		deltas_free(&prev->last[i]);
		prev->last[i] = prev->next[i];
		deltas_init(&prev->next[i], prev->last[i].ksz, prev->last[i].vsz);
	}
}

static int cmp_thread_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct thread_key));
}

static struct thread_key period_owner(const void *key)
{
	const struct period_key *k = key;

	return (struct thread_key){.pid = k->pid, .tgid = k->tgid};
}

static struct thread_key waker_owner(const void *key)
{
	const struct wake_key *k = key;

	return (struct thread_key){.pid = k->waker.pid, .tgid = k->waker.tgid};
}

/* Deletes the rows of map fd that belong to the threads in gone (sorted). */
static void forget_rows(int fd, size_t ksz, struct thread_key (*owner)(const void *key),
			const struct thread_key *gone, size_t ngone)
{
	size_t n;
	char *keys = map_keys(fd, ksz, &n);

	for (size_t i = 0; keys && i < n; i++) {
		struct thread_key o = owner(keys + i * ksz);

		if (bsearch(&o, gone, ngone, sizeof(o), cmp_thread_key))
			bpf_map_delete_elem(fd, keys + i * ksz);
	}
	free(keys);
}

/*
 * Interval reports: a thread that has exited is reported whole once; then
 * its record and rows go, so that a long trace of threads that come and go
 * keeps room. No BPF program touches them after the thread's exit.
 */
static void forget_exited(const struct offcpu_maps *m, const struct records *rs)
{
	struct thread_key *gone = malloc((rs->n + 1) * sizeof(*gone));
	size_t n = 0;

	for (size_t i = 0; gone && i < rs->n; i++)
		if (rs->vals[i].end_ts)
			gone[n++] = rs->keys[i];
	if (n) {
		qsort(gone, n, sizeof(*gone), cmp_thread_key);
		forget_rows(m->periods, sizeof(struct period_key), period_owner, gone, n);
		if (m->wakes >= 0) { /* the waiter's key comes first */
			forget_rows(m->wakes, sizeof(struct wake_key), period_owner, gone, n);
			forget_rows(m->wakes, sizeof(struct wake_key), waker_owner, gone, n);
		}
		for (size_t i = 0; i < n; i++)
			bpf_map_delete_elem(m->threads, &gone[i]);
	}
	free(gone);
}

/* Workers parked waiting for work: told from their named frames (user/idle.h). */
static void mark_idle(const struct offcpu_maps *m, struct profile *p)
{
	bool moved[REASON_NR] = {false};

	for (size_t i = 0; i < p->nstacks; i++) {
		struct pstack *s = &p->stacks[i];
		struct pthread *t = find_thread(p, s->tid, s->pid);

		if (!idle_stack(m->idle, s->reason, t && t->kernel, s->frames, s->nframes,
				s->nkernel))
			continue;
		moved[s->reason] = true;
		profile_move_to_idle(p, s, t);
	}
	for (int r = 0; r < REASON_NR; r++)
		if (moved[r])
			profile_settle_max(p, r);
	for (size_t i = 0; i < p->nstuck; i++) {
		struct pstuck *st = &p->stuck[i];
		if (idle_stack(m->idle, st->reason, st->kernel, st->frames, st->nframes,
			       st->nkernel))
			st->reason = REASON_IDLE;
	}
	profile_sort_stuck(p);
}

int offcpu_read(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		const struct task_snap *snaps, size_t nsnaps)
{
	struct records rs;
	int err;

	read_lost(m, p);
	err = read_records(m, &rs);
	/*
	 * The window ends when the records are read: a period that closed
	 * before counts whole, one still open counts up to here. (Ending it
	 * earlier would let an interval hold more time than it lasted.)
	 */
	p->end_ns = mono_ns();
	if (!err)
		err = read_threads(&rs, p);
	if (!err) {
		add_open_parts(m, &rs, p);
		if (m->since)
			err = subtract_prev(p, m->since);
	}
	if (!err)
		err = read_all(m, syms, p, &rs, snaps, nsnaps);
	if (!err)
		mark_idle(m, p);
	if (m->since && !err) {
		prev_advance(m->since);
		forget_exited(m, &rs);
	} else if (m->since) {
		prev_drop_next(m->since); /* a failed read is no baseline */
	}
	free_records(&rs);
	return err;
}

void offcpu_prev_init(struct offcpu_prev *prev)
{
	static const size_t ksz[PREV_NR] = {sizeof(struct period_key), sizeof(__u32),
					    sizeof(struct wake_key)};
	static const size_t vsz[PREV_NR] = {sizeof(struct period_val), sizeof(struct hist_val),
					    sizeof(struct wake_val)};

	memset(prev, 0, sizeof(*prev));
	for (int i = 0; i < PREV_NR; i++) {
		deltas_init(&prev->last[i], ksz[i], vsz[i]);
		deltas_init(&prev->next[i], ksz[i], vsz[i]);
	}
}

void offcpu_prev_free(struct offcpu_prev *prev)
{
	free(prev->threads);
	prev->threads = NULL;
	prev->n = 0;
	for (int i = 0; i < PREV_NR; i++) {
		deltas_free(&prev->last[i]);
		deltas_free(&prev->next[i]);
	}
}

int offcpu_read_stuck(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		      const struct task_snap *snaps, size_t nsnaps)
{
	/* nothing to learn the scheduler frames from: the kernel stacks read as /proc/PID/stack */
	struct schedframes none = {.n = 0};
	int err = read_stuck(m, syms, p, &none, snaps, nsnaps);

	if (!err)
		mark_idle(m, p);
	return err;
}
