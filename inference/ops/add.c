/* add.c — ADD on int8/uint8 with numpy broadcasting, following TFLite 2.8's quantized add
 * (reference_integer_ops::Add / reference_ops::Add and BroadcastAdd4DSlow, which compute every
 * element the same way).
 *
 * Both inputs are brought to a common scale before adding: each (x - zp) is shifted left by 20
 * bits, scaled by in_scale / (2 * max in_scale) (a multiplier < 1), summed, and the sum scaled by
 * 2 * max in_scale / (2^20 * out_scale). Those three multipliers are derived exactly as TFLite's
 * Prepare does (QuantizeMultiplierSmallerThanOneExp).
 *
 * Fast path (ops_fast_kernels()): the scaled value of each input depends on its 8-bit value
 * alone, so prepare tabulates it for all 256 values with the same function (add_scaled) and
 * invoke looks both up — the same int32 values, hence the same outputs. The output step is
 * MultiplyByQuantizedMultiplierSmallerThanOne, which is requant.h's stage with a shift <= 0 and
 * no bias, so same-shape adds sum chunks of ADD_CHUNK elements and hand them to the SIMD
 * requantization (multiplier and shift repeated per element of a chunk). Same-shape adds are
 * split across the workers of g->kernel_ctx. */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/ops/requant.h"
#include "inference/ops/workers.h"
#include "inference/quant.h"

#define ADD_LEFT_SHIFT 20
#define ADD_CHUNK 256 /* elements per requantization call in the fast path */

struct add_params {
	struct ku_bcast bc;
	int32_t in1_offset, in2_offset, out_offset;
	int32_t in1_multiplier, in2_multiplier, out_multiplier;
	int in1_shift, in2_shift, out_shift;
	int32_t act_min, act_max;
	bool fast;
	int32_t scaled1[256], scaled2[256]; /* fast path: add_scaled of every 8-bit value */
	requant_row_fn requant;
	int32_t out_multipliers[ADD_CHUNK];  /* out_multiplier, once per element of a chunk */
	int out_shifts[ADD_CHUNK];
};

/* One input's contribution: (x - zp) << 20 scaled by its multiplier. |x - zp| <= 255, so the
 * shifted value is below 2^28: no overflow; the scaled one (multiplier < 1) is smaller still, so
 * the sum of two fits as well. */
static inline int32_t add_scaled(int32_t x, int32_t offset, int32_t multiplier, int shift)
{
	return q_mul_by_quantized_multiplier_smaller_than_one((x + offset) * (1 << ADD_LEFT_SHIFT),
							       multiplier, shift);
}

static inline int32_t add_out(const struct add_params *p, int32_t s1, int32_t s2)
{
	const int32_t raw = q_mul_by_quantized_multiplier_smaller_than_one(s1 + s2, p->out_multiplier,
									 p->out_shift) + p->out_offset;
	return q_clamp(raw, p->act_min, p->act_max);
}

static int add_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *a, *b, *out;
	struct ku_bcast bc;
	int r = ku_prepare_binary(g, n, &a, &b, &out, &bc, err, errlen);
	if (r < 0)
		return r;
	struct add_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bc = bc;
	const double twice_max_in_scale = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
	const double real1 = (double)a->scale / twice_max_in_scale;
	const double real2 = (double)b->scale / twice_max_in_scale;
	const double real_out = twice_max_in_scale /
				(double)((float)(1 << ADD_LEFT_SHIFT) * out->scale);
	if (q_quantize_multiplier_smaller_than_one(real1, &p->in1_multiplier, &p->in1_shift) < 0 ||
	    q_quantize_multiplier_smaller_than_one(real2, &p->in2_multiplier, &p->in2_shift) < 0 ||
	    q_quantize_multiplier_smaller_than_one(real_out, &p->out_multiplier, &p->out_shift) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "scales %g, %g -> %g give multipliers out of range",
			       (double)a->scale, (double)b->scale, (double)out->scale);
	}
	if (q_activation_range(n->opt.add.activation, out->type, out->scale, out->zero_point,
			       &p->act_min, &p->act_max) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "unsupported fused activation %s",
			       q_activation_name(n->opt.add.activation));
	}
	p->in1_offset = -a->zero_point;
	p->in2_offset = -b->zero_point;
	p->out_offset = out->zero_point;
	p->fast = ops_fast_kernels();
	p->requant = requant_select();
	for (int i = 0; i < ADD_CHUNK; i++) {
		p->out_multipliers[i] = p->out_multiplier;
		p->out_shifts[i] = p->out_shift; /* <= 0: a right shift, as smaller_than_one does */
	}
	const int32_t lowest = out->type == TT_INT8 ? -128 : 0;
	for (int i = 0; i < 256; i++) {
		p->scaled1[i] = add_scaled(lowest + i, p->in1_offset, p->in1_multiplier, p->in1_shift);
		p->scaled2[i] = add_scaled(lowest + i, p->in2_offset, p->in2_multiplier, p->in2_shift);
	}
	free(n->params);
	n->params = p;
	return 0;
}

