// SPDX-License-Identifier: GPL-2.0
#include "libpq.h"
#include "poolwait.h"
#include "poolwait.skel.h"

static const struct {
	const char *name;
	int kind;
} fns[] = {
	/* a request starts (PQexec's own PQsendQuery is the same request: counted once) */
	{"PQsendQuery", LPQ_SEND},
	{"PQsendQueryParams", LPQ_SEND},
	{"PQsendPrepare", LPQ_SEND},
	{"PQsendQueryPrepared", LPQ_SEND},
	{"PQsendDescribePrepared", LPQ_SEND},
	{"PQsendDescribePortal", LPQ_SEND},
	{"PQexec", LPQ_SEND},
	{"PQexecParams", LPQ_SEND},
	{"PQprepare", LPQ_SEND},
	{"PQexecPrepared", LPQ_SEND},
	{"PQdescribePrepared", LPQ_SEND},
	{"PQdescribePortal", LPQ_SEND},
	/* ... and ends when this returns NULL */
	{"PQgetResult", LPQ_GETRESULT},
	/* a connection is ready when this returns PGRES_POLLING_OK (PQconnectdb calls it too) */
	{"PQconnectPoll", LPQ_CONNPOLL},
	{"PQresetPoll", LPQ_CONNPOLL},
};

int libpq_resolve(const int *pids, int npids, struct probes *p)
{
	int with = 0;

	for (int i = 0; i < npids; i++) {
		int found = 0;

		for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
			char pattern[64];

			snprintf(pattern, sizeof(pattern), "libpq:%s", fns[f].name);
			if (probes_find_known(p, pids[i], pattern, fns[f].name, fns[f].kind, true) >
			    0)
				found++;
		}
		with += found > 0;
	}
	return with;
}

void libpq_configure(const struct probes *p, struct poolwait_bpf *s)
{
	bool on = p->funcs.n > 0;

	s->rodata->libpq = on;
	bpf_program__set_autoload(s->progs.lpq_enter, on);
	bpf_program__set_autoload(s->progs.lpq_return, on);
	if (!on) {
		bpf_map__set_max_entries(s->maps.lpq, 1);
		bpf_map__set_max_entries(s->maps.lpq_cur, 1);
	}
}

int libpq_attach(const char *tool, struct probes *p, const struct poolwait_bpf *s)
{
	return probes_attach(tool, p, s->progs.lpq_enter, s->progs.lpq_return);
}
