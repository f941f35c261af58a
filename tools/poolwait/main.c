// SPDX-License-Identifier: GPL-2.0
/* poolwait: a PostgreSQL client's connections, round trips and pool exhaustion. */
#include <argp.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "poolwait.h"
#include "poolwait.skel.h"
#include "version.h"
#include "acquire.h"
#include "dsn.h"
#include "iter.h"
#include "libpq.h"
#include "statements.h"
#include "loader.h"
#include "mapread.h"
#include "model.h"
#include "report.h"
#include "session.h"
#include "target.h"

#define TOOL "poolwait"

static struct env {
	int pids[MAX_TARGETS];
	int npids;
	bool json, verbose, libpq, statements;
	enum pw_by by;
	int top;
	char *dsn; /* in argv: the password is wiped from it once parsed */
	const char *acquire;
	double duration, interval;
} env = {.top = 20};

const char *argp_program_version =
	"poolwait (waitscope) " WAITSCOPE_VERSION ", commit " WAITSCOPE_COMMIT;
static const char doc[] =
	"Show a PostgreSQL client's connections, round trips, busy and idle-in-transaction time, "
	"and when its pool ran out of free connections.\n"
	"\n"
	"USAGE: poolwait --dsn DSN [-p PID[,PID..]] [--acquire SYM[:RELEASE]]\n"
	"         [--libpq] [--statements] [--by connection|thread|actor]\n"
	"         [-n N] [--json] [-i SECONDS] [duration]\n"
	"\n"
	"EXAMPLES:\n"
	"  poolwait --dsn postgresql://app@db1:5432/orders -p 1234 10\n"
	"  poolwait --dsn 'host=/var/run/postgresql' 5    # every process, unix socket\n"
	"  poolwait --dsn ... -p 1234 --acquire pool_get:pool_put  # acquire waits\n"
	"  poolwait --dsn ... -p 1234 -i 1    # a line a second: busy, idle, exhausted\n"
	"  poolwait --dsn ... --statements 10 # round trips per statement, no values\n"
	"\n"
	"Reads the client side of every connection to the DSN's server from the\n"
	"socket calls (the PostgreSQL wire protocol), connections opened before the\n"
	"trace too. The DSN's password is never printed, nor kept in ps's view.\n";

enum { OPT_JSON = 0x100, OPT_DSN, OPT_ACQUIRE, OPT_BY, OPT_LIBPQ, OPT_STATEMENTS };

static const struct argp_option opts[] = {
	{"dsn", OPT_DSN, "DSN", 0, "The server: a libpq URI or key=value string (required)", 0},
	{"pid", 'p', "PID[,PID..]", 0, "Only these processes' connections (default: every one)", 0},
	{"acquire", OPT_ACQUIRE, "SYM[:RELEASE]|LIB:SYM:RELEASE", 0,
	 "The pool's acquire function (and its release, given what the acquire returned): wait and "
	 "hold times, what the waits were made of (uprobes; needs -p)",
	 0},
	{"libpq", OPT_LIBPQ, NULL, 0,
	 "Also time requests through libpq's functions (uprobes; needs -p): round trips of TLS "
	 "connections, whose bytes are opaque",
	 0},
	{"statements", OPT_STATEMENTS, NULL, 0,
	 "Round trips per statement, literals replaced by $N (the values are never shown)", 0},
	{"by", OPT_BY, "connection|thread|actor", 0,
	 "Round trips per connection (default), per thread that sent them, or per thread role", 0},
	{"top", 'n', "N", 0, "Connections listed (default 20, 0 for all)", 0},
	{"interval", 'i', "SECONDS", 0, "A line every SECONDS: open, busy, idle, exhausted", 0},
	{"json", OPT_JSON, NULL, 0, "One JSON document (docs/poolwait.schema.json)", 0},
	{"verbose", 'v', NULL, 0, "Show libbpf's log", 0},
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_DSN:
		env.dsn = arg;
		break;
	case 'p':
		env.npids = target_parse_pids(TOOL, arg, env.pids, MAX_TARGETS);
		if (env.npids < 0)
			exit(EXIT_USAGE);
		break;
	case OPT_ACQUIRE:
		env.acquire = arg;
		break;
	case OPT_STATEMENTS:
		env.statements = true;
		break;
	case OPT_LIBPQ:
		env.libpq = true;
		break;
	case OPT_BY: /* in enum pw_by's order */
		env.by = parse_choice(TOOL, "--by", arg,
				      (const char *const[]){"connection", "thread", "actor"}, 3);
		break;
	case 'n':
		env.top = parse_top(TOOL, arg);
		break;
	case 'i':
		env.interval = parse_interval(TOOL, arg);
		break;
	case OPT_JSON:
		env.json = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num > 0)
			usage_error(TOOL, "unexpected argument: %s", arg);
		env.duration = parse_seconds(arg);
		if (env.duration < 0)
			usage_error(TOOL, "invalid duration: %s", arg);
		break;
	case ARGP_KEY_END:
		if (!env.dsn)
			usage_error(TOOL, "--dsn is needed: the server whose connections to trace");
		if (env.acquire && !env.npids)
			usage_error(TOOL,
				    "--acquire needs -p: the pool's functions are in a process");
		if (env.libpq && !env.npids)
			usage_error(TOOL,
				    "--libpq needs -p: libpq's functions are probed in a process");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct run {
	struct poolwait_bpf *skel;
	struct ring_buffer *rb;
	struct pw_model events; /* closed connections, open counts over time */
	struct dsn dsn;
	char server[512], endpoints[1024];
	struct acquire acq;
	struct probes libpq;
	struct statements stmts;
	struct pw_totals last;
	bool exited[MAX_TARGETS];
	bool lines; /* -i: the header was printed */
};

