// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "locks.h"
#include "mapread.h"
#include "holds.h"
#include "probes.h"
#include "symbols.h"

static const char *const lost_names[SL_LOST_NR] = {
	[SL_LOST_WAITERS_FULL] = "waiters_full",   [SL_LOST_LOCKS_FULL] = "locks_full",
	[SL_LOST_STACKS_FULL] = "stacks_full",	   [SL_LOST_EDGES_FULL] = "edges_full",
	[SL_LOST_USTACK_FAILED] = "ustack_failed", [SL_LOST_CALLS_FULL] = "calls_full",
	[SL_LOST_SYMLOCKS_FULL] = "symlocks_full", [SL_LOST_HELD_FULL] = "held_full",
	[SL_LOST_HOLDS_FULL] = "holds_full",	   [SL_LOST_HOLDERS_FULL] = "holders_full",
	[SL_LOST_ACQUIRES_FULL] = "acquires_full",
};

const char *semlat_lost_name(int i)
{
	return lost_names[i];
}

/*
 * Lock code, innermost first wins: a condvar wait that re-takes its mutex
 * waits on the mutex. Patterns for glibc, Rust std and parking_lot.
 */
static const struct {
	const char *glob, *kind;
} lock_code[] = {
	{"*lll_lock_wait*", "mutex"},		{"*pthread_mutex_*lock*", "mutex"},
	{"*pthread_cond_*wait*", "condvar"},	{"*sem_*wait*", "semaphore"},
	{"*pthread_rwlock_*", "rwlock"},	{"*sys::sync::mutex::*", "mutex"},
	{"*sys::sync::rwlock::*", "rwlock"},	{"*sys::sync::condvar::*", "condvar"},
	{"parking_lot::raw_mutex::*", "mutex"}, {"parking_lot::raw_rwlock::*", "rwlock"},
	{"parking_lot::condvar::*", "condvar"},
};

static const char *kind_of_frame(const char *frame)
{
	for (size_t i = 0; i < sizeof(lock_code) / sizeof(lock_code[0]); i++)
		if (!fnmatch(lock_code[i].glob, frame, 0))
			return lock_code[i].kind;
	return NULL;
}

/* tokio's locks over its batch_semaphore, by the frames that awaited one */
static const struct {
	const char *glob, *kind;
} async_code[] = {
	{"tokio::sync::mutex::*", "async-mutex"},
	{"tokio::sync::rwlock::*", "async-rwlock"},
	{"tokio::sync::mpsc::*", "async-channel"},
};

static const char *async_kind(const char *const *frames, int n)
{
	for (int i = n - 1; i >= 0; i--)
		for (size_t k = 0; k < sizeof(async_code) / sizeof(async_code[0]); k++)
			if (!fnmatch(async_code[k].glob, frames[i], 0))
				return async_code[k].kind;
	return "async-semaphore";
}

const char *lock_kind(int op, const char *const *frames, int n)
{
	if (op == OP_ASYNC)
		return async_kind(frames, n);
	if (op == OP_LOCK_PI)
		return "pi-mutex";
	if (op == OP_WAIT_REQUEUE)
		return "condvar";
	if (op == OP_SEMOP)
		return "semaphore";
	for (int i = n - 1; i >= 0; i--) {
		const char *k = kind_of_frame(frames[i]);

		if (k)
			return k;
	}
	return "futex";
}

/*
 * parking_lot's slow paths (taken only when a lock is contended), whose first argument is the
 * lock: a thread parked there waits on that lock, not on the futex word it sleeps on.
 */
static const char *const parking_fns[] = {
	"parking_lot::raw_mutex::RawMutex::lock_slow",
	"parking_lot::raw_rwlock::RawRwLock::lock_shared_slow",
	"parking_lot::raw_rwlock::RawRwLock::lock_exclusive_slow",
	"parking_lot::raw_rwlock::RawRwLock::lock_upgradable_slow",
	"parking_lot::raw_rwlock::RawRwLock::upgrade_slow",
	"parking_lot::condvar::Condvar::wait_until_internal",
};

int parking_resolve(const int *pids, int npids, struct probes *p)
{
	for (int i = 0; i < npids; i++)
		for (size_t k = 0; k < sizeof(parking_fns) / sizeof(parking_fns[0]); k++)
			if (probes_find_known(p, pids[i], parking_fns[k], "parking_lot", 0, true) ==
			    -ENOMEM)
				return -ENOMEM;
	return 0;
}

