/* batch_matmul.c — BATCH_MATMUL on float32 and int8/uint8 (per-tensor), the classifier head
 * PyTorch exports write instead of FULLY_CONNECTED: out[..., m, n] = Σk lhs[..., m, k] ·
 * rhs[..., k, n], adj_x / adj_y reading lhs or rhs transposed, batch dims broadcast numpy-style.
 *
 * Float: the sum over k in ascending order, as TFLite's reference_ops::BatchMatMul.
 * 8-bit: TFLite 2.8's quantized path — Σ (a − a_zp)(b − b_zp) exactly in int32, then
 * MultiplyByQuantizedMultiplier with the multiplier GetQuantizedConvolutionMultipler derives
 * (the float product lhs_scale · rhs_scale, widened, divided by out_scale), + out_zp, clamped
 * to the type's range. Per-channel rhs and asymmetric_quantize_inputs (hybrid) are refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

#define BMM_MAX_DEPTH 33025 /* int32 accumulator bound, as FULLY_CONNECTED's */

struct bmm_params {
	struct ku_bcast bc;        /* over the batch dims only */
	size_t batches;
	int m, k, n;
	bool is_float;
	int32_t a_offset, b_offset, out_offset, multiplier;
	int shift;
	int32_t qmin, qmax;
};

/* A view of t's leading (batch) dims, for ku_broadcast. */
static void batch_view(const struct tensor *t, struct tensor *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->ndim = t->ndim - 2;
	for (int d = 0; d < ret->ndim; d++)
		ret->dims[d] = t->dims[d];
}

static int bmm_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 2, err, errlen);
	if (r < 0)
		return r;
	struct tensor *a = ku_in(g, n, 0), *b = ku_in(g, n, 1), *out = ku_out(g, n, 0);
	if (!a || !b || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = ku_check_same_type(n, a, "lhs", b, "rhs", err, errlen)) < 0 ||
	    (r = ku_check_same_type(n, a, "lhs", out, "output", err, errlen)) < 0)
		return r;
	const bool is_float = a->type == TT_FLOAT32;
	if (!is_float && ((r = ku_check_q8(n, a, "lhs", err, errlen)) < 0 || (r = ku_check_q8(n, b, "rhs", err, errlen)) < 0 ||
			  (r = ku_check_q8(n, out, "output", err, errlen)) < 0))
		return r;
	if (n->opt.batch_matmul.asymmetric_quantize_inputs)
		return ku_fail(err, errlen, n, "asymmetric_quantize_inputs (hybrid) is not supported");
	if (a->ndim < 2 || b->ndim < 2)
		return ku_fail(err, errlen, n, "lhs and rhs need at least 2 dims (have %d and %d)", a->ndim, b->ndim);
	const bool ax = n->opt.batch_matmul.adj_x, ay = n->opt.batch_matmul.adj_y;
	const int m = a->dims[a->ndim - (ax ? 1 : 2)], k = a->dims[a->ndim - (ax ? 2 : 1)];
	const int kb = b->dims[b->ndim - (ay ? 1 : 2)], nn = b->dims[b->ndim - (ay ? 2 : 1)];
	if (k != kb)
		return ku_fail(err, errlen, n, "lhs depth %d differs from rhs depth %d", k, kb);
	if (!is_float && k > BMM_MAX_DEPTH)
		return ku_fail(err, errlen, n, "depth %d too large for a 32-bit accumulator", k);
	struct tensor va, vb;
	struct bmm_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	batch_view(a, &va);
	batch_view(b, &vb);
	if (ku_broadcast(&va, &vb, &p->bc) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "batch dims cannot be broadcast together");
	}
	int32_t want[GRAPH_MAX_DIMS];
	p->batches = 1;
	for (int d = 0; d < p->bc.ndim; d++) {
		want[d] = p->bc.dims[d];
		p->batches *= (size_t)p->bc.dims[d];
	}
	want[p->bc.ndim] = m;
	want[p->bc.ndim + 1] = nn;
	if ((r = ku_check_out_shape(n, out, p->bc.ndim + 2, want, err, errlen)) < 0) {
		free(p);
		return r;
	}
	p->m = m;
	p->k = k;
	p->n = nn;
	p->is_float = is_float;
	if (!is_float) {
		const double real = (double)(a->scale * b->scale) / (double)out->scale;
		if (q_quantize_multiplier(real, &p->multiplier, &p->shift) < 0 ||
		    q_type_range(out->type, &p->qmin, &p->qmax) < 0) {
			free(p);
			return ku_fail(err, errlen, n, "output multiplier %g out of range", real);
		}
		p->a_offset = -a->zero_point;
		p->b_offset = -b->zero_point;
		p->out_offset = out->zero_point;
	}
	free(n->params);
	n->params = p;
	return 0;
}

static void bmm_invoke(struct graph *g, const struct node *n)
{
	const struct bmm_params *p = n->params;
	const struct tensor *ta = &g->tensors[n->inputs[0]], *tb = &g->tensors[n->inputs[1]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	const bool ax = n->opt.batch_matmul.adj_x, ay = n->opt.batch_matmul.adj_y;
	const size_t mk = (size_t)p->m * p->k, kn = (size_t)p->k * p->n, mn = (size_t)p->m * p->n;
	/* element (i, j) of a [rows, cols] matrix stored plainly or transposed */
	const size_t a_si = ax ? 1 : (size_t)p->k, a_sk = ax ? (size_t)p->m : 1;
	const size_t b_sk = ay ? 1 : (size_t)p->n, b_sj = ay ? (size_t)p->k : 1;
	const bool sgn = out->type == TT_INT8;
	int idx[GRAPH_MAX_DIMS] = { 0 };
	size_t ia = 0, ib = 0;
	for (size_t bt = 0; bt < p->batches; bt++) {
		for (int i = 0; i < p->m; i++)
			for (int j = 0; j < p->n; j++) {
				const size_t ao = ia * mk + (size_t)i * a_si, bo = ib * kn + (size_t)j * b_sj;
				const size_t oi = bt * mn + (size_t)i * p->n + (size_t)j;
				if (p->is_float) {
					const float *fa = (const float *)(const void *)ta->data;
					const float *fb = (const float *)(const void *)tb->data;
					float total = 0.0f;
					for (int k = 0; k < p->k; k++)
						total += fa[ao + (size_t)k * a_sk] * fb[bo + (size_t)k * b_sk];
					((float *)(void *)out->data)[oi] = total;
					continue;
				}
				int32_t total = 0;
				for (int k = 0; k < p->k; k++)
					total += (ku_load8(sgn, ta->data, ao + (size_t)k * a_sk) + p->a_offset) *
						 (ku_load8(sgn, tb->data, bo + (size_t)k * b_sk) + p->b_offset);
				const int32_t v = q_mul_by_quantized_multiplier(total, p->multiplier, p->shift) + p->out_offset;
				ku_store8(sgn, out->data, oi, q_clamp(v, p->qmin, p->qmax));
			}
		if (p->bc.ndim > 0)
			ku_bcast_next(&p->bc, idx, &ia, &ib);
	}
}

const struct op_kernel op_batch_matmul = {
	.op = OP_BATCH_MATMUL,
	.name = "BATCH_MATMUL",
	.max_version = 4,
	.prepare = bmm_prepare,
	.invoke = bmm_invoke,
};
