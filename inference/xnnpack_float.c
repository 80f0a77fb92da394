/* xnnpack_float.c — the XNNPACK backend's fp32 nodes: which float32 nodes XNNPACK takes and how
 * each is defined in an XNNPACK subgraph. xnnpack_nodes.c sends every node whose input or output
 * is float32 here; the partitioning (xnnpack.c) is the same for both kinds, so a float model
 * runs as one or a few fp32 runtimes with builtin float kernels for anything left out.
 *
 * Taken: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED (float32 constant weights and bias; fp16
 * and dynamic-range weights were made float32 at load, engine_fold.c), ADD, SUB, MUL,
 * MAXIMUM, MINIMUM (two activations of one rank), spatial MEAN (global average pooling),
 * AVERAGE_POOL_2D without padding (XNNPACK's padded average counts cells differently from
 * TFLite's), MAX_POOL_2D, SOFTMAX with beta 1, HARD_SWISH, LOGISTIC, RELU/RELU6/RELU_N1_TO_1
 * (clamps), RESHAPE/SQUEEZE, PAD/PADV2 with constant paddings. Shapes are checked as TFLite
 * computes them, so a file that lies about an output shape never reaches XNNPACK. */
#include "inference/xnnpack_nodes.h"

#ifdef CAMCLASS_HAVE_XNNPACK

#include <math.h>
#include <string.h>

static bool is_f32_activation(const struct tensor *t)
{
	return t && !t->is_const && t->type == TT_FLOAT32;
}

static bool is_f32_const(const struct tensor *t)
{
	return t && t->is_const && t->data && t->type == TT_FLOAT32;
}

static bool bias_ok(const struct graph *g, const struct node *n, int channels)
{
	const struct tensor *b = xn_input(g, n, 2);
	return !b || (is_f32_const(b) && tensor_num_elements(b) == channels);
}

static bool pool_ok(const struct node *n, const struct tensor *x, const struct tensor *y, bool allow_padding)
{
	const int fh = n->opt.pool.filter_h, fw = n->opt.pool.filter_w;
	const int sh = n->opt.pool.stride_h, sw = n->opt.pool.stride_w;
	if (x->ndim != 4 || y->ndim != 4 || y->dims[0] != x->dims[0] || y->dims[3] != x->dims[3] ||
	    !xn_activation_supported(n->opt.pool.activation) ||
	    y->dims[1] != xn_conv_out_size(n->opt.pool.padding, x->dims[1], fh, sh, 1) ||
	    y->dims[2] != xn_conv_out_size(n->opt.pool.padding, x->dims[2], fw, sw, 1))
		return false;
	if (allow_padding)
		return true;
	uint32_t t, b, l, r;
	xn_conv_padding(n->opt.pool.padding, x->dims[1], y->dims[1], fh, sh, 1, &t, &b);
	xn_conv_padding(n->opt.pool.padding, x->dims[2], y->dims[2], fw, sw, 1, &l, &r);
	return t == 0 && b == 0 && l == 0 && r == 0;
}

/* Constant paddings [ndim, 2] of int32, non-negative, matching the output shape. */
static bool pad_ok(const struct graph *g, const struct node *n, const struct tensor *x, const struct tensor *y)
{
	const struct tensor *p = xn_input(g, n, 1), *v = xn_input(g, n, 2);
	if (!p || !p->is_const || !p->data || p->type != TT_INT32 || p->ndim != 2 || p->dims[0] != x->ndim ||
	    p->dims[1] != 2 || y->ndim != x->ndim || x->ndim > GRAPH_MAX_DIMS)
		return false;
	if (n->op == OP_PADV2 && v && !(is_f32_const(v) && tensor_num_elements(v) == 1))
		return false;
	for (int d = 0; d < x->ndim; d++) {
		int32_t ab[2];
		memcpy(ab, p->data + 8 * (size_t)d, sizeof(ab));
		if (ab[0] < 0 || ab[1] < 0 || (int64_t)x->dims[d] + ab[0] + ab[1] != y->dims[d])
			return false;
	}
	return true;
}

