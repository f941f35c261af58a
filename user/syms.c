// SPDX-License-Identifier: GPL-2.0
/*
 * Symbolizer. User frames go through elfutils libdwfl, fed with the text of
 * /proc/PID/maps captured while the process lived, so that a process which
 * has exited by report time still gets names. Results are cached per
 * (process image, address) because the same frames recur in thousands of stacks, and per
 * (file, offset) because the same libraries recur in hundreds of processes.
 */
#include "syms.h"

#include "procfiles.h"
#include "procmaps.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <libiberty/demangle.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNKNOWN "[unknown]"
#define DELETED " (deleted)"
/* inlined callees named per address: a deeper chain keeps its outermost */
#define MAX_INLINED 32

/* One process image: a tgid from its start or its last exec to the next one. */
struct proc {
	pid_t tgid;
	uint32_t image;
	char comm[16];		 /* the process's name when its image was first captured */
	uint32_t gen;		 /* bumped by every snapshot: older cache entries are stale */
	bool tried;		 /* an on-demand snapshot failed: do not retry for every frame */
	bool dwfl_failed;	 /* building the Dwfl failed: do not retry for every frame */
	bool lends;		 /* a module of its Dwfl is a file's DWARF home (struct home) */
	uint64_t starttime;	 /* tells our process from a later one that reuses the pid */
	int root;		 /* the process's root directory, held (procfiles), or -1 */
	struct procfiles *files; /* the symbolizer's: held files of every process */
	char *maps;
	size_t maps_len;
	struct map_line *lines; /* maps parsed, by address, on first need; NULL before */
	size_t nlines;
	Dwfl *dwfl;
};

/*
 * A cached address: one of a process image's (owner: its struct proc, addr: the address), or a
 * place in a file that processes map (owner: the interned "dev:inode" of the file, addr: the
 * offset in it), whose names are the same in every one of them.
 */
struct frame {
	uint64_t addr;
	const char *name;     /* the function; NULL marks an empty slot */
	const char **inlined; /* its inlined callees, outermost first (malloc'ed), or NULL */
	int ninlined;
	const void *owner;
	uint32_t gen; /* the owner's snapshot; 0 for a file */
	bool known;
};

/* An address's names: the function whose symbol holds it, then its inlined callees. */
struct chain {
	const char *names[1 + MAX_INLINED];
	int n;
	bool known;
};

struct ksym {
	uint64_t addr;
	const char *name;
};

/* Where a file's DWARF is read, for every process that maps it: in the first one's module. */
struct home {
	const void *file; /* interned "dev:inode", as in struct frame */
	Dwfl_Module *mod;
	Dwarf_Addr bias;
};

struct syms {
	struct syms_opts opts;
	struct procfiles *files;
	char *debuginfo_path; /* our copy: Dwfl_Callbacks keeps a pointer to the pointer */
	Dwfl_Callbacks cb;

	struct proc **procs; /* open addressing on (tgid, image) */
	size_t nprocs, procs_cap;
	struct frame *frames; /* open addressing on (owner, addr) */
	size_t nframes, frames_cap;
	char **strs; /* interned names, open addressing on the text */
	size_t nstrs, strs_cap;
	struct home *homes;
	size_t nhomes;
	Dwfl **retired; /* Dwfls of replaced snapshots that homes are in, ended by syms_free() */
	size_t nretired, retired_cap;
	size_t nlenders; /* processes whose Dwfl homes are in: each has room in retired */

	struct ksym *ksyms;
	size_t nksyms;
	char *knames;
	bool ktried;

	struct syms_stats stats;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static uint64_t str_hash(const char *str)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 0x100000001b3ULL;
	return h;
}

/* ---- interned strings ---- */

static char **str_slot(char **slots, size_t cap, const char *str)
{
	size_t i = str_hash(str) & (cap - 1);

	while (slots[i] && strcmp(slots[i], str))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static bool strs_grow(struct syms *s)
{
	size_t cap = s->strs_cap ? s->strs_cap * 2 : 256;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < s->strs_cap; i++)
		if (s->strs[i])
			*str_slot(slots, cap, s->strs[i]) = s->strs[i];
	free(s->strs);
	s->strs = slots;
	s->strs_cap = cap;
	return true;
}

/* Takes ownership of str (malloc'ed, may be NULL after a failed allocation). */
static const char *intern_owned(struct syms *s, char *str)
{
	char **slot;

	if (!str)
		return NULL;
	if (2 * (s->nstrs + 1) > s->strs_cap && !strs_grow(s)) {
		free(str);
		return NULL;
	}
	slot = str_slot(s->strs, s->strs_cap, str);
	if (*slot) {
		free(str);
		return *slot;
	}
	*slot = str;
	s->nstrs++;
	return str;
}

static const char *intern_or_unknown(struct syms *s, char *str)
{
	const char *out = intern_owned(s, str);

	return out ? out : UNKNOWN;
}

/* ---- processes ---- */

static struct proc **proc_slot(struct proc **slots, size_t cap, pid_t tgid, uint32_t image)
{
	size_t i = mix64((uint64_t)tgid ^ ((uint64_t)image << 32)) & (cap - 1);

