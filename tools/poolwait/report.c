// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "report.h"
#include "json.h"
#include "taxonomy.h"
#include "units.h"

static const char *const lost_names[DROP_NR + CNT_NR] = {
	[DROP_CONNS_FULL] = "conns_full",
	[DROP_PROCS_FULL] = "procs_full",
	[DROP_INFLIGHT_FULL] = "inflight_full",
	[DROP_EVENTS] = "events",
	[DROP_DESYNC] = "framing_lost",
	[DROP_PIPELINE] = "pipeline_overflow",
	[DROP_THREADS_FULL] = "threads_full",
	[DROP_LIBPQ_FULL] = "libpq_full",
	[DROP_TEXTS_FULL] = "texts_full",
	[DROP_HELD_FULL] = "held_full",
	[DROP_NR + CNT_UNMATCHED] = "ready_unmatched",
};

const char *poolwait_lost_name(int i)
{
	return i >= 0 && i < DROP_NR + CNT_NR ? lost_names[i] : NULL;
}

static void addr_str(const struct conn *c, bool local, char *buf, size_t n)
{
	const uint8_t *a = local ? c->laddr : c->raddr;
	uint16_t port = local ? c->lport : c->rport;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (c->family == AF_UNIX) {
		if (local)
			snprintf(buf, n, "socket:[%llu]", (unsigned long long)c->ino);
		else
			snprintf(buf, n, "unix");
		return;
	}
	inet_ntop(c->family == AF_INET6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip));
	snprintf(buf, n, c->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * part / whole : 0;
}

/* busiest first: the connections most of the time in flight */
static int by_busy(const void *a, const void *b)
{
	const struct pw_conn *x = a, *y = b;
	uint64_t bx = x->c.state_ns[CS_BUSY], by = y->c.state_ns[CS_BUSY];

	if (bx != by)
		return bx < by ? 1 : -1;
	return x->c.id < y->c.id ? -1 : x->c.id > y->c.id;
}

static uint64_t connect_ns(const struct conn *c)
{
	return c->connect_ns && c->connected_ns > c->connect_ns ? c->connected_ns - c->connect_ns
								: 0;
}

static uint64_t startup_ns(const struct conn *c)
{
	return c->connected_ns && c->ready_ns > c->connected_ns ? c->ready_ns - c->connected_ns : 0;
}

static void print_procs(FILE *f, const struct pw_report *r, uint64_t dur)
{
	char a[32], b[32];

	fprintf(f, "%-16s %7s %5s %16s %6s %6s %7s %18s %8s %9s\n", "PROCESS", "PID", "CONNS",
		"OPEN min/mean/max", "OPENS", "CLOSES", "FAILED", "EXHAUSTED", "EPISODES",
		"LONGEST");
	for (size_t i = 0; i < r->m->nprocs; i++) {
		const struct pw_proc *p = &r->m->procs[i];
		char open[32];

		snprintf(open, sizeof(open), "%" PRId64 "/%.1f/%" PRId64, p->open_min,
			 dur ? p->open_area / dur : 0, p->open_max);
		fprintf(f,
			"%-16s %7d %5d %16s %6" PRIu64 " %6" PRIu64 " %7" PRIu64
			" %10s (%4.1f%%) %8" PRIu64 " %9s\n",
			p->comm, p->pid, p->conns, open, p->opens, p->closes, p->connect_failed,
			fmt_duration(a, sizeof(a), p->exh_ns), share(p->exh_ns, dur), p->exh_count,
			fmt_duration(b, sizeof(b), p->exh_max_ns));
	}
}

