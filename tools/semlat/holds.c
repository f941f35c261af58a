// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "holds.h"
#include "mapread.h"
#include "target.h"

/* glibc's (2.34+: all in libc.so.6) functions that take and give back locks */
static const struct {
	const char *name;
	int fn, kind;
} lock_fns[] = {
	{"pthread_mutex_lock", FN_LOCK, HOLD_MUTEX},
	{"pthread_mutex_trylock", FN_LOCK, HOLD_MUTEX},
	{"pthread_mutex_timedlock", FN_LOCK, HOLD_MUTEX},
	{"pthread_mutex_clocklock", FN_LOCK, HOLD_MUTEX},
	{"pthread_mutex_unlock", FN_UNLOCK, HOLD_MUTEX},
	{"pthread_rwlock_rdlock", FN_LOCK, HOLD_READ},
	{"pthread_rwlock_tryrdlock", FN_LOCK, HOLD_READ},
	{"pthread_rwlock_timedrdlock", FN_LOCK, HOLD_READ},
	{"pthread_rwlock_clockrdlock", FN_LOCK, HOLD_READ},
	{"pthread_rwlock_wrlock", FN_LOCK, HOLD_WRITE},
	{"pthread_rwlock_trywrlock", FN_LOCK, HOLD_WRITE},
	{"pthread_rwlock_timedwrlock", FN_LOCK, HOLD_WRITE},
	{"pthread_rwlock_clockwrlock", FN_LOCK, HOLD_WRITE},
	{"pthread_rwlock_unlock", FN_UNLOCK, HOLD_WRITE}, /* the kind is the lock call's */
	{"sem_wait", FN_LOCK, HOLD_SEM},
	{"sem_trywait", FN_LOCK, HOLD_SEM},
	{"sem_timedwait", FN_LOCK, HOLD_SEM},
	{"sem_clockwait", FN_LOCK, HOLD_SEM},
	{"sem_post", FN_UNLOCK, HOLD_SEM},
	/* a condvar wait gives its mutex back while it sleeps */
	{"pthread_cond_wait", FN_COND_WAIT, HOLD_MUTEX},
	{"pthread_cond_timedwait", FN_COND_WAIT, HOLD_MUTEX},
	{"pthread_cond_clockwait", FN_COND_WAIT, HOLD_MUTEX},
};

#define NFNS (sizeof(lock_fns) / sizeof(lock_fns[0]))

static const char *const kind_names[HOLD_NR] = {
	[HOLD_MUTEX] = "mutex",
	[HOLD_READ] = "rwlock-read",
	[HOLD_WRITE] = "rwlock-write",
	[HOLD_SEM] = "semaphore",
};

const char *hold_kind_name(int kind)
{
	return kind >= 0 && kind < HOLD_NR ? kind_names[kind] : "?";
}

static int resolve_pid(const char *tool, int pid, struct probes *p)
{
	char pattern[64], hint[256];
	int found = 0;

	for (size_t k = 0; k < NFNS; k++) {
		int fn = lock_fns[k].fn, n;

		snprintf(pattern, sizeof(pattern), "libc.so.6:%s", lock_fns[k].name);
		n = probes_find(p, pid, pattern, HOLD_COOKIE(fn, lock_fns[k].kind), fn != FN_UNLOCK,
				hint, sizeof(hint));
		if (n == -ESRCH || n == -ENOMEM) {
			fprintf(stderr, "%s: --hold: PID %d: %s\n", tool, pid, strerror(-n));
			return n == -ESRCH ? EXIT_USAGE : EXIT_ENV;
		}
		found += n > 0 ? n : 0;
	}
	if (!found) {
		fprintf(stderr,
			"%s: --hold: PID %d does not use glibc's libc.so.6 (hold times come from "
			"its lock functions)\n",
			tool, pid);
		return EXIT_USAGE;
	}
	return 0;
}

int holds_resolve(const char *tool, const int *pids, int npids, struct probes *p)
{
	for (int i = 0; i < npids; i++) {
		int err = resolve_pid(tool, pids[i], p);

		if (err)
			return err;
	}
	return 0;
}

static int by_key(const void *a, const void *b)
{
	const struct hold *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->kind > y->kind) - (x->kind < y->kind);
}

static int by_time_held(const void *a, const void *b)
{
	uint64_t x = ((const struct hold *)a)->hold_ns, y = ((const struct hold *)b)->hold_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int read_holds(const struct semlat_maps *m, struct semlat_report *r)
{
	size_t n;
	struct hold_key *keys =
		semlat_keys(m, m->holds, sizeof(*keys), offsetof(struct hold_key, gen), &n);

	r->holds = keys ? calloc(n + 1, sizeof(*r->holds)) : NULL;
	for (size_t i = 0; r->holds && i < n; i++) {
		struct hold *h = &r->holds[r->nholds];
		struct hold_val v;

		if (semlat_take(m, m->holds, &keys[i], &v))
			continue;
		r->nholds++;
		h->pid = (int)keys[i].tgid;
		h->addr = keys[i].addr;
		h->kind = (int)keys[i].kind;
		h->holds = v.holds;
		h->hold_ns = v.hold_ns;
		h->max_ns = v.max_ns;
		hist_add_fine(&h->hist, v.slots, HIST_FINE_SLOTS, v.hold_ns, v.max_ns);
	}
	free(keys);
	if (!r->holds)
		return -ENOMEM;
	qsort(r->holds, r->nholds, sizeof(*r->holds), by_key);
	return 0;
}

static int read_holders(const struct semlat_maps *m, struct semlat_report *r)
{
	size_t n;
	struct holder_key *keys = semlat_keys(m, m->holders, sizeof(*keys),
					      offsetof(struct holder_key, lock.gen), &n);
	int err = keys ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !err; i++) {
		struct hold key = {.pid = (int)keys[i].lock.tgid,
				   .addr = keys[i].lock.addr,
				   .kind = (int)keys[i].lock.kind};
		struct hold *h = bsearch(&key, r->holds, r->nholds, sizeof(key), by_key);
		struct holder_val v;

		if (semlat_take(m, m->holders, &keys[i], &v) || !h)
			continue;
		v.comm[TASK_COMM_LEN - 1] = 0;
		err = semlat_add_stack(&h->holders, &h->nholders, keys[i].ustack, h->pid,
				       (int)keys[i].pid, v.comm, v.count, v.hold_ns, v.max_ns);
	}
	free(keys);
	return err;
}

int holds_read(const struct semlat_maps *m, struct syms *syms, struct semlat_report *r)
{
	int err = read_holds(m, r);

	if (!err)
		err = read_holders(m, r);
	for (size_t i = 0; !err && i < r->nholds; i++) {
		struct hold *h = &r->holds[i];

		semlat_sort_stacks(h->holders, h->nholders);
		for (size_t k = 0; k < h->nholders; k++)
			h->holders[k].frames = semlat_frames(m, syms, h->pid, h->holders[k].hash,
							     true, &h->holders[k].nframes);
		h->name = semlat_lock_name(syms, h->pid, h->addr, h->nholders ? h->holders : NULL);
	}
	if (r->holds)
		qsort(r->holds, r->nholds, sizeof(*r->holds), by_time_held);
	return err;
}

void holds_free(struct semlat_report *r)
{
	for (size_t i = 0; i < r->nholds; i++) {
		semlat_free_stacks(r->holds[i].holders, r->holds[i].nholders);
		free((char *)r->holds[i].name);
	}
	free(r->holds);
	r->holds = NULL;
	r->nholds = 0;
}
