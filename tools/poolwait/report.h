/* SPDX-License-Identifier: GPL-2.0 */
/* poolwait's faces: text, JSON (docs/poolwait.schema.json), a line per interval. */
#ifndef POOLWAIT_REPORT_H
#define POOLWAIT_REPORT_H

#include <stdio.h>
#include "dsn.h"
#include "model.h"
#include "statements.h"

enum pw_by { BY_CONNECTION, BY_THREAD, BY_ACTOR };

struct pw_report {
	enum pw_by by;
	struct pw_model *m;
	const char *server;    /* the DSN as dsn_describe() writes it: no password */
	const char *endpoints; /* "127.0.0.1:5432, /tmp/.s.PGSQL.5432" */
	const struct dsn *dsn; /* its endpoints, one by one */
	const int *pids;
	int npids;
	int top;		  /* connections listed, 0 for all */
	struct statements *stmts; /* --statements */
	bool acquire, release;	  /* --acquire, with a release function */
	struct acquire_stats {
		uint64_t calls, wait_ns, hold_ns, holds, concurrency_max;
		uint64_t off_ns[REASON_NR]; /* of the waits, off the CPU by reason */
		struct hist hist;
	} acq;
};

void report_text(FILE *f, const struct pw_report *r);
void report_json(FILE *f, const struct pw_report *r);

#define TOTALS_PROCS 256 /* processes whose exhaustion -i follows */

/* -i: the interval's line, from totals now and at the last line (prev, updated). */
struct pw_totals {
	uint64_t ns;		  /* when */
	uint64_t state_ns[CS_NR]; /* over connections */
	int64_t open;
	uint64_t acq_waiting;
	struct hist rt;
	int nprocs;
	struct {
		int pid;
		uint64_t exh_ns;
	} procs[TOTALS_PROCS];
};
void totals_of(const struct pw_model *m, uint64_t now, struct pw_totals *t);
/* A text line (a header first if header), or with json a JSON document on one line. */
void report_interval(FILE *f, const struct pw_totals *now, struct pw_totals *prev, bool header,
		     bool acquire, bool json);

const char *poolwait_lost_name(int i);

#endif
