/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The unwind tables of traced processes, kept in a tool's BPF maps
 * (cfi_rows, unwind_procs of bpf/ustack.h): each binary's rows once, each
 * process's executable mappings pointing at them.
 */
#ifndef WAITSCOPE_UNWIND_TABLES_H
#define WAITSCOPE_UNWIND_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct unwind_stats {
	uint64_t rows;	      /* rows loaded */
	uint64_t binaries;    /* binaries with a table */
	uint64_t without_cfi; /* binaries without one: frame pointers there */
	uint64_t rows_full;   /* binaries left out: the row table was full */
	uint64_t maps_full;   /* mappings left out: a process had too many */
};

/* How whole the user stacks of a trace were: what the reports show. */
struct unwind_quality {
	uint64_t walked; /* stacks walked by the tables (the rest by frame pointers) */
	uint64_t cut;	 /* of which ended before their outermost frame */
	struct unwind_stats tables;
	bool by_tables; /* walked by the tables at all (not --stack fp, not the whole system) */
};

struct unwind_tables;
struct json;

/* "user stacks: 1523 walked by unwind tables, 12 cut short; ...", nothing without tables */
void unwind_quality_print(FILE *f, const struct unwind_quality *q);
/* "unwind": {"walked", "cut_short", "binaries", "rows", "without_cfi", "rows_full", "maps_full"} */
void unwind_quality_json(struct json *j, const struct unwind_quality *q);

/*
 * Rows to give cfi_rows: what the processes' binaries take now (an estimate,
 * generous), and as much again for what they exec or dlopen later.
 */
size_t unwind_rows_wanted(const int *tgids, int n);

struct unwind_tables *unwind_tables_new(int rows_fd, int procs_fd, size_t max_rows);
void unwind_tables_free(struct unwind_tables *u);

/* (Re)load the tables of the process's executable mappings, as they are now. 0 or -errno. */
int unwind_tables_add(struct unwind_tables *u, pid_t tgid);

void unwind_tables_stats(const struct unwind_tables *u, struct unwind_stats *out);

#endif
