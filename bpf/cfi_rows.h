/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unwind tables shared by the BPF programs and user space: user space turns
 * each binary's CFI (.eh_frame) into rows, one per address range with its
 * own rule, and the programs walk stacks with them where frame pointers are
 * missing (glibc, Rust release builds, C at -O2). x86-64 only.
 */
#ifndef WAITSCOPE_CFI_ROWS_H
#define WAITSCOPE_CFI_ROWS_H

/* How the canonical frame address (the caller's stack pointer) is found. */
enum cfa_rule {
	CFA_NONE, /* no CFI here: frame pointers, if any */
	CFA_RSP,  /* rsp + cfa_off */
	CFA_RBP,  /* rbp + cfa_off */
	CFA_PLT,  /* a PLT entry: rsp + 8, + 8 more from its rbp_off-th byte on */
	CFA_END,  /* the outermost frame (return address undefined): the walk ends */
};

/* Where the caller's rbp is. */
enum rbp_rule {
	RBP_SAME, /* untouched */
	RBP_AT,	  /* saved at cfa + rbp_off */
};

/*
 * The rule from pc (an address in the binary's own terms) to the next row's
 * pc. The return address is always at cfa - 8 (rows where it is not are
 * CFA_NONE).
 */
struct cfi_row {
	__u32 pc;
	__u8 cfa; /* enum cfa_rule */
	__u8 rbp; /* enum rbp_rule */
	__s16 rbp_off;
	__s32 cfa_off;
};

/*
 * cfi_rows holds the rows of every binary loaded, one after another, in chunks that user space
 * adds as it loads binaries: kernel memory follows what is mapped, up to the budget. The
 * kernel keeps a 12-byte row in 16 bytes: a chunk takes 1 MiB, the budget 64 MiB.
 */
#define CFI_CHUNK_SHIFT 16
#define CFI_CHUNK_ROWS	(1U << CFI_CHUNK_SHIFT)
#define CFI_MAX_CHUNKS	64
#define CFI_MAX_ROWS	(CFI_MAX_CHUNKS * CFI_CHUNK_ROWS)

/* Executable mappings per process; a process with more walks the rest by frame pointers. */
#define UNWIND_MAX_MAPS	 64
#define UNWIND_MAX_PROCS 1024

struct unwind_map {
	__u64 start, end; /* the mapping's addresses */
	__u64 bias;	  /* address - bias = the address in the binary's own terms */
	__u32 first;	  /* its rows in cfi_rows: [first, first + count) */
	__u32 count;	  /* 0: no table, frame pointers */
};

/* A process's executable mappings, sorted by address. */
struct unwind_proc {
	__u32 n;
	/* the process image they are of (a tgid reused, or an exec, is another): 0 for any */
	__u32 image;
	struct unwind_map maps[UNWIND_MAX_MAPS];
};

#endif
