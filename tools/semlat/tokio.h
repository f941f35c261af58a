/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tokio's async locks (Semaphore, Mutex, RwLock, bounded mpsc senders) all wait through
 * tokio::sync::batch_semaphore: uprobes on its Acquire future's poll (entry and return) and
 * on the part of its drop that only a queued acquire runs. Found in the targets by symbol,
 * without being asked; the places inside the functions come from their machine code.
 */
#ifndef SEMLAT_TOKIO_H
#define SEMLAT_TOKIO_H

#include <stdbool.h>
#include <stdint.h>
#include "probes.h"
#include "semlat.h"

struct tokio {
	struct probes probes;
	uint32_t sem_off;    /* where the &Semaphore lies in an Acquire future */
	uint32_t permits_at; /* where its number of permits lies, plus one; 0 if not known */
	uint32_t queued_at;  /* where its "queued" flag lies, plus one */
	char why[160];	     /* when no target's tokio can be traced: why, for the report */
	const char *obj;     /* the object the probes are in */
};

/* Finds tokio in the targets; none (t->probes empty, t->why says so) is no error. */
void tokio_resolve(const int *pids, int npids, struct tokio *t);
void tokio_free(struct tokio *t);

/*
 * The shape of Acquire's drop: the offset of the first instruction after its "not queued:
 * return" test, and the offsets of the &Semaphore and of the queued flag in the future. Exposed for
 * the unit test. 0, or -1 when the code is not a shape known.
 */
int tokio_drop_shape(const uint8_t *code, size_t n, uint32_t *probe_at, uint32_t *sem_off,
		     uint32_t *queued_off);

/* The offset of the number of permits in an Acquire future, from its poll's code; 0 or -1. */
int tokio_permits_offset(const uint8_t *code, size_t n, uint32_t *off);
/* The offset of an async fn future's state byte, from its drop_in_place's code; 0 or -1. */
int async_state_offset(const uint8_t *code, size_t n, uint32_t *off);
/* The first n bytes of a function's code, from its file; 0 or -1. */
struct func;
int func_code(const struct func *f, uint8_t *buf, size_t n);

#endif
