/* fully_connected.c — FULLY_CONNECTED for int8 and uint8, following TFLite's
 * reference_integer_ops::FullyConnected / reference_ops::FullyConnected.
 *
 * Weights are [units, depth]; the input is read as [batches, depth] whatever its rank (TFLite
 * flattens everything but the last dim). Per-tensor weights: one multiplier from the float
 * product input_scale * filter_scale (TFLite 2.8's GetQuantizedConvolutionMultipler), also for
 * int8. Per-channel int8 weights (newer converters; the LiteRT trap: they keep op version 4 like
 * per-tensor ones, so the number of weight scales decides, never the version): one multiplier
 * per unit from input_scale * filter_scale[u] / output_scale in double, as TFLite's per-channel
 * FullyConnectedPerChannel derives them (PopulateConvolutionQuantizationParams). */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

/* |(w - wzp) * (x - xzp)| <= 255 * 255 = 65025; (2^31 - 1) / 65025 = 33025 terms fit int32. */
#define FC_MAX_DEPTH 33025

struct fc_params {
	int batches, depth, units;
	int32_t input_offset, filter_offset, output_offset;
	int32_t multiplier;
	int shift;
	int32_t act_min, act_max;
	int32_t *multipliers;   /* per unit for per-channel weights (after the struct), else NULL */
	int *shifts;
};

static int fc_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *filter, *bias, *out;
	int r = ku_take_weighted(g, n, 2, &in, &filter, &bias, &out, err, errlen);
	if (r < 0)
		return r;
	if (n->opt.fc.weights_format != 0)
		return ku_fail(err, errlen, n, "weights format %d is not supported (only DEFAULT)",
			       n->opt.fc.weights_format);
	const bool per_channel = filter->nq > 1;
	if (per_channel && (in->type != TT_INT8 || filter->nq != filter->dims[0] || filter->quant_axis != 0))
		return ku_fail(err, errlen, n, "per-channel weights need int8 with one scale per unit along "
			       "axis 0 (have %s, %d scales for %d units, axis %d)", tensor_type_name(in->type),
			       filter->nq, filter->dims[0], filter->quant_axis);
	for (int c = 0; in->type == TT_INT8 && c < filter->nq; c++)
		if (filter->zero_points[c] != 0)
			return ku_fail(err, errlen, n, "int8 filter zero point is %d, expected 0",
				       (int)filter->zero_points[c]);
	if (in->ndim < 1)
		return ku_fail(err, errlen, n, "input has no dims");
	const int units = filter->dims[0], depth = filter->dims[1];
	const int in_count = tensor_num_elements(in);
	if (depth <= 0 || in_count % depth != 0)
		return ku_fail(err, errlen, n, "input of %d elements is not a multiple of the weights depth %d",
			       in_count, depth);
	if (depth > FC_MAX_DEPTH)
		return ku_fail(err, errlen, n, "depth %d too large for a 32-bit accumulator", depth);
	const int batches = in_count / depth;
	int32_t want[GRAPH_MAX_DIMS];
	int want_ndim;
	if (n->opt.fc.keep_num_dims) {
		if (in->dims[in->ndim - 1] != depth)
			return ku_fail(err, errlen, n, "keep_num_dims needs input last dim %d == depth %d",
				       in->dims[in->ndim - 1], depth);
		want_ndim = in->ndim;
		for (int i = 0; i < in->ndim - 1; i++)
			want[i] = in->dims[i];
		want[in->ndim - 1] = units;
	} else {
		want_ndim = 2;
		want[0] = batches;
		want[1] = units;
	}
	if ((r = ku_check_out_shape(n, out, want_ndim, want, err, errlen)) < 0)
		return r;
	if (bias) {
		if (bias->type != TT_INT32)
			return ku_fail(err, errlen, n, "bias has type %s, expected INT32",
				       tensor_type_name(bias->type));
		if (tensor_num_elements(bias) != units)
			return ku_fail(err, errlen, n, "bias has %d elements, expected %d",
				       tensor_num_elements(bias), units);
		if ((r = ku_check_const(n, bias, "bias", err, errlen)) < 0)
			return r;
	}
	const size_t extra = per_channel ? (size_t)units * (sizeof(int32_t) + sizeof(int)) : 0;
	struct fc_params *p = calloc(1, sizeof(*p) + extra);
	if (!p)
		return -ENOMEM;
	if (per_channel) {
		p->multipliers = (int32_t *)(p + 1);
		p->shifts = (int *)(p->multipliers + units);
		if ((r = ku_conv_multipliers(n, in, filter, out, units, p->multipliers, p->shifts, err, errlen)) < 0) {
			free(p);
			return r;
		}
	} else {
		const double real = (double)(in->scale * filter->scale) / (double)out->scale;
		if (q_quantize_multiplier(real, &p->multiplier, &p->shift) < 0) {
			free(p);
			return ku_fail(err, errlen, n, "output multiplier %g out of range", real);
		}
	}
	if (q_activation_range(n->opt.fc.activation, out->type, out->scale, out->zero_point,
			       &p->act_min, &p->act_max) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "unsupported fused activation %s",
			       q_activation_name(n->opt.fc.activation));
	}
	p->batches = batches;
	p->depth = depth;
	p->units = units;
	p->input_offset = -in->zero_point;
	p->filter_offset = -filter->zero_point;
	p->output_offset = out->zero_point;
	free(n->params);
	n->params = p;
	return 0;
}

static void fc_invoke(struct graph *g, const struct node *n)
{
	const struct fc_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]], *filter = &g->tensors[n->inputs[1]];
	const struct tensor *bias = ku_in(g, n, 2);
	const struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = in->type == TT_INT8;
	const int32_t *bias_data = bias ? (const int32_t *)bias->data : NULL;

	for (int b = 0; b < p->batches; b++) {
		const size_t in_base = (size_t)b * p->depth;
		for (int u = 0; u < p->units; u++) {
			const size_t f_base = (size_t)u * p->depth;
			/* At most FC_MAX_DEPTH products of magnitude <= 65025: fits int32. */
			int32_t acc = is_signed
				? ku_dot_s8((const int8_t *)in->data + in_base, (const int8_t *)filter->data + f_base,
					    p->depth, p->input_offset, p->filter_offset)
				: ku_dot_u8(in->data + in_base, filter->data + f_base, p->depth,
					    p->input_offset, p->filter_offset);
			if (bias_data)
				acc = (int32_t)((uint32_t)acc + (uint32_t)bias_data[u]);
			acc = p->multipliers ? q_mul_by_quantized_multiplier(acc, p->multipliers[u], p->shifts[u])
					     : q_mul_by_quantized_multiplier(acc, p->multiplier, p->shift);
			acc = q_clamp(acc + p->output_offset, p->act_min, p->act_max);
			const size_t oi = (size_t)b * p->units + u;
			ku_store8(is_signed, out->data, oi, acc);
		}
	}
}

const struct op_kernel op_fully_connected = {
	.op = OP_FULLY_CONNECTED,
	.name = "FULLY_CONNECTED",
	.max_version = 9,
	.prepare = fc_prepare,
	.invoke = fc_invoke,
};
