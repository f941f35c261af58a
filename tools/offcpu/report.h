/* SPDX-License-Identifier: GPL-2.0 */
/* offcpu's report faces: text, JSON (docs/offcpu.schema.json) and folded stacks. */
#ifndef WAITSCOPE_OFFCPU_REPORT_H
#define WAITSCOPE_OFFCPU_REPORT_H

#include <stdio.h>
#include "json.h"
#include "profile.h"

enum report_by {
	BY_STACK,
	BY_THREAD,
	BY_REASON,
	BY_ACTOR,
};

struct report_opts {
	enum report_by by;
	int top; /* rows of the main section, 0 for all */
};

void report_text(FILE *f, const struct profile *p, const struct report_opts *o);
void report_json(FILE *f, const struct profile *p);
void report_folded(FILE *f, const struct profile *p);
/* offcpu --stuck --json: the threads blocked now, one document */
void report_stuck_json(FILE *f, const struct profile *p);

/* "PID 1234 (server), thread 1240" or "whole system" */
void report_scope(FILE *f, const struct profile *p);

#endif