static inline int32_t add_one(const struct add_params *p, int32_t x1, int32_t x2)
{
	return add_out(p, add_scaled(x1, p->in1_offset, p->in1_multiplier, p->in1_shift),
		       add_scaled(x2, p->in2_offset, p->in2_multiplier, p->in2_shift));
}

struct add_job {
	const struct graph *g;
	const struct node *n;
};

/* Same-shape fast path: elements [begin, end) of this worker's share, by table lookup. */
static void add_fast_range(void *arg, int worker, int begin, int end)
{
	const struct add_job *job = arg;
	const struct node *n = job->n;
	const struct add_params *p = n->params;
	const struct tensor *a = &job->g->tensors[n->inputs[0]], *b = &job->g->tensors[n->inputs[1]];
	const struct tensor *out = &job->g->tensors[n->outputs[0]];
	const struct requant rq = {
		.bias = NULL, .multiplier = p->out_multipliers, .shift = p->out_shifts,
		.output_offset = p->out_offset, .act_min = p->act_min, .act_max = p->act_max,
	};
	const bool is_signed = out->type == TT_INT8;
	const int index_bias = is_signed ? 128 : 0; /* table index of the type's lowest value */
	int32_t sums[ADD_CHUNK];
	(void)worker;
	for (int i0 = begin; i0 < end; i0 += ADD_CHUNK) {
		const int len = end - i0 < ADD_CHUNK ? end - i0 : ADD_CHUNK;
		for (int i = 0; i < len; i++)
			sums[i] = p->scaled1[ku_load8(is_signed, a->data, (size_t)(i0 + i)) + index_bias] +
				  p->scaled2[ku_load8(is_signed, b->data, (size_t)(i0 + i)) + index_bias];
		p->requant(&rq, sums, len, is_signed, out->data + i0);
	}
}

static void add_invoke(struct graph *g, const struct node *n)
{
	const struct add_params *p = n->params;
	const struct tensor *a = &g->tensors[n->inputs[0]], *b = &g->tensors[n->inputs[1]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = out->type == TT_INT8;
	const int total = tensor_num_elements(out);
	const struct ku_bcast *bc = &p->bc;
	if (p->fast && bc->same_shape) {
		struct add_job job = { .g = g, .n = n };
		/* An element (two lookups and the output stage) costs ~1 ns, about 100 of the GEMM
		 * multiply-adds workers_run_sized() counts. */
		workers_run_shared(g->kernel_ctx, add_fast_range, &job, tensor_num_elements(out),
				   ADD_CHUNK, 100LL * tensor_num_elements(out));
		return;
	}
	int idx[GRAPH_MAX_DIMS] = { 0 };
	size_t ia = 0, ib = 0;
	for (int i = 0; i < total; i++) {
		size_t ra = bc->same_shape ? (size_t)i : ia, rb = bc->same_shape ? (size_t)i : ib;
		int32_t v = add_one(p, ku_load8(is_signed, a->data, ra), ku_load8(is_signed, b->data, rb));
		ku_store8(is_signed, out->data, i, v);
		if (!bc->same_shape)
			ku_bcast_next(bc, idx, &ia, &ib);
	}
}

const struct op_kernel op_add = {
	.op = OP_ADD,
	.name = "ADD",
	.max_version = 4,
	.prepare = add_prepare,
	.invoke = add_invoke,
};
