// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tokio.h"

#define POLL_FN "<tokio::sync::batch_semaphore::Acquire as core::future::future::Future>::poll"
#define DROP_FN "<tokio::sync::batch_semaphore::Acquire as core::ops::drop::Drop>::drop"

/* x86-64: the displacement of a ModRM memory operand based on rdi, its length in *len; -1 if
 * the operand is not [rdi], [rdi+disp8] or [rdi+disp32]. */
static int64_t rdi_disp(const uint8_t *p, size_t n, size_t *len)
{
	int mod = p[0] >> 6;

	if ((p[0] & 7) != 7 || mod == 3)
		return -1;
	if (mod == 0) {
		*len = 1;
		return 0;
	}
	if (mod == 1 && n >= 2) {
		*len = 2;
		return (int8_t)p[1];
	}
	if (mod == 2 && n >= 5) {
		int32_t d;

		memcpy(&d, p + 1, 4);
		*len = 5;
		return d;
	}
	return -1;
}

/* jne/je rel8 or rel32 at p: its length, and in *taken where it jumps (relative to p) */
static size_t jcc(const uint8_t *p, size_t n, bool *ne, int64_t *taken)
{
	int32_t d;

	if (n >= 2 && (p[0] == 0x75 || p[0] == 0x74)) {
		*ne = p[0] == 0x75;
		*taken = 2 + (int8_t)p[1];
		return 2;
	}
	if (n >= 6 && p[0] == 0x0f && (p[1] == 0x85 || p[1] == 0x84)) {
		*ne = p[1] == 0x85;
		memcpy(&d, p + 2, 4);
		*taken = 6 + d;
		return 6;
	}
	return 0;
}

/*
 * Acquire::drop begins `if !self.queued { return }` : cmpb $0|1, queued(%rdi) and a jne/je.
 * The queued path goes on to read self.semaphore: the first 64-bit load from [rdi+disp].
 */
int tokio_drop_shape(const uint8_t *code, size_t n, uint32_t *probe_at, uint32_t *sem_off,
		     uint32_t *queued_off)
{
	for (size_t i = 0; i + 4 < n && i < 32; i++) {
		size_t len, jl;
		int64_t disp, taken, at, queued;
		bool ne;

		if (code[i] != 0x80 || ((code[i + 1] >> 3) & 7) != 7)
			continue;
		disp = rdi_disp(code + i + 1, n - i - 1, &len);
		if (disp < 0 || i + 1 + len >= n || code[i + 1 + len] > 1)
			continue;
		queued = disp;
		jl = jcc(code + i + 2 + len, n - i - 2 - len, &ne, &taken);
		if (!jl)
			continue;
		/* fall through when queued (== 1): cmp 1 + jne, or cmp 0 + je */
		at = (int64_t)(i + 2 + len);
		at = (code[i + 1 + len] == 1) == ne ? at + (int64_t)jl : at + taken;
		if (at < 0 || (size_t)at + 3 > n)
			return -1;
		for (size_t k = (size_t)at; k + 3 <= n && k < (size_t)at + 32; k++) {
			if ((code[k] == 0x48 || code[k] == 0x4c) && code[k + 1] == 0x8b) {
				disp = rdi_disp(code + k + 2, n - k - 2, &len);
				if (disp >= 0) {
					*probe_at = (uint32_t)at;
					*sem_off = (uint32_t)disp;
					*queued_off = (uint32_t)queued;
					return 0;
				}
			}
		}
		return -1;
	}
	return -1;
}

/*
 * An async fn's future is a state machine whose state byte says where it is (0 unresumed,
 * 1 returned, 2 panicked, 3.. suspended at an await): its drop_in_place reads it first, to
 * drop what that state holds.
 */
