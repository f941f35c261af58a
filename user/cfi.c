// SPDX-License-Identifier: GPL-2.0
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cfi.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA	16

struct fde_list {
	uint64_t *pcs; /* where each FDE begins, sorted */
	size_t n;
};

static bool section_named(Elf *elf, const char *name, GElf_Shdr *sh, Elf_Data **data)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh) || sh->sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name)) {
			*data = elf_getdata(scn, NULL);
			return *data && (*data)->d_size >= 4;
		}
	}
	return false;
}

static int encoded_size(unsigned char enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		return 4;
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		return 8;
	default:
		return -1;
	}
}

/*
 * The FDEs' start addresses from .eh_frame_hdr's search table. Linkers
 * write it as 32-bit offsets from the header (datarel | sdata4): that is
 * the one encoding read here.
 */
static int fde_list_read(Elf *elf, struct fde_list *l)
{
	const unsigned char *d;
	Elf_Data *data;
	GElf_Shdr sh;
	int ptr_size, count_size;
	uint32_t count;
	size_t off;

	if (!section_named(elf, ".eh_frame_hdr", &sh, &data))
		return -ENOENT;
	d = data->d_buf;
	ptr_size = encoded_size(d[1]);
	count_size = encoded_size(d[2]);
	if (d[0] != 1 || d[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4) || ptr_size < 0 ||
	    count_size != 4)
		return -ENOENT;
	off = 4 + ptr_size;
	if (off + 4 > data->d_size)
		return -ENOENT;
	memcpy(&count, d + off, 4);
	off += 4;
	if (off + (size_t)count * 8 > data->d_size)
		return -ENOENT;
	l->pcs = malloc((count ? count : 1) * sizeof(*l->pcs));
	if (!l->pcs)
		return -ENOMEM;
	for (uint32_t i = 0; i < count; i++) {
		int32_t rel;

		memcpy(&rel, d + off + i * 8, 4);
		l->pcs[i] = sh.sh_addr + rel;
	}
	l->n = count;
	return 0;
}

