// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "target.h"

/* A new zeroed element at the end of *v (n of them, room for cap), or NULL. */
static void *append(void **v, size_t *n, size_t *cap, size_t sz)
{
	char *p;

	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		void *nv = realloc(*v, c * sz);

		if (!nv)
			return NULL;
		*v = nv;
		*cap = c;
	}
	p = (char *)*v + (*n)++ * sz;
	memset(p, 0, sz);
	return p;
}

struct pw_proc *model_find_proc(struct pw_model *m, int pid)
{
	struct pw_proc *p;

	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid == pid)
			return &m->procs[i];
	p = append((void **)&m->procs, &m->nprocs, &m->pcap, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->last_ns = m->start_ns;
	proc_comm(pid, pid, p->comm, sizeof(p->comm));
	return p;
}

/* The open count changes by delta at ts: the time before counts at the old level. */
static void open_changes(struct pw_proc *p, int delta, uint64_t ts)
{
	if (ts > p->last_ns) {
		p->open_area += (double)p->open_now * (ts - p->last_ns);
		p->last_ns = ts;
	}
	p->open_now += delta;
	if (p->open_now > p->open_max)
		p->open_max = p->open_now;
	if (p->open_now < p->open_min)
		p->open_min = p->open_now;
}

static struct pw_conn *add_conn(struct pw_model *m)
{
	return append((void **)&m->conns, &m->nconns, &m->cap, sizeof(struct pw_conn));
}

int model_event(struct pw_model *m, const struct event *e)
{
	struct pw_proc *p = model_find_proc(m, e->c.pid);
	struct pw_conn *pc;

	if (!p)
		return -ENOMEM;
	if (e->kind == EV_OPEN) {
		/* found at the start: open all along */
		open_changes(p, 1, e->c.before_trace ? m->start_ns : e->ts);
		if (e->c.before_trace && p->open_now > p->open_min && p->last_ns == m->start_ns)
			p->open_min = p->open_now;
		p->conns++;
		return 0;
	}
	open_changes(p, -1, e->ts);
	if (e->c.nonblocking && !e->c.connected_ns) { /* a failed connect (counted as such) */
		p->conns--;
		return 0;
	}
	pc = add_conn(m);
	if (!pc)
		return -ENOMEM;
	pc->c = e->c;
	pc->closed = true;
	pc->end_ns = e->ts;
	return 0;
}

int model_open_conn(struct pw_model *m, const struct conn *c, uint64_t now)
{
	struct pw_proc *p = model_find_proc(m, c->pid);
	struct pw_conn *pc;

	if (c->nonblocking && !c->connected_ns) { /* still connecting: nothing to show yet */
		if (p)
			p->conns--;
		return 0;
	}
	pc = add_conn(m);
	if (!pc)
		return -ENOMEM;
	pc->c = *c;
	pc->end_ns = now;
	if (c->state < CS_NR && now > c->since_ns)
		pc->c.state_ns[c->state] += now - c->since_ns;
	return 0;
}

void model_proc(struct pw_model *m, int pid, const struct proc *k, uint64_t now)
{
	struct pw_proc *p = model_find_proc(m, pid);
	uint64_t since = k->exh_since;

	if (!p)
		return;
	p->opens = k->opens;
	p->closes = k->closes;
	p->connect_failed = k->connect_failed;
	p->exh_ns = k->exh_ns;
	p->exh_count = k->exh_count;
	p->exh_max_ns = k->exh_max_ns;
	if (since && now > since) { /* still exhausted */
		p->exh_ns += now - since;
		p->exh_count++;
		if (now - since > p->exh_max_ns)
			p->exh_max_ns = now - since;
	}
}

int model_thread(struct pw_model *m, int tid, const struct thread_rt *t)
{
	struct pw_thread *p = append((void **)&m->threads, &m->nthreads, &m->tcap, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->tid = tid;
	p->pid = t->pid;
	p->threads = 1;
	if (t->comm[0])
		snprintf(p->comm, sizeof(p->comm), "%.*s", (int)sizeof(t->comm), t->comm);
	else
		proc_comm(t->pid, tid, p->comm, sizeof(p->comm));
	actor_of(p->comm, p->actor, sizeof(p->actor));
	hist_add_fine(&p->rt, t->fine, HIST_FINE_SLOTS, t->total_ns, t->max_ns);
	return 0;
}

void model_fold_actors(struct pw_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nthreads; i++) {
		size_t k = 0;

		while (k < n && strcmp(m->threads[k].actor, m->threads[i].actor))
			k++;
		if (k < n) {
			hist_merge(&m->threads[k].rt, &m->threads[i].rt);
			m->threads[k].threads++;
		} else {
			m->threads[n++] = m->threads[i];
		}
	}
	m->nthreads = n;
}

void model_finish(struct pw_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		open_changes(&m->procs[i], 0, m->end_ns);
}

void model_free(struct pw_model *m)
{
	free(m->conns);
	free(m->procs);
	free(m->threads);
	memset(m, 0, sizeof(*m));
}

void conn_roundtrips(const struct conn *c, struct hist *h)
{
	hist_add_fine(h, c->fine, HIST_FINE_SLOTS, c->rt_total_ns, c->rt_max_ns);
}

void model_roundtrips(const struct pw_model *m, struct hist *h)
{
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < m->nconns; i++)
		conn_roundtrips(&m->conns[i].c, h);
}

uint64_t conn_total_ns(const struct conn *c)
{
	uint64_t t = 0;

	for (int s = 0; s < CS_NR; s++)
		t += c->state_ns[s];
	return t;
}
