// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "symbols.h"
#include "locks.h"
#include "mapread.h"
#include "target.h"
#include "tokio.h"

/* The symbol of (name, obj), added if new; -1 when the table is full. */
static int symbol_named(struct symbol_table *t, const char *name, const char *obj)
{
	struct symbol *v;

	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name) && !strcmp(t->v[i].obj, obj))
			return (int)i;
	if (t->n == MAX_SYMBOLS)
		return -1;
	v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	t->v = v;
	memset(&v[t->n], 0, sizeof(v[t->n]));
	v[t->n].name = strdup(name);
	v[t->n].obj = strdup(obj);
	return (int)t->n++;
}

static int symbol_index(struct symbol_table *t, const struct func *f)
{
	return symbol_named(t, f->name, f->obj);
}

/*
 * An async fn's polls are also timed as calls of their own, "NAME (polls)": what the time
 * inside them is made of (on-CPU, futex waits, other blocking), as for any function.
 */
static int add_polls(struct symbol_table *t, const struct func *f, int pid, const char *poll)
{
	char name[512], pattern[1024];
	size_t len;
	int sym;

	snprintf(name, sizeof(name), "%s (polls)", f->name);
	sym = symbol_named(t, name, f->obj);
	if (sym < 0)
		return -1;
	snprintf(pattern, sizeof(pattern), "%s:%s", f->obj, poll);
	return probes_find_known(&t->probes, pid, pattern, funcs_last_component(f->name, &len),
				 (uint64_t)sym, true) > 0
		       ? 0
		       : -1;
}

/* How rustc names an async fn's future type: legacy mangling, then v0. */
static const char *const future_of[] = {"%s::{{closure}}", "%s::{closure#0}"};
static const char *const drop_of[] = {"core::ptr::drop_in_place<%s::{{closure}}>",
				      "core::ptr::drop_in_place::<%s::{closure#0}>"};

/* Finds OBJ:NAME (formatted) in pid; 1 if found (added to p), 0 if not, -errno. */
static int find_exact(struct probes *p, int pid, const char *obj, const char *fmt, const char *name,
		      uint64_t cookie, bool ret)
{
	char pattern[1024], full[960];
	size_t len;

	snprintf(full, sizeof(full), fmt, name);
	snprintf(pattern, sizeof(pattern), "%s:%s", obj, full);
	/* the function's own name is spelled in its future's mangled names too */
	return probes_find_known(p, pid, pattern, funcs_last_component(name, &len), cookie, ret) >
	       0;
}

/*
 * A function that has a future type of its own (dispatch::{{closure}}, with a drop_in_place)
 * is an async fn: the call is timed on its future's poll and drop, not on the function that
 * only makes the future.
 */
static int resolve_async(const char *tool, struct symbol_table *t, size_t i, int pid, uint32_t sym)
{
	const struct func *f = &t->probes.funcs.v[i];
	int found = 0;

	uint8_t code[64];
	uint32_t state;

	for (size_t k = 0; k < 2 && !found; k++)
		found = find_exact(&t->drops, pid, f->obj, drop_of[k], f->name,
				   sym | SYM_ASYNC_DROP, false);
	if (!found)
		return 0;
	/* completed or cancelled: the future's state at its drop, where the drop's code reads it */
	if (!func_code(&t->drops.funcs.v[t->drops.funcs.n - 1], code, sizeof(code)) &&
	    !async_state_offset(code, sizeof(code), &state))
		t->drops.v[t->drops.funcs.n - 1].cookie |= (uint64_t)(state + 1) << SYM_STATE_SHIFT;
	else
		t->v[sym].completion_unknown = true;
	found = 0;
	for (size_t k = 0; k < 2 && !found; k++)
		found = find_exact(&t->polls, pid, f->obj, future_of[k], f->name,
				   sym | SYM_ASYNC_POLL, true);
	if (!found) {
		fprintf(stderr,
			"%s: --symbol: %s is an async fn whose poll is inlined into its callers in "
			"%s: it has no function of its own to time\n",
			tool, f->name, f->obj);
		return EXIT_USAGE;
	}
	t->v[sym].is_async = true;
	t->probes.v[i].skip = true; /* the function that makes the future is not probed */
	if (add_polls(t, &t->probes.funcs.v[i], pid, t->polls.funcs.v[t->polls.funcs.n - 1].name)) {
		fprintf(stderr, "%s: --symbol: too many functions to time with %s's polls\n", tool,
			t->probes.funcs.v[i].name);
		return EXIT_USAGE;
	}
	return 0;
}

static int resolve_one(const char *tool, const char *pattern, int pid, struct symbol_table *t)
{
	struct probes *p = &t->probes;
	size_t from = p->funcs.n;

	if (probes_find_or_say(tool, "--symbol", p, pid, pattern, 0, true) < 0)
		return EXIT_USAGE;
	/* resolve_async adds functions of its own after these */
	for (size_t i = from, end = p->funcs.n; i < end; i++) {
		int sym = symbol_index(t, &p->funcs.v[i]), err;

		if (sym < 0) {
			fprintf(stderr,
				"%s: --symbol %s: more than %d functions match; narrow it\n", tool,
				pattern, MAX_SYMBOLS);
			return EXIT_USAGE;
		}
		p->v[i].cookie = (uint64_t)sym;
		err = resolve_async(tool, t, i, pid, (uint32_t)sym);
		if (err)
			return err;
	}
	return 0;
}

