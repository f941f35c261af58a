/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a BPF hash map held when it was last read, so that an interval
 * report is the difference. Deleting entries instead would race with the
 * BPF programs that are adding to them.
 */
#ifndef WAITSCOPE_DELTAS_H
#define WAITSCOPE_DELTAS_H

#include <stddef.h>

/* (key, value) rows, sorted by key bytes once complete */
struct deltas {
	size_t ksz, vsz, n, cap;
	unsigned char *rows;
};

void deltas_init(struct deltas *d, size_t ksz, size_t vsz);
void deltas_free(struct deltas *d);
/* Appends a row; deltas_sort() before deltas_find(). Returns 0 or -ENOMEM. */
int deltas_add(struct deltas *d, const void *key, const void *val);
void deltas_sort(struct deltas *d);
/* The value stored for key, or NULL. */
const void *deltas_find(const struct deltas *d, const void *key);

#endif