int async_state_offset(const uint8_t *code, size_t n, uint32_t *off)
{
	for (size_t i = 0; i + 3 <= n && i < 32; i++) {
		size_t len;
		int64_t disp;

		/* movzbl disp(%rdi), reg; or, with one await, cmpb $3, disp(%rdi) */
		if (code[i] == 0x0f && code[i + 1] == 0xb6)
			disp = rdi_disp(code + i + 2, n - i - 2, &len);
		else if (code[i] == 0x80 && ((code[i + 1] >> 3) & 7) == 7)
			disp = rdi_disp(code + i + 1, n - i - 1, &len);
		else
			continue;
		if (disp >= 0) {
			*off = (uint32_t)disp;
			return 0;
		}
	}
	return -1;
}

/* Acquire::poll reads self.num_permits early: the first 32-bit load from [rdi+disp]. */
int tokio_permits_offset(const uint8_t *code, size_t n, uint32_t *off)
{
	for (size_t i = 0; i + 3 <= n && i < 48; i++) {
		size_t at = i + (code[i] >= 0x40 && code[i] <= 0x47), len; /* REX, not W */
		int64_t disp;

		if (code[at] != 0x8b || at + 2 > n)
			continue;
		if (at == i && i > 0 && code[i - 1] >= 0x48 && code[i - 1] <= 0x4f)
			continue; /* REX.W: a 64-bit load */
		disp = rdi_disp(code + at + 1, n - at - 1, &len);
		if (disp >= 0) {
			*off = (uint32_t)disp;
			return 0;
		}
	}
	return -1;
}

int func_code(const struct func *f, uint8_t *buf, size_t n)
{
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	ssize_t got = fd < 0 ? -1 : pread(fd, buf, n, (off_t)f->offset);

	if (fd >= 0)
		close(fd);
	return got == (ssize_t)n ? 0 : -1;
}

/* pid's tokio, if it has one: poll's probes, and drop's at its queued path. */
static void resolve_pid(int pid, struct tokio *t)
{
	struct probes *p = &t->probes;
	size_t from = p->funcs.n;
	uint8_t code[128];
	uint32_t at, off, permits, queued;

	if (probes_find_known(p, pid, DROP_FN, "batch_semaphore", TOKIO_DROP, false) != 1)
		goto none;
	if (func_code(&p->funcs.v[from], code, sizeof(code)) ||
	    tokio_drop_shape(code, sizeof(code), &at, &off, &queued)) {
		snprintf(
			t->why, sizeof(t->why),
			"tokio found in PID %d, but its Acquire::drop is not a shape semlat knows: "
			"async waits not traced",
			pid);
		goto none;
	}
	if (probes_find_known(p, pid, POLL_FN, "batch_semaphore", TOKIO_POLL, true) != 1) {
		snprintf(t->why, sizeof(t->why),
			 "tokio found in PID %d, but not Acquire::poll (inlined by LTO?): async "
			 "waits not traced",
			 pid);
		goto none;
	}
	if (t->obj && off != t->sem_off) {
		snprintf(t->why, sizeof(t->why),
			 "PID %d's tokio is built unlike the first target's: its async waits are "
			 "not "
			 "traced",
			 pid);
		goto none;
	}
	/* the permits' place tells RwLock writers; without it, kinds come from frames only */
	if (!func_code(&p->funcs.v[from + 1], code, sizeof(code)) &&
	    !tokio_permits_offset(code, sizeof(code), &permits))
		t->permits_at = permits + 1;
	p->funcs.v[from].offset += at;
	t->sem_off = off;
	t->queued_at = queued + 1;
	t->obj = p->funcs.v[from].obj;
	return;
none:
	funcs_truncate(&p->funcs, from); /* this pid's functions: all or none */
}

void tokio_resolve(const int *pids, int npids, struct tokio *t)
{
	for (int i = 0; i < npids; i++)
		resolve_pid(pids[i], t);
	if (!t->probes.funcs.n && !t->why[0])
		snprintf(t->why, sizeof(t->why),
			 "no async runtime (tokio) found: futex waits only");
}

void tokio_free(struct tokio *t)
{
	probes_free(&t->probes);
}