int symbols_resolve(const char *tool, const char *const *patterns, int npatterns, const int *pids,
		    int npids, struct symbol_table *t)
{
	for (int p = 0; p < npatterns; p++)
		for (int i = 0; i < npids; i++) {
			int err = resolve_one(tool, patterns[p], pids[i], t);

			if (err)
				return err;
		}
	return 0;
}

/* The last interval's figures go; the function's names stay. */
static void forget_figures(struct symbol *s)
{
	char *name = s->name, *obj = s->obj;
	bool is_async = s->is_async, unknown = s->completion_unknown;

	for (size_t k = 0; k < s->nlocks; k++)
		if (s->locks[k].owned)
			free((char *)s->locks[k].name);
	free(s->locks);
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->obj = obj;
	s->is_async = is_async;
	s->completion_unknown = unknown;
}

void symbols_free(struct symbol_table *t)
{
	probes_free(&t->probes);
	probes_free(&t->polls);
	probes_free(&t->drops);
	for (size_t i = 0; i < t->n; i++) {
		forget_figures(&t->v[i]);
		free(t->v[i].name);
		free(t->v[i].obj);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

uint64_t symbol_oncpu_ns(const struct symbol *s)
{
	uint64_t off = s->locks_ns + s->pending_ns;

	for (int r = 0; r < REASON_NR; r++)
		off += s->off_ns[r];
	return s->total_ns > off ? s->total_ns - off : 0;
}

static int add_symbol_lock(struct symbol *s, struct syms *syms, struct semlat_report *r,
			   const struct sym_lock_key *k, uint64_t ns)
{
	const struct lock *l = semlat_find_lock(r, &k->lock);
	/* no real wait of it ended (a timeout, or one still waiting): named by its address */
	const char *name =
		l && l->name ? l->name : syms_data(syms, (int)k->lock.tgid, 0, k->lock.addr);
	struct symbol_lock *v;

	/* one part per name: a lock waited on two ways, or the same lock in two processes */
	for (size_t i = 0; i < s->nlocks; i++)
		if (!strcmp(s->locks[i].name, name)) {
			s->locks[i].ns += ns;
			return 0;
		}
	v = realloc(s->locks, (s->nlocks + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->locks = v;
	v = &s->locks[s->nlocks++];
	v->ns = ns;
	v->owned = !(l && l->name);
	v->name = v->owned ? strdup(name) : name;
	return v->name ? 0 : -ENOMEM;
}

static int lock_part_by_ns(const void *a, const void *b)
{
	uint64_t x = ((const struct symbol_lock *)a)->ns, y = ((const struct symbol_lock *)b)->ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int read_symbol_locks(const struct semlat_maps *m, struct syms *syms,
			     struct semlat_report *r)
{
	struct symbol_table *t = r->symbols;
	size_t n;
	struct sym_lock_key *keys = semlat_keys(m, m->sym_locks, sizeof(*keys),
						offsetof(struct sym_lock_key, lock.gen), &n);
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t ns;

		if (!semlat_take(m, m->sym_locks, &keys[i], &ns) && keys[i].sym < t->n)
			err = add_symbol_lock(&t->v[keys[i].sym], syms, r, &keys[i], ns);
	}
	free(keys);
	for (size_t i = 0; i < t->n; i++)
		qsort(t->v[i].locks, t->v[i].nlocks, sizeof(*t->v[i].locks), lock_part_by_ns);
	return err;
}

int symbols_read(const struct semlat_maps *m, struct syms *syms, struct semlat_report *r)
{
	struct symbol_table *t = r->symbols;

	static const struct sym_val zero;

	for (uint32_t i = 0; i < t->n; i++) {
		struct symbol *s = &t->v[i];
		uint32_t slot = SYM_SLOT(i, m->gen);
		struct sym_val v;

		forget_figures(s);
		if (bpf_map_lookup_elem(m->sym_stats, &slot, &v))
			return -errno;
		if (m->drain)
			bpf_map_update_elem(m->sym_stats, &slot, &zero, BPF_ANY);
		s->calls = v.calls;
		s->total_ns = v.total_ns;
		s->max_ns = v.max_ns;
		s->locks_ns = v.locks_ns;
		s->max_inside = v.max_inside;
		s->pending_ns = v.pending_ns;
		s->polls = v.polls;
		s->cancelled = v.cancelled;
		memcpy(s->off_ns, v.off_ns, sizeof(s->off_ns));
		hist_add_fine(&s->hist, v.slots, HIST_FINE_SLOTS, v.total_ns, v.max_ns);
	}
	return read_symbol_locks(m, syms, r);
}
