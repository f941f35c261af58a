/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions of a live process's binaries found by name: where uprobes go.
 * Names are matched demangled (C++, Rust). A pattern without glob
 * characters is a bare word: it matches a function of that name, or whose
 * last `::` component is that name (`dispatch` matches C `dispatch` and Rust
 * `svc::dispatch`, not `tracing::dispatcher::get`); with `*?[` it is an
 * fnmatch glob of the whole name. `LIB:PATTERN` keeps to the objects whose
 * file name starts with LIB (`libc:sem_wait`).
 */
#ifndef WAITSCOPE_FUNCS_H
#define WAITSCOPE_FUNCS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct func {
	char *name;	  /* demangled, without parameters */
	char *obj;	  /* file name of the object ("libc.so.6") */
	char *path;	  /* a path to it that a uprobe can take, valid while the process lives */
	uint64_t offset;  /* of the function's entry in the file */
	uint64_t address; /* the function's symbol value (link-time address) */
};

struct funcs {
	struct func *v;
	size_t n;
};

/*
 * Appends the functions of tgid's mapped objects that pattern matches (each
 * once, however many aliases or versions name it: the default version of a
 * versioned symbol). Returns the number added, or -errno: -ESRCH the
 * process is gone, -ENODATA no object has symbols (stripped), -ENOENT
 * nothing matched: hint then says why, in a phrase: the nearest names, a
 * stripped program; "" if nothing helps.
 */
int funcs_find(struct funcs *out, pid_t tgid, const char *pattern, char *hint, size_t hint_len);
/*
 * The same, for a name the caller knows is spelled with needle in the symbol table (a Rust
 * crate or item name is, in both manglings): other symbols are not demangled, which makes a
 * search of a process mapping large C++ libraries cheap. No hints.
 */
int funcs_find_known(struct funcs *out, pid_t tgid, const char *pattern, const char *needle,
		     char *hint, size_t hint_len);
/* Forgets the functions from the n-th on. */
void funcs_truncate(struct funcs *f, size_t n);
void funcs_free(struct funcs *f);

/* The name without parameters and, for a bare word's test, its last `::` component. */
const char *funcs_last_component(const char *name, size_t *len);

#endif