	while (slots[i] && (slots[i]->tgid != tgid || slots[i]->image != image))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static bool procs_grow(struct syms *s)
{
	size_t cap = s->procs_cap ? s->procs_cap * 2 : 64;
	struct proc **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < s->procs_cap; i++)
		if (s->procs[i])
			*proc_slot(slots, cap, s->procs[i]->tgid, s->procs[i]->image) = s->procs[i];
	free(s->procs);
	s->procs = slots;
	s->procs_cap = cap;
	return true;
}

static struct proc *proc_find(const struct syms *s, pid_t tgid, uint32_t image)
{
	if (!s->procs_cap)
		return NULL;
	return *proc_slot(s->procs, s->procs_cap, tgid, image);
}

static struct proc *proc_get(struct syms *s, pid_t tgid, uint32_t image)
{
	struct proc **slot;

	if (2 * (s->nprocs + 1) > s->procs_cap && !procs_grow(s))
		return NULL;
	slot = proc_slot(s->procs, s->procs_cap, tgid, image);
	if (!*slot) {
		*slot = calloc(1, sizeof(**slot));
		if (!*slot)
			return NULL;
		(*slot)->tgid = tgid;
		(*slot)->image = image;
		(*slot)->root = -1;
		(*slot)->files = s->files;
		s->nprocs++;
	}
	return *slot;
}

/* A later image of tgid was captured: tgid's maps today are not those of image. */
static bool newer_image_known(const struct syms *s, pid_t tgid, uint32_t image)
{
	for (size_t i = 0; i < s->procs_cap; i++) {
		const struct proc *p = s->procs[i];

		if (p && p->tgid == tgid && p->image > image && p->maps)
			return true;
	}
	return false;
}

static void proc_free(struct proc *p)
{
	if (p->dwfl)
		dwfl_end(p->dwfl);
	free(p->lines);
	free(p->maps);
	free(p);
}

static char *grow_buf(char *buf, size_t *cap)
{
	char *nb = realloc(buf, *cap * 2);

	if (!nb) {
		free(buf);
		return NULL;
	}
	*cap *= 2;
	return nb;
}

/* Reads a whole /proc file, whose size is unknown in advance (st_size is 0); sets errno. */
static char *read_proc_file(const char *path, size_t *len)
{
	size_t cap = 16384, n = 0;
	ssize_t r = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n + 1 == cap)
			buf = grow_buf(buf, &cap);
	}
	err = !buf ? ENOMEM : r < 0 ? errno : 0;
	close(fd);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Field 22 of /proc/PID/stat: the process start time in clock ticks since boot. */
static uint64_t proc_starttime(pid_t tgid)
{
	char path[64], buf[1024], *p;
	uint64_t start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields count from the last ')' */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

static bool proc_alive(const struct proc *p)
{
	return p->starttime && proc_starttime(p->tgid) == p->starttime;
}

/* A Dwfl that homes are in lives on until syms_free(): room to keep it was taken when it lent. */
static void proc_end_dwfl(struct syms *s, struct proc *p)
{
	if (p->lends) {
		s->retired[s->nretired++] = p->dwfl;
		s->nlenders--;
	} else if (p->dwfl) {
		dwfl_end(p->dwfl);
	}
	p->dwfl = NULL;
	p->lends = false;
}

/* Takes ownership of maps. */
static int proc_set_maps(struct syms *s, struct proc *p, char *maps, size_t len, uint64_t starttime)
{
	int root;

	/* a zombie (or an exiting task) has released its mm: its empty maps say nothing new */
	if (!len && p->maps_len) {
		free(maps);
		return -ESRCH;
	}
	/* periodic refreshes mostly find the same maps: keep the Dwfl and the cached names */
	if (p->maps && len == p->maps_len && !memcmp(maps, p->maps, len)) {
		free(maps);
		p->starttime = starttime;
		return 0;
	}
	/* new mappings (or the first): hold their files while the process lives */
	root = procfiles_hold(p->files, p->tgid, maps, len);
	if (root >= 0)
		p->root = root;
	proc_end_dwfl(s, p);
	free(p->maps);
	free(p->lines);
	p->lines = NULL;
	p->nlines = 0;
	p->dwfl_failed = false;
	p->maps = maps;
	p->maps_len = len;
	p->starttime = starttime;
	p->gen++;
	return 0;
}

/* The process's name now, for an image captured for the first time. */
static void proc_read_comm(struct proc *p)
{
	char path[64];
	size_t len;
	char *comm;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)p->tgid);
	comm = read_proc_file(path, &len);
	if (comm) {
		comm[strcspn(comm, "\n")] = '\0';
		snprintf(p->comm, sizeof(p->comm), "%s", comm);
	}
	free(comm);
}

int syms_snapshot(struct syms *s, pid_t tgid, uint32_t image)
{
	char path[64], *maps;
	uint64_t start = proc_starttime(tgid);
	struct proc *p;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)tgid);
	maps = read_proc_file(path, &len);
	if (!maps)
		return errno ? -errno : -ENOENT;
	p = proc_get(s, tgid, image);
	if (!p) {
		free(maps);
		return -ENOMEM;
	}
	if (!p->maps)
		proc_read_comm(p);
	return proc_set_maps(s, p, maps, len, start);
}

bool syms_has_snapshot(const struct syms *s, pid_t tgid, uint32_t image)
{
	const struct proc *p = proc_find(s, tgid, image);

	return p && p->maps;
}