/* Frames that only take or wait for the lock: skipped to find who waited. */
static bool lock_library(const char *frame)
{
	static const char *const globs[] = {
		"*lll_*",	   "*pthread_*",     "*futex*",		"syscall",
		"*sem_*wait*",	   "*sys::sync::*",  "parking_lot*",	"std::sync::*",
		"*\\[unknown\\]*", "tokio::sync::*", "<tokio::sync::*",
	};

	if (kind_of_frame(frame))
		return true;
	for (size_t i = 0; i < sizeof(globs) / sizeof(globs[0]); i++)
		if (!fnmatch(globs[i], frame, 0))
			return true;
	return false;
}

/* The first frame, innermost first, outside lock code: where the wait came from. */
static const char *waited_in(const struct lock_stack *s)
{
	for (int i = s->nframes - 1; i >= 0; i--)
		if (!lock_library(s->frames[i]))
			return s->frames[i];
	return NULL;
}

const char **semlat_frames(const struct semlat_maps *m, struct syms *syms, int tgid, __u64 hash,
			   bool at_probe, int *n)
{
	struct stack st;
	const char **out;

	*n = 0;
	if (!hash || bpf_map_lookup_elem(m->stacks, &hash, &st))
		return NULL;
	if (st.nr > MAX_STACK_DEPTH)
		st.nr = MAX_STACK_DEPTH;
	out = calloc(SYMS_STACK_NAMES(st.nr) + 1, sizeof(*out));
	if (!out)
		return NULL;
	/*
	 * The symbolizer takes addresses for return addresses (it looks up addr - 1): a probe's
	 * own address, the first instruction of the probed function, is passed as the address
	 * after it.
	 */
	if (at_probe && st.nr)
		st.ips[0]++;
	*n = syms_user_stack(syms, tgid, 0, (const uint64_t *)st.ips, (int)st.nr, out,
			     SYMS_STACK_NAMES(st.nr));
	return out;
}

void *semlat_keys(const struct semlat_maps *m, int fd, size_t ksz, size_t gen_off, size_t *n)
{
	char *keys = map_keys(fd, ksz, n);
	size_t kept = 0;

	for (size_t i = 0; keys && i < *n; i++) {
		__u16 gen;

		memcpy(&gen, keys + i * ksz + gen_off, sizeof(gen));
		if (gen == m->gen)
			memmove(keys + kept++ * ksz, keys + i * ksz, ksz);
	}
	*n = kept;
	return keys;
}

int semlat_take(const struct semlat_maps *m, int fd, const void *key, void *val)
{
	if (bpf_map_lookup_elem(fd, key, val))
		return -errno;
	if (m->drain)
		bpf_map_delete_elem(fd, key);
	return 0;
}

static int by_key(const void *a, const void *b)
{
	const struct lock *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->op > y->op) - (x->op < y->op);
}

/* r->locks is sorted by key while the edges are read */
struct lock *semlat_find_lock(struct semlat_report *r, const struct lock_key *k)
{
	struct lock key = {.pid = (int)k->tgid, .addr = k->addr, .op = (int)k->op};

	return r->nlocks ? bsearch(&key, r->locks, r->nlocks, sizeof(key), by_key) : NULL;
}

