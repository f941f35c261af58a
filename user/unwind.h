/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The unwind tables of traced processes, kept in a tool's BPF maps
 * (cfi_rows, unwind_procs of bpf/ustack.h): each binary's rows once (binaries
 * told by device and inode), each process's executable mappings pointing at
 * them. Rows take kernel memory a 1 MiB chunk at a time as binaries load, up
 * to CFI_MAX_ROWS; processes take one of UNWIND_MAX_PROCS slots. What does not
 * fit is walked by frame pointers, and counted.
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
	uint64_t rows_max;    /* the budget: rows the tables may take at most */
	uint64_t bytes;	      /* kernel memory the rows take (whole chunks) */
	uint64_t binaries;    /* binaries with a table */
	uint64_t processes;   /* processes given tables */
	uint64_t without_cfi; /* binaries without one: frame pointers there */
	uint64_t rows_full;   /* binaries left out: the row table was full */
	uint64_t maps_full;   /* mappings left out: a process had too many */
	uint64_t procs_full;  /* processes left out: the process table, or the queue, was full */
};

/* How whole the user stacks of a trace were: what the reports show. */
struct unwind_quality {
	uint64_t walked; /* stacks walked by the tables (the rest by frame pointers) */
	uint64_t cut;	 /* of which ended before their outermost frame */
	struct unwind_stats tables;
	bool by_tables; /* walked by the tables at all (not --stack fp) */
};

struct unwind_tables;
struct json;

/* "user stacks: 1523 walked by unwind tables, 12 cut short; ...", nothing without tables */
void unwind_quality_print(FILE *f, const struct unwind_quality *q);
/* "unwind": {"tables", "walked", "cut_short", "binaries", "rows", ... "procs_full"} */
void unwind_quality_json(struct json *j, const struct unwind_quality *q);

/* Over the maps cfi_rows (an array of chunks, empty) and unwind_procs. */
struct unwind_tables *unwind_tables_new(int rows_fd, int procs_fd);
void unwind_tables_free(struct unwind_tables *u);

/*
 * (Re)load the tables of the process's executable mappings, as they are now,
 * for its image image (0: whichever it runs). 0 or -errno.
 */
int unwind_tables_add(struct unwind_tables *u, pid_t tgid, uint32_t image);

/*
 * The whole system: the process wants its tables. unwind_tables_work loads
 * them, a few at a time, looks at each again a while after (its loader may
 * still have been mapping libraries), and then at the processes loaded, a few
 * each second, for the libraries they dlopen and for their exit.
 */
void unwind_tables_queue(struct unwind_tables *u, pid_t tgid, uint32_t image);
/* Call it often (each poll): it takes at most a quarter of a CPU. */
void unwind_tables_work(struct unwind_tables *u);

void unwind_tables_stats(const struct unwind_tables *u, struct unwind_stats *out);

#endif
