// SPDX-License-Identifier: GPL-2.0
#include "funcs.h"

#include "procmaps.h"
#include "syms.h"

#include <errno.h>
#include <fnmatch.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HINTS	    5
#define NAME_MAX_   256
#define MAX_OBJECTS 128

struct query {
	const char *lib; /* NULL: every object */
	size_t lib_len;
	const char *pattern;
	bool glob;
	const char *needle; /* only raw (mangled) names holding it are demangled; no hints */
};

/* Near names for "no match": the closest by edit distance of the last component. */
struct hints {
	char name[HINTS][NAME_MAX_];
	int score[HINTS];
	int n;
};

void funcs_truncate(struct funcs *f, size_t n)
{
	for (; f->n > n; f->n--) {
		free(f->v[f->n - 1].name);
		free(f->v[f->n - 1].obj);
		free(f->v[f->n - 1].path);
	}
}

void funcs_free(struct funcs *f)
{
	funcs_truncate(f, 0);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

const char *funcs_last_component(const char *name, size_t *len)
{
	const char *last = name;
	int depth = 0;

	for (const char *p = name; *p; p++) {
		if (*p == '<')
			depth++;
		else if (*p == '>' && depth)
			depth--;
		else if (!depth && p[0] == ':' && p[1] == ':')
			last = p + 2;
	}
	*len = strlen(last);
	return last;
}

static bool matches(const struct query *q, const char *name)
{
	size_t len;
	const char *last;

	if (q->glob)
		return !fnmatch(q->pattern, name, 0);
	if (!strcmp(name, q->pattern))
		return true;
	last = funcs_last_component(name, &len);
	return !strcmp(last, q->pattern);
}

static int edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	int row[NAME_MAX_ + 1];

	if (n > NAME_MAX_ || m > NAME_MAX_)
		return 1 << 20;
	for (size_t j = 0; j <= m; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		int diag = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= m; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[m];
}

static void hint_offer(struct hints *h, const struct query *q, const char *name)
{
	size_t len;
	const char *last = funcs_last_component(name, &len);
	int score = strcasestr(name, q->pattern) ? 0 : edit_distance(q->pattern, last), worst = 0;
	int limit = (int)strlen(q->pattern) / 3 + 1;

	if (q->glob || score > limit)
		return;
	for (int i = 0; i < h->n; i++) {
		if (!strcmp(h->name[i], name))
			return;
		if (h->score[i] > h->score[worst])
			worst = i;
	}
	if (h->n < HINTS)
		worst = h->n++;
	else if (h->score[worst] <= score)
		return;
	snprintf(h->name[worst], NAME_MAX_, "%s", name);
	h->score[worst] = score;
}

/* The demangled name without C++ parameters or a symbol version. */
static char *clean_name(const char *sym)
{
	char *name = strndup(sym, strcspn(sym, "@")), *dem = name ? syms_demangle(name) : NULL;
	char *paren;

	if (dem) {
		free(name);
		name = dem;
	}
	paren = name ? strchr(name + 1, '(') : NULL;
	if (paren)
		*paren = '\0';
	return name;
}

static bool file_offset(Elf *elf, uint64_t vaddr, uint64_t *off)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return true;
		}
	}
	return false;
}

static bool seen_address(const struct funcs *out, size_t from, uint64_t addr)
{
	for (size_t i = from; i < out->n; i++)
		if (out->v[i].address == addr)
			return true;
	return false;
}

static int add_func(struct funcs *out, const char *name, const char *obj, const char *path,
		    uint64_t addr, uint64_t off)
{
	struct func *v = realloc(out->v, (out->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	out->v = v;
	v[out->n] = (struct func){.name = strdup(name),
				  .obj = strdup(obj),
				  .path = strdup(path),
				  .offset = off,
				  .address = addr};
	if (!v[out->n].name || !v[out->n].obj || !v[out->n].path)
		return -ENOMEM;
	out->n++;
	return 0;
}

/* A .dynsym entry of a version other than the default ("sem_wait@GLIBC_2.2.5") is hidden. */
static bool hidden_version(Elf_Data *versym, size_t i)
{
	GElf_Versym v;

	return versym && gelf_getversym(versym, (int)i, &v) && (v & 0x8000);
}

struct object {
	const char *obj, *path;
	size_t first; /* out's entries of this object start there */
	bool symtab;  /* it has a full symbol table, not only the exported .dynsym */
};

static int scan_table(Elf *elf, Elf_Scn *scn, Elf_Data *versym, const struct query *q,
		      const struct object *o, struct funcs *out, struct hints *h)
{
	GElf_Shdr sh;
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!gelf_getshdr(scn, &sh) || !data || !sh.sh_entsize)
		return 0;
	count = sh.sh_size / sh.sh_entsize;
	for (size_t i = 1; i < count; i++) {
		GElf_Sym sym;
		const char *raw;
		char *name;
		uint64_t off;
		int err = 0;

		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		raw = elf_strptr(elf, sh.sh_link, sym.st_name);
		/* .symtab spells a non-default version "name@VER", the default "name@@VER" */
		if (!raw || (strchr(raw, '@') && !strstr(raw, "@@")) ||
		    (sh.sh_type == SHT_DYNSYM && hidden_version(versym, i)))
			continue;
		if (q->needle && !strstr(raw, q->needle))
			continue;
		name = clean_name(raw);
		if (!name)
			return -ENOMEM;
		if (!matches(q, name)) {
			if (!q->needle)
				hint_offer(h, q, name);
		} else if (!seen_address(out, o->first, sym.st_value) &&
			   file_offset(elf, sym.st_value, &off))
			err = add_func(out, name, o->obj, o->path, sym.st_value, off);
		free(name);
		if (err)
			return err;
	}
	return (int)count;
}

/* Returns how many symbols the object has, or -errno. */
static int scan_object(int fd, const struct query *q, struct object *o, struct funcs *out,
		       struct hints *h)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL, *versym_scn = NULL;
	int total = 0, r;

	if (!elf)
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_versym)
			versym_scn = scn;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		o->symtab |= sh.sh_type == SHT_SYMTAB;
		r = scan_table(elf, scn, versym_scn ? elf_getdata(versym_scn, NULL) : NULL, q, o,
			       out, h);
		if (r < 0) {
			elf_end(elf);
			return r;
		}
		total += r;
	}
	elf_end(elf);
	return total;
}