const char *syms_image_comm(const struct syms *s, pid_t tgid, uint32_t image)
{
	const struct proc *p = proc_find(s, tgid, image);

	return p && p->comm[0] ? p->comm : NULL;
}

/* ---- opening a module's ELF file ---- */

static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl ? nl + 1 : NULL;
}

/* The maps line of the mapping that starts at base: the module's file. */
static const char *maps_line_at(const char *maps, uint64_t base, uint64_t *end)
{
	for (const char *line = maps; line; line = next_line(line)) {
		unsigned long long lo, hi;

		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && lo == base) {
			*end = hi;
			return line;
		}
	}
	return NULL;
}

static bool ends_with(const char *str, const char *suffix)
{
	size_t n = strlen(str), m = strlen(suffix);

	return n >= m && !strcmp(str + n - m, suffix);
}

/*
 * Through the live process: map_files holds the very inode that is mapped, even if the
 * path was replaced or deleted since, and root/ reaches files of another mount namespace.
 */
static int open_in_proc(const struct proc *p, const char *modname, Dwarf_Addr base)
{
	char path[PATH_MAX + 64];
	uint64_t end;
	int fd = -1;

	if (!proc_alive(p))
		return -1;
	if (maps_line_at(p->maps, base, &end))
		fd = procmaps_open(p->tgid, base, end);
	if (fd < 0 && !ends_with(modname, DELETED)) {
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)p->tgid, modname);
		fd = open_regular(path);
	}
	return fd;
}

/*
 * The file a module was mapped from: held since a snapshot (exact, outlives the process), else
 * through the live process, else its path under the process's root (held too).
 */
static int open_module(const struct proc *p, const char *modname, Dwarf_Addr base)
{
	uint64_t end;
	const char *line = maps_line_at(p->maps, base, &end);
	int fd = line ? procfiles_open_mapped(p->files, line) : -1;

	if (fd < 0)
		fd = open_in_proc(p, modname, base);
	if (fd < 0 && !ends_with(modname, DELETED))
		fd = procfiles_open_in_root(p->files, p->root, modname);
	return fd;
}

/*
 * The file name is where libdwfl looks for .gnu_debuglink companions: the plain path when
 * it names the same file for us (same mount namespace), else the path through root/.
 */
static char *debuglink_base(const struct proc *p, const char *modname, int fd)
{
	struct stat ours, theirs;
	char *name;

	if (!stat(modname, &ours) && !fstat(fd, &theirs) && ours.st_dev == theirs.st_dev &&
	    ours.st_ino == theirs.st_ino)
		return strdup(modname);
	if (asprintf(&name, "/proc/%d/root%s", (int)p->tgid, modname) < 0)
		return NULL;
	return name;
}

/*
 * libdwfl would keep every module's fd open until dwfl_end(): thousands in a system-wide
 * run. The Elf works from its mapping (or from memory) once the fd is done with.
 */
static int elf_from_fd(int fd, Elf **elfp)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

	/* FDREAD reads what is not mapped, then marks the fd done */
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_cntl(elf, ELF_C_FDREAD)) {
		elf_end(elf);
		return fd;
	}
	close(fd);
	*elfp = elf;
	return -1;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	const struct proc *p = *userdata;
	int fd = -1;

	(void)mod;
	if (modname[0] != '/')
		return -1;
	if (p)
		fd = open_module(p, modname, base);
	if (fd >= 0) {
		*file_name = debuglink_base(p, modname, fd);
		return elf_from_fd(fd, elfp);
	}
	/* The process has exited (or hides its files): the path is all that is left. */
	if (ends_with(modname, DELETED))
		return -1;
	fd = open_regular(modname);
	if (fd < 0)
		return -1;
	*file_name = strdup(modname);
	return elf_from_fd(fd, elfp);
}

/*
 * Debug files by build ID under the process's root, when our own view has none: a target in a
 * container, or this tool run from a root of its own (a static copy in an empty chroot).
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const struct proc *p = *userdata;
	char path[sizeof("/usr/lib/debug/.build-id/") + 2 * 64 + sizeof(".debug")];
	const unsigned char *id;
	GElf_Addr vaddr;
	int fd, len, n;

	fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					  debuglink_crc, debuginfo_file_name);
	if (fd >= 0 || !p || p->root < 0)
		return fd;
	len = dwfl_module_build_id(mod, &id, &vaddr);
	if (len < 2 || len > 64)
		return -1;
	n = snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", id[0]);
	for (int i = 1; i < len; i++)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "%02x", id[i]);
	snprintf(path + n, sizeof(path) - (size_t)n, ".debug");
	fd = procfiles_open_in_root(p->files, p->root, path);
	if (fd >= 0)
		*debuginfo_file_name = strdup(path);
	return fd;
}

static int set_module_proc(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			   void *arg)
{
	(void)mod;
	(void)name;
	(void)start;
	*userdata = arg;
	return DWARF_CB_OK;
}

static Dwfl *proc_dwfl(struct syms *s, struct proc *p)
{
	Dwfl *dwfl;
	FILE *f;

	if (p->dwfl || p->dwfl_failed || !p->maps_len)
		return p->dwfl;
	p->dwfl_failed = true;
	dwfl = dwfl_begin(&s->cb);
	if (!dwfl)
		return NULL;
	f = fmemopen(p->maps, p->maps_len, "r");
	dwfl_report_begin(dwfl);
	/* A partial report still names the modules read before a bad line: keep them. */
	if (f) {
		dwfl_linux_proc_maps_report(dwfl, f);
		fclose(f);
	}
	if (dwfl_report_end(dwfl, NULL, NULL)) {
		dwfl_end(dwfl);
		return NULL;
	}
	/* find_elf gets only the module: hand it the process through the module's userdata */
	dwfl_getmodules(dwfl, set_module_proc, p, 0);
	p->dwfl = dwfl;
	p->dwfl_failed = false;
	return dwfl;
}

