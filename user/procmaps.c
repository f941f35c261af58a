// SPDX-License-Identifier: GPL-2.0
#include "procmaps.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

bool procmaps_parse(const char *line, struct map_line *m)
{
	unsigned int major, minor;
	char perms[5];
	int path = 0;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &m->start,
		   &m->end, perms, &m->offset, &major, &minor, &m->ino, &path) < 7)
		return false;
	m->dev = ((uint64_t)major << 32) | minor;
	m->exec = perms[2] == 'x';
	m->path = path ? line + path : "";
	return true;
}

void procmaps_file_path(pid_t tgid, uint64_t start, uint64_t end, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)tgid, start, end);
}

int regular_or_close(int fd)
{
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		return -1;
	}
	return fd;
}

int open_regular(const char *path)
{
	struct stat st;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return -1;
	/* the file may have changed between the two looks */
	return regular_or_close(open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
}

int procmaps_open(pid_t tgid, uint64_t start, uint64_t end)
{
	char path[96];

	procmaps_file_path(tgid, start, end, path, sizeof(path));
	return open_regular(path);
}
