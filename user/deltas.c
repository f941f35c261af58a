// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "deltas.h"

void deltas_init(struct deltas *d, size_t ksz, size_t vsz)
{
	memset(d, 0, sizeof(*d));
	d->ksz = ksz;
	d->vsz = vsz;
}

void deltas_free(struct deltas *d)
{
	free(d->rows);
	d->rows = NULL;
	d->n = d->cap = 0;
}

int deltas_add(struct deltas *d, const void *key, const void *val)
{
	size_t row = d->ksz + d->vsz;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		unsigned char *r = realloc(d->rows, cap * row);

		if (!r)
			return -ENOMEM;
		d->rows = r;
		d->cap = cap;
	}
	memcpy(d->rows + d->n * row, key, d->ksz);
	memcpy(d->rows + d->n * row + d->ksz, val, d->vsz);
	d->n++;
	return 0;
}

static int cmp_key(const void *a, const void *b, void *ksz)
{
	return memcmp(a, b, *(size_t *)ksz);
}

void deltas_sort(struct deltas *d)
{
	if (d->n)
		qsort_r(d->rows, d->n, d->ksz + d->vsz, cmp_key, &d->ksz);
}

const void *deltas_find(const struct deltas *d, const void *key)
{
	size_t lo = 0, hi = d->n, row = d->ksz + d->vsz;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(d->rows + mid * row, key, d->ksz);

		if (!c)
			return d->rows + mid * row + d->ksz;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