/* The DSN's endpoints, as the BPF side compares them. */
static void set_endpoints(struct poolwait_bpf *s, const struct dsn *d)
{
	int n = 0;

	for (int i = 0; i < d->neps && n < MAX_ENDPOINTS; i++, n++) {
		const struct endpoint *e = &d->eps[i];
		volatile struct pw_endpoint *p = &s->rodata->endpoints[n];
		uint64_t h = PW_PATH_HASH_SEED;

		p->family = e->family;
		p->port = htons(e->port);
		for (int b = 0; b < 16; b++)
			p->addr[b] = e->addr[b];
		for (const char *c = e->path; e->family == AF_UNIX && *c; c++)
			h = pw_path_hash_step(h, (unsigned char)*c);
		p->path_hash = e->family == AF_UNIX ? h : 0;
	}
	s->rodata->n_endpoints = n;
}

static struct poolwait_bpf *open_and_load(const struct run *r, bool btf)
{
	struct poolwait_bpf *s = poolwait_bpf__open();
	int err;

	if (!s)
		return NULL;
	for (int k = 0; k < env.npids; k++)
		s->rodata->targ_tgids[k] = env.pids[k];
	s->rodata->n_tgids = env.npids;
	s->rodata->self_tgid = getpid();
	set_endpoints(s, &r->dsn);
	s->rodata->by_thread = env.by != BY_CONNECTION;
	s->rodata->statements = env.statements;
	if (!env.statements)
		bpf_map__set_max_entries(s->maps.texts, 1);
	if (env.by == BY_CONNECTION)
		bpf_map__set_max_entries(s->maps.threads, 1);
	/* no stacks here */
	bpf_map__set_max_entries(s->maps.stacks, 1);
	bpf_map__set_max_entries(s->maps.scratch, 1);
	acquire_configure(&r->acq, s, btf);
	libpq_configure(&r->libpq, s);
	err = poolwait_bpf__load(s);
	if (!err)
		return s;
	poolwait_bpf__destroy(s);
	errno = -err;
	return NULL;
}

/* flavour 0 splits --acquire's waits at tp_btf/sched_switch, 1 at raw_tp */
static void *load_one(void *ctx, int i)
{
	return open_and_load(ctx, i == 0);
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;
	const struct stmt_event *st = data;

	if (len >= sizeof(struct event))
		model_event(&r->events, data);
	else if (len >= sizeof(*st) && st->kind == EV_STMT)
		statements_add(&r->stmts, st->t.text, sizeof(st->t.text), st->ns);
	return 0;
}

/* A process that exited without closing its connections: they closed with it. */
static void forget_dead(struct run *r)
{
	int fd = bpf_map__fd(r->skel->maps.conns);
	size_t n;
	struct conn_key *keys = map_keys(fd, sizeof(*keys), &n);
	uint64_t now = mono_ns();

	for (size_t i = 0; keys && i < n; i++) {
		struct event e = {.kind = EV_CLOSE, .ts = now};

		if (pid_alive(keys[i].tgid) || bpf_map_lookup_elem(fd, &keys[i], &e.c))
			continue;
		if (e.c.state < CS_NR && now > e.c.since_ns)
			e.c.state_ns[e.c.state] += now - e.c.since_ns;
		e.c.since_ns = now;
		model_event(&r->events, &e);
		r->events.conns[r->events.nconns - 1].gone = true;
		bpf_map_delete_elem(fd, &keys[i]);
	}
	free(keys);
}

static void on_tick(void *ctx)
{
	forget_dead(ctx);
}

static void on_status(void *ctx, char *buf, size_t n)
{
	struct run *r = ctx;

	snprintf(buf, n, "%zu connections closed, %llu socket calls read", r->events.nconns,
		 (unsigned long long)map_percpu_sum(bpf_map__fd(r->skel->maps.counters),
						    DROP_NR + CNT_CALLS));
}