/* ---- naming a user frame ---- */

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static char *func_name(const struct syms *s, const char *sym)
{
	/* symbols defined with .symver carry their version in .symtab: "memcpy@@GLIBC_2.14" */
	size_t len = sym[0] == '@' ? strlen(sym) : strcspn(sym, "@");
	char *name = strndup(sym, len), *dem;

	if (!name || s->opts.no_demangle)
		return name;
	dem = syms_demangle(name);
	if (!dem)
		return name;
	free(name);
	return dem;
}

/* "func (file.c:12)", or func as it is without a file and line. Takes ownership of func. */
static char *with_src(char *func, const char *src, int lineno)
{
	char *out;

	if (!func || !src || lineno <= 0)
		return func;
	if (asprintf(&out, "%s (%s:%d)", func, basename_of(src), lineno) < 0)
		return func;
	free(func);
	return out;
}

/* The line of pc itself: where the innermost frame of an address is. */
static char *with_line(Dwfl_Module *mod, Dwarf_Addr pc, char *func)
{
	Dwfl_Line *line = dwfl_module_getsrc(mod, pc);
	const char *src;
	int lineno = 0;

	src = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	return with_src(func, src, lineno);
}

/* Where an inlined callee was called from: the line, in its caller, of the caller's frame. */
static char *with_call_site(Dwarf_Die *callee, char *func)
{
	Dwarf_Attribute attr;
	Dwarf_Word file, line;
	Dwarf_Files *files;
	Dwarf_Die cu;
	size_t nfiles;

	if (dwarf_formudata(dwarf_attr(callee, DW_AT_call_file, &attr), &file) ||
	    dwarf_formudata(dwarf_attr(callee, DW_AT_call_line, &attr), &line) ||
	    !dwarf_diecu(callee, &cu, NULL, NULL) || dwarf_getsrcfiles(&cu, &files, &nfiles) ||
	    file >= nfiles || line > INT_MAX)
		return func;
	return with_src(func, dwarf_filesrc(files, file, NULL, NULL), (int)line);
}

/* An inlined callee's name from its abstract origin: linkage names demangle as symbols do. */
static char *inlined_name(const struct syms *s, Dwarf_Die *die)
{
	static const int attrs[] = {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name};
	Dwarf_Attribute attr;

	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		const char *name = dwarf_formstring(dwarf_attr_integrate(die, attrs[i], &attr));

		if (name && *name)
			return func_name(s, name);
	}
	return strdup(UNKNOWN);
}

/*
 * DIEs without code of their own that hold functions: LLVM (Rust, clang's C++) puts a function
 * in its namespace's DIE. Not types: a method's definition lies outside its class (as
 * DW_AT_specification of its declaration there), and descending every struct costs.
 */
static bool holds_functions(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_module;
}

static bool has_code(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_lexical_block || tag == DW_TAG_entry_point ||
	       tag == DW_TAG_try_block || tag == DW_TAG_catch_block;
}

/* Where a DWARF walk for one address is: the inlined callees on the way down, outermost first. */
struct scope_walk {
	Dwarf_Addr pc;
	Dwarf_Die *inlined;
	int n, max;
};

