/* SPDX-License-Identifier: GPL-2.0 */
/* semlat --by thread|actor|stack: the waits grouped by who waited rather than by lock. */
#ifndef SEMLAT_VIEWS_H
#define SEMLAT_VIEWS_H

#include <stdio.h>
#include "locks.h"

enum semlat_by { BY_LOCK, BY_THREAD, BY_ACTOR, BY_STACK };

/* The table of the view, its top groups (0: all); stack groups show frames. */
void views_text(FILE *f, const struct semlat_report *r, enum semlat_by by, int top, int frames);
/* "groups": {"by": ..., "groups": [...]}, nothing for BY_LOCK. */
struct json;
void views_json(struct json *j, const struct semlat_report *r, enum semlat_by by);

#endif