bool xnnpack_float_node_supported(const struct graph *g, const struct node *n)
{
	const struct tensor *x = xn_input(g, n, 0), *y = xn_output(g, n), *w = xn_input(g, n, 1);
	if (!is_f32_activation(x) || !is_f32_activation(y))
		return false;
	switch (n->op) {
	case OP_CONV_2D:
		return x->ndim == 4 && y->ndim == 4 && is_f32_const(w) && w->ndim == 4 && w->dims[3] == x->dims[3] &&
		       w->dims[0] == y->dims[3] && xn_activation_supported(n->opt.conv.activation) &&
		       xn_conv_shape_ok(x, w, y, n->opt.conv.padding, n->opt.conv.stride_h, n->opt.conv.stride_w,
					n->opt.conv.dilation_h, n->opt.conv.dilation_w) &&
		       bias_ok(g, n, w->dims[0]);
	case OP_DEPTHWISE_CONV_2D:
		return x->ndim == 4 && y->ndim == 4 && is_f32_const(w) && w->ndim == 4 && w->dims[0] == 1 &&
		       w->dims[3] == y->dims[3] && x->dims[3] > 0 && y->dims[3] % x->dims[3] == 0 &&
		       xn_activation_supported(n->opt.depthwise.activation) &&
		       xn_conv_shape_ok(x, w, y, n->opt.depthwise.padding, n->opt.depthwise.stride_h,
					n->opt.depthwise.stride_w, n->opt.depthwise.dilation_h, n->opt.depthwise.dilation_w) &&
		       bias_ok(g, n, w->dims[3]);
	case OP_FULLY_CONNECTED:
		return is_f32_const(w) && w->ndim == 2 && w->dims[1] > 0 && tensor_num_elements(x) % w->dims[1] == 0 &&
		       y->ndim == 2 && y->dims[0] == tensor_num_elements(x) / w->dims[1] && y->dims[1] == w->dims[0] &&
		       n->opt.fc.weights_format == 0 && xn_activation_supported(n->opt.fc.activation) &&
		       bias_ok(g, n, w->dims[0]);
	case OP_ADD:
	case OP_SUB:
	case OP_MUL:
		return is_f32_activation(w) && xn_broadcast_shape_ok(x, w, y) &&
		       xn_activation_supported(n->opt.add.activation);
	case OP_MAXIMUM:
	case OP_MINIMUM:
		return is_f32_activation(w) && xn_broadcast_shape_ok(x, w, y);
	case OP_MEAN:
		return xn_is_spatial_mean(g, n);
	case OP_AVERAGE_POOL_2D:
		return pool_ok(n, x, y, false);
	case OP_MAX_POOL_2D:
		return pool_ok(n, x, y, true);
	case OP_SOFTMAX:
		return n->opt.softmax.beta == 1.0f && x->ndim >= 1 && x->bytes == y->bytes;
	case OP_HARD_SWISH:
	case OP_LOGISTIC:
	case OP_RELU:
	case OP_RELU6:
	case OP_RELU_N1_TO_1:
		return x->bytes == y->bytes;
	case OP_RESHAPE:
	case OP_SQUEEZE:
		return x->bytes == y->bytes;
	case OP_PAD:
	case OP_PADV2:
		return pad_ok(g, n, x, y);
	default:
		return false;
	}
}

static enum xnn_status define_static(struct xnnpack_builder *b, const struct tensor *t, uint32_t *ret_id)
{
	size_t dims[GRAPH_MAX_DIMS];
	for (int i = 0; i < t->ndim; i++)
		dims[i] = (size_t)t->dims[i];
	return xnn_define_tensor_value(b->sg, xnn_datatype_fp32, (size_t)t->ndim, dims, t->data, XNN_INVALID_VALUE_ID,
				       0, ret_id);
}

/* The bias, or zeros when the model has none. */
static enum xnn_status define_bias(struct xnnpack_builder *b, const struct node *n, int channels, uint32_t *ret_id)
{
	const struct tensor *bias = xn_input(b->g, n, 2);
	size_t dims[1] = { (size_t)channels };
	if (bias)
		return xnn_define_tensor_value(b->sg, xnn_datatype_fp32, 1, dims, bias->data, XNN_INVALID_VALUE_ID, 0,
					       ret_id);
	float *zeros = xn_own_alloc(b->owned, (size_t)channels * sizeof(float));
	if (!zeros)
		return xnn_status_out_of_memory;
	return xnn_define_tensor_value(b->sg, xnn_datatype_fp32, 1, dims, zeros, XNN_INVALID_VALUE_ID, 0, ret_id);
}