static void print_conn(FILE *f, const struct pw_conn *pc)
{
	const struct conn *c = &pc->c;
	uint64_t total = conn_total_ns(c);
	char la[64], ra[64], cn[32], st[32], p50[32], p99[32];
	struct hist h = {0};

	conn_roundtrips(c, &h);
	addr_str(c, true, la, sizeof(la));
	addr_str(c, false, ra, sizeof(ra));
	fmt_duration(cn, sizeof(cn), connect_ns(c));
	fmt_duration(st, sizeof(st), startup_ns(c));
	hist_fmt_percentile(p50, sizeof(p50), &h, 50);
	hist_fmt_percentile(p99, sizeof(p99), &h, 99);
	fprintf(f, "%5llu %7u %-22s %9s %9s %8llu %5.1f%% %5.1f%% %5.1f%% %9s %9s%s%s%s\n",
		(unsigned long long)c->id, c->pid, la, c->connect_ns ? cn : "-",
		c->connect_ns && c->ready_ns ? st : "-", (unsigned long long)c->rt_count,
		share(c->state_ns[CS_BUSY], total), share(c->state_ns[CS_IDLE], total),
		share(c->state_ns[CS_IDLE_TX], total), p50, p99,
		c->before_trace ? " (open before the trace)" : "", pc->closed ? " (closed)" : "",
		!c->tls	   ? ""
		: c->libpq ? " (TLS: timed by libpq)"
			   : " (TLS: opaque, --libpq times it)");
	(void)ra;
}

static void print_conns(FILE *f, const struct pw_report *r)
{
	const struct pw_model *m = r->m;
	struct pw_conn *v = malloc(m->nconns * sizeof(*v));
	size_t n = m->nconns;

	if (!v)
		return;
	memcpy(v, m->conns, n * sizeof(*v));
	qsort(v, n, sizeof(*v), by_busy);
	fprintf(f, "\nconnections, busiest first:\n");
	fprintf(f, "%5s %7s %-22s %9s %9s %8s %6s %6s %6s %9s %9s\n", "ID", "PID", "LOCAL",
		"CONNECT", "STARTUP", "QUERIES", "BUSY", "IDLE", "IN-TX", "RT p50", "RT p99");
	for (size_t i = 0; i < n && (!r->top || i < (size_t)r->top); i++)
		print_conn(f, &v[i]);
	if (r->top && n > (size_t)r->top)
		fprintf(f, "  ... %zu more (-n 0 lists all)\n", n - r->top);
	free(v);
}

static int by_roundtrips(const void *a, const void *b)
{
	const struct pw_thread *x = a, *y = b;

	if (x->rt.total_ns != y->rt.total_ns)
		return x->rt.total_ns < y->rt.total_ns ? 1 : -1;
	return x->tid - y->tid;
}

/* --by thread|actor: who sent the requests, and how long their round trips took. */
static void print_threads(FILE *f, const struct pw_report *r)
{
	bool actors = r->by == BY_ACTOR;
	struct pw_thread *v = r->m->threads;
	size_t n = r->m->nthreads;

	qsort(v, n, sizeof(*v), by_roundtrips);
	fprintf(f, "\nround trips by %s, longest in all first:\n", actors ? "actor" : "thread");
	fprintf(f, "%-20s %7s %9s %10s %9s %9s %9s\n", actors ? "ACTOR" : "THREAD",
		actors ? "THREADS" : "TID", "COUNT", "TOTAL", "MEAN", "p50", "p99");
	for (size_t i = 0; i < n && (!r->top || i < (size_t)r->top); i++) {
		const struct hist *h = &v[i].rt;
		char t[32], m[32], p50[32], p99[32];

		fprintf(f, "%-20s %7d %9" PRIu64 " %10s %9s %9s %9s\n",
			actors ? v[i].actor : v[i].comm, actors ? v[i].threads : v[i].tid, h->count,
			fmt_duration(t, sizeof(t), h->total_ns),
			fmt_duration(m, sizeof(m), h->count ? h->total_ns / h->count : 0),
			hist_fmt_percentile(p50, sizeof(p50), h, 50),
			hist_fmt_percentile(p99, sizeof(p99), h, 99));
	}
}

static void print_statements(FILE *f, const struct pw_report *r)
{
	struct statements *s = r->stmts;

	statements_sort(s);
	fprintf(f, "\nstatements, longest in all first:\n");
	fprintf(f, "%9s %10s %9s %9s %9s  %s\n", "COUNT", "TOTAL", "MEAN", "p50", "p99",
		"STATEMENT");
	for (size_t i = 0; i < s->n && (!r->top || i < (size_t)r->top); i++) {
		const struct hist *h = &s->v[i].rt;
		char t[32], m[32], p50[32], p99[32];

		fprintf(f, "%9" PRIu64 " %10s %9s %9s %9s  %s\n", h->count,
			fmt_duration(t, sizeof(t), h->total_ns),
			fmt_duration(m, sizeof(m), h->total_ns / h->count),
			hist_fmt_percentile(p50, sizeof(p50), h, 50),
			hist_fmt_percentile(p99, sizeof(p99), h, 99), s->v[i].text);
	}
	if (!s->n)
		fprintf(f, "  none: no Query, or Parse and Bind, was seen\n");
}

