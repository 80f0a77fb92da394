/* engine_state.h — what a loaded engine holds, shared by the two halves of the engine: engine.c
 * (load, invoke, free) and engine_info.c (what callers ask about a loaded engine). Internal to
 * inference/: callers see only the opaque struct engine of engine.h. */
#ifndef CAMCLASS_INFERENCE_ENGINE_STATE_H
#define CAMCLASS_INFERENCE_ENGINE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inference/engine.h"
#include "inference/graph.h"

struct op_kernel;
struct xnnpack_delegate;
struct workers;

struct engine {
	struct graph g;
	bool have_graph;
	const struct op_kernel **kernels; /* per node, execution order */
	void *arena;
	size_t arena_bytes;
	void *map;                        /* file mapping (eng_load) … */
	size_t map_len;
	void *copy;                       /* … or private copy (eng_load_memory) */
	struct xnnpack_delegate *xnn;     /* NULL on the builtin backend */
	bool want_xnnpack;                /* create xnn between ordering and the arena */
	struct workers *workers;          /* builtin kernels' pool (g.kernel_ctx); NULL for 1 thread */
	enum eng_backend backend;
	int threads;
	int input, output;                /* tensor indices */
	int probe;                        /* eng_options.probe_tensor's index, or -1 */
	int folded_fp16, folded_int8;     /* weights dequantized at load (engine_fold.c) */
	bool folded_input_transpose;      /* NCHW input's TRANSPOSE to NHWC dropped (engine_fold.c) */
	const uint8_t *file;              /* the model bytes (map or copy) and their length, */
	size_t file_len;                  /* for the associated files (metadata.c) */
	struct eng_metadata meta;
};

/* engine_probe.c: finds opt->probe_tensor and makes it a second graph output (before planning) */
int eng_probe_attach(struct engine *e, const char *probe_name, const char *name, char *err, size_t errlen);

/* engine_check.c: refusals with one message each (see there). 0 or -ENOTSUP with err set. */
int eng_check_classifier(const struct graph *g, const char *name, char *err, size_t errlen);
int eng_check_ops(const struct graph *g, const char *name, char *err, size_t errlen);
/* engine_fold.c: fp16 / dynamic-range weights → float32 constants; DEQUANTIZEs of constants
 * dropped. Before plan_order(). 0, -EINVAL or -ENOMEM with err set. */
int eng_fold_constants(struct engine *e, const char *name, char *err, size_t errlen);

#endif
