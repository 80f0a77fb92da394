/* add.c — ADD on int8/uint8 with numpy broadcasting, following TFLite 2.8's quantized add
 * (reference_integer_ops::Add / reference_ops::Add and BroadcastAdd4DSlow, which compute every
 * element the same way).
 *
 * Both inputs are brought to a common scale before adding: each (x - zp) is shifted left by 20
 * bits, scaled by in_scale / (2 * max in_scale) (a multiplier < 1), summed, and the sum scaled by
 * 2 * max in_scale / (2^20 * out_scale). Those three multipliers are derived exactly as TFLite's
 * Prepare does (QuantizeMultiplierSmallerThanOneExp).
 *
 * Fast path (ops_fast_kernels(), same-shape inputs), elements split across the workers of
 * g->kernel_ctx:
 * - x86-64 with AVX2: the same steps 32 elements at a time (add_avx2.c, exact as argued there),
 *   the last few of a piece with the scalar steps. ~0.68 ns per element on one thread, and it
 *   scales with the workers: the 64 KiB table below, cold after the rest of the model ran, had
 *   each worker pull the lines it touched, so a second thread gained nothing on MobileNetV2's
 *   14×14 and 7×7 ADDs;
 * - elsewhere an output byte depends on the two input bytes alone, so prepare evaluates the
 *   formula above (add_one's steps, through the 256-entry tables of each input's scaled value)
 *   for all 65536 pairs, and invoke looks each pair up — the same function, hence the same bytes,
 *   at one load per element where the scalar arithmetic took ~1 ns (64 KiB per ADD node). */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/fast/add_simd.h"
#include "inference/ops/fast/gemm.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/ops/fast/workers.h"
#include "inference/quant.h"

#define ADD_LEFT_SHIFT 20
#define ADD_GRAIN 256 /* fewest elements of a piece for the workers */

struct add_params {
	struct ku_bcast bc;
	struct add_simd q;      /* the formula's quantities (add_simd.h) */
	bool fast;              /* same-shape fast path */
	bool avx2;              /* fast path by add_same_avx2 (else pair_out) */
	uint8_t *pair_out;      /* output byte for input bytes (a, b) at a * 256 + b, or NULL */
};

/* One input's contribution: (x - zp) << 20 scaled by its multiplier. |x - zp| <= 255, so the
 * shifted value is below 2^28: no overflow; the scaled one (multiplier < 1) is smaller still, so
 * the sum of two fits as well. */
static inline int32_t add_scaled(int32_t x, int32_t offset, int32_t multiplier, int shift)
{
	return q_mul_by_quantized_multiplier_smaller_than_one((x + offset) * (1 << ADD_LEFT_SHIFT),
							       multiplier, shift);
}

static inline int32_t add_out(const struct add_simd *q, int32_t s1, int32_t s2)
{
	const int32_t raw = q_mul_by_quantized_multiplier_smaller_than_one(s1 + s2, q->out_multiplier,
									 q->out_shift) + q->out_offset;
	return q_clamp(raw, q->act_min, q->act_max);
}

int add_quant_prepare(const struct node *n, const struct tensor *a, const struct tensor *b,
		      const struct tensor *out, struct add_simd *q, char *err, size_t errlen)
{
	const double twice_max_in_scale = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
	const double real1 = (double)a->scale / twice_max_in_scale;
	const double real2 = (double)b->scale / twice_max_in_scale;
	const double real_out = twice_max_in_scale /
				(double)((float)(1 << ADD_LEFT_SHIFT) * out->scale);
	if (q_quantize_multiplier_smaller_than_one(real1, &q->in1_multiplier, &q->in1_shift) < 0 ||
	    q_quantize_multiplier_smaller_than_one(real2, &q->in2_multiplier, &q->in2_shift) < 0 ||
	    q_quantize_multiplier_smaller_than_one(real_out, &q->out_multiplier, &q->out_shift) < 0) {
		return ku_fail(err, errlen, n, "scales %g, %g -> %g give multipliers out of range",
			       (double)a->scale, (double)b->scale, (double)out->scale);
	}
	if (q_activation_range(n->opt.add.activation, out->type, out->scale, out->zero_point,
			       &q->act_min, &q->act_max) < 0) {
		return ku_fail(err, errlen, n, "unsupported fused activation %s",
			       q_activation_name(n->opt.add.activation));
	}
	q->in1_offset = -a->zero_point;
	q->in2_offset = -b->zero_point;
	q->out_offset = out->zero_point;
	q->is_signed = out->type == TT_INT8;
	return 0;
}

