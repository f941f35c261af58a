// SPDX-License-Identifier: GPL-2.0
/* Brendan Gregg's folded stacks. */
#include <inttypes.h>
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

void folded_print(FILE *f, const char *const *frames, int n, uint64_t value)
{
	if (n <= 0)
		write_frame(f, NULL);
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(';', f);
		write_frame(f, frames[i]);
	}
	fprintf(f, " %" PRIu64 "\n", value);
}