static int read_threads(struct run *r, struct pw_model *m)
{
	int fd = bpf_map__fd(r->skel->maps.threads), err = 0;
	size_t n;
	__u32 *tids = map_keys(fd, sizeof(*tids), &n);

	m->threads = NULL;
	m->nthreads = m->tcap = 0;
	for (size_t i = 0; tids && !err && i < n; i++) {
		struct thread_rt t;

		/* a thread whose requests are all still in flight has no round trip yet */
		if (!bpf_map_lookup_elem(fd, &tids[i], &t) && t.count)
			err = model_thread(m, tids[i], &t);
	}
	free(tids);
	if (!err && env.by == BY_ACTOR)
		model_fold_actors(m);
	return tids ? err : -ENOMEM;
}

/* The model as of now: the closed connections so far, and the open ones as they stand. */
static int snapshot(struct run *r, uint64_t now, struct pw_model *m)
{
	int cfd = bpf_map__fd(r->skel->maps.conns), pfd = bpf_map__fd(r->skel->maps.procs);
	size_t n, np;
	struct conn_key *keys = map_keys(cfd, sizeof(*keys), &n);
	__u32 *pids = map_keys(pfd, sizeof(__u32), &np);
	int err = keys && pids ? 0 : -ENOMEM;

	*m = r->events;
	m->conns = malloc((r->events.nconns + n + 1) * sizeof(*m->conns));
	m->procs = malloc((r->events.nprocs + np + 1) * sizeof(*m->procs));
	m->cap = r->events.nconns + n + 1;
	m->pcap = r->events.nprocs + np + 1;
	if (!m->conns || !m->procs)
		err = -ENOMEM;
	if (!err) {
		memcpy(m->conns, r->events.conns, r->events.nconns * sizeof(*m->conns));
		memcpy(m->procs, r->events.procs, r->events.nprocs * sizeof(*m->procs));
	}
	for (size_t i = 0; !err && i < n; i++) {
		struct conn c;

		if (!bpf_map_lookup_elem(cfd, &keys[i], &c))
			err = model_open_conn(m, &c, now);
	}
	for (size_t i = 0; !err && i < np; i++) {
		struct proc p;

		if (!bpf_map_lookup_elem(pfd, &pids[i], &p))
			model_proc(m, pids[i], &p, now);
	}
	if (!err && env.by != BY_CONNECTION)
		err = read_threads(r, m);
	for (int i = 0; i < DROP_NR + CNT_NR; i++)
		m->counters[i] = map_percpu_sum(bpf_map__fd(r->skel->maps.counters), i);
	m->end_ns = now;
	model_finish(m);
	free(keys);
	free(pids);
	return err;
}

static void on_interval(void *ctx)
{
	struct run *r = ctx;
	struct pw_model m;
	struct pw_totals t;
	uint64_t now = mono_ns();

	if (snapshot(r, now, &m)) {
		model_free(&m);
		return;
	}
	totals_of(&m, now, &t);
	t.acq_waiting = acquire_waiting(&r->acq);
	report_interval(stdout, &t, &r->last, !r->lines, env.acquire != NULL, env.json);
	r->lines = true;
	fflush(stdout);
	model_free(&m);
}

static int report(struct run *r, uint64_t end_ns)
{
	struct pw_model m;
	struct pw_report rep = {
		.m = &m,
		.server = r->server,
		.endpoints = r->endpoints,
		.dsn = &r->dsn,
		.pids = env.pids,
		.npids = env.npids,
		.top = env.top,
		.by = env.by,
		.stmts = env.statements ? &r->stmts : NULL,
		.acquire = env.acquire != NULL,
		.release = r->acq.release,
	};
	int err = snapshot(r, end_ns, &m);

	if (err) {
		fprintf(stderr, "%s: cannot read the results: %s\n", TOOL, strerror(-err));
		model_free(&m);
		return EXIT_ENV;
	}
	if (env.acquire)
		acquire_read(&r->acq, &rep.acq);
	if (env.json)
		report_json(stdout, &rep);
	else
		report_text(stdout, &rep);
	model_free(&m);
	return 0;
}

/* Connections made before the trace: the task-file iterator finds and adds them. */
static void find_open(struct run *r)
{
	void *recs;
	size_t n;
	int err = iter_read(bpf_link__fd(r->skel->links.find_conns), sizeof(struct conn_key), &recs,
			    &n);

	if (err)
		fprintf(stderr, "%s: cannot look for connections opened before the trace: %s\n",
			TOOL, strerror(-err));
	free(recs);
}