/* The part of the waits spent on the CPU: what no switch took. */
static uint64_t acquire_oncpu_ns(const struct acquire_stats *a)
{
	uint64_t off = 0;

	for (int i = 0; i < REASON_NR; i++)
		off += a->off_ns[i];
	return a->wait_ns > off ? a->wait_ns - off : 0;
}

static void print_acquire(FILE *f, const struct pw_report *r)
{
	const struct acquire_stats *a = &r->acq;
	char w[32], h[32], held[96];

	if (r->release)
		snprintf(held, sizeof(held), "held %s in all (%" PRIu64 " releases seen)",
			 fmt_duration(h, sizeof(h), a->hold_ns), a->holds);
	else
		snprintf(held, sizeof(held), "hold time not measured (no release function given)");
	fprintf(f,
		"\nacquire: %" PRIu64 " calls, waited %s in all, %s, at most %" PRIu64
		" waiting at once\n",
		a->calls, fmt_duration(w, sizeof(w), a->wait_ns), held, a->concurrency_max);
	fprintf(f, "  the wait was:");
	for (int i = -1; i < REASON_NR; i++) {
		uint64_t ns = i < 0 ? acquire_oncpu_ns(a) : a->off_ns[i];

		if (ns)
			fprintf(f, " %s %.1f%%", i < 0 ? "on-CPU" : reason_name(i),
				share(ns, a->wait_ns));
	}
	fprintf(f, "\n");
	hist_print_of(f, &a->hist, "  ", "calls");
}

static void print_lost(FILE *f, const struct pw_model *m)
{
	bool any = false;

	if (m->counters[DROP_NR + CNT_UNMATCHED])
		fprintf(f, "answers to requests sent before the trace: %" PRIu64 " (not timed)\n",
			m->counters[DROP_NR + CNT_UNMATCHED]);
	fprintf(f, "lost:");
	for (int i = 0; i < DROP_NR; i++) {
		if (lost_names[i] && m->counters[i]) {
			fprintf(f, " %s %" PRIu64, lost_names[i], m->counters[i]);
			any = true;
		}
	}
	fprintf(f, "%s\n", any ? "" : " nothing");
}

void report_text(FILE *f, const struct pw_report *r)
{
	const struct pw_model *m = r->m;
	uint64_t dur = m->end_ns - m->start_ns;
	char d[32];
	struct hist rt;

	fprintf(f, "poolwait: %s traced; server %s (%s)\n\n", fmt_duration(d, sizeof(d), dur),
		r->server, r->endpoints);
	if (!m->nconns) {
		fprintf(f, "no connections to %s from the %s\n", r->server,
			r->npids ? "targets" : "processes traced");
		if (m->nprocs) /* failed connects */
			print_procs(f, r, dur);
		print_lost(f, m);
		return;
	}
	print_procs(f, r, dur);
	model_roundtrips(m, &rt);
	fprintf(f, "\nround trips: %" PRIu64 ", mean %s\n", rt.count,
		fmt_duration(d, sizeof(d), rt.count ? rt.total_ns / rt.count : 0));
	hist_print_of(f, &rt, "  ", "round trips");
	if (r->by == BY_CONNECTION)
		print_conns(f, r);
	else
		print_threads(f, r);
	if (r->stmts)
		print_statements(f, r);
	if (r->acquire)
		print_acquire(f, r);
	fprintf(f, "\n");
	print_lost(f, m);
}