/* Goes down the child of parent that holds pc, if any; false if none does. */
static bool walk_scopes(Dwarf_Die *parent, struct scope_walk *w, int depth)
{
	Dwarf_Die child;

	if (depth > 256 || dwarf_child(parent, &child))
		return false;
	do {
		int tag = dwarf_tag(&child);

		if (holds_functions(tag) && walk_scopes(&child, w, depth + 1))
			return true;
		if (!has_code(tag) || dwarf_haspc(&child, w->pc) != 1)
			continue;
		/* a function nested in another is a physical function of its own */
		if (tag == DW_TAG_subprogram)
			w->n = 0;
		if (tag == DW_TAG_inlined_subroutine && w->n < w->max)
			w->inlined[w->n++] = child;
		walk_scopes(&child, w, depth + 1);
		return true;
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

/*
 * The concrete DW_TAG_inlined_subroutine DIEs at pc, outermost first, at most max; returns how
 * many (0 without DWARF or without inlining). Not dwarf_getscopes(): elfutils 0.188 does not look
 * into namespaces, where LLVM (Rust, clang's C++) puts functions.
 */
static int inlined_dies(Dwfl_Module *mod, Dwarf_Addr pc, Dwarf_Die *out, int max)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
	struct scope_walk w = {.inlined = out, .max = max};

	if (!cu)
		return 0;
	w.pc = pc - bias;
	walk_scopes(cu, &w, 0);
	return w.n;
}

/*
 * func, the function whose symbol holds pc, then the callees inlined into it at pc. With
 * lines, each frame's line is in its own function: a caller's is the call site of its inlined
 * callee, the innermost frame's is pc's.
 */
static void name_chain(struct syms *s, Dwfl_Module *mod, Dwarf_Addr pc, char *func, struct chain *c)
{
	/* one more than is named: the last named frame's line is the next one's call site */
	Dwarf_Die dies[MAX_INLINED + 1];
	int n = inlined_dies(mod, pc, dies, MAX_INLINED + 1);
	char *name = func;

	for (c->n = 0; c->n <= n && c->n <= MAX_INLINED; c->n++) {
		if (c->n)
			name = inlined_name(s, &dies[c->n - 1]);
		if (name && s->opts.lines)
			name = c->n < n ? with_call_site(&dies[c->n], name)
					: with_line(mod, pc, name);
		c->names[c->n] = intern_or_unknown(s, name);
	}
}

/* perf's "dso+0xoff": off is relative to the load bias, i.e. an address addr2line takes. */
static char *module_offset(Dwfl_Module *mod, uint64_t addr)
{
	Dwarf_Addr start = 0, bias = 0;
	const char *name = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	char *out;

	if (!dwfl_module_getelf(mod, &bias))
		bias = start;
	if (asprintf(&out, "%s+0x%" PRIx64, basename_of(name ? name : "?"), addr - bias) < 0)
		return NULL;
	return out;
}

/* The vdso has no file for libdwfl to open: name the mapping, as perf does. */
static const char *kernel_mapping(const char *maps, uint64_t pc)
{
	for (const char *line = maps; line; line = next_line(line)) {
		unsigned long long lo, hi;
		int name = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &name) < 2 || pc < lo ||
		    pc >= hi || !name)
			continue;
		if (!strncmp(line + name, "[vdso]\n", 7))
			return "[vdso]";
		if (!strncmp(line + name, "[vsyscall]\n", 11))
			return "[vsyscall]";
		break;
	}
	return UNKNOWN;
}

/* p's module becomes the file's home; false if short of memory. */
static bool home_add(struct syms *s, struct proc *p, const void *file, Dwfl_Module *mod,
		     Dwarf_Addr bias)
{
	struct home *h = realloc(s->homes, (s->nhomes + 1) * sizeof(*h));
	Dwfl **r;

	if (!h)
		return false;
	s->homes = h;
	/* room to keep p's Dwfl when its snapshot is replaced, taken now: keeping it cannot fail */
	if (!p->lends) {
		if (s->retired_cap == s->nretired + s->nlenders) {
			r = realloc(s->retired, (s->retired_cap + 1) * sizeof(*r));
			if (!r)
				return false;
			s->retired = r;
			s->retired_cap++;
		}
		s->nlenders++;
		p->lends = true;
	}
	h[s->nhomes++] = (struct home){file, mod, bias};
	return true;
}

/*
 * Where the DWARF of pc (in mod, p's module of file) is read: in the module of the first process
 * that needed the file's, so that a library's DWARF is decompressed and indexed once, not once per
 * process. *dpc is pc in that module's terms. Files are few: a list does.
 */
static Dwfl_Module *dwarf_module(struct syms *s, struct proc *p, const void *file, Dwfl_Module *mod,
				 Dwarf_Addr pc, Dwarf_Addr *dpc)
{
	Dwarf_Addr bias;

	*dpc = pc;
	if (!file || !dwfl_module_getelf(mod, &bias))
		return mod;
	for (size_t i = 0; i < s->nhomes; i++) {
		if (s->homes[i].file == file) {
			*dpc = pc - bias + s->homes[i].bias;
			return s->homes[i].mod;
		}
	}
	home_add(s, p, file, mod, bias);
	return mod;
}

/* file: the file mapped at addr (file_at()), or NULL. */
static void resolve(struct syms *s, struct proc *p, uint64_t addr, const void *file,
		    struct chain *c)
{
	Dwfl *dwfl = proc_dwfl(s, p);
	/* a return address may already belong to the next function or line */
	Dwarf_Addr pc = addr - 1;
	Dwfl_Module *mod = dwfl && addr ? dwfl_addrmodule(dwfl, pc) : NULL;
	Dwarf_Addr dpc;
	Dwfl_Module *dmod;
	const char *sym;
	GElf_Sym esym;
	GElf_Off off;

	c->n = 1;
	c->known = false;
	if (!mod) {
		c->names[0] = addr ? kernel_mapping(p->maps, pc) : UNKNOWN;
		return;
	}
	sym = dwfl_module_addrinfo(mod, pc, &off, &esym, NULL, NULL, NULL);
	if (!sym || !*sym) {
		c->names[0] = intern_or_unknown(s, module_offset(mod, addr));
		return;
	}
	dmod = dwarf_module(s, p, file, mod, pc, &dpc);
	name_chain(s, dmod, dpc, func_name(s, sym), c);
	/* out of memory: no name after all */
	c->known = strcmp(c->names[0], UNKNOWN) != 0;
}

/* ---- frame cache ---- */

static struct frame *frame_slot(struct frame *slots, size_t cap, const void *owner, uint64_t addr)
{
	size_t i = mix64(addr ^ (uint64_t)(uintptr_t)owner) & (cap - 1);