static int trace(struct run *r)
{
	struct session s = {
		.tool = TOOL,
		.duration = env.duration,
		.pids = env.pids,
		.npids = env.npids,
		.exited = r->exited,
		.tick = on_tick,
		.status = on_status,
		.interval = env.interval,
		.on_interval = on_interval,
		.ctx = r,
	};
	uint64_t end_ns;
	int err = 0;

	r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), on_event, r, NULL);
	if (!r->rb) {
		fprintf(stderr, "%s: cannot read the ring buffer: %s\n", TOOL, strerror(errno));
		return EXIT_ENV;
	}
	s.rb = r->rb;
	if (poolwait_bpf__attach(r->skel)) {
		fprintf(stderr, "%s: cannot attach to the socket calls' tracepoints: %s\n", TOOL,
			strerror(errno));
		return EXIT_ENV;
	}
	if (acquire_attach(TOOL, &r->acq, r->skel) || libpq_attach(TOOL, &r->libpq, r->skel))
		return EXIT_ENV;
	/* the window: every program attached (syscall tracepoints take a while each) */
	r->events.start_ns = mono_ns();
	find_open(r);
	ring_buffer__consume(r->rb);
	r->last.ns = r->events.start_ns;
	fprintf(stderr, "%s: tracing connections to %s%s\n", TOOL, r->server,
		env.duration ? "" : " (Ctrl-C to end)");
	session_run(&s);
	/* read before detaching: the programs go one by one, slowly, and a request seen leaving
	 * by a program still attached whose answer is not seen would count */
	end_ns = mono_ns();
	ring_buffer__consume(r->rb);
	forget_dead(r);
	if (env.interval)
		on_interval(r);
	else
		err = report(r, end_ns);
	finish_stdout();
	acquire_detach(&r->acq);
	probes_detach(&r->libpq);
	poolwait_bpf__detach(r->skel);
	return err;
}

/*
 * A socket directory named through a link (/var/run -> /run) is also known by its real path,
 * which a client may connect to and the server may have bound.
 */
static void add_real_paths(struct dsn *d)
{
	for (int i = 0, n = d->neps; i < n && d->neps < DSN_MAX_ENDPOINTS; i++) {
		char *real = d->eps[i].family == AF_UNIX ? realpath(d->eps[i].path, NULL) : NULL;

		if (real && strcmp(real, d->eps[i].path) && strlen(real) < DSN_PATH_MAX) {
			d->eps[d->neps] = d->eps[i];
			snprintf(d->eps[d->neps++].path, DSN_PATH_MAX, "%s", real);
		}
		free(real);
	}
}

static int server(struct run *r)
{
	char err[256];
	size_t off = 0;

	if (dsn_parse(env.dsn, &r->dsn, err, sizeof(err)) ||
	    dsn_resolve(&r->dsn, err, sizeof(err))) {
		fprintf(stderr, "%s: bad --dsn: %s\n", TOOL, err);
		return EXIT_USAGE;
	}
	add_real_paths(&r->dsn);
	dsn_describe(&r->dsn, r->server, sizeof(r->server));
	if (r->dsn.has_password) { /* out of ps and /proc/PID/cmdline: the DSN without it */
		size_t n = strlen(env.dsn);

		snprintf(env.dsn, n + 1, "%-*s", (int)n, r->server);
	}
	for (int i = 0; i < r->dsn.neps && off < sizeof(r->endpoints) - 1; i++) {
		char e[128];

		endpoint_format(&r->dsn.eps[i], e, sizeof(e));
		off += snprintf(r->endpoints + off, sizeof(r->endpoints) - off, "%s%s",
				i ? ", " : "", e);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {opts, parse_arg, "[duration]", doc, NULL, NULL, NULL};
	struct run r = {0};
	struct loader l = {.tool = TOOL, .ctx = &r, .nflavours = 2, .load = load_one};
	int err, chosen;

	err = parse_args(TOOL, &argp, argc, argv);
	if (!err)
		err = server(&r);
	if (!err)
		err = preflight(TOOL, NULL);
	if (!err && env.acquire)
		err = acquire_resolve(TOOL, env.acquire, env.pids, env.npids, &r.acq);
	if (!err && env.libpq && !libpq_resolve(env.pids, env.npids, &r.libpq))
		fprintf(stderr, "%s: --libpq: no target maps libpq: nothing to probe\n", TOOL);
	if (!err && loader_tracefs(TOOL))
		err = EXIT_ENV;
	if (err) {
		acquire_free(&r.acq);
		probes_free(&r.libpq);
		return err;
	}
	loader_log(env.verbose);
	l.verbose = env.verbose;
	r.skel = loader_load(&l, &chosen);
	err = r.skel ? trace(&r) : EXIT_ENV;
	ring_buffer__free(r.rb);
	acquire_free(&r.acq);
	probes_free(&r.libpq);
	statements_free(&r.stmts);
	model_free(&r.events);
	poolwait_bpf__destroy(r.skel);
	return err;
}
