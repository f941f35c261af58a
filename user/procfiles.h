/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The files a traced process maps, and its root directory, held open while it
 * lives. A process that exits takes /proc/PID/map_files and /proc/PID/root
 * with it; a container's files may not exist in our mount namespace at all,
 * and a static tool copied into an empty root has no /usr of its own. Held
 * descriptors outlive all three, so the report still finds the binaries and
 * their debug files.
 */
#ifndef WAITSCOPE_PROCFILES_H
#define WAITSCOPE_PROCFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procfiles;

struct procfiles_stats {
	uint64_t files; /* files held */
	uint64_t roots; /* distinct root directories held */
	uint64_t full;	/* files not held: the limit was reached */
};

struct procfiles *procfiles_new(void);
void procfiles_free(struct procfiles *pf);

/*
 * Holds every file that a line of maps (the text of /proc/PID/maps, read
 * just now) names, through /proc/PID/map_files, and the process's root.
 * Returns the root's handle for procfiles_open_in_root(), -1 if not held.
 */
int procfiles_hold(struct procfiles *pf, pid_t tgid, const char *maps, size_t len);

/* A new descriptor of the file that the maps line (one line of maps text) names, or -1. */
int procfiles_open_mapped(const struct procfiles *pf, const char *line);

/* Opens path (absolute, as the process sees it) under a held root, or -1. */
int procfiles_open_in_root(const struct procfiles *pf, int root, const char *path);

void procfiles_get_stats(const struct procfiles *pf, struct procfiles_stats *out);

#endif