static bool lib_wanted(const struct query *q, const char *obj)
{
	return !q->lib || !strncmp(obj, q->lib, q->lib_len);
}

static void parse_query(struct query *q, const char *pattern)
{
	/* LIB:PATTERN: a single colon, not one of a "::" */
	for (const char *p = pattern; *p; p++) {
		if (p[0] == ':' && p[1] != ':' && (p == pattern || p[-1] != ':')) {
			q->lib = pattern;
			q->lib_len = (size_t)(p - pattern);
			pattern = p + 1;
			break;
		}
	}
	q->pattern = pattern;
	q->glob = strpbrk(pattern, "*?[") != NULL;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Seen already (an object maps several segments): by its device and inode. */
static bool seen_before(uint64_t seen[][2], int *nseen, const struct map_line *m)
{
	for (int i = 0; i < *nseen; i++)
		if (seen[i][0] == m->dev && seen[i][1] == m->ino)
			return true;
	if (*nseen == MAX_OBJECTS)
		return true;
	seen[*nseen][0] = m->dev;
	seen[(*nseen)++][1] = m->ino;
	return false;
}

/* The first object mapped is the program: whether it is stripped tells why nothing matched. */
static int scan_maps(FILE *maps, pid_t tgid, const struct query *q, struct funcs *out,
		     struct hints *h, int *symbols, char *stripped, size_t stripped_len)
{
	char line[4096 + 128], mapped[96];
	uint64_t seen[MAX_OBJECTS][2];
	int nseen = 0;

	while (fgets(line, sizeof(line), maps)) {
		struct map_line m;
		struct object o;
		int fd, r;

		line[strcspn(line, "\n")] = '\0';
		if (!procmaps_parse(line, &m) || !m.exec || !procmaps_is_file(&m) ||
		    !lib_wanted(q, base_name(m.path)) || seen_before(seen, &nseen, &m))
			continue;
		fd = procmaps_open(tgid, m.start, m.end);
		if (fd < 0)
			continue;
		/* the very file mapped, whatever mount namespace or deletion: uprobes take it too
		 */
		procmaps_file_path(tgid, m.start, m.end, mapped, sizeof(mapped));
		o = (struct object){.obj = base_name(m.path), .path = mapped, .first = out->n};
		r = scan_object(fd, q, &o, out, h);
		close(fd);
		if (r < 0)
			return r;
		*symbols += r;
		if (nseen == 1 && !o.symtab)
			snprintf(stripped, stripped_len, "%s", o.obj);
	}
	return 0;
}

/* "nearest: a, b" and, for a stripped program, that it is */
static void format_hints(const struct hints *h, const char *stripped, char *hint, size_t len)
{
	size_t at = 0;

	hint[0] = '\0';
	for (int s = 0; s <= NAME_MAX_ && at < len; s++)
		for (int i = 0; i < h->n && at < len; i++)
			if (h->score[i] == s)
				at += (size_t)snprintf(hint + at, len - at, "%s%s",
						       at ? ", " : "nearest: ", h->name[i]);
	if (stripped[0] && at < len)
		snprintf(hint + at, len - at,
			 "%s%s is stripped (no symbol table): only its exported "
			 "functions can match",
			 at ? "; " : "", stripped);
}

int funcs_find(struct funcs *out, pid_t tgid, const char *pattern, char *hint, size_t hint_len)
{
	return funcs_find_known(out, tgid, pattern, NULL, hint, hint_len);
}

int funcs_find_known(struct funcs *out, pid_t tgid, const char *pattern, const char *needle,
		     char *hint, size_t hint_len)
{
	struct query q = {.needle = needle};
	struct hints h = {0};
	size_t before = out->n;
	char path[64], stripped[64] = "";
	int symbols = 0, r;
	FILE *maps;

	parse_query(&q, pattern);
	q.needle = needle;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)tgid);
	maps = fopen(path, "re");
	if (!maps)
		return -ESRCH;
	elf_version(EV_CURRENT);
	r = scan_maps(maps, tgid, &q, out, &h, &symbols, stripped, sizeof(stripped));
	fclose(maps);
	if (r < 0)
		return r;
	if (out->n > before)
		return (int)(out->n - before);
	if (!symbols)
		return -ENODATA;
	if (hint && hint_len)
		format_hints(&h, stripped, hint, hint_len);
	return -ENOENT;
}