static void json_conn(struct json *j, struct pw_model *m, const struct pw_conn *pc)
{
	const struct pw_proc *p = model_find_proc(m, pc->c.pid);
	const struct conn *c = &pc->c;
	char la[64], ra[64];
	struct hist h = {0};

	addr_str(c, true, la, sizeof(la));
	addr_str(c, false, ra, sizeof(ra));
	conn_roundtrips(c, &h);
	json_object_begin(j, NULL);
	json_u64(j, "id", c->id);
	json_u64(j, "pid", c->pid);
	json_string(j, "comm", p ? p->comm : "?");
	json_string(j, "laddr", la);
	json_string(j, "raddr", ra);
	/* null where it was not seen (opened before the trace; TLS without --libpq) */
	json_double(j, "connect_us", connect_ns(c) ? connect_ns(c) / 1000.0 : NAN);
	json_double(j, "startup_us", startup_ns(c) ? startup_ns(c) / 1000.0 : NAN);
	json_u64(j, "queries", c->rt_count);
	json_double(j, "busy_us", c->state_ns[CS_BUSY] / 1000.0);
	json_double(j, "idle_us", c->state_ns[CS_IDLE] / 1000.0);
	json_double(j, "idle_in_tx_us", c->state_ns[CS_IDLE_TX] / 1000.0);
	json_double(j, "startup_phase_us", c->state_ns[CS_STARTUP] / 1000.0);
	json_double(j, "unknown_us", c->state_ns[CS_UNKNOWN] / 1000.0);
	json_bool(j, "opened_before_trace", c->before_trace);
	json_bool(j, "closed", pc->closed);
	json_bool(j, "tls", c->tls);
	/* where its round trips came from: the protocol read in the calls, libpq, or nowhere */
	json_string(j, "roundtrips_from", !c->tls ? "wire" : c->libpq ? "libpq" : "none");
	json_u64(j, "errors", c->errors);
	json_u64(j, "bytes_sent", c->bytes_tx);
	json_u64(j, "bytes_received", c->bytes_rx);
	json_hist(j, "roundtrips", &h);
	json_object_end(j);
}

static void json_proc(struct json *j, const struct pw_proc *p, uint64_t dur)
{
	json_object_begin(j, NULL);
	json_u64(j, "pid", p->pid);
	json_string(j, "comm", p->comm);
	json_u64(j, "connections", p->conns);
	json_i64(j, "open_min", p->open_min);
	json_double(j, "open_mean", dur ? p->open_area / dur : 0);
	json_i64(j, "open_max", p->open_max);
	json_u64(j, "opens", p->opens);
	json_u64(j, "closes", p->closes);
	json_u64(j, "connect_failures", p->connect_failed);
	json_double(j, "exhausted_us", p->exh_ns / 1000.0);
	json_u64(j, "exhausted_count", p->exh_count);
	json_double(j, "exhausted_max_us", p->exh_max_ns / 1000.0);
	json_object_end(j);
}

static void json_roundtrips(struct json *j, const struct pw_model *m)
{
	struct hist rt;

	model_roundtrips(m, &rt);
	json_object_begin(j, "roundtrips");
	json_u64(j, "count", rt.count);
	json_double(j, "total_us", rt.total_ns / 1000.0);
	json_double(j, "mean_us", rt.count ? rt.total_ns / 1000.0 / rt.count : 0);
	json_double(j, "p50_us", hist_percentile_us(&rt, 50));
	json_double(j, "p90_us", hist_percentile_us(&rt, 90));
	json_double(j, "p99_us", hist_percentile_us(&rt, 99));
	json_double(j, "max_us", rt.max_ns / 1000.0);
	json_hist(j, "hist", &rt);
	json_object_end(j);
}

static void json_acquire(struct json *j, const struct acquire_stats *a)
{
	json_object_begin(j, "acquire");
	json_u64(j, "calls", a->calls);
	json_double(j, "wait_us", a->wait_ns / 1000.0);
	json_double(j, "p50_us", hist_percentile_us(&a->hist, 50));
	json_double(j, "p99_us", hist_percentile_us(&a->hist, 99));
	json_double(j, "max_us", a->hist.max_ns / 1000.0);
	json_double(j, "hold_us", a->hold_ns / 1000.0);
	json_u64(j, "holds", a->holds);
	json_u64(j, "concurrency_max", a->concurrency_max);
	json_object_begin(j, "breakdown"); /* semlat's keys: oncpu, then each wait reason */
	json_double(j, "oncpu", acquire_oncpu_ns(a) / 1000.0);
	for (int i = 0; i < REASON_NR; i++)
		json_double(j, reason_name(i), a->off_ns[i] / 1000.0);
	json_object_end(j);
	json_object_end(j);
}

