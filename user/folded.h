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

#endif
