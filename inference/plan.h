/* plan.h — execution order and activation memory for a graph read by model.c.
 *
 * plan_graph() checks the dataflow (every tensor an operator reads is a constant, a graph input
 * or the output of some operator; no tensor written twice; no constant or input overwritten;
 * every graph output produced; no cycle), reorders g->nodes into a topological execution order
 * (stable: file order where the dataflow allows it), then places every non-constant tensor in
 * one arena, reusing memory between tensors whose lifetimes do not overlap (greedy first-fit,
 * largest first; PLAN_ALIGN-byte aligned offsets). Graph inputs live for the whole run so the
 * caller's input survives an invoke; outputs live from their producer to the end.
 *
 * On success the arena (PLAN_ALIGN-aligned, zeroed) belongs to the caller (free() it) and every
 * non-constant tensor's data points into it. Errors: -EINVAL (bad dataflow), -ENOMEM, -E2BIG
 * (arena larger than max_arena_bytes), with err naming the operator and tensor.
 *
 * plan_graph() is the two steps in one: plan_order() (checks and reordering; g->nodes is in
 * execution order afterwards), then plan_arena() on the ordered graph. Between them a caller
 * may decide that some tensors need no memory (tensors an XNNPACK runtime keeps to itself):
 * plan_arena() leaves their data NULL when skip_tensor[t] is true (skip_tensor may be NULL;
 * graph inputs and outputs always get memory). */
#ifndef CAMCLASS_INFERENCE_PLAN_H
#define CAMCLASS_INFERENCE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "inference/graph.h"

#define PLAN_ALIGN 64
/* Slack allocated after the arena's last tensor (not counted in *ret_arena_bytes): XNNPACK may
 * read (never write) up to XNN_EXTRA_BYTES (16) past the end of an input; every other tensor is
 * followed by its PLAN_ALIGN rounding or by another tensor of the arena. */
#define PLAN_TAIL_BYTES PLAN_ALIGN

int plan_graph(struct graph *g, size_t max_arena_bytes, void **ret_arena, size_t *ret_arena_bytes,
	       char *err, size_t errlen);
int plan_order(struct graph *g, char *err, size_t errlen);
int plan_arena(struct graph *g, const bool *skip_tensor, size_t max_arena_bytes, void **ret_arena,
	       size_t *ret_arena_bytes, char *err, size_t errlen);

#endif