static void json_threads(struct json *j, const struct pw_report *r)
{
	bool actors = r->by == BY_ACTOR;

	json_array_begin(j, actors ? "actors" : "threads");
	for (size_t i = 0; i < r->m->nthreads; i++) {
		const struct pw_thread *t = &r->m->threads[i];

		json_object_begin(j, NULL);
		if (actors) {
			json_string(j, "actor", t->actor);
			json_u64(j, "threads", t->threads);
		} else {
			json_u64(j, "tid", t->tid);
			json_u64(j, "pid", t->pid);
			json_string(j, "comm", t->comm);
			json_string(j, "actor", t->actor);
		}
		json_hist(j, "roundtrips", &t->rt);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_statements(struct json *j, struct statements *s)
{
	statements_sort(s);
	json_array_begin(j, "statements");
	for (size_t i = 0; i < s->n; i++) {
		json_object_begin(j, NULL);
		json_string(j, "text", s->v[i].text);
		json_hist(j, "roundtrips", &s->v[i].rt);
		json_object_end(j);
	}
	json_array_end(j);
}

void report_json(FILE *f, const struct pw_report *r)
{
	struct pw_model *m = r->m;
	uint64_t dur = m->end_ns - m->start_ns, exh = 0, exh_count = 0;
	struct json j;

	json_init(&j, f, false);
	json_object_begin(&j, NULL);
	json_string(&j, "tool", "poolwait");
	json_double(&j, "duration_us", dur / 1000.0);
	json_object_begin(&j, "window");
	json_u64(&j, "start_ns", m->start_ns);
	json_u64(&j, "end_ns", m->end_ns);
	json_object_end(&j);
	json_string(&j, "server", r->server);
	json_array_begin(&j, "endpoints");
	for (int i = 0; r->dsn && i < r->dsn->neps; i++) {
		char e[DSN_PATH_MAX + 8];

		endpoint_format(&r->dsn->eps[i], e, sizeof(e));
		json_string(&j, NULL, e);
	}
	json_array_end(&j);
	json_array_begin(&j, "targets");
	for (int i = 0; i < r->npids; i++)
		json_u64(&j, NULL, r->pids[i]);
	json_array_end(&j);
	json_array_begin(&j, "connections");
	for (size_t i = 0; i < m->nconns; i++)
		json_conn(&j, m, &m->conns[i]);
	json_array_end(&j);
	json_array_begin(&j, "processes");
	for (size_t i = 0; i < m->nprocs; i++) {
		json_proc(&j, &m->procs[i], dur);
		exh += m->procs[i].exh_ns;
		exh_count += m->procs[i].exh_count;
	}
	json_array_end(&j);
	json_roundtrips(&j, m);
	json_double(&j, "exhausted_us", exh / 1000.0);
	json_u64(&j, "exhausted_count", exh_count);
	if (r->by != BY_CONNECTION)
		json_threads(&j, r);
	if (r->stmts)
		json_statements(&j, r->stmts);
	if (r->acquire)
		json_acquire(&j, &r->acq);
	json_object_begin(&j, "lost");
	for (int i = 0; i < DROP_NR + CNT_NR; i++)
		if (lost_names[i])
			json_u64(&j, lost_names[i], m->counters[i]);
	json_object_end(&j);
	json_end(&j);
}

void totals_of(const struct pw_model *m, uint64_t now, struct pw_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->ns = now;
	for (size_t i = 0; i < m->nconns; i++)
		for (int s = 0; s < CS_NR; s++)
			t->state_ns[s] += m->conns[i].c.state_ns[s];
	for (size_t i = 0; i < m->nprocs; i++) {
		t->open += m->procs[i].open_now;
		if (t->nprocs < TOTALS_PROCS) {
			t->procs[t->nprocs].pid = m->procs[i].pid;
			t->procs[t->nprocs++].exh_ns = m->procs[i].exh_ns;
		}
	}
	model_roundtrips(m, &t->rt);
}

/* The most exhausted process's share of the interval: one pool, not a sum over pools. */
static double exhausted_share(const struct pw_totals *now, const struct pw_totals *prev)
{
	uint64_t dt = now->ns - prev->ns, worst = 0;

	for (int i = 0; i < now->nprocs; i++) {
		uint64_t before = 0;

		for (int k = 0; k < prev->nprocs; k++)
			if (prev->procs[k].pid == now->procs[i].pid)
				before = prev->procs[k].exh_ns;
		if (now->procs[i].exh_ns - before > worst)
			worst = now->procs[i].exh_ns - before;
	}
	return share(worst, dt);
}

/* The round trips of the interval: now's histogram less prev's. */
static void interval_hist(const struct pw_totals *now, const struct pw_totals *prev,
			  struct hist *rt)
{
	*rt = now->rt;
	for (int i = 0; i < HIST_FINE_SLOTS; i++)
		rt->fine[i] -= prev->rt.fine[i];
	for (int i = 0; i < HIST_MAX_SLOTS; i++)
		rt->slots[i] -= prev->rt.slots[i];
	rt->count -= prev->rt.count;
	rt->total_ns -= prev->rt.total_ns;
}

struct line {
	char clock[16];
	double busy, idle, intx, exhausted, rt_per_s, p50_us, p99_us;
};

static void interval_json(FILE *f, const struct line *l, const struct pw_totals *now, bool acquire)
{
	struct json j;

	json_init(&j, f, false);
	json_object_begin(&j, NULL);
	json_string(&j, "tool", "poolwait");
	json_string(&j, "time", l->clock);
	json_u64(&j, "end_ns", now->ns);
	json_i64(&j, "open", now->open);
	json_double(&j, "busy_pct", l->busy);
	json_double(&j, "idle_pct", l->idle);
	json_double(&j, "idle_in_tx_pct", l->intx);
	json_double(&j, "exhausted_pct", l->exhausted);
	if (acquire)
		json_u64(&j, "waiting", now->acq_waiting);
	json_double(&j, "roundtrips_per_s", l->rt_per_s);
	json_double(&j, "p50_us", l->p50_us);
	json_double(&j, "p99_us", l->p99_us);
	json_end(&j);
}

static void interval_text(FILE *f, const struct line *l, const struct pw_totals *now, bool header,
			  bool acquire)
{
	char p50[32], p99[32], waiting[24] = "";

	if (acquire)
		snprintf(waiting, sizeof(waiting), " %7" PRIu64, now->acq_waiting);
	if (header)
		fprintf(f, "%-8s %5s %6s %6s %6s %9s%s %9s %9s %9s\n", "TIME", "OPEN", "BUSY",
			"IDLE", "IN-TX", "EXHAUSTED", acquire ? " WAITING" : "", "RT/s", "RT p50",
			"RT p99");
	fprintf(f, "%-8s %5" PRId64 " %5.1f%% %5.1f%% %5.1f%% %8.1f%%%s %9.0f %9s %9s\n", l->clock,
		now->open, l->busy, l->idle, l->intx, l->exhausted, waiting, l->rt_per_s,
		fmt_duration(p50, sizeof(p50), (uint64_t)(l->p50_us * 1000)),
		fmt_duration(p99, sizeof(p99), (uint64_t)(l->p99_us * 1000)));
}

void report_interval(FILE *f, const struct pw_totals *now, struct pw_totals *prev, bool header,
		     bool acquire, bool json)
{
	uint64_t dt = now->ns - prev->ns, st[CS_NR], all = 0;
	time_t t = time(NULL);
	struct line l;
	struct hist rt;

	for (int s = 0; s < CS_NR; s++) {
		st[s] = now->state_ns[s] - prev->state_ns[s];
		all += st[s];
	}
	interval_hist(now, prev, &rt);
	strftime(l.clock, sizeof(l.clock), "%H:%M:%S", localtime(&t));
	l.busy = share(st[CS_BUSY], all);
	l.idle = share(st[CS_IDLE], all);
	l.intx = share(st[CS_IDLE_TX], all);
	l.exhausted = exhausted_share(now, prev);
	l.rt_per_s = dt ? rt.count * 1e9 / dt : 0;
	l.p50_us = hist_percentile_us(&rt, 50);
	l.p99_us = hist_percentile_us(&rt, 99);
	if (json)
		interval_json(f, &l, now, acquire);
	else
		interval_text(f, &l, now, header, acquire);
	*prev = *now;
}