	while (slots[i].name && (slots[i].addr != addr || slots[i].owner != owner))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static bool frames_grow(struct syms *s)
{
	size_t cap = s->frames_cap ? s->frames_cap * 2 : 1024;
	struct frame *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < s->frames_cap; i++) {
		const struct frame *f = &s->frames[i];

		if (f->name)
			*frame_slot(slots, cap, f->owner, f->addr) = *f;
	}
	free(s->frames);
	s->frames = slots;
	s->frames_cap = cap;
	return true;
}

/* The entry of (owner, addr), NULL if none. */
static struct frame *frame_find(const struct syms *s, const void *owner, uint64_t addr)
{
	struct frame *f;

	if (!s->frames_cap)
		return NULL;
	f = frame_slot(s->frames, s->frames_cap, owner, addr);
	return f->name ? f : NULL;
}

/*
 * Caches c as (owner, addr): the function's name and a copy of its inlined callees' (none if
 * short of memory). Nothing is cached when the table cannot grow.
 */
static void frame_add(struct syms *s, const void *owner, uint64_t addr, uint32_t gen,
		      const struct chain *c)
{
	struct frame *f;

	if (2 * (s->nframes + 1) > s->frames_cap && !frames_grow(s))
		return;
	f = frame_slot(s->frames, s->frames_cap, owner, addr);
	s->nframes += !f->name;
	free(f->inlined);
	f->owner = owner;
	f->addr = addr;
	f->gen = gen;
	f->name = c->names[0];
	f->known = c->known;
	f->ninlined = 0;
	f->inlined = c->n > 1 ? malloc((size_t)(c->n - 1) * sizeof(*f->inlined)) : NULL;
	if (f->inlined) {
		memcpy(f->inlined, c->names + 1, (size_t)(c->n - 1) * sizeof(*f->inlined));
		f->ninlined = c->n - 1;
	}
}

static void chain_of(const struct frame *f, struct chain *c)
{
	c->names[0] = f->name;
	memcpy(c->names + 1, f->inlined, (size_t)f->ninlined * sizeof(*f->inlined));
	c->n = 1 + f->ninlined;
	c->known = f->known;
}

/* The maps line that holds pc: the lines are parsed once per snapshot. */
static const struct map_line *proc_line(struct proc *p, uint64_t pc)
{
	size_t lo = 0, hi;

	if (!p->lines) {
		size_t n = 1;

		for (size_t i = 0; i < p->maps_len; i++)
			n += p->maps[i] == '\n';
		p->lines = calloc(n, sizeof(*p->lines));
		if (!p->lines)
			return NULL;
		for (const char *line = p->maps; line && *line; line = next_line(line))
			p->nlines += procmaps_parse(line, &p->lines[p->nlines]);
	}
	/* the kernel lists mappings by address */
	for (hi = p->nlines; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc < p->lines[mid].start)
			hi = mid;
		else if (pc >= p->lines[mid].end)
			lo = mid + 1;
		else
			return &p->lines[mid];
	}
	return NULL;
}

/*
 * The file whose mapping holds addr's code, as an owner of frame entries, and the place in it;
 * NULL for anonymous memory and the vdso.
 */
static const void *file_at(struct syms *s, struct proc *p, uint64_t addr, uint64_t *off)
{
	const struct map_line *m = addr ? proc_line(p, addr - 1) : NULL;
	char *id;

	if (!m || !procmaps_is_file(m))
		return NULL;
	*off = addr - m->start + m->offset;
	if (asprintf(&id, "%" PRIx64 ":%" PRIu64, m->dev, m->ino) < 0)
		return NULL;
	return intern_owned(s, id);
}

/*
 * Names depend on the file and the place in it, not on the process: a library's places are
 * resolved once for every process that maps it, and its DWARF (decompressed, indexed) is read
 * once, not once per process. Only found names go there: an unknown one may be a process's
 * own trouble.
 */
static void resolve_cached(struct syms *s, struct proc *p, uint64_t addr, struct chain *c)
{
	uint64_t off = 0;
	const void *file = file_at(s, p, addr, &off);
	const struct frame *f = file ? frame_find(s, file, off) : NULL;

	if (f) {
		chain_of(f, c);
		return;
	}
	resolve(s, p, addr, file, c);
	if (file && c->known)
		frame_add(s, file, off, 0, c);
}

/* The function, then as many of its inlined callees as fit in max (>= 1) names. */
static int names_out(const struct chain *c, const char **out, int max)
{
	int n = c->n < max ? c->n : max;

	memcpy(out, c->names, (size_t)n * sizeof(*out));
	return n;
}

static int frame_lookup(struct syms *s, struct proc *p, uint64_t addr, const char **out, int max)
{
	const struct frame *f = frame_find(s, p, addr);
	struct chain c;

	if (f && f->gen == p->gen) {
		chain_of(f, &c);
	} else {
		resolve_cached(s, p, addr, &c);
		frame_add(s, p, addr, p->gen, &c);
	}
	s->stats.unknown += !c.known;
	return names_out(&c, out, max);
}

/* The process image's maps, captured now if never before; NULL without them. */
static struct proc *proc_with_maps(struct syms *s, pid_t tgid, uint32_t image)
{
	struct proc *p = proc_find(s, tgid, image);