/* A register's offset from the CFA where the rule is "saved at CFA + N", else false. */
static bool saved_at(const Dwarf_Op *ops, size_t nops, int32_t *off)
{
	if (!ops || nops < 1 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (nops == 1) {
		*off = 0;
		return true;
	}
	if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int32_t)(int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* breg7 8; breg16 0; lit15; and; litN; ge; lit3; shl; plus: a PLT entry of 16 bytes */
static bool is_plt_rule(const Dwarf_Op *ops, size_t nops, int *threshold)
{
	static const uint8_t shape[] = {DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
					DW_OP_ge,    DW_OP_lit3,   DW_OP_shl,	DW_OP_plus};

	if (nops != sizeof(shape) || ops[0].number != 8 || ops[1].number != 0)
		return false;
	for (size_t i = 0; i < nops; i++)
		if (shape[i] && ops[i].atom != shape[i])
			return false;
	if (ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit31)
		return false;
	*threshold = ops[4].atom - DW_OP_lit0;
	return true;
}

static void cfa_of(Dwarf_Frame *f, struct cfi_row *r)
{
	Dwarf_Op *ops;
	size_t nops;
	int threshold;

	r->cfa = CFA_NONE;
	if (dwarf_frame_cfa(f, &ops, &nops) || !nops)
		return;
	if (nops == 1 && ops[0].atom == DW_OP_bregx &&
	    (ops[0].number == REG_RSP || ops[0].number == REG_RBP)) {
		r->cfa = ops[0].number == REG_RSP ? CFA_RSP : CFA_RBP;
		r->cfa_off = (int32_t)(int64_t)ops[0].number2;
	} else if (is_plt_rule(ops, nops, &threshold)) {
		r->cfa = CFA_PLT;
		r->cfa_off = 8;
		r->rbp_off = threshold;
	}
}

/* The rule at one address; false where the return address is not at CFA - 8. */
static void row_of(Dwarf_Frame *f, struct cfi_row *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int32_t off;

	if (dwarf_frame_register(f, REG_RA, mem, &ops, &nops))
		return;
	if (!nops && ops == mem) {
		r->cfa = CFA_END; /* return address undefined: the thread's first frame */
		return;
	}
	if (!saved_at(ops, nops, &off) || off != -8)
		return;
	cfa_of(f, r);
	if (r->cfa == CFA_NONE || r->cfa == CFA_PLT)
		return;
	if (!dwarf_frame_register(f, REG_RBP, mem, &ops, &nops) && saved_at(ops, nops, &off)) {
		r->rbp = RBP_AT;
		r->rbp_off = off;
	}
}

static bool same_rule(const struct cfi_row *a, const struct cfi_row *b)
{
	return a->cfa == b->cfa && a->rbp == b->rbp && a->rbp_off == b->rbp_off &&
	       a->cfa_off == b->cfa_off;
}

static int push(struct cfi_table *t, size_t *cap, const struct cfi_row *r)
{
	if (t->n && same_rule(&t->rows[t->n - 1], r))
		return 0;
	if (t->n && t->rows[t->n - 1].pc == r->pc) {
		t->rows[t->n - 1] = *r;
		return 0;
	}
	if (t->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		struct cfi_row *rows = realloc(t->rows, ncap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		t->rows = rows;
		*cap = ncap;
	}
	t->rows[t->n++] = *r;
	return 0;
}

/* The rows of one FDE, from pc up to where its code ends (a CFA_NONE row there). */
static int fde_rows(Dwarf_CFI *cfi, uint64_t pc, uint64_t next, struct cfi_table *t, size_t *cap)
{
	int err = 0;

	while (!err && pc < next) {
		struct cfi_row r = {.pc = (uint32_t)pc};
		Dwarf_Frame *f;
		Dwarf_Addr start, end;

		if (pc > UINT32_MAX)
			return -ERANGE;
		if (dwarf_cfi_addrframe(cfi, pc, &f))
			return push(t, cap, &r); /* a gap up to the next FDE */
		/* after a restore_state, start may lie before pc: the rule holds from pc */
		if (dwarf_frame_info(f, &start, &end, NULL) < 0 || end <= pc) {
			free(f);
			return push(t, cap, &r);
		}
		row_of(f, &r);
		free(f);
		err = push(t, cap, &r);
		pc = end;
	}
	return err;
}

long cfi_fde_count(int fd)
{
	struct fde_list l = {0};
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -EIO;
	err = fde_list_read(elf, &l);
	elf_end(elf);
	free(l.pcs);
	return err ? err : (long)l.n;
}

int cfi_vaddr_of(int fd, uint64_t offset, uint64_t *vaddr)
{
	size_t n = 0;
	int err = -ENOENT;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_getphdrnum(elf, &n)) {
		if (elf)
			elf_end(elf);
		return -EIO;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		/*
		 * A mapping starts at the page below its segment, which lld packs unaligned in the
		 * file: that page may also hold the end of the segment before. The executable
		 * segment is the one an executable mapping shows.
		 */
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    offset < (ph.p_offset & ~(uint64_t)0xfff) ||
		    offset >= ph.p_offset + ph.p_filesz)
			continue;
		if (err || (ph.p_flags & PF_X)) {
			*vaddr = ph.p_vaddr - (ph.p_offset - offset);
			err = 0;
		}
		if (ph.p_flags & PF_X)
			break;
	}
	elf_end(elf);
	return err;
}

struct cfi_build {
	Elf *elf;
	Dwarf_CFI *cfi;
	struct fde_list l;
	size_t next; /* the FDE to read next */
	size_t cap;  /* of t.rows */
	struct cfi_table t;
};

struct cfi_build *cfi_build_begin(int fd, int *err)
{
	struct cfi_build *b = calloc(1, sizeof(*b));

	*err = -ENOMEM;
	if (!b)
		return NULL;
	elf_version(EV_CURRENT);
	b->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	*err = b->elf ? fde_list_read(b->elf, &b->l) : -EIO;
	b->cfi = *err ? NULL : dwarf_getcfi_elf(b->elf);
	if (!*err && !b->cfi)
		*err = -ENOENT;
	if (!*err)
		return b;
	cfi_build_end(b, NULL);
	return NULL;
}

int cfi_build_step(struct cfi_build *b, size_t fdes)
{
	const struct fde_list *l = &b->l;
	int err = 0;

	for (; !err && fdes && b->next < l->n; fdes--, b->next++) {
		uint64_t end = b->next + 1 < l->n ? l->pcs[b->next + 1] : UINT64_MAX;

		err = fde_rows(b->cfi, l->pcs[b->next], end, &b->t, &b->cap);
	}
	return err ? err : b->next < l->n;
}

size_t cfi_build_left(const struct cfi_build *b)
{
	return b->l.n - b->next;
}

void cfi_build_end(struct cfi_build *b, struct cfi_table *t)
{
	if (t) {
		*t = b->t;
		b->t = (struct cfi_table){0};
	}
	cfi_table_free(&b->t);
	if (b->cfi)
		dwarf_cfi_end(b->cfi);
	if (b->elf)
		elf_end(b->elf);
	free(b->l.pcs);
	free(b);
}

int cfi_table_build(int fd, struct cfi_table *t)
{
	int err;
	struct cfi_build *b = cfi_build_begin(fd, &err);

	memset(t, 0, sizeof(*t));
	if (!b)
		return err;
	while ((err = cfi_build_step(b, SIZE_MAX)) > 0)
		;
	cfi_build_end(b, err ? NULL : t);
	return err;
}

void cfi_table_free(struct cfi_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

const struct cfi_row *cfi_table_find(const struct cfi_table *t, uint64_t pc)
{
	size_t lo = 0, hi = t->n;

	/* the last row whose pc <= the address */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}
