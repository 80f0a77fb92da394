/* xnnpack_nodes.c — the XNNPACK backend's knowledge of single nodes: whether XNNPACK can take
 * a node (xnnpack_node_supported) and how to define it, with its weights and bias, in an XNNPACK
 * subgraph (xnnpack_define_node). xnnpack.c does the partitioning and runs the result.
 *
 * Everything here follows Debian's 2022 xnnpack.h. TFLite and XNNPACK agree on layouts (NHWC
 * activations, OHWI conv filters, 1HWO depthwise filters, [O, I] fully connected weights), so
 * weights are handed over in place (XNNPACK packs them when the runtime is created); only the
 * bias is copied, to be aligned and to exist when the model has none, and fused activations
 * become the real-valued output range XNNPACK quantizes itself. TFLite's SAME padding becomes
 * explicit padding computed as TFLite does. *
 * AVERAGE_POOL_2D stays on the builtin kernel even where it is a global pool: TFLite 2.8's
 * delegate does not take quantized average pooling either, and XNNPACK's rounding of the mean
 * differs from TFLite's by one LSB now and then, which the softmax of a small model (ResNet8 on
 * random input) turns into 20+ LSB. Keeping it builtin makes our outputs identical to TFLite's
 * own XNNPACK outputs (xnnpack_output in ../shared/models/ref) on every shared case, for the
 * price of a second XNNPACK runtime after the pool (a few microseconds). */
#include "inference/xnnpack_nodes.h"

#ifdef CAMCLASS_HAVE_XNNPACK

#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct tensor *xn_input(const struct graph *g, const struct node *n, int i)
{
	if (i >= n->ninputs || n->inputs[i] < 0 || n->inputs[i] >= g->ntensors)
		return NULL;
	return &g->tensors[n->inputs[i]];
}

const struct tensor *xn_output(const struct graph *g, const struct node *n)
{
	if (n->noutputs != 1 || n->outputs[0] < 0 || n->outputs[0] >= g->ntensors)
		return NULL;
	return &g->tensors[n->outputs[0]];
}

/* An 8-bit activation tensor with per-tensor quantization XNNPACK accepts. */
static bool is_q8_activation(const struct tensor *t)
{
	if (!t || t->is_const || t->nq != 1 || !(t->scale > 0.0f) || !isfinite(t->scale))
		return false;
	if (t->type == TT_INT8)
		return t->zero_point >= INT8_MIN && t->zero_point <= INT8_MAX;
	if (t->type == TT_UINT8)
		return t->zero_point >= 0 && t->zero_point <= UINT8_MAX;
	return false;
}

bool xn_activation_supported(enum activation a)
{
	return a == ACT_NONE || a == ACT_RELU || a == ACT_RELU6 || a == ACT_RELU_N1_TO_1;
}

/* Fused activation as the real-valued output range XNNPACK quantizes itself. */
void xn_activation_range(enum activation a, float *ret_min, float *ret_max)
{
	float lo = -INFINITY, hi = INFINITY;
	if (a == ACT_RELU) {
		lo = 0.0f;
	} else if (a == ACT_RELU6) {
		lo = 0.0f;
		hi = 6.0f;
	} else if (a == ACT_RELU_N1_TO_1) {
		lo = -1.0f;
		hi = 1.0f;
	}
	*ret_min = lo;
	*ret_max = hi;
}

/* Constant weights matching activations of type act_type: int8 per-tensor or per-channel along
 * channel_axis (TFLite requires zero points 0 there), or uint8 per-tensor with any zero point. */
static bool weights_supported(const struct tensor *w, enum tensor_type act_type, int channels,
			      int channel_axis, bool allow_per_channel)
{
	if (!w || !w->is_const || !w->data || w->nq < 1)
		return false;
	for (int c = 0; c < w->nq; c++)
		if (!(w->scales[c] > 0.0f) || !isfinite(w->scales[c]))
			return false;
	if (act_type == TT_UINT8)
		return w->type == TT_UINT8 && w->nq == 1 && w->zero_point >= 0 && w->zero_point <= 255;
	if (w->type != TT_INT8)
		return false;
	if (w->nq == 1)
		return w->zero_point == 0;
	if (!allow_per_channel || w->nq != channels || w->quant_axis != channel_axis)
		return false;
	for (int c = 0; c < w->nq; c++)
		if (w->zero_points[c] != 0)
			return false;
	return true;
}

