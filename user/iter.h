/* SPDX-License-Identifier: GPL-2.0 */
/* Reading what a BPF iterator (task, ...) writes: fixed-size records. */
#ifndef WAITSCOPE_ITER_H
#define WAITSCOPE_ITER_H

#include <stddef.h>

/*
 * Runs the iterator of link link_fd once and reads its records of recsz
 * bytes into a malloc'ed array (*out, *n records). Returns 0 or -errno; on
 * a read error the records read before it are kept.
 */
int iter_read(int link_fd, size_t recsz, void **out, size_t *n);

#endif
