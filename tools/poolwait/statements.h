/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --statements: round trips by statement, the statement's text with its literals replaced by
 * $N placeholders (as pg_stat_statements shows them), so that no value is ever printed.
 */
#ifndef POOLWAIT_STATEMENTS_H
#define POOLWAIT_STATEMENTS_H

#include <stddef.h>
#include <stdint.h>
#include "hist.h"

struct statement {
	char *text; /* normalized */
	struct hist rt;
};

struct statements {
	struct statement *v;
	size_t n, cap;
};

/*
 * Writes text with every literal (quoted string, dollar-quoted string, number) replaced by $N,
 * numbered after the highest $N already there, comments dropped and blanks folded. A text cut
 * short (full: it filled the BPF side's buffer) ends in "...", and a literal it cuts is
 * replaced like a whole one. Returns out.
 */
char *stmt_normalize(const char *text, size_t len, int full, char *out, size_t n);
/* One round trip of ns of the statement whose raw text this is. 0 or -ENOMEM. */
int statements_add(struct statements *s, const char *text, size_t len, uint64_t ns);
/* Longest in all first. */
void statements_sort(struct statements *s);
void statements_free(struct statements *s);

#endif
