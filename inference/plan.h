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
 * (arena larger than max_arena_bytes), with err naming the operator and tensor. */
#ifndef CAMCLASS_INFERENCE_PLAN_H
#define CAMCLASS_INFERENCE_PLAN_H

#include <stddef.h>

#include "inference/graph.h"

#define PLAN_ALIGN 64

int plan_graph(struct graph *g, size_t max_arena_bytes, void **ret_arena, size_t *ret_arena_bytes,
	       char *err, size_t errlen);

#endif
