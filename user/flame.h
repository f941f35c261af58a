/* SPDX-License-Identifier: GPL-2.0 */
/* An off-CPU flame graph as one self-contained SVG document (no external resources). */
#ifndef WAITSCOPE_FLAME_H
#define WAITSCOPE_FLAME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * One stack: frames outermost first, its value (nanoseconds off-CPU), and its kind:
 * the wait-reason name ("lock", "net", "sleep", "runqueue", "disk", "pipe", "poll",
 * "child", "fault", "other"), which picks the colour and shows in tooltips. A frame
 * named "--" separates a waiter's frames from its waker's frames (off-wake stacks):
 * frames above the "--" are drawn in a waker colour (distinct, e.g. blue-ish hues).
 *
 * A NULL or "" frame is drawn as "[unknown]", a NULL or "" kind counts as "other" and
 * an unknown kind keeps its name but takes the colour of "other". Rows of value 0 are
 * skipped; a row of no frames (or NULL frames) adds its value to the root only.
 */
struct flame_row {
	const char *const *frames;
	int nframes;
	uint64_t value;
	const char *kind;
};

/*
 * Writes one SVG document. title: e.g. "offcpu: PID 1234 (server), 10.0 s" (NULL: a
 * generic one). Returns 0, or -errno on a write error (-ENOMEM if memory ran out).
 */
int flame_svg(FILE *f, const char *title, const struct flame_row *rows, size_t n);

#endif