static bool bias_supported(const struct graph *g, const struct node *n, int channels)
{
	const struct tensor *b = xn_input(g, n, 2);
	if (!b)
		return true; /* absent: we give XNNPACK zeros */
	return b->is_const && b->data && b->type == TT_INT32 && b->ndim == 1 && b->dims[0] == channels &&
	       b->bytes == (size_t)channels * sizeof(int32_t);
}

/* MEAN over height and width of an NHWC tensor: XNNPACK's global average pooling. */
bool xn_is_spatial_mean(const struct graph *g, const struct node *n)
{
	const struct tensor *x = xn_input(g, n, 0), *y = xn_output(g, n), *axes = xn_input(g, n, 1);
	int32_t a[2];
	if (!x || !y || x->ndim != 4 || !axes || !axes->is_const || !axes->data || axes->type != TT_INT32 ||
	    axes->bytes != sizeof(a))
		return false;
	memcpy(a, axes->data, sizeof(a)); /* the mmap need not be aligned */
	for (int i = 0; i < 2; i++)
		if (a[i] < 0)
			a[i] += 4;
	return ((a[0] == 1 && a[1] == 2) || (a[0] == 2 && a[1] == 1)) &&
	       tensor_num_elements(y) == x->dims[0] * x->dims[3];
}

/* TFLite's output size of a convolution window along one axis. */
long xn_conv_out_size(enum padding pad, int in, int kernel, int stride, int dilation)
{
	long effective = (long)(kernel - 1) * dilation + 1;
	if (stride < 1 || dilation < 1 || kernel < 1)
		return -1;
	return pad == PAD_SAME ? ((long)in + stride - 1) / stride : ((long)in - effective + stride) / stride;
}

/* The output shape is the one TFLite computes from input, filter and options: XNNPACK writes
 * what it computes into our buffer, so a file that says otherwise must not reach it (the builtin
 * kernels' prepare() refuses such files too; this keeps the delegate safe on its own). */
bool xn_conv_shape_ok(const struct tensor *x, const struct tensor *w, const struct tensor *y, enum padding pad,
			  int stride_h, int stride_w, int dilation_h, int dilation_w)
{
	return y->dims[0] == x->dims[0] &&
	       y->dims[1] == xn_conv_out_size(pad, x->dims[1], w->dims[1], stride_h, dilation_h) &&
	       y->dims[2] == xn_conv_out_size(pad, x->dims[2], w->dims[2], stride_w, dilation_w);
}

/* numpy broadcasting of two shapes of the same rank, as XNNPACK's add computes it. */
bool xn_broadcast_shape_ok(const struct tensor *a, const struct tensor *b, const struct tensor *y)
{
	if (a->ndim != b->ndim || a->ndim != y->ndim)
		return false;
	for (int i = 0; i < y->ndim; i++) {
		int32_t d = a->dims[i] > b->dims[i] ? a->dims[i] : b->dims[i];
		if ((a->dims[i] != d && a->dims[i] != 1) || (b->dims[i] != d && b->dims[i] != 1) || y->dims[i] != d)
			return false;
	}
	return true;
}

