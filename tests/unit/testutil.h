/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers that more than one unit test needs. Each tests/unit/test_*.c is its own binary, so
 * everything here is static inline. Include it after <cmocka.h> and its prerequisites.
 */
#ifndef WAITSCOPE_TESTUTIL_H
#define WAITSCOPE_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a FILE wrote to memory (open_memstream). */
struct cap {
	char *buf;
	size_t len;
	FILE *f;
};

static inline void cap_open(struct cap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

/* Returns the text written since cap_open; the caller frees it. */
static inline char *cap_close(struct cap *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->buf;
}

/* Writes text to a new file made from tmpl with mkstemp(3): tmpl becomes its path. */
static inline void write_temp(char *tmpl, const char *text)
{
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * Runs cmd through popen(3) and returns prefix followed by everything it printed, NUL-terminated;
 * the caller frees it. *status is what pclose(3) returned.
 */
static inline char *popen_read(const char *cmd, const char *prefix, int *status)
{
	size_t len = strlen(prefix), cap = len + 4096, n;
	FILE *p = popen(cmd, "r");
	char *out;

	assert_non_null(p);
	out = malloc(cap);
	assert_non_null(out);
	memcpy(out, prefix, len);
	do {
		if (cap - len < 2048) {
			char *grown = realloc(out, cap *= 2);

			assert_non_null(grown);
			out = grown;
		}
		n = fread(out + len, 1, cap - len - 1, p);
		len += n;
	} while (n);
	out[len] = '\0';
	*status = pclose(p);
	return out;
}

#endif /* WAITSCOPE_TESTUTIL_H */
