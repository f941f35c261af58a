// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "units.h"

const char *fmt_duration(char *buf, size_t n, uint64_t ns)
{
	/* thresholds sit where rounding would carry into the next unit: no "1000 us" */
	if (ns < 9950ULL)
		snprintf(buf, n, "%.1f us", ns / 1e3);
	else if (ns < 999500ULL)
		snprintf(buf, n, "%.0f us", ns / 1e3);
	else if (ns < 999950000ULL)
		snprintf(buf, n, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.2f s", ns / 1e9);
	return buf;
}
