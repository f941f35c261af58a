// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "iter.h"

int iter_read(int link_fd, size_t recsz, void **out, size_t *n)
{
	int fd = bpf_iter_create(link_fd);
	size_t cap = 64 * recsz, len = 0;
	char *buf = malloc(cap);
	ssize_t got;
	int err;

	*out = NULL;
	*n = 0;
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return fd < 0 ? -errno : -ENOMEM;
	}
	while ((got = read(fd, buf + len, cap - len)) > 0) {
		len += got;
		if (len == cap) {
			char *b = realloc(buf, 2 * cap);

			if (!b) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = b;
			cap *= 2;
		}
	}
	err = got < 0 ? -errno : 0;
	close(fd);
	*out = buf;
	*n = len / recsz;
	return err;
}