	/*
	 * A process first seen at report time may still be alive: capture it
	 * now, once, unless it has exec'ed since (its maps now are another image's).
	 */
	if ((!p || (!p->maps && !p->tried)) &&
	    (newer_image_known(s, tgid, image) || syms_snapshot(s, tgid, image))) {
		p = proc_get(s, tgid, image);
		if (p)
			p->tried = true;
	}
	p = proc_find(s, tgid, image);
	return p && p->maps ? p : NULL;
}

int syms_user_frames(struct syms *s, pid_t tgid, uint32_t image, uint64_t addr, const char **out,
		     int max)
{
	struct proc *p;

	if (max < 1)
		return 0;
	p = proc_with_maps(s, tgid, image);
	s->stats.frames++;
	if (!p) {
		s->stats.no_maps++;
		s->stats.unknown++;
		out[0] = UNKNOWN;
		return 1;
	}
	return frame_lookup(s, p, addr, out, max);
}

const char *syms_user(struct syms *s, pid_t tgid, uint32_t image, uint64_t addr)
{
	const char *name;

	syms_user_frames(s, tgid, image, addr, &name, 1);
	return name;
}

int syms_user_stack(struct syms *s, pid_t tgid, uint32_t image, const uint64_t *ips, int n,
		    const char **out, int max)
{
	int k = 0;

	/* a walk longer than out loses its outermost addresses, as a walk cut short would */
	if (n > max)
		n = max;
	/* every address keeps a name: only inlined callees go without when room runs short */
	for (int i = n - 1; i >= 0; i--)
		k += syms_user_frames(s, tgid, image, ips[i], out + k, max - k - i);
	return k;
}

/* The name of the mapping that holds addr, as /proc/PID/maps gives it ("" if anonymous). */
static const char *region_of(const char *maps, uint64_t addr, size_t *len)
{
	for (const char *line = maps; line; line = next_line(line)) {
		unsigned long long lo, hi;
		int name = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &name) < 2 ||
		    addr < lo || addr >= hi)
			continue;
		/* an anonymous mapping's line ends at its inode: the scan went on to the next */
		if (name > (int)strcspn(line, "\n"))
			name = 0;
		*len = name ? strcspn(line + name, "\n") : 0;
		return name ? line + name : "";
	}
	return NULL;
}

struct bss_search {
	uint64_t addr;
	Dwfl_Module *found;
};

/* A module whose load segments (.bss past its file included) hold the address. */
static int module_holds(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			void *arg)
{
	struct bss_search *b = arg;
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t n = 0;

	(void)userdata, (void)name, (void)start;
	if (!elf || elf_getphdrnum(elf, &n))
		return DWARF_CB_OK;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    b->addr >= bias + ph.p_vaddr && b->addr < bias + ph.p_vaddr + ph.p_memsz) {
			b->found = mod;
			return DWARF_CB_ABORT;
		}
	}
	return DWARF_CB_OK;
}

/* The module of a data address: zero-filled .bss may lie in an anonymous mapping after it. */
static Dwfl_Module *data_module(Dwfl *dwfl, uint64_t addr)
{
	struct bss_search b = {.addr = addr};
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);

	if (mod)
		return mod;
	dwfl_getmodules(dwfl, module_holds, &b, 0);
	return b.found;
}

const char *syms_data(struct syms *s, pid_t tgid, uint32_t image, uint64_t addr)
{
	struct proc *p = proc_with_maps(s, tgid, image);
	Dwfl *dwfl = p ? proc_dwfl(s, p) : NULL;
	Dwfl_Module *mod = dwfl ? data_module(dwfl, addr) : NULL;
	const char *sym = NULL, *region;
	char *out = NULL;
	GElf_Sym esym;
	GElf_Off off = 0;
	size_t len = 0;

	if (mod)
		sym = dwfl_module_addrinfo(mod, addr, &off, &esym, NULL, NULL, NULL);
	if (sym && *sym) {
		char *name = func_name(s, sym);

		if (name && asprintf(&out, off ? "%s+0x%" PRIx64 : "%s", name, (uint64_t)off) < 0)
			out = NULL;
		free(name);
		return intern_or_unknown(s, out);
	}
	if (mod)
		return intern_or_unknown(s, module_offset(mod, addr));
	region = p ? region_of(p->maps, addr, &len) : NULL;
	if (!region)
		return UNKNOWN;
	if (!len)
		return "[anon]";
	if (asprintf(&out, "%.*s", (int)len, region) < 0)
		out = NULL;
	return intern_or_unknown(s, out);
}

/* ---- kernel ---- */

static int ktype_rank(char type)
{
	/* at a shared address prefer global over local, strong over weak */
	switch (type) {
	case 'T':
		return 0;
	case 't':
		return 1;
	case 'W':
		return 2;
	case 'w':
		return 3;
	default:
		return -1;
	}
}

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* the rank was parked in the byte before the name while loading */
	if (x->name[-1] != y->name[-1])
		return x->name[-1] - y->name[-1];
	return strcmp(x->name, y->name);
}

/*
 * Parses kallsyms in place: each kept line becomes "<rank byte><name>\0" inside the file
 * text, which then stays allocated as the name store.
 */