bool xnnpack_node_supported(const struct graph *g, const struct node *n)
{
	const struct tensor *x = xn_input(g, n, 0), *y = xn_output(g, n), *w = xn_input(g, n, 1);
	if (x && y && (x->type == TT_FLOAT32 || y->type == TT_FLOAT32))
		return xnnpack_float_node_supported(g, n);
	if (!is_q8_activation(x) || !is_q8_activation(y) || x->type != y->type)
		return false;
	switch (n->op) {
	case OP_CONV_2D:
		return x->ndim == 4 && y->ndim == 4 && w && w->ndim == 4 && w->dims[3] == x->dims[3] &&
		       w->dims[0] == y->dims[3] && xn_activation_supported(n->opt.conv.activation) &&
		       xn_conv_shape_ok(x, w, y, n->opt.conv.padding, n->opt.conv.stride_h, n->opt.conv.stride_w,
				     n->opt.conv.dilation_h, n->opt.conv.dilation_w) &&
		       weights_supported(w, x->type, w->dims[0], 0, true) && bias_supported(g, n, w->dims[0]);
	case OP_DEPTHWISE_CONV_2D:
		return x->ndim == 4 && y->ndim == 4 && w && w->ndim == 4 && w->dims[0] == 1 &&
		       w->dims[3] == y->dims[3] && x->dims[3] > 0 && y->dims[3] % x->dims[3] == 0 &&
		       xn_activation_supported(n->opt.depthwise.activation) &&
		       xn_conv_shape_ok(x, w, y, n->opt.depthwise.padding, n->opt.depthwise.stride_h,
				     n->opt.depthwise.stride_w, n->opt.depthwise.dilation_h, n->opt.depthwise.dilation_w) &&
		       weights_supported(w, x->type, w->dims[3], 3, true) && bias_supported(g, n, w->dims[3]);
	case OP_FULLY_CONNECTED:
		/* No per-channel fully connected in this XNNPACK snapshot. */
		return w && w->ndim == 2 && w->dims[1] > 0 && tensor_num_elements(x) % w->dims[1] == 0 &&
		       y->ndim == 2 && y->dims[0] == tensor_num_elements(x) / w->dims[1] && y->dims[1] == w->dims[0] &&
		       n->opt.fc.weights_format == 0 && !n->opt.fc.keep_num_dims &&
		       xn_activation_supported(n->opt.fc.activation) &&
		       weights_supported(w, x->type, w->dims[0], 0, false) && bias_supported(g, n, w->dims[0]);
	case OP_ADD:
		return is_q8_activation(w) && w->type == x->type && xn_broadcast_shape_ok(x, w, y) &&
		       xn_activation_supported(n->opt.add.activation);
	case OP_MEAN:
		return xn_is_spatial_mean(g, n);
	case OP_RESHAPE:
		return x->scale == y->scale && x->zero_point == y->zero_point && x->bytes == y->bytes;
	default:
		return false;
	}
}

/* Nodes that make a segment worth a runtime (a run of reshapes alone is not). */
bool xnnpack_node_computes(const struct node *n)
{
	return n->op != OP_RESHAPE;
}

void *xn_own_alloc(struct xnnpack_owned *o, size_t bytes)
{
	void *p;
	if (o->n == o->cap)
		return NULL;
	p = calloc(1, bytes ? bytes : 1);
	if (p)
		o->ptr[o->n++] = p;
	return p;
}

/* The shape XNNPACK sees: TFLite's, except that MEAN's output is [N, 1, 1, C] as XNNPACK's global
 * average pooling wants it (MEAN without keep_dims gives [N, C] in TFLite; the bytes are the same). */
size_t xn_value_dims(const struct xnnpack_builder *b, int ti, size_t dims[GRAPH_MAX_DIMS])
{
	const struct tensor *t = &b->g->tensors[ti];
	int p = b->producer[ti];
	if (p >= 0 && b->g->nodes[p].op == OP_MEAN) {
		const struct tensor *x = xn_input(b->g, &b->g->nodes[p], 0);
		dims[0] = (size_t)x->dims[0];
		dims[1] = dims[2] = 1;
		dims[3] = (size_t)x->dims[3];
		return 4;
	}
	for (int i = 0; i < t->ndim; i++)
		dims[i] = (size_t)t->dims[i];
	return (size_t)t->ndim;
}