static enum xnn_status define_conv(struct xnnpack_builder *b, const struct node *n, uint32_t xid, uint32_t yid)
{
	const struct graph *g = b->g;
	const struct tensor *x = xn_input(g, n, 0), *y = xn_output(g, n), *w = xn_input(g, n, 1);
	const bool dw = n->op == OP_DEPTHWISE_CONV_2D;
	const int sh = dw ? n->opt.depthwise.stride_h : n->opt.conv.stride_h;
	const int sw = dw ? n->opt.depthwise.stride_w : n->opt.conv.stride_w;
	const int dh = dw ? n->opt.depthwise.dilation_h : n->opt.conv.dilation_h;
	const int dwl = dw ? n->opt.depthwise.dilation_w : n->opt.conv.dilation_w;
	const enum padding pad = dw ? n->opt.depthwise.padding : n->opt.conv.padding;
	uint32_t top, bottom, left, right, wid, bid;
	float lo, hi;
	xn_conv_padding(pad, x->dims[1], y->dims[1], w->dims[1], sh, dh, &top, &bottom);
	xn_conv_padding(pad, x->dims[2], y->dims[2], w->dims[2], sw, dwl, &left, &right);
	xn_activation_range(dw ? n->opt.depthwise.activation : n->opt.conv.activation, &lo, &hi);
	enum xnn_status s = define_static(b, w, &wid);
	if (s == xnn_status_success)
		s = define_bias(b, n, dw ? w->dims[3] : w->dims[0], &bid);
	if (s != xnn_status_success)
		return s;
	if (dw)
		return xnn_define_depthwise_convolution_2d(b->sg, top, right, bottom, left, (uint32_t)w->dims[1],
							   (uint32_t)w->dims[2], (uint32_t)sh, (uint32_t)sw, (uint32_t)dh,
							   (uint32_t)dwl, (uint32_t)(y->dims[3] / x->dims[3]),
							   (size_t)x->dims[3], lo, hi, xid, wid, bid, yid, 0);
	return xnn_define_convolution_2d(b->sg, top, right, bottom, left, (uint32_t)w->dims[1], (uint32_t)w->dims[2],
					 (uint32_t)sh, (uint32_t)sw, (uint32_t)dh, (uint32_t)dwl, 1, (size_t)w->dims[3],
					 (size_t)w->dims[0], lo, hi, xid, wid, bid, yid, 0);
}

static enum xnn_status define_pool(struct xnnpack_builder *b, const struct node *n, uint32_t xid, uint32_t yid)
{
	const struct tensor *x = xn_input(b->g, n, 0), *y = xn_output(b->g, n);
	uint32_t top, bottom, left, right;
	float lo, hi;
	xn_conv_padding(n->opt.pool.padding, x->dims[1], y->dims[1], n->opt.pool.filter_h, n->opt.pool.stride_h, 1,
			&top, &bottom);
	xn_conv_padding(n->opt.pool.padding, x->dims[2], y->dims[2], n->opt.pool.filter_w, n->opt.pool.stride_w, 1,
			&left, &right);
	xn_activation_range(n->opt.pool.activation, &lo, &hi);
	if (n->op == OP_AVERAGE_POOL_2D)
		return xnn_define_average_pooling_2d(b->sg, top, right, bottom, left, (uint32_t)n->opt.pool.filter_h,
						     (uint32_t)n->opt.pool.filter_w, (uint32_t)n->opt.pool.stride_h,
						     (uint32_t)n->opt.pool.stride_w, lo, hi, xid, yid, 0);
	return xnn_define_max_pooling_2d(b->sg, top, right, bottom, left, (uint32_t)n->opt.pool.filter_h,
					 (uint32_t)n->opt.pool.filter_w, (uint32_t)n->opt.pool.stride_h,
					 (uint32_t)n->opt.pool.stride_w, 1, 1, lo, hi, xid, yid, 0);
}

