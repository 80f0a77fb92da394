/* mean.c — MEAN on int8/uint8, following the three paths TFLite 2.8's reduce.cc picks between
 * (EvalMean with the reference kernels), because each rounds differently:
 *   1. keep_dims, 4-D input, axis tensor exactly {1,2} or {2,1} (raw values, as TFLite compares
 *      them before resolving negatives): the integer kernels. int8: sum(x - zp_in), then
 *      MultiplyByQuantizedMultiplier(in_scale/out_scale), then divide by the count rounding half
 *      away from zero (reference_integer_ops::Mean). uint8: sum(x), one multiplier for
 *      in_scale / (count * out_scale) and a float-rounded zero-point bias (reference_ops::Mean).
 *   2. otherwise, input and output quantization equal: sum of raw values, C integer division
 *      (truncation) by the count (reference_ops::Mean<T, int>).
 *   3. otherwise: float arithmetic on the integer sum (reference_ops::QuantizedMeanOrSum).
 * Path 3 is written as separate float statements so no compiler fuses them into an FMA, which
 * would change the rounding TFLite had.
 *
 * The general paths walk the input once with an odometer and add each element into its output
 * slot (output stride 0 along reduced axes); the sums live in scratch allocated at prepare.
 * Path 1 (MobileNetV2's global average pool) splits its channels across the workers of
 * g->kernel_ctx. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/ops/fast/workers.h"
#include "inference/quant.h"

#define MEAN_GRAIN 64 /* fewest channels of a piece for the workers (whole cache lines of sums) */

enum mean_path { MEAN_SPATIAL_INT8, MEAN_SPATIAL_UINT8, MEAN_SAME_QUANT, MEAN_FLOAT_RESCALE };

struct mean_params {
	enum mean_path path;
	int count;                       /* input elements per output element */
	int num_outputs;
	int32_t multiplier;
	int shift;
	int32_t in_zp, out_zp;
	int32_t uint8_bias;              /* path 1, uint8 */
	float scale, float_bias;         /* path 3 */
	int32_t qmin, qmax;
	int32_t out_stride[GRAPH_MAX_DIMS]; /* per input dim; 0 when reduced */
	int32_t *sums;                   /* num_outputs scratch */
};

static int mean_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 2, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *axis = ku_in(g, n, 1), *out = ku_out(g, n, 0);
	if (!in || !axis || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = ku_check_q8(n, in, "input", err, errlen)) < 0 ||
	    (r = ku_check_q8(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_same_type(n, in, "input", out, "output", err, errlen)) < 0)
		return r;
	if (axis->type != TT_INT32)
		return ku_fail(err, errlen, n, "axis has type %s, expected INT32",
			       tensor_type_name(axis->type));
	if ((r = ku_check_const(n, axis, "axis", err, errlen)) < 0)
		return r;
	const int naxis = tensor_num_elements(axis);
	if (naxis < 1 || axis->ndim > 1)
		return ku_fail(err, errlen, n, "axis must be a non-empty 1-D list, has %d elements",
			       naxis);
	const int32_t *axis_data = (const int32_t *)axis->data;
	bool reduced[GRAPH_MAX_DIMS] = { false };
	for (int i = 0; i < naxis; i++) {
		int a = axis_data[i];
		if (a < -in->ndim || a >= in->ndim)
			return ku_fail(err, errlen, n, "axis %d out of range for %d dims", a, in->ndim);
		reduced[a < 0 ? a + in->ndim : a] = true;
	}
	const bool keep = n->opt.reducer.keep_dims;
	int32_t want[GRAPH_MAX_DIMS];
	int want_ndim = 0;
	long long count = 1, num_outputs = 1;
	for (int d = 0; d < in->ndim; d++) {
		if (reduced[d]) {
			count *= in->dims[d];
			if (keep)
				want[want_ndim++] = 1;
		} else {
			want[want_ndim++] = in->dims[d];
			num_outputs *= in->dims[d];
		}
	}
	if ((r = ku_check_out_shape(n, out, want_ndim, want, err, errlen)) < 0)
		return r;
	/* Sums of count values of magnitude <= 255 (or 510 after a zero-point shift) stay in int32. */
	if (count < 1 || count > INT32_MAX / 510)
		return ku_fail(err, errlen, n, "reduces %lld elements per output, supported 1..%d",
			       count, INT32_MAX / 510);

	struct mean_params *p = calloc(1, sizeof(*p) + (size_t)num_outputs * sizeof(int32_t));
	if (!p)
		return -ENOMEM;
	p->sums = (int32_t *)(p + 1);
	p->count = (int)count;
	p->num_outputs = (int)num_outputs;
	p->in_zp = in->zero_point;
	p->out_zp = out->zero_point;
	q_type_range(out->type, &p->qmin, &p->qmax);
	int32_t stride = 1;
	for (int d = in->ndim - 1; d >= 0; d--) {
		p->out_stride[d] = reduced[d] ? 0 : stride;
		if (!reduced[d])
			stride *= in->dims[d];
	}

	const bool spatial = keep && in->ndim == 4 && naxis == 2 &&
			     ((axis_data[0] == 1 && axis_data[1] == 2) ||
			      (axis_data[0] == 2 && axis_data[1] == 1));
	if (spatial && in->type == TT_INT8) {
		p->path = MEAN_SPATIAL_INT8;
		double real = (double)in->scale / (double)out->scale;
		r = q_quantize_multiplier(real, &p->multiplier, &p->shift);
	} else if (spatial) {
		p->path = MEAN_SPATIAL_UINT8;
		float t = (float)in->zero_point * in->scale / out->scale;
		t = t > 0 ? t + 0.5f : t - 0.5f;
		p->uint8_bias = out->zero_point - (int32_t)t;
		float denom = (float)p->count * out->scale;
		double real = (double)(in->scale / denom);
		r = q_quantize_multiplier(real, &p->multiplier, &p->shift);
	} else if (in->zero_point == out->zero_point && in->scale == out->scale) {
		p->path = MEAN_SAME_QUANT;
	} else {
		p->path = MEAN_FLOAT_RESCALE;
		p->scale = in->scale / out->scale;
		p->float_bias = (float)-in->zero_point * p->scale;
	}
	if (r < 0) {
		free(p);
		return ku_fail(err, errlen, n, "rescale multiplier out of range");
	}
	free(n->params);
	n->params = p;
	return 0;
}

