/* ops.h — the op kernel interface. One op per file (conv.c, depthwise_conv.c, …), each
 * exporting one `const struct op_kernel op_<name>` that ops_find() returns.
 *
 * prepare() runs once at load, after the reader checked generic facts (tensor indices in range,
 * buffers present and sized, static shapes). It checks everything op-specific — input count,
 * types, shapes consistent with the options, quantization parameters (per-channel scale count
 * equals the output channels, …) — and writes a clear message into err on failure ("filter has
 * 3 dims, expected 4"; the engine prefixes the operator index, op name and version). It computes the
 * per-op parameters (quantized multipliers and shifts, clamp ranges, padding offsets, packed
 * weights) into a malloc'd n->params. prepare() may allocate; invoke() must not.
 *
 * invoke() only computes: tensors' data pointers are valid, shapes are those prepare() saw.
 * 8-bit kernels follow TFLite's reference integer kernels bit-exactly; float32 kernels
 * (float_*.c) TFLite's reference float loops within float rounding (see quant.h for the shared
 * rounding helpers). Returns nothing: every failure is caught in prepare(). */
#ifndef CAMCLASS_INFERENCE_OPS_H
#define CAMCLASS_INFERENCE_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "inference/graph.h"

struct op_kernel {
	int op;                   /* enum builtin_op */
	const char *name;         /* "CONV_2D" */
	int max_version;          /* newest op version whose semantics are implemented */
	int (*prepare)(struct graph *g, struct node *n, char *err, size_t errlen);
	void (*invoke)(struct graph *g, const struct node *n);
};

/* The 8-bit kernel for a builtin op code, or NULL when unsupported. */
const struct op_kernel *ops_find(int op);
/* The float32 kernel for a builtin op code (float_*.c; shape ops are shared), or NULL. */
const struct op_kernel *ops_find_float(int op);
/* Whether node n computes in float32: a tensor it reads or writes is FLOAT32 and it is not
 * QUANTIZE or DEQUANTIZE (which convert between the two worlds). */
bool ops_node_is_float(const struct graph *g, const struct node *n);
/* The kernel that runs n: ops_find_float() for float nodes, else ops_find(); NULL if none. */
const struct op_kernel *ops_find_for(const struct graph *g, const struct node *n);

/* Whether prepare() sets up the fast paths (packed weights, SIMD, threads) where an op has
 * them; on by default. Tests turn them off to run the reference loops on the same node and
 * compare. Read at prepare, not thread-safe: set it before loading. */
void ops_set_fast_kernels(bool enabled);
bool ops_fast_kernels(void);

#endif
