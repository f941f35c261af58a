/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unwind tables from a binary's call frame information (.eh_frame, found
 * through .eh_frame_hdr), in the rows that the BPF unwinder walks with
 * (bpf/cfi_rows.h).
 */
#ifndef WAITSCOPE_CFI_H
#define WAITSCOPE_CFI_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "cfi_rows.h"

struct cfi_table {
	struct cfi_row *rows; /* sorted by pc, neighbours never alike */
	size_t n;
};

/*
 * The rows of the ELF file open at fd, addresses in the file's own terms
 * (its symbols' values). 0, or -ENOENT when the file has no CFI we can
 * read (no .eh_frame_hdr, or one of an unusual encoding), -ENOMEM, -EIO.
 */
int cfi_table_build(int fd, struct cfi_table *t);
void cfi_table_free(struct cfi_table *t);

/*
 * The same, a few functions at a time, for a caller that must not stall:
 * cfi_build_begin (NULL and *err set as cfi_table_build returns them), then
 * cfi_build_step until it returns 0 (done) or -errno, then cfi_build_end,
 * which hands over the table if t is not NULL, and frees the builder. The file
 * stays open until then.
 */
struct cfi_build;
struct cfi_build *cfi_build_begin(int fd, int *err);
/* Reads up to fdes more functions: 1 while more are left, 0 when done, or -errno. */
int cfi_build_step(struct cfi_build *b, size_t fdes);
/* Functions left to read: what the build still costs. */
size_t cfi_build_left(const struct cfi_build *b);
void cfi_build_end(struct cfi_build *b, struct cfi_table *t);

/* How many functions the file's CFI describes (cheap: a count in a header), or -errno. */
long cfi_fde_count(int fd);
/*
 * The address, in the file's own terms, of what an executable mapping at file offset offset
 * shows there (its executable segment's, where the page is shared); 0 or -errno.
 */
int cfi_vaddr_of(int fd, uint64_t offset, uint64_t *vaddr);

/* The row that covers pc, NULL before the first row. */
const struct cfi_row *cfi_table_find(const struct cfi_table *t, uint64_t pc);

#endif
