/* SPDX-License-Identifier: GPL-2.0 */
/* Brendan Gregg's folded stacks: "frame;frame;frame value" per line. */
#ifndef WAITSCOPE_FOLDED_H
#define WAITSCOPE_FOLDED_H

#include <stdint.h>
#include <stdio.h>

/*
 * One line: frames outermost first, joined by ';'. A ';' or line break (\n,
 * \r) inside a frame name would break the format, so it is written as ':' or
 * ' '; an empty or NULL name is written as "[unknown]", and so is a stack of
 * no frames at all, so that its value is not lost.
 */
void folded_print(FILE *f, const char *const *frames, int n, uint64_t value);

/*
 * Folded output has one line per distinct stack: threads of the same name
 * give the same line, and their values add up. Lines are gathered, then
 * written sorted, each once.
 */
struct folded_line {
	char *text; /* "frame;frame;frame", as folded_print writes them */
	uint64_t value;
};

struct folded {
	struct folded_line *lines;
	size_t n, cap;
};

void folded_init(struct folded *fd);
/* Adds value to the stack's line; returns 0 or -ENOMEM. */
int folded_add(struct folded *fd, const char *const *frames, int n, uint64_t value);
/*
 * Writes each line once with its values' sum divided by unit (rounded;
 * lines that round to 0 are left out), the biggest first, then frees them.
 */
void folded_write(struct folded *fd, FILE *f, uint64_t unit);

#endif
