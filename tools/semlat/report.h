/* SPDX-License-Identifier: GPL-2.0 */
/* semlat's faces: text, JSON (docs/semlat.schema.json), folded stacks. */
#ifndef SEMLAT_REPORT_H
#define SEMLAT_REPORT_H

#include <stdio.h>
#include "locks.h"
#include "views.h"

struct report_opts {
	enum semlat_by by;
	int top;    /* locks in the table, 0 for all */
	int detail; /* locks shown with their stacks and histogram */
	int stacks; /* waiter and releaser stacks per lock */
	int frames; /* frames per stack */
};

void report_text(FILE *f, const struct semlat_report *r, const struct report_opts *o);
void report_json(FILE *f, const struct semlat_report *r, enum semlat_by by);
void report_folded(FILE *f, const struct semlat_report *r);
/* A flame graph of the waiter stacks, each ending in its lock. 0 or -errno. */
int report_svg(FILE *f, const struct semlat_report *r);

#endif
