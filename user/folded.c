// SPDX-License-Identifier: GPL-2.0
/* Brendan Gregg's folded stacks. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"

/* Clean spans go out whole; only the rare separator inside a name costs a byte write. */
static void write_frame(FILE *f, const char *name)
{
	if (!name || !*name) {
		fputs("[unknown]", f);
		return;
	}
	for (;;) {
		size_t n = strcspn(name, ";\n\r");

		fwrite(name, 1, n, f);
		name += n;
		if (!*name)
			return;
		fputc(*name == ';' ? ':' : ' ', f);
		name++;
	}
}

static void write_frames(FILE *f, const char *const *frames, int n)
{
	if (n <= 0)
		write_frame(f, NULL);
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(';', f);
		write_frame(f, frames[i]);
	}
}

void folded_print(FILE *f, const char *const *frames, int n, uint64_t value)
{
	write_frames(f, frames, n);
	fprintf(f, " %" PRIu64 "\n", value);
}

void folded_init(struct folded *fd)
{
	memset(fd, 0, sizeof(*fd));
}

int folded_add(struct folded *fd, const char *const *frames, int n, uint64_t value)
{
	size_t len;
	char *text = NULL;
	FILE *f;

	if (fd->n == fd->cap) {
		size_t cap = fd->cap ? 2 * fd->cap : 256;
		struct folded_line *l = realloc(fd->lines, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		fd->lines = l;
		fd->cap = cap;
	}
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	write_frames(f, frames, n);
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	fd->lines[fd->n++] = (struct folded_line){text, value};
	return 0;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->text, ((const struct folded_line *)b)->text);
}

static int by_value(const void *a, const void *b)
{
	const struct folded_line *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? 1 : -1;
	return strcmp(x->text, y->text);
}

void folded_write(struct folded *fd, FILE *f, uint64_t unit)
{
	size_t out = 0;

	/* equal lines side by side, summed into the first of them, in whole units */
	qsort(fd->lines, fd->n, sizeof(*fd->lines), by_text);
	for (size_t i = 0; i < fd->n;) {
		struct folded_line l = fd->lines[i];

		while (++i < fd->n && !strcmp(fd->lines[i].text, l.text)) {
			l.value += fd->lines[i].value;
			free(fd->lines[i].text);
		}
		l.value = (l.value + unit / 2) / unit;
		if (l.value)
			fd->lines[out++] = l;
		else
			free(l.text);
	}
	/* the biggest first, for whoever reads the file itself */
	qsort(fd->lines, out, sizeof(*fd->lines), by_value);
	for (size_t i = 0; i < out; i++) {
		fprintf(f, "%s %" PRIu64 "\n", fd->lines[i].text, fd->lines[i].value);
		free(fd->lines[i].text);
	}
	free(fd->lines);
	folded_init(fd);
}