/* acc[c] += x[c] for c < ch: typed per signedness, restrict (bytes may alias anything) and in
 * KU_BLOCK runs, which GCC vectorizes at -O2 (the scalar per-element type test kept MobileNetV2's
 * 7×7×1280 mean at ~40 µs). */
static void add_row_s8(int32_t *restrict acc, const int8_t *restrict x, int ch)
{
	int c = 0;
	for (; c + KU_BLOCK <= ch; c += KU_BLOCK)
		for (int j = 0; j < KU_BLOCK; j++)
			acc[c + j] += x[c + j];
	for (; c < ch; c++)
		acc[c] += x[c];
}

static void add_row_u8(int32_t *restrict acc, const uint8_t *restrict x, int ch)
{
	int c = 0;
	for (; c + KU_BLOCK <= ch; c += KU_BLOCK)
		for (int j = 0; j < KU_BLOCK; j++)
			acc[c + j] += x[c + j];
	for (; c < ch; c++)
		acc[c] += x[c];
}

struct mean_job {
	const struct mean_params *p;
	const struct tensor *in;
	struct tensor *out;
};

/* Path 1: per (batch, channel), sum over height and width; channels [c0, c1), a share of the
 * workers of g->kernel_ctx (each channel's sum is its own, in p->sums). */
static void mean_spatial(void *arg, int worker, int c0, int c1)
{
	const struct mean_job *job = arg;
	const struct mean_params *p = job->p;
	const struct tensor *in = job->in;
	struct tensor *out = job->out;
	const bool is_signed = in->type == TT_INT8;
	const int batches = in->dims[0], h = in->dims[1], w = in->dims[2], ch = in->dims[3];
	int32_t *acc = p->sums;
	(void)worker;
	for (int b = 0; b < batches; b++) {
		/* Each acc[c] sums count <= INT32_MAX/510 terms of magnitude <= 255 (int8: x - zp). */
		memset(acc + c0, 0, (size_t)(c1 - c0) * sizeof(*acc));
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				const size_t base = (((size_t)b * h + y) * w + x) * ch + c0;
				if (is_signed)
					add_row_s8(acc + c0, (const int8_t *)in->data + base, c1 - c0);
				else
					add_row_u8(acc + c0, in->data + base, c1 - c0);
			}
		for (int c = c0; c < c1; c++) {
			int32_t v;
			if (p->path == MEAN_SPATIAL_INT8) {
				v = acc[c] - p->in_zp * p->count;
				v = q_mul_by_quantized_multiplier(v, p->multiplier, p->shift);
				v = v > 0 ? (v + p->count / 2) / p->count : (v - p->count / 2) / p->count;
				v += p->out_zp;
			} else {
				v = q_mul_by_quantized_multiplier(acc[c], p->multiplier, p->shift);
				v += p->uint8_bias;
			}
			ku_store8(is_signed, out->data, (size_t)b * ch + c, q_clamp(v, p->qmin, p->qmax));
		}
	}
}

static void mean_general(const struct mean_params *p, const struct tensor *in, struct tensor *out)
{
	const bool is_signed = in->type == TT_INT8;
	const int total = tensor_num_elements(in);
	int idx[GRAPH_MAX_DIMS] = { 0 };
	int32_t o = 0;
	memset(p->sums, 0, (size_t)p->num_outputs * sizeof(int32_t));
	for (int i = 0; i < total; i++) {
		p->sums[o] += ku_load8(is_signed, in->data, i);
		for (int d = in->ndim - 1; d >= 0; d--) {
			o += p->out_stride[d];
			if (++idx[d] < in->dims[d])
				break;
			o -= p->out_stride[d] * in->dims[d];
			idx[d] = 0;
		}
	}
	for (int i = 0; i < p->num_outputs; i++) {
		int32_t v;
		if (p->path == MEAN_SAME_QUANT) {
			v = p->sums[i] / p->count;
		} else {
			float mean = (float)p->sums[i] / (float)p->count;
			float scaled = mean * p->scale;
			float shifted = scaled + p->float_bias;
			float result = q_round_f(shifted) + (float)p->out_zp;
			result = result < (float)p->qmax ? result : (float)p->qmax;
			result = result > (float)p->qmin ? result : (float)p->qmin;
			v = (int32_t)result;
		}
		ku_store8(is_signed, out->data, (size_t)i, v);
	}
}

static void mean_invoke(struct graph *g, const struct node *n)
{
	const struct mean_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	if (p->path == MEAN_SPATIAL_INT8 || p->path == MEAN_SPATIAL_UINT8) {
		struct mean_job job = { .p = p, .in = in, .out = out };
		/* an input element costs ~0.2 ns, about 20 of the GEMM multiply-adds counted there */
		workers_run_shared(g->kernel_ctx, mean_spatial, &job, in->dims[3], MEAN_GRAIN,
				   20LL * tensor_num_elements(in));
	} else
		mean_general(p, in, out);
}

const struct op_kernel op_mean = {
	.op = OP_MEAN,
	.name = "MEAN",
	.max_version = 3,
	.prepare = mean_prepare,
	.invoke = mean_invoke,
};
