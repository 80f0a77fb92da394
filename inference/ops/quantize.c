/* quantize.c — QUANTIZE: float32 → int8/uint8, and int8/uint8 → int8/uint8 requantization,
 * following TFLite 2.8: reference_ops::AffineQuantize (round half away from zero of x / scale,
 * in float) and reference_ops::Requantize (one multiplier in_scale / out_scale derived in double,
 * MultiplyByQuantizedMultiplier; its int8↔uint8 "xor 0x80" fast path gives the same bytes as the
 * general formula, so there is only the general one here).
 *
 * Fast path (ops_fast_kernels()): an 8-bit → 8-bit requantization maps each of the 256 input
 * bytes to one output byte, so prepare evaluates the general formula for all of them and invoke
 * looks the bytes up. When that table is b ^ 0x80 (uint8 <-> int8 with the same scale and zero
 * points 128 apart: the converter's usual input QUANTIZE), invoke flips the sign bits eight
 * bytes at a time instead. Float32 input goes through a SIMD loop where the CPU has one
 * (quantize_simd.h), the scalar loop below finishing the tail; that path splits the elements
 * across the workers of g->kernel_ctx (the tf2 MobileNetV2's 224×224×3 input took ~13 µs on the
 * calling thread while the other worker waited). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/fast/gemm.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/ops/fast/quantize_simd.h"
#include "inference/ops/fast/workers.h"
#include "inference/quant.h"

/* Fewest elements of a piece for the workers: a multiple of the SIMD loop's 32, so a scalar
 * tail only ends a worker's share. */
#define QUANTIZE_GRAIN 1024

struct quantize_params {
	int count;
	int32_t in_zp, out_zp;
	int32_t multiplier;
	int shift;
	int32_t qmin, qmax;
	float out_scale;
	bool use_table;
	bool flip_sign_bits;    /* the table is b ^ 0x80 */
	bool simd_f32;          /* float32 input: quantize_f32_avx2 first (fast path) */
	uint8_t table[256];     /* 8-bit input: output byte for input byte b (fast path) */
};

static int32_t requantize_one(const struct quantize_params *p, int32_t x)
{
	const int32_t v = q_mul_by_quantized_multiplier(x - p->in_zp, p->multiplier, p->shift) + p->out_zp;
	return q_clamp(v, p->qmin, p->qmax);
}

static int quantize_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_take_io(g, n, 1, 1, &in, &out, err, errlen);
	if (r < 0)
		return r;
	if ((r = ku_check_q8(n, out, "output", err, errlen)) < 0)
		return r;
	if (in->type != TT_FLOAT32 && (r = ku_check_q8(n, in, "input", err, errlen)) < 0)
		return r;
	if ((r = ku_check_out_shape(n, out, in->ndim, in->dims, err, errlen)) < 0)
		return r;
	struct quantize_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->count = tensor_num_elements(in);
	p->out_zp = out->zero_point;
	p->out_scale = out->scale;
	q_type_range(out->type, &p->qmin, &p->qmax);
#if defined(__x86_64__)
	p->simd_f32 = in->type == TT_FLOAT32 && ops_fast_kernels() && gemm_isa_level() >= GEMM_ISA_SIMD;
#endif
	if (in->type != TT_FLOAT32) {
		p->in_zp = in->zero_point;
		double real = (double)in->scale / (double)out->scale;
		if (q_quantize_multiplier(real, &p->multiplier, &p->shift) < 0) {
			free(p);
			return ku_fail(err, errlen, n, "requantize multiplier %g out of range", real);
		}
		p->use_table = ops_fast_kernels();
		p->flip_sign_bits = p->use_table;
		for (int b = 0; b < 256; b++) {
			const int32_t x = in->type == TT_INT8 ? (int32_t)(int8_t)b : b;
			p->table[b] = (uint8_t)requantize_one(p, x);
			p->flip_sign_bits = p->flip_sign_bits && p->table[b] == (uint8_t)(b ^ 0x80);
		}
	}
	free(n->params);
	n->params = p;
	return 0;
}

struct quantize_job {
	const struct graph *g;
	const struct node *n;
};

/* The general path over elements [begin, end): the SIMD loop first where there is one. */
static void quantize_range(void *arg, int worker, int begin, int end)
{
	const struct quantize_job *job = arg;
	const struct quantize_params *p = job->n->params;
	const struct tensor *in = &job->g->tensors[job->n->inputs[0]];
	const struct tensor *out = &job->g->tensors[job->n->outputs[0]];
	const bool out_signed = out->type == TT_INT8, in_signed = in->type == TT_INT8;
	const float *fin = (const float *)in->data;
	(void)worker;
	int i = begin;
#if defined(__x86_64__)
	if (p->simd_f32)
		i += quantize_f32_avx2(fin + begin, end - begin, p->out_scale, p->out_zp, p->qmin,
				       p->qmax, out_signed, out->data + begin);
#endif
	for (; i < end; i++) {
		int32_t v;
		if (in->type == TT_FLOAT32) {
			/* (int32)round(x / scale) + zp, like AffineQuantize. Beyond +-2^30 every value
			 * clamps to the same end of the 8-bit range, so limiting q first keeps the
			 * float-to-int conversion defined (NaN goes to the low end). */
			float q = q_round_f(fin[i] / p->out_scale);
			q = q >= -1073741824.0f ? q : -1073741824.0f;
			q = q <= 1073741824.0f ? q : 1073741824.0f;
			v = (int32_t)q + p->out_zp;
		} else {
			v = requantize_one(p, ku_load8(in_signed, in->data, i));
		}
		v = q_clamp(v, p->qmin, p->qmax);
		ku_store8(out_signed, out->data, i, v);
	}
}

static void quantize_invoke(struct graph *g, const struct node *n)
{
	const struct quantize_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	if (p->flip_sign_bits) {
		int i = 0;
		for (; i + 8 <= p->count; i += 8) {
			uint64_t w;
			memcpy(&w, in->data + i, sizeof(w));
			w ^= 0x8080808080808080u;
			memcpy(out->data + i, &w, sizeof(w));
		}
		for (; i < p->count; i++)
			out->data[i] = in->data[i] ^ 0x80;
		return;
	}
	if (p->use_table) {
		for (int i = 0; i < p->count; i++)
			out->data[i] = p->table[in->data[i]];
		return;
	}
	struct quantize_job job = { .g = g, .n = n };
	if (p->simd_f32) {
		/* ~0.086 ns per element (vdivps-bound): about 9 of the GEMM multiply-adds
		 * workers_run_shared() counts */
		workers_run_shared(g->kernel_ctx, quantize_range, &job, p->count, QUANTIZE_GRAIN,
				   9LL * p->count);
		return;
	}
	quantize_range(&job, 0, 0, p->count);
}

const struct op_kernel op_quantize = {
	.op = OP_QUANTIZE,
	.name = "QUANTIZE",
	.max_version = 2,
	.prepare = quantize_prepare,
	.invoke = quantize_invoke,
};