static int add_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *a, *b, *out;
	struct ku_bcast bc;
	int r = ku_prepare_binary(g, n, &a, &b, &out, &bc, err, errlen);
	if (r < 0)
		return r;
	const bool fast = ops_fast_kernels() && bc.same_shape;
	bool avx2 = false;
#if defined(__x86_64__)
	avx2 = fast && gemm_isa_level() >= GEMM_ISA_SIMD;
#endif
	struct add_params *p = calloc(1, sizeof(*p) + (fast && !avx2 ? 65536 : 0));
	if (!p)
		return -ENOMEM;
	p->bc = bc;
	r = add_quant_prepare(n, a, b, out, &p->q, err, errlen);
	if (r < 0) {
		free(p);
		return r;
	}
	p->fast = fast;
	p->avx2 = avx2;
	if (fast && !avx2) {
		const struct add_simd *q = &p->q;
		int32_t scaled1[256], scaled2[256]; /* by stored byte */
		for (int byte = 0; byte < 256; byte++) {
			const int32_t x = q->is_signed ? (int32_t)(int8_t)byte : byte;
			scaled1[byte] = add_scaled(x, q->in1_offset, q->in1_multiplier, q->in1_shift);
			scaled2[byte] = add_scaled(x, q->in2_offset, q->in2_multiplier, q->in2_shift);
		}
		p->pair_out = (uint8_t *)(p + 1);
		for (int a_byte = 0; a_byte < 256; a_byte++)
			for (int b_byte = 0; b_byte < 256; b_byte++)
				ku_store8(q->is_signed, p->pair_out, (size_t)a_byte * 256 + b_byte,
					  add_out(q, scaled1[a_byte], scaled2[b_byte]));
	}
	free(n->params);
	n->params = p;
	return 0;
}

static inline int32_t add_one(const struct add_simd *q, int32_t x1, int32_t x2)
{
	return add_out(q, add_scaled(x1, q->in1_offset, q->in1_multiplier, q->in1_shift),
		       add_scaled(x2, q->in2_offset, q->in2_multiplier, q->in2_shift));
}

struct add_job {
	const struct graph *g;
	const struct node *n;
};

/* Same-shape fast path: elements [begin, end). */
static void add_fast_range(void *arg, int worker, int begin, int end)
{
	const struct add_job *job = arg;
	const struct node *n = job->n;
	const struct add_params *p = n->params;
	const uint8_t *a = job->g->tensors[n->inputs[0]].data, *b = job->g->tensors[n->inputs[1]].data;
	uint8_t *out = job->g->tensors[n->outputs[0]].data;
	const bool is_signed = p->q.is_signed;
	(void)worker;
	int i = begin;
	if (p->pair_out) {
		for (; i < end; i++)
			out[i] = p->pair_out[(size_t)a[i] * 256 + b[i]];
		return;
	}
#if defined(__x86_64__)
	i += add_same_avx2(&p->q, a + begin, b + begin, end - begin, out + begin);
#endif
	for (; i < end; i++) { /* the last few (fewer than 32) */
		const int32_t x1 = ku_load8(is_signed, a, (size_t)i), x2 = ku_load8(is_signed, b, (size_t)i);
		ku_store8(is_signed, out, (size_t)i, add_one(&p->q, x1, x2));
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
	if (p->fast) {
		struct add_job job = { .g = g, .n = n };
		/* An element costs ~0.68 ns with AVX2, ~0.55 ns by table (measured on MobileNetV2's
		 * 14×14 and 28×28 ADDs): about 68 or 55 of the GEMM multiply-adds
		 * workers_run_shared() counts. */
		workers_run_shared(g->kernel_ctx, add_fast_range, &job, total, ADD_GRAIN,
				   (p->avx2 ? 68LL : 55LL) * total);
		return;
	}
	int idx[GRAPH_MAX_DIMS] = { 0 };
	size_t ia = 0, ib = 0;
	for (int i = 0; i < total; i++) {
		size_t ra = bc->same_shape ? (size_t)i : ia, rb = bc->same_shape ? (size_t)i : ib;
		int32_t v = add_one(&p->q, ku_load8(is_signed, a->data, ra), ku_load8(is_signed, b->data, rb));
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
