/* SPDX-License-Identifier: GPL-2.0 */
/* Lines of /proc/PID/maps, and the files they map through /proc/PID/map_files. */
#ifndef WAITSCOPE_PROCMAPS_H
#define WAITSCOPE_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "start-end perms offset major:minor inode   path" */
struct map_line {
	uint64_t start, end, offset;
	uint64_t dev, ino; /* dev: major << 32 | minor; ino 0 for anonymous memory */
	bool exec;
	const char *path; /* into the line, up to its newline: "/usr/lib/...", "[heap]" or "" */
};

/* False for a line that does not parse. */
bool procmaps_parse(const char *line, struct map_line *m);

/* A mapping of a file (not anonymous memory, not "[vdso]"). */
static inline bool procmaps_is_file(const struct map_line *m)
{
	return m->ino && m->path[0] == '/';
}

/*
 * "/proc/PID/map_files/START-END": the very file mapped, whatever mount namespace it lives
 * in, even deleted or replaced since (root only). A uprobe takes it as a path.
 */
void procmaps_file_path(pid_t tgid, uint64_t start, uint64_t end, char *buf, size_t len);

/* fd if it names a regular file; else closes it and returns -1 (-1 passes through). */
int regular_or_close(int fd);
/* Opens path read-only if it is a regular file: a mapped device could block or act on open. */
int open_regular(const char *path);

/* A descriptor of that file if it is a regular one (a mapped device could act on open), or -1. */
int procmaps_open(pid_t tgid, uint64_t start, uint64_t end);

#endif