static enum xnn_status define_pad(struct xnnpack_builder *b, const struct node *n, uint32_t xid, uint32_t yid)
{
	const struct tensor *x = xn_input(b->g, n, 0), *p = xn_input(b->g, n, 1), *v = xn_input(b->g, n, 2);
	size_t pre[GRAPH_MAX_DIMS], post[GRAPH_MAX_DIMS];
	float value = 0.0f;
	for (int d = 0; d < x->ndim; d++) {
		int32_t ab[2];
		memcpy(ab, p->data + 8 * (size_t)d, sizeof(ab));
		pre[d] = (size_t)ab[0];
		post[d] = (size_t)ab[1];
	}
	if (n->op == OP_PADV2 && v)
		memcpy(&value, v->data, sizeof(value));
	return xnn_define_static_constant_pad(b->sg, pre, post, value, xid, yid, 0);
}

enum xnn_status xnnpack_define_float_node(struct xnnpack_builder *b, const struct node *n)
{
	const struct graph *g = b->g;
	const struct tensor *w = xn_input(g, n, 1);
	uint32_t xid, yid, x2id, wid, bid;
	float lo, hi;
	enum xnn_status s = xn_activation_value(b, n->inputs[0], &xid);
	if (s == xnn_status_success)
		s = xn_activation_value(b, n->outputs[0], &yid);
	if (s != xnn_status_success)
		return s;
	switch (n->op) {
	case OP_CONV_2D:
	case OP_DEPTHWISE_CONV_2D:
		return define_conv(b, n, xid, yid);
	case OP_FULLY_CONNECTED:
		xn_activation_range(n->opt.fc.activation, &lo, &hi);
		s = define_static(b, w, &wid);
		if (s == xnn_status_success)
			s = define_bias(b, n, w->dims[0], &bid);
		if (s == xnn_status_success)
			s = xnn_define_fully_connected(b->sg, lo, hi, xid, wid, bid, yid, XNN_FLAG_TENSORFLOW_RESHAPE_2D);
		return s;
	case OP_ADD:
	case OP_SUB:
	case OP_MUL:
	case OP_MAXIMUM:
	case OP_MINIMUM:
		s = xn_activation_value(b, n->inputs[1], &x2id);
		if (s != xnn_status_success)
			return s;
		xn_activation_range(n->op == OP_MAXIMUM || n->op == OP_MINIMUM ? ACT_NONE : n->opt.add.activation, &lo,
				    &hi);
		if (n->op == OP_ADD)
			return xnn_define_add2(b->sg, lo, hi, xid, x2id, yid, 0);
		if (n->op == OP_SUB)
			return xnn_define_subtract(b->sg, lo, hi, xid, x2id, yid, 0);
		if (n->op == OP_MUL)
			return xnn_define_multiply2(b->sg, lo, hi, xid, x2id, yid, 0);
		if (n->op == OP_MAXIMUM)
			return xnn_define_maximum2(b->sg, xid, x2id, yid, 0);
		return xnn_define_minimum2(b->sg, xid, x2id, yid, 0);
	case OP_MEAN:
		return xnn_define_global_average_pooling_2d(b->sg, -INFINITY, INFINITY, xid, yid, 0);
	case OP_AVERAGE_POOL_2D:
	case OP_MAX_POOL_2D:
		return define_pool(b, n, xid, yid);
	case OP_SOFTMAX:
		return xnn_define_softmax(b->sg, xid, yid, 0);
	case OP_HARD_SWISH:
		return xnn_define_hardswish(b->sg, xid, yid, 0);
	case OP_LOGISTIC:
		return xnn_define_sigmoid(b->sg, xid, yid, 0);
	case OP_RELU:
		return xnn_define_clamp(b->sg, 0.0f, INFINITY, xid, yid, 0);
	case OP_RELU6:
		return xnn_define_clamp(b->sg, 0.0f, 6.0f, xid, yid, 0);
	case OP_RELU_N1_TO_1:
		return xnn_define_clamp(b->sg, -1.0f, 1.0f, xid, yid, 0);
	case OP_RESHAPE:
	case OP_SQUEEZE: {
		size_t dims[GRAPH_MAX_DIMS], nd = xn_value_dims(b, n->outputs[0], dims);
		return xnn_define_static_reshape(b->sg, nd, dims, xid, yid, 0);
	}
	case OP_PAD:
	case OP_PADV2:
		return define_pad(b, n, xid, yid);
	default:
		return xnn_status_unsupported_parameter;
	}
}

#endif /* CAMCLASS_HAVE_XNNPACK */