enum xnn_status xnnpack_define_activation(struct xnnpack_builder *b, int ti, uint32_t external_id, uint32_t flags)
{
	const struct tensor *t = &b->g->tensors[ti];
	size_t dims[GRAPH_MAX_DIMS], nd = xn_value_dims(b, ti, dims);
	if (t->type == TT_FLOAT32)
		return xnn_define_tensor_value(b->sg, xnn_datatype_fp32, nd, dims, NULL, external_id, flags,
					       &b->value_of[ti]);
	return xnn_define_quantized_tensor_value(b->sg, t->type == TT_INT8 ? xnn_datatype_qint8 : xnn_datatype_quint8,
						 t->zero_point, t->scale, nd, dims, NULL, external_id, flags,
						 &b->value_of[ti]);
}

/* Value id of an activation tensor, defining it as an internal value on first use. */
enum xnn_status xn_activation_value(struct xnnpack_builder *b, int ti, uint32_t *ret_id)
{
	enum xnn_status s = xnn_status_success;
	if (b->value_of[ti] == XNN_INVALID_VALUE_ID)
		s = xnnpack_define_activation(b, ti, XNN_INVALID_VALUE_ID, 0);
	if (s == xnn_status_success)
		*ret_id = b->value_of[ti];
	return s;
}

static enum xnn_status define_weights(struct xnnpack_builder *b, const struct tensor *w, size_t channel_axis, uint32_t *ret_id)
{
	size_t dims[GRAPH_MAX_DIMS];
	for (int i = 0; i < w->ndim; i++)
		dims[i] = (size_t)w->dims[i];
	if (w->nq > 1)
		return xnn_define_channelwise_quantized_tensor_value(b->sg, xnn_datatype_qcint8, w->scales, (size_t)w->ndim,
								     channel_axis, dims, w->data, XNN_INVALID_VALUE_ID,
								     0, ret_id);
	return xnn_define_quantized_tensor_value(b->sg, w->type == TT_INT8 ? xnn_datatype_qint8 : xnn_datatype_quint8,
						 w->zero_point, w->scale, (size_t)w->ndim, dims, w->data,
						 XNN_INVALID_VALUE_ID, 0, ret_id);
}

/* The bias as XNNPACK wants it: an aligned int32 copy (zeros when the model has none), with
 * scale input_scale × weight_scale per channel or per tensor, as TFLite defines it. */
static enum xnn_status define_bias(struct xnnpack_builder *b, const struct node *n, const struct tensor *x,
				   const struct tensor *w, int channels, uint32_t *ret_id)
{
	const struct tensor *bias = xn_input(b->g, n, 2);
	int32_t *data = xn_own_alloc(b->owned, (size_t)channels * sizeof(int32_t));
	size_t dims[1] = { (size_t)channels };
	if (!data)
		return xnn_status_out_of_memory;
	if (bias)
		memcpy(data, bias->data, (size_t)channels * sizeof(int32_t));
	if (w->nq > 1) {
		float *scales = xn_own_alloc(b->owned, (size_t)channels * sizeof(float));
		if (!scales)
			return xnn_status_out_of_memory;
		for (int c = 0; c < channels; c++)
			scales[c] = x->scale * w->scales[c];
		return xnn_define_channelwise_quantized_tensor_value(b->sg, xnn_datatype_qcint32, scales, 1, 0, dims, data,
								     XNN_INVALID_VALUE_ID, 0, ret_id);
	}
	return xnn_define_quantized_tensor_value(b->sg, xnn_datatype_qint32, 0, x->scale * w->scale, 1, dims, data,
						 XNN_INVALID_VALUE_ID, 0, ret_id);
}

/* TFLite's SAME padding as explicit (before, after) amounts; VALID is none. */
void xn_conv_padding(enum padding pad, int in, int out, int kernel, int stride, int dilation,
			 uint32_t *ret_before, uint32_t *ret_after)
{
	long effective = (long)(kernel - 1) * dilation + 1;
	long total = (long)(out - 1) * stride + effective - in;
	if (pad != PAD_SAME || total < 0)
		total = 0;
	*ret_before = (uint32_t)(total / 2);
	*ret_after = (uint32_t)(total - total / 2);
}

enum xnn_status xnnpack_define_node(struct xnnpack_builder *b, const struct node *n)
{
	const struct graph *g = b->g;
	const struct tensor *x = xn_input(g, n, 0), *y = xn_output(g, n), *w = xn_input(g, n, 1);
	uint32_t xid, yid, wid, bid, x2id;
	uint32_t top, bottom, left, right;
	float lo, hi;
	enum xnn_status s;