int semlat_add_tid(int **tids, size_t *n, int tid)
{
	int *t;

	for (size_t i = 0; i < *n; i++)
		if ((*tids)[i] == tid)
			return 0;
	t = realloc(*tids, (*n + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	*tids = t;
	t[(*n)++] = tid;
	return 0;
}

int semlat_add_stack(struct lock_stack **list, size_t *n, uint64_t hash, int tgid, int tid,
		     const char *comm, uint64_t count, uint64_t ns, uint64_t max_ns)
{
	struct lock_stack *s = NULL, *grown;

	for (size_t i = 0; i < *n && !s; i++)
		if ((*list)[i].hash == hash && (*list)[i].tgid == tgid &&
		    !strcmp((*list)[i].comm, comm))
			s = &(*list)[i];
	if (!s) {
		grown = realloc(*list, (*n + 1) * sizeof(**list));
		if (!grown)
			return -ENOMEM;
		*list = grown;
		s = &grown[(*n)++];
		memset(s, 0, sizeof(*s));
		s->hash = hash;
		s->tgid = tgid;
		s->tid = tid;
		snprintf(s->comm, sizeof(s->comm), "%s", comm);
	}
	if (semlat_add_tid(&s->tids, &s->ntids, tid))
		return -ENOMEM;
	s->count += count;
	s->ns += ns;
	if (max_ns > s->max_ns)
		s->max_ns = max_ns;
	return 0;
}

static int read_locks(const struct semlat_maps *m, struct semlat_report *r)
{
	size_t n;
	struct lock_key *keys =
		semlat_keys(m, m->locks, sizeof(*keys), offsetof(struct lock_key, gen), &n);

	if (!keys)
		return -ENOMEM;
	r->locks = calloc(n + 1, sizeof(*r->locks));
	if (!r->locks) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct lock_val v;
		struct lock *l = &r->locks[r->nlocks];

		if (semlat_take(m, m->locks, &keys[i], &v))
			continue;
		r->nlocks++;
		l->pid = keys[i].tgid;
		l->addr = keys[i].addr;
		l->op = keys[i].op;
		l->waits = v.waits;
		l->wait_ns = v.wait_ns;
		l->max_ns = v.max_ns;
		l->blocked_ns = v.blocked_ns;
		l->other_ns = v.other_ns;
		l->max_queued = v.max_queued;
		l->writers = v.writers;
		memcpy(l->outcomes, v.outcomes, sizeof(l->outcomes));
		hist_add_fine(&l->hist, v.slots, HIST_FINE_SLOTS, v.wait_ns, v.max_ns);
	}
	free(keys);
	qsort(r->locks, r->nlocks, sizeof(*r->locks), by_key);
	return 0;
}

static int add_row(struct semlat_report *r, size_t index, const struct edge_key *k,
		   const struct edge_val *v)
{
	struct wait_row *rows = realloc(r->rows, (r->nrows + 1) * sizeof(*rows)), *w;

	if (!rows)
		return -ENOMEM;
	r->rows = rows;
	w = &rows[r->nrows++];
	memset(w, 0, sizeof(*w));
	w->index = index;
	w->tgid = (int)k->lock.tgid;
	w->tid = (int)k->pid;
	memcpy(w->comm, v->comm, sizeof(w->comm));
	w->ustack = k->ustack;
	w->count = v->count;
	w->ns = v->wait_ns;
	return 0;
}

static int read_edges(const struct semlat_maps *m, struct semlat_report *r)
{
	size_t n;
	struct edge_key *keys =
		semlat_keys(m, m->edges, sizeof(*keys), offsetof(struct edge_key, lock.gen), &n);
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		struct edge_val v;
		struct lock *l = semlat_find_lock(r, &keys[i].lock);

		if (semlat_take(m, m->edges, &keys[i], &v) || !l)
			continue;
		v.comm[TASK_COMM_LEN - 1] = v.wcomm[TASK_COMM_LEN - 1] = 0;
		err = add_row(r, (size_t)(l - r->locks), &keys[i], &v);
		if (!err)
			err = semlat_add_stack(&l->waiters, &l->nwaiters, keys[i].ustack, l->pid,
					       keys[i].pid, v.comm, v.count, v.wait_ns, 0);
		/* a wakeup not seen (an async wait's, or one before the trace) names no releaser */
		if (!err && keys[i].wpid)
			err = semlat_add_stack(&l->wakers, &l->nwakers, keys[i].wstack,
					       keys[i].wtgid, keys[i].wpid, v.wcomm, v.count,
					       v.wait_ns, 0);
	}
	free(keys);
	return err;
}