static size_t ksyms_parse(char *text, struct ksym *out)
{
	size_t n = 0;

	for (char *line = text, *next; line && *line; line = next) {
		char *end, *name, type;
		unsigned long long addr;
		int rank;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		addr = strtoull(line, &end, 16);
		if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ')
			continue;
		type = end[1];
		rank = ktype_rank(type);
		name = end + 3;
		if (!addr || rank < 0)
			continue;
		name[strcspn(name, " \t")] = '\0';
		end[2] = (char)rank;
		out[n].addr = addr;
		out[n].name = name;
		n++;
	}
	return n;
}

int kernel_symbol_addrs(const char *const *names, uint64_t *addrs, int n)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long long addr;
	char type, name[256];
	int found = 0;

	memset(addrs, 0, n * sizeof(*addrs));
	if (!f)
		return 0;
	while (found < n && fscanf(f, "%llx %c %255s%*[^\n]", &addr, &type, name) == 3)
		for (int i = 0; i < n; i++)
			if (addr && !addrs[i] && !strcmp(name, names[i])) {
				addrs[i] = addr;
				found++;
			}
	fclose(f);
	return found;
}

static void ksyms_load(struct syms *s)
{
	size_t len, lines = 0, n, kept = 0;
	char *text;

	s->ktried = true;
	text = read_proc_file("/proc/kallsyms", &len);
	if (!text)
		return;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	s->ksyms = calloc(lines + 1, sizeof(*s->ksyms));
	if (!s->ksyms) {
		free(text);
		return;
	}
	n = ksyms_parse(text, s->ksyms);
	qsort(s->ksyms, n, sizeof(*s->ksyms), ksym_cmp);
	/* aliases share an address: keep the best ranked, the binary search needs one */
	for (size_t i = 0; i < n; i++)
		if (!kept || s->ksyms[kept - 1].addr != s->ksyms[i].addr)
			s->ksyms[kept++] = s->ksyms[i];
	s->nksyms = kept;
	s->knames = text;
}

static const struct ksym *ksym_find(const struct syms *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nksyms;

	if (!s->nksyms || addr < s->ksyms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &s->ksyms[lo];
}

const char *syms_kernel(struct syms *s, uint64_t addr)
{
	const struct ksym *k;

	s->stats.frames++;
	if (!s->ktried)
		ksyms_load(s);
	k = addr ? ksym_find(s, addr - 1) : NULL;
	/* past the end marker of a text region lies no function */
	if (!k || !strcmp(k->name, "_etext") || !strcmp(k->name, "_einittext")) {
		s->stats.unknown++;
		return UNKNOWN;
	}
	return k->name;
}

/* ---- demangling ---- */

static bool is_rust_legacy_hash(const char *mangled)
{
	size_t n = strlen(mangled);

	if (n < 3 + 20 || strncmp(mangled + n - 20, "17h", 3) || mangled[n - 1] != 'E')
		return false;
	for (size_t i = n - 17; i < n - 1; i++)
		if (!isxdigit((unsigned char)mangled[i]))
			return false;
	return true;
}

/* libiberty keeps the hash when it does not look random enough to be Rust's (e.g. all zero) */
static void strip_rust_hash(char *dem)
{
	size_t n = strlen(dem);

	if (n > 19 && !strncmp(dem + n - 19, "::h", 3))
		dem[n - 19] = '\0';
}

char *syms_demangle(const char *name)
{
	char *dem;

	if (!name || name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	/* DMGL_AUTO tries Rust (legacy and v0) before C++; the Rust hash goes without VERBOSE */
	dem = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	if (dem && is_rust_legacy_hash(name))
		strip_rust_hash(dem);
	return dem;
}

/* ---- life cycle ---- */

struct syms *syms_new(const struct syms_opts *opts)
{
	struct syms *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	/*
	 * A box in trouble is no place for surprise network traffic: elfutils
	 * would ask a debuginfod server about every module without local debug
	 * info, one timeout after another.
	 */
	unsetenv("DEBUGINFOD_URLS");
	if (opts)
		s->opts = *opts;
	if (opts && opts->debuginfo_path) {
		s->debuginfo_path = strdup(opts->debuginfo_path);
		if (!s->debuginfo_path) {
			free(s);
			return NULL;
		}
		s->cb.debuginfo_path = &s->debuginfo_path;
	}
	s->opts.debuginfo_path = s->debuginfo_path;
	s->cb.find_elf = find_elf;
	s->cb.find_debuginfo = find_debuginfo;
	s->files = procfiles_new();
	if (!s->files) {
		free(s->debuginfo_path);
		free(s);
		return NULL;
	}
	return s;
}

void syms_free(struct syms *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->procs_cap; i++)
		if (s->procs[i])
			proc_free(s->procs[i]);
	for (size_t i = 0; i < s->strs_cap; i++)
		free(s->strs[i]);
	for (size_t i = 0; i < s->frames_cap; i++)
		free(s->frames[i].inlined);
	for (size_t i = 0; i < s->nretired; i++)
		dwfl_end(s->retired[i]);
	free(s->retired);
	free(s->homes);
	free(s->procs);
	free(s->frames);
	free(s->strs);
	free(s->ksyms);
	free(s->knames);
	free(s->debuginfo_path);
	procfiles_free(s->files);
	free(s);
}

void syms_get_stats(const struct syms *s, struct syms_stats *out)
{
	*out = s->stats;
}