	if (x && x->type == TT_FLOAT32)
		return xnnpack_define_float_node(b, n);
	s = xn_activation_value(b, n->inputs[0], &xid);
	if (s == xnn_status_success)
		s = xn_activation_value(b, n->outputs[0], &yid);
	if (s != xnn_status_success)
		return s;

	switch (n->op) {
	case OP_CONV_2D:
	case OP_DEPTHWISE_CONV_2D: {
		bool dw = n->op == OP_DEPTHWISE_CONV_2D;
		enum padding pad = dw ? n->opt.depthwise.padding : n->opt.conv.padding;
		int stride_h = dw ? n->opt.depthwise.stride_h : n->opt.conv.stride_h;
		int stride_w = dw ? n->opt.depthwise.stride_w : n->opt.conv.stride_w;
		int dilation_h = dw ? n->opt.depthwise.dilation_h : n->opt.conv.dilation_h;
		int dilation_w = dw ? n->opt.depthwise.dilation_w : n->opt.conv.dilation_w;
		int out_channels = dw ? w->dims[3] : w->dims[0];
		xn_conv_padding(pad, x->dims[1], y->dims[1], w->dims[1], stride_h, dilation_h, &top, &bottom);
		xn_conv_padding(pad, x->dims[2], y->dims[2], w->dims[2], stride_w, dilation_w, &left, &right);
		xn_activation_range(dw ? n->opt.depthwise.activation : n->opt.conv.activation, &lo, &hi);
		s = define_weights(b, w, dw ? 3 : 0, &wid);
		if (s == xnn_status_success)
			s = define_bias(b, n, x, w, out_channels, &bid);
		if (s != xnn_status_success)
			return s;
		if (dw)
			return xnn_define_depthwise_convolution_2d(
				b->sg, top, right, bottom, left, (uint32_t)w->dims[1], (uint32_t)w->dims[2], (uint32_t)stride_h,
				(uint32_t)stride_w, (uint32_t)dilation_h, (uint32_t)dilation_w,
				(uint32_t)(y->dims[3] / x->dims[3]), (size_t)x->dims[3], lo, hi, xid, wid, bid, yid, 0);
		return xnn_define_convolution_2d(b->sg, top, right, bottom, left, (uint32_t)w->dims[1], (uint32_t)w->dims[2],
						 (uint32_t)stride_h, (uint32_t)stride_w, (uint32_t)dilation_h,
						 (uint32_t)dilation_w, 1, (size_t)w->dims[3], (size_t)w->dims[0], lo, hi, xid,
						 wid, bid, yid, 0);
	}
	case OP_FULLY_CONNECTED:
		xn_activation_range(n->opt.fc.activation, &lo, &hi);
		s = define_weights(b, w, 0, &wid);
		if (s == xnn_status_success)
			s = define_bias(b, n, x, w, w->dims[0], &bid);
		if (s == xnn_status_success)
			s = xnn_define_fully_connected(b->sg, lo, hi, xid, wid, bid, yid, XNN_FLAG_TENSORFLOW_RESHAPE_2D);
		return s;
	case OP_ADD:
		xn_activation_range(n->opt.add.activation, &lo, &hi);
		s = xn_activation_value(b, n->inputs[1], &x2id);
		if (s == xnn_status_success)
			s = xnn_define_add2(b->sg, lo, hi, xid, x2id, yid, 0);
		return s;
	case OP_MEAN:
		return xnn_define_global_average_pooling_2d(b->sg, -INFINITY, INFINITY, xid, yid, 0);
	case OP_RESHAPE: {
		size_t dims[GRAPH_MAX_DIMS], nd = xn_value_dims(b, n->outputs[0], dims);
		return xnn_define_static_reshape(b->sg, nd, dims, xid, yid, 0);
	}
	default:
		return xnn_status_unsupported_parameter;
	}
}

#endif /* CAMCLASS_HAVE_XNNPACK */
