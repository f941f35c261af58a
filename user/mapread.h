/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a tool's BPF maps from user space. */
#ifndef WAITSCOPE_MAPREAD_H
#define WAITSCOPE_MAPREAD_H

#include <stddef.h>
#include <stdint.h>

/* Possible CPUs: the width of a per-CPU value. */
int map_ncpus(void);
/* Every key of the map, malloc'ed (*n of them); NULL when out of memory. */
void *map_keys(int fd, size_t ksz, size_t *n);
/* Sum over CPUs of a per-CPU array's __u64 at idx; 0 if unreadable. */
uint64_t map_percpu_sum(int fd, uint32_t idx);

#endif
