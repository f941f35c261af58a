// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include "mapread.h"

int map_ncpus(void)
{
	static int n;

	if (n <= 0)
		n = libbpf_num_possible_cpus();
	return n;
}

void *map_keys(int fd, size_t ksz, size_t *n)
{
	size_t cap = 256;
	char *keys = malloc(cap * ksz), *prev = NULL;

	*n = 0;
	while (keys && !bpf_map_get_next_key(fd, prev, keys + *n * ksz)) {
		prev = keys + (*n)++ * ksz;
		if (*n == cap) {
			char *k = realloc(keys, 2 * cap * ksz);

			if (!k) { /* a partial read would drop entries unsaid */
				free(keys);
				return NULL;
			}
			prev = k + (prev - keys);
			keys = k;
			cap *= 2;
		}
	}
	return keys;
}

uint64_t map_percpu_sum(int fd, uint32_t idx)
{
	int n = map_ncpus();
	uint64_t sum = 0;

	if (n <= 0)
		return 0;
	uint64_t vals[n];

	if (bpf_map_lookup_elem(fd, &idx, vals))
		return 0;
	for (int i = 0; i < n; i++)
		sum += vals[i];
	return sum;
}
