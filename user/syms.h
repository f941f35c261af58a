/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Symbolizer: user addresses through elfutils libdwfl, kernel addresses
 * through /proc/kallsyms. A process's memory map is captured with
 * syms_snapshot() while it lives, so stacks of a process that exits before
 * the report still get names.
 */
#ifndef WAITSCOPE_SYMS_H
#define WAITSCOPE_SYMS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct syms_opts {
	/* dwfl debuginfo path ("-:.debug:/usr/lib/debug" style); NULL for elfutils' default */
	const char *debuginfo_path;
	bool lines;	  /* append " (file:line)" to each frame where DWARF line info exists */
	bool no_demangle; /* keep mangled names */
};

/* Counted per address asked for (syms_user*(), syms_kernel()), cache hits included. */
struct syms_stats {
	uint64_t frames;  /* addresses resolved so far (inlined callees not counted) */
	uint64_t unknown; /* frames with no symbol ("[unknown]" and "dso+0x..." alike) */
	uint64_t no_maps; /* frames of processes whose maps were never captured */
};

struct syms;

struct syms *syms_new(const struct syms_opts *opts);
void syms_free(struct syms *s);

/*
 * Capture /proc/PID/maps now as the maps of the process's image number
 * image (again if called again: dlopen'ed libraries appear). An image is
 * what the process runs from its start or an exec to the next exec: each
 * keeps its own maps, so that stacks taken before an exec keep their names.
 * Returns 0, or -errno when the process is gone. Binaries are
 * opened later through /proc/PID/map_files or /proc/PID/root while the
 * process lives, and by path after it has exited.
 * A failed call keeps the previous snapshot, and so does a zombie's empty
 * maps (-ESRCH). syms_user() snapshots an image it has never seen, once,
 * unless a later image of the pid is known.
 */
int syms_snapshot(struct syms *s, pid_t tgid, uint32_t image);
bool syms_has_snapshot(const struct syms *s, pid_t tgid, uint32_t image);
/* The process's name when the image was first captured; NULL if never. */
const char *syms_image_comm(const struct syms *s, pid_t tgid, uint32_t image);

/*
 * Names of the frames at one user address, outermost first, owned by the symbolizer and valid
 * until syms_free(): the function whose symbol holds the address, then, where the module has
 * DWARF, each function inlined into it there, down to the innermost (as `eu-addr2line -i` and
 * perf show them). Inlined frames carry plain function names, like any other frame. Writes at
 * most max names (the function and its outermost inlined callees) and returns how many: 1 when
 * nothing is inlined, 0 only if max < 1. Expansions are cached with the names, per address and
 * per place in a file: a library's places are resolved once, whichever processes map it.
 * addr is a return address as a stack walk reports it (the symbolizer looks
 * up addr - 1 where that matters). A name is never NULL: "func", "func (file.c:12)"
 * with opts.lines, "libfoo.so+0x1234" without a symbol, "[vdso]" in the vdso,
 * "[unknown]" without a mapping. The offset in "libfoo.so+0x1234" is addr minus the module's load
 * bias (perf's form): an address in the file's own terms, as addr2line wants.
 * With opts.lines each frame's line is in its own function: the innermost frame's is the
 * address's, each other one's the call site of the callee inlined into it.
 */
int syms_user_frames(struct syms *s, pid_t tgid, uint32_t image, uint64_t addr, const char **out,
		     int max);
/*
 * The outermost of syms_user_frames(): the function whose symbol holds addr (its line with
 * opts.lines is where it calls the first callee inlined there, else the address's).
 */
const char *syms_user(struct syms *s, pid_t tgid, uint32_t image, uint64_t addr);
/*
 * Names of a user stack walk, outermost first: ips[n] holds return addresses innermost first,
 * as a walk gives them. Each address gets its function's name and, while out[max] has room for
 * the addresses still to come, its inlined callees' (syms_user_frames()); SYMS_STACK_NAMES(n)
 * names are enough for nearly every stack. A walk of more than max addresses keeps its
 * innermost max. Returns how many names were written.
 */
int syms_user_stack(struct syms *s, pid_t tgid, uint32_t image, const uint64_t *ips, int n,
		    const char **out, int max);
#define SYMS_STACK_NAMES(n) (2 * (n))
/*
 * Name of a data address (a lock's word): "symbol+0x28" inside an ELF
 * object's symbol, "libfoo.so+0x1234" inside an object without one, else
 * the mapping it lies in ("[heap]", "[stack]", "[anon]": a thread's stack or
 * other anonymous memory), "[unknown]" outside every mapping.
 */
const char *syms_data(struct syms *s, pid_t tgid, uint32_t image, uint64_t addr);

/*
 * Kernel text symbol from /proc/kallsyms (read on first use), without offset;
 * addr is a return address too. "[unknown]" when kallsyms hides addresses.
 */
const char *syms_kernel(struct syms *s, uint64_t addr);

void syms_get_stats(const struct syms *s, struct syms_stats *out);

/*
 * Addresses of the named kernel symbols from /proc/kallsyms (0 where absent
 * or hidden); returns how many were found.
 */
int kernel_symbol_addrs(const char *const *names, uint64_t *addrs, int n);

/* Demangle a C++ or Rust (legacy and v0) name; returns malloc'ed text or NULL if not mangled. */
char *syms_demangle(const char *name);

#endif