static int by_ns(const void *a, const void *b)
{
	uint64_t x = ((const struct lock_stack *)a)->ns, y = ((const struct lock_stack *)b)->ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

void semlat_sort_stacks(struct lock_stack *s, size_t n)
{
	qsort(s, n, sizeof(*s), by_ns);
}

bool lock_is_idle(const struct lock *l)
{
	return l->idle_ns && l->idle_ns >= l->wait_ns - l->idle_ns;
}

/* contention first, parked workers' futexes after it */
static int lock_by_wait(const void *a, const void *b)
{
	uint64_t x = ((const struct lock *)a)->wait_ns, y = ((const struct lock *)b)->wait_ns;
	int idle = lock_is_idle(a) - lock_is_idle(b);

	return idle ? idle : x < y ? 1 : x > y ? -1 : 0;
}

/* A global lock is named by its symbol; one on the heap or a stack also by its user. */
char *semlat_lock_name(struct syms *syms, int pid, uint64_t addr, const struct lock_stack *s)
{
	const char *where = syms_data(syms, pid, 0, addr), *in = NULL;
	char *name = NULL;
	int n;

	if (where[0] == '[' && s)
		in = waited_in(s);
	if (in)
		n = asprintf(&name, "%s %#llx in %s", where, (unsigned long long)addr, in);
	else
		n = asprintf(&name, "%s", where);
	return n < 0 ? NULL : name;
}

static void name_lock(struct syms *syms, struct lock *l)
{
	char *name = NULL;

	l->kind = l->op == OP_ASYNC && l->writers
			  ? "async-rwlock"
			  : lock_kind(l->op, l->nwaiters ? l->waiters[0].frames : NULL,
				      l->nwaiters ? l->waiters[0].nframes : 0);
	if (l->op != OP_SEMOP)
		name = semlat_lock_name(syms, l->pid, l->addr, l->nwaiters ? l->waiters : NULL);
	else if (asprintf(&name, "semid %llu", (unsigned long long)l->addr) < 0)
		name = NULL;
	l->name = name;
}

static int symbolize_lock(const struct semlat_maps *m, struct syms *syms, struct lock *l)
{
	semlat_sort_stacks(l->waiters, l->nwaiters);
	semlat_sort_stacks(l->wakers, l->nwakers);
	for (size_t i = 0; i < l->nwaiters; i++)
		l->waiters[i].frames = semlat_frames(m, syms, l->pid, l->waiters[i].hash, false,
						     &l->waiters[i].nframes);
	for (size_t i = 0; i < l->nwakers; i++)
		l->wakers[i].frames = semlat_frames(m, syms, l->wakers[i].tgid, l->wakers[i].hash,
						    false, &l->wakers[i].nframes);
	/* a tokio acquire blocks no thread: only futex waits can be a parked worker's */
	for (size_t i = 0; l->op != OP_ASYNC && i < l->nwaiters; i++)
		if (idle_stack(m->idle, REASON_LOCK, false, l->waiters[i].frames,
			       l->waiters[i].nframes, 0))
			l->idle_ns += l->waiters[i].ns;
	name_lock(syms, l);
	return 0;
}

/* A row takes its lock's name and its stack's frames: they stay where they are as locks move. */
static void name_row(struct wait_row *w, const struct lock *l)
{
	w->lock = l->name;
	w->kind = l->kind;
	for (size_t k = 0; k < l->nwaiters; k++)
		if (l->waiters[k].hash == w->ustack) {
			w->frames = l->waiters[k].frames;
			w->nframes = l->waiters[k].nframes;
			break;
		}
}

int semlat_read(const struct semlat_maps *m, struct syms *syms, struct semlat_report *r)
{
	int err;

	uint64_t c[DROP_NR + CNT_NR];

	for (int i = 0; i < DROP_NR + CNT_NR; i++) {
		uint64_t now = map_percpu_sum(m->counters, i);

		c[i] = m->since ? now - m->since[i] : now;
		if (m->since)
			m->since[i] = now;
	}
	memcpy(r->lost, c, sizeof(r->lost));
	r->calls = c[DROP_NR + CNT_WAITS];
	r->short_waits = c[DROP_NR + CNT_SHORT];
	r->async_waits = c[DROP_NR + CNT_ASYNC];
	r->unwind.walked = c[DROP_NR + CNT_USTACKS];
	r->unwind.cut = c[DROP_NR + CNT_USTACKS_CUT];
	err = read_locks(m, r);
	if (!err)
		err = read_edges(m, r);
	for (size_t i = 0; !err && i < r->nlocks; i++)
		err = symbolize_lock(m, syms, &r->locks[i]);
	for (size_t i = 0; !err && i < r->nrows; i++)
		name_row(&r->rows[i], &r->locks[r->rows[i].index]);
	if (!err && r->symbols)
		err = symbols_read(m, syms, r);
	if (!err && r->hold)
		err = holds_read(m, syms, r);
	qsort(r->locks, r->nlocks, sizeof(*r->locks), lock_by_wait);
	return err;
}

void semlat_free_stacks(struct lock_stack *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].frames);
		free(s[i].tids);
	}
	free(s);
}

void semlat_report_free(struct semlat_report *r)
{
	for (size_t i = 0; i < r->nlocks; i++) {
		semlat_free_stacks(r->locks[i].waiters, r->locks[i].nwaiters);
		semlat_free_stacks(r->locks[i].wakers, r->locks[i].nwakers);
		free((char *)r->locks[i].name);
	}
	free(r->locks);
	r->locks = NULL;
	r->nlocks = 0;
	free(r->rows);
	r->rows = NULL;
	r->nrows = 0;
	holds_free(r);
}
