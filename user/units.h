/* SPDX-License-Identifier: GPL-2.0 */
/* Durations and counts as a person reads them. */
#ifndef WAITSCOPE_UNITS_H
#define WAITSCOPE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "812 us", "12.3 ms", "4.56 s"; returns buf. */
const char *fmt_duration(char *buf, size_t n, uint64_t ns);

#endif
