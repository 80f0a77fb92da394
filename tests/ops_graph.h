/* ops_graph.h — a one-node graph built by hand, for the tests of weighted ops (conv, depthwise,
 * their float versions, fully connected, elementwise):
 * tensor 0 input, 1 filter, 2 bias (optional: bias_absent), 3 output; and the reference-checked
 * run both tests share (tg_check_case). Compiled into the test library (tests/ops_graph.c),
 * linked into every test binary. Not thread-safe: the pseudo-random sequence is one per binary.
 * Failures end the current cmocka test. */
#ifndef CAMCLASS_TESTS_OPS_GRAPH_H
#define CAMCLASS_TESTS_OPS_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inference/graph.h"

struct op_kernel;

#define TG_MAX_TENSORS 4
#define TG_MAX_CH 64

struct tg {
	struct graph g;
	struct tensor t[TG_MAX_TENSORS];
	struct node n;
	float scales[TG_MAX_TENSORS][TG_MAX_CH];
	int32_t zps[TG_MAX_TENSORS][TG_MAX_CH];
	bool bias_absent;          /* input 2 given as -1, TFLite's "optional input absent" */
	const struct op_kernel *kernel; /* tg_prepare: the one the engine would pick (float or not) */
	char err[256];
};

/* Tensor i of the graph: type, shape, the caller's data (not copied, not freed); scale > 0 adds
 * per-tensor quantization. Tensors 1 and 2 (filter, bias) are constants. */
struct tensor *tg_tensor(struct tg *tg, int i, enum tensor_type type, int ndim, const int32_t *dims,
			 void *data, float scale, int32_t zp);
/* Per-channel quantization of tensor i: n scales along axis, zero points 0. */
void tg_per_channel(struct tg *tg, int i, int n, const float *scales, int axis);
/* The op's prepare on the one node (ninputs inputs), with the kernel the engine would pick for
 * its tensor types (ops_find_for); err holds its message. tg.g.kernel_ctx may hold a pool. */
int tg_prepare(struct tg *tg, int op, int ninputs);
void tg_run(struct tg *tg);
/* Frees what prepare allocated (the tensors' data are the caller's). */
void tg_free(struct tg *tg);

/* One CONV_2D or DEPTHWISE_CONV_2D case with pseudo-random data near the zero points. */
struct tg_case {
	enum tensor_type type;
	int batches, in_h, in_w, in_ch;
	int out_ch;                         /* CONV_2D */
	int depth_multiplier;               /* DEPTHWISE_CONV_2D: out_ch = in_ch * depth_multiplier */
	int kh, kw;
	int stride_h, stride_w, dil_h, dil_w;
	enum padding padding;
	enum activation act;
	float in_scale, out_scale;
	int32_t in_zp, out_zp, filter_zp;
	int nfilter_scales;                 /* 1 or out_ch */
	float filter_scales[TG_MAX_CH];
	bool bias;
};

/* Runs case c through the kernel of op (OP_CONV_2D or OP_DEPTHWISE_CONV_2D) and through an
 * independent double-precision reference (the dequantized convolution, rounded half away from
 * zero and clamped, sharing no code with the kernel); fails the test on the first differing
 * output, naming it. */
void tg_check_case(const struct tg_case *c, int op);

/* --- pieces of the independent double-precision references ------------------------------ */
int ref_out_size(enum padding pad, int in, int k, int stride, int dil);
int ref_pad_before(int in, int k, int stride, int dil, int out);
int32_t ref_quantize(double real, float scale, int32_t zp, enum tensor_type type,
		     enum activation act);
/* Element i of an 8-bit buffer of type t. */
int32_t get8(enum tensor_type t, const void *p, size_t i);
/* A deterministic pseudo-random sequence (each test binary starts from the same seed). */
uint32_t lcg(void);
/* A quantized value within 8 steps of zp (clamped to the type), as bytes of that type. */
uint8_t small_around(enum tensor_type t, int32_t zp);

#endif
