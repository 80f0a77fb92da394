/* xnnpack.c — the XNNPACK backend (see xnnpack.h for the contract).
 *
 * Why this shape: XNNPACK's subgraph API does the fast work (packed weights, its own activation
 * workspace, operator fusion, pthreadpool threading), and a 2022 snapshot (Debian's) supports
 * exactly the ConvNet core we need — but not softmax on quantized tensors, not per-channel fully
 * connected, and no u8<->s8 conversion. So, like TFLite's delegate, we hand XNNPACK the maximal
 * runs of nodes it can take and run the rest with our own kernels in between. Runs are taken in
 * the planner's execution order, which for the linear ConvNets we target is the same as
 * partitioning the dataflow graph. The partition boundaries are XNNPACK external values bound
 * straight to the graph's tensor buffers, so no copies happen between segments.
 *
 * Support is decided by node_supported() from the facts XNNPACK documents in its header; if
 * XNNPACK still refuses a run (say, a requantization scale outside its range), that run stays
 * on the builtin kernels. Coded against Debian's 2022 header, not against upstream.
 *
 * AVERAGE_POOL_2D stays on the builtin kernel even where it is a global pool: TFLite 2.8's
 * delegate does not take quantized average pooling either, and XNNPACK's rounding of the mean
 * differs from TFLite's by one LSB now and then, which the softmax of a small model (ResNet8 on
 * random input) turns into 20+ LSB. Keeping it builtin makes our outputs identical to TFLite's
 * own XNNPACK outputs (xnnpack_output in ../shared/models/ref) on every shared case, for the
 * price of a second XNNPACK runtime after the pool (a few microseconds). */
#include "inference/xnnpack.h"

#include <errno.h>
#include <stdio.h>

#ifndef CAMCLASS_HAVE_XNNPACK

bool xnnpack_available(void)
{
	return false;
}

int xnnpack_delegate_create(struct graph *g, int threads, struct xnnpack_delegate **ret_delegate,
			    char *err, size_t errlen)
{
	(void)g;
	(void)threads;
	(void)ret_delegate;
	snprintf(err, errlen, "backend xnnpack is not built in (this build has XNNPACK=0)");
	return -ENOTSUP;
}

int xnnpack_delegate_run(struct xnnpack_delegate *d, struct graph *g, int node, int *ret_next_node)
{
	(void)d;
	(void)g;
	(void)node;
	(void)ret_next_node;
	return 0;
}

void xnnpack_delegate_stats(const struct xnnpack_delegate *d, int *ret_delegated_nodes,
			    int *ret_runtimes)
{
	(void)d;
	*ret_delegated_nodes = 0;
	*ret_runtimes = 0;
}

void xnnpack_delegate_free(struct xnnpack_delegate *d)
{
	(void)d;
}

#else /* CAMCLASS_HAVE_XNNPACK */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "daemon/log.h"

struct segment {
	int first_node, end_node;        /* [first_node, end_node) of the execution order */
	xnn_runtime_t runtime;
	size_t nexternal;
	struct xnn_external_value *externals; /* .data as last bound (NULL: not yet bound) */
	int *external_tensor;            /* graph tensor of each external value */
};

struct xnnpack_delegate {
	pthreadpool_t threadpool;        /* NULL for one thread: XNNPACK then runs on the caller */
	int nnodes;
	int nsegments;
	struct segment *segments;        /* only the XNNPACK segments */
	int *segment_at;                 /* per node: index of the segment starting there, or -1 */
	void **owned;                    /* static data XNNPACK reads; must outlive the runtimes */
	int nowned, owned_cap;
	int delegated_nodes;
};

/* State while building the subgraph of one segment. */
struct builder {
	struct xnnpack_delegate *d;
	const struct graph *g;
	const int *producer;             /* per tensor: execution index of its producer, or -1 */
	const int *last_consumer;        /* per tensor: last execution index reading it, or -1 */
	const bool *is_graph_output;
	uint32_t *value_of;              /* per tensor: its value id in sg, or XNN_INVALID_VALUE_ID */
	xnn_subgraph_t sg;
};

static const struct tensor *node_input(const struct graph *g, const struct node *n, int i)
{
	if (i >= n->ninputs || n->inputs[i] < 0 || n->inputs[i] >= g->ntensors)
		return NULL;
	return &g->tensors[n->inputs[i]];
}

static const struct tensor *node_output(const struct graph *g, const struct node *n)
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

static bool activation_supported(enum activation a)
{
	return a == ACT_NONE || a == ACT_RELU || a == ACT_RELU6 || a == ACT_RELU_N1_TO_1;
}

/* Fused activation as the real-valued output range XNNPACK quantizes itself. */
static void activation_range(enum activation a, float *ret_min, float *ret_max)
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
	const struct tensor *b = node_input(g, n, 2);
	if (!b)
		return true; /* absent: we give XNNPACK zeros */
	return b->is_const && b->data && b->type == TT_INT32 && b->ndim == 1 && b->dims[0] == channels &&
	       b->bytes == (size_t)channels * sizeof(int32_t);
}

/* MEAN over height and width of an NHWC tensor: XNNPACK's global average pooling. */
static bool is_spatial_mean(const struct graph *g, const struct node *n)
{
	const struct tensor *x = node_input(g, n, 0), *y = node_output(g, n), *axes = node_input(g, n, 1);
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

static bool node_supported(const struct graph *g, const struct node *n)
{
	const struct tensor *x = node_input(g, n, 0), *y = node_output(g, n), *w = node_input(g, n, 1);
	if (!is_q8_activation(x) || !is_q8_activation(y) || x->type != y->type)
		return false;
	switch (n->op) {
	case OP_CONV_2D:
		return x->ndim == 4 && y->ndim == 4 && w && w->ndim == 4 && w->dims[3] == x->dims[3] &&
		       w->dims[0] == y->dims[3] && activation_supported(n->opt.conv.activation) &&
		       weights_supported(w, x->type, w->dims[0], 0, true) && bias_supported(g, n, w->dims[0]);
	case OP_DEPTHWISE_CONV_2D:
		return x->ndim == 4 && y->ndim == 4 && w && w->ndim == 4 && w->dims[0] == 1 &&
		       w->dims[3] == y->dims[3] && x->dims[3] > 0 && y->dims[3] % x->dims[3] == 0 &&
		       activation_supported(n->opt.depthwise.activation) &&
		       weights_supported(w, x->type, w->dims[3], 3, true) && bias_supported(g, n, w->dims[3]);
	case OP_FULLY_CONNECTED:
		/* No per-channel fully connected in this XNNPACK snapshot. */
		return w && w->ndim == 2 && w->dims[1] > 0 && tensor_num_elements(x) % w->dims[1] == 0 &&
		       y->ndim == 2 && y->dims[0] == tensor_num_elements(x) / w->dims[1] && y->dims[1] == w->dims[0] &&
		       n->opt.fc.weights_format == 0 && !n->opt.fc.keep_num_dims &&
		       activation_supported(n->opt.fc.activation) &&
		       weights_supported(w, x->type, w->dims[0], 0, false) && bias_supported(g, n, w->dims[0]);
	case OP_ADD:
		return is_q8_activation(w) && w->type == x->type && activation_supported(n->opt.add.activation);
	case OP_MEAN:
		return is_spatial_mean(g, n);
	case OP_RESHAPE:
		return x->scale == y->scale && x->zero_point == y->zero_point && x->bytes == y->bytes;
	default:
		return false;
	}
}

/* Nodes that make a segment worth a runtime (a run of reshapes alone is not). */
static bool node_computes(const struct node *n)
{
	return n->op != OP_RESHAPE;
}

static void *own_alloc(struct xnnpack_delegate *d, size_t bytes)
{
	void *p;
	if (d->nowned == d->owned_cap)
		return NULL;
	p = calloc(1, bytes ? bytes : 1);
	if (p)
		d->owned[d->nowned++] = p;
	return p;
}

/* The shape XNNPACK sees: TFLite's, except that MEAN's output is [N, 1, 1, C] as XNNPACK's global
 * average pooling wants it (MEAN without keep_dims gives [N, C] in TFLite; the bytes are the same). */
static size_t value_dims(const struct builder *b, int ti, size_t dims[GRAPH_MAX_DIMS])
{
	const struct tensor *t = &b->g->tensors[ti];
	int p = b->producer[ti];
	if (p >= 0 && b->g->nodes[p].op == OP_MEAN) {
		const struct tensor *x = node_input(b->g, &b->g->nodes[p], 0);
		dims[0] = (size_t)x->dims[0];
		dims[1] = dims[2] = 1;
		dims[3] = (size_t)x->dims[3];
		return 4;
	}
	for (int i = 0; i < t->ndim; i++)
		dims[i] = (size_t)t->dims[i];
	return (size_t)t->ndim;
}

static enum xnn_status define_activation(struct builder *b, int ti, uint32_t external_id, uint32_t flags)
{
	const struct tensor *t = &b->g->tensors[ti];
	size_t dims[GRAPH_MAX_DIMS], nd = value_dims(b, ti, dims);
	return xnn_define_quantized_tensor_value(b->sg, t->type == TT_INT8 ? xnn_datatype_qint8 : xnn_datatype_quint8,
						 t->zero_point, t->scale, nd, dims, NULL, external_id, flags,
						 &b->value_of[ti]);
}

/* Value id of an activation tensor, defining it as an internal value on first use. */
static enum xnn_status activation_value(struct builder *b, int ti, uint32_t *ret_id)
{
	enum xnn_status s = xnn_status_success;
	if (b->value_of[ti] == XNN_INVALID_VALUE_ID)
		s = define_activation(b, ti, XNN_INVALID_VALUE_ID, 0);
	if (s == xnn_status_success)
		*ret_id = b->value_of[ti];
	return s;
}

static enum xnn_status define_weights(struct builder *b, const struct tensor *w, size_t channel_axis, uint32_t *ret_id)
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
static enum xnn_status define_bias(struct builder *b, const struct node *n, const struct tensor *x,
				   const struct tensor *w, int channels, uint32_t *ret_id)
{
	const struct tensor *bias = node_input(b->g, n, 2);
	int32_t *data = own_alloc(b->d, (size_t)channels * sizeof(int32_t));
	size_t dims[1] = { (size_t)channels };
	if (!data)
		return xnn_status_out_of_memory;
	if (bias)
		memcpy(data, bias->data, (size_t)channels * sizeof(int32_t));
	if (w->nq > 1) {
		float *scales = own_alloc(b->d, (size_t)channels * sizeof(float));
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
static void conv_padding(enum padding pad, int in, int out, int kernel, int stride, int dilation,
			 uint32_t *ret_before, uint32_t *ret_after)
{
	long effective = (long)(kernel - 1) * dilation + 1;
	long total = (long)(out - 1) * stride + effective - in;
	if (pad != PAD_SAME || total < 0)
		total = 0;
	*ret_before = (uint32_t)(total / 2);
	*ret_after = (uint32_t)(total - total / 2);
}

static enum xnn_status define_node(struct builder *b, const struct node *n)
{
	const struct graph *g = b->g;
	const struct tensor *x = node_input(g, n, 0), *y = node_output(g, n), *w = node_input(g, n, 1);
	uint32_t xid, yid, wid, bid, x2id;
	uint32_t top, bottom, left, right;
	float lo, hi;
	enum xnn_status s;

	s = activation_value(b, n->inputs[0], &xid);
	if (s == xnn_status_success)
		s = activation_value(b, n->outputs[0], &yid);
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
		conv_padding(pad, x->dims[1], y->dims[1], w->dims[1], stride_h, dilation_h, &top, &bottom);
		conv_padding(pad, x->dims[2], y->dims[2], w->dims[2], stride_w, dilation_w, &left, &right);
		activation_range(dw ? n->opt.depthwise.activation : n->opt.conv.activation, &lo, &hi);
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
		activation_range(n->opt.fc.activation, &lo, &hi);
		s = define_weights(b, w, 0, &wid);
		if (s == xnn_status_success)
			s = define_bias(b, n, x, w, w->dims[0], &bid);
		if (s == xnn_status_success)
			s = xnn_define_fully_connected(b->sg, lo, hi, xid, wid, bid, yid, XNN_FLAG_TENSORFLOW_RESHAPE_2D);
		return s;
	case OP_ADD:
		activation_range(n->opt.add.activation, &lo, &hi);
		s = activation_value(b, n->inputs[1], &x2id);
		if (s == xnn_status_success)
			s = xnn_define_add2(b->sg, lo, hi, xid, x2id, yid, 0);
		return s;
	case OP_MEAN:
		return xnn_define_global_average_pooling_2d(b->sg, -INFINITY, INFINITY, xid, yid, 0);
	case OP_RESHAPE: {
		size_t dims[GRAPH_MAX_DIMS], nd = value_dims(b, n->outputs[0], dims);
		return xnn_define_static_reshape(b->sg, nd, dims, xid, yid, 0);
	}
	default:
		return xnn_status_unsupported_parameter;
	}
}

/* Collects the boundary tensors of nodes [first, end): inputs made before the segment, and
 * outputs read after it or by the caller. Returns their count. */
static size_t collect_externals(const struct builder *b, int first, int end, int *tensors, uint32_t *flags)
{
	const struct graph *g = b->g;
	size_t k = 0;
	for (int i = first; i < end; i++) {
		const struct node *n = &g->nodes[i];
		for (int j = 0; j < n->ninputs; j++) {
			int t = n->inputs[j];
			if (t < 0 || g->tensors[t].is_const || b->producer[t] >= first)
				continue;
			size_t m = 0;
			while (m < k && tensors[m] != t)
				m++;
			if (m == k) {
				tensors[k] = t;
				flags[k++] = XNN_VALUE_FLAG_EXTERNAL_INPUT;
			}
		}
		for (int j = 0; j < n->noutputs; j++) {
			int t = n->outputs[j];
			if (t >= 0 && (b->last_consumer[t] >= end || b->is_graph_output[t])) {
				tensors[k] = t;
				flags[k++] = XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
			}
		}
	}
	return k;
}

static enum xnn_status bind_externals(struct segment *s, const struct graph *g)
{
	for (size_t k = 0; k < s->nexternal; k++) {
		s->externals[k].data = g->tensors[s->external_tensor[k]].data;
		if (!s->externals[k].data)
			return xnn_status_success; /* buffers not assigned yet: bind at first run */
	}
	return xnn_setup_runtime(s->runtime, s->nexternal, s->externals);
}

/* Builds the XNNPACK runtime of nodes [first, end) into s. A status other than success means
 * XNNPACK refused it (or memory ran out): the caller keeps these nodes on the builtin kernels. */
static enum xnn_status build_segment(struct builder *b, int first, int end, struct segment *s)
{
	const struct graph *g = b->g;
	size_t cap = 0, k;
	uint32_t *flags = NULL;
	xnn_runtime_t rt = NULL;
	enum xnn_status st = xnn_status_out_of_memory;

	for (int i = first; i < end; i++)
		cap += (size_t)(g->nodes[i].ninputs + g->nodes[i].noutputs);
	memset(s, 0, sizeof(*s));
	s->externals = calloc(cap, sizeof(*s->externals));
	s->external_tensor = calloc(cap, sizeof(int));
	flags = calloc(cap, sizeof(uint32_t));
	if (!s->externals || !s->external_tensor || !flags)
		goto fail;
	k = collect_externals(b, first, end, s->external_tensor, flags);

	for (int t = 0; t < g->ntensors; t++)
		b->value_of[t] = XNN_INVALID_VALUE_ID;
	b->sg = NULL;
	st = xnn_create_subgraph((uint32_t)k, 0, &b->sg);
	for (size_t e = 0; e < k && st == xnn_status_success; e++) {
		st = define_activation(b, s->external_tensor[e], (uint32_t)e, flags[e]);
		s->externals[e].id = (uint32_t)e;
	}
	for (int i = first; i < end && st == xnn_status_success; i++)
		st = define_node(b, &g->nodes[i]);
	if (st == xnn_status_success)
		st = xnn_create_runtime_v2(b->sg, b->d->threadpool, 0, &rt);
	if (b->sg)
		xnn_delete_subgraph(b->sg);
	b->sg = NULL;
	if (st != xnn_status_success)
		goto fail;
	s->first_node = first;
	s->end_node = end;
	s->runtime = rt;
	s->nexternal = k;
	st = bind_externals(s, g);
	if (st != xnn_status_success)
		goto fail;
	free(flags);
	return xnn_status_success;
fail:
	if (rt)
		xnn_delete_runtime(rt);
	free(s->externals);
	free(s->external_tensor);
	free(flags);
	memset(s, 0, sizeof(*s));
	return st;
}

/* Who produces and who last reads each tensor, in execution order. */
static int index_tensors(const struct graph *g, int *producer, int *last_consumer, bool *is_graph_output)
{
	for (int t = 0; t < g->ntensors; t++) {
		producer[t] = -1;
		last_consumer[t] = -1;
		is_graph_output[t] = false;
	}
	for (int i = 0; i < g->noutputs; i++) {
		if (g->outputs[i] < 0 || g->outputs[i] >= g->ntensors)
			return -EINVAL;
		is_graph_output[g->outputs[i]] = true;
	}
	for (int i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		for (int j = 0; j < n->ninputs; j++)
			if (n->inputs[j] >= 0 && n->inputs[j] < g->ntensors)
				last_consumer[n->inputs[j]] = i;
		for (int j = 0; j < n->noutputs; j++)
			if (n->outputs[j] >= 0 && n->outputs[j] < g->ntensors)
				producer[n->outputs[j]] = i;
	}
	return 0;
}

bool xnnpack_available(void)
{
	return true;
}

int xnnpack_delegate_create(struct graph *g, int threads, struct xnnpack_delegate **ret_delegate,
			    char *err, size_t errlen)
{
	struct xnnpack_delegate *d = NULL;
	int *producer = NULL, *last_consumer = NULL;
	bool *is_graph_output = NULL;
	uint32_t *value_of = NULL;
	enum xnn_status st;
	int r = -ENOMEM;

	if (threads < 1) {
		snprintf(err, errlen, "xnnpack: threads must be at least 1, not %d", threads);
		return -EINVAL;
	}
	st = xnn_initialize(NULL);
	if (st != xnn_status_success) {
		snprintf(err, errlen, "xnnpack: cannot initialize (status %d%s)", (int)st,
			 st == xnn_status_unsupported_hardware ? ", unsupported CPU" : "");
		return -ENOTSUP;
	}
	d = calloc(1, sizeof(*d));
	producer = calloc((size_t)g->ntensors + 1, sizeof(int));
	last_consumer = calloc((size_t)g->ntensors + 1, sizeof(int));
	is_graph_output = calloc((size_t)g->ntensors + 1, sizeof(bool));
	value_of = calloc((size_t)g->ntensors + 1, sizeof(uint32_t));
	if (!d || !producer || !last_consumer || !is_graph_output || !value_of)
		goto fail;
	d->nnodes = g->nnodes;
	d->segments = calloc((size_t)g->nnodes + 1, sizeof(*d->segments));
	d->segment_at = malloc(((size_t)g->nnodes + 1) * sizeof(int));
	d->owned_cap = 3 * g->nnodes + 1; /* at most a bias, its scales per node */
	d->owned = calloc((size_t)d->owned_cap, sizeof(void *));
	if (!d->segments || !d->segment_at || !d->owned)
		goto fail;
	if (threads > 1) {
		d->threadpool = pthreadpool_create((size_t)threads);
		if (!d->threadpool)
			goto fail;
	}
	if (index_tensors(g, producer, last_consumer, is_graph_output) < 0) {
		r = -EINVAL;
		snprintf(err, errlen, "xnnpack: graph output index out of range");
		goto fail;
	}

	struct builder b = {
		.d = d, .g = g, .producer = producer, .last_consumer = last_consumer,
		.is_graph_output = is_graph_output, .value_of = value_of,
	};
	for (int i = 0; i < g->nnodes; i++)
		d->segment_at[i] = -1;
	for (int i = 0; i < g->nnodes;) {
		int end = i;
		bool computes = false;
		while (end < g->nnodes && node_supported(g, &g->nodes[end])) {
			computes = computes || node_computes(&g->nodes[end]);
			end++;
		}
		if (end == i) {
			i++;
			continue;
		}
		if (computes) {
			st = build_segment(&b, i, end, &d->segments[d->nsegments]);
			if (st == xnn_status_success) {
				d->segment_at[i] = d->nsegments++;
				d->delegated_nodes += end - i;
			} else if (st == xnn_status_out_of_memory) {
				goto fail;
			} else {
				log_debug("xnnpack: nodes %d..%d stay on the builtin kernels (XNNPACK status %d)",
					  g->nodes[i].index, g->nodes[end - 1].index, (int)st);
			}
		}
		i = end;
	}
	log_debug("xnnpack: %d of %d nodes in %d XNNPACK subgraph(s), %d thread(s)", d->delegated_nodes,
		  g->nnodes, d->nsegments, threads);
	free(producer);
	free(last_consumer);
	free(is_graph_output);
	free(value_of);
	*ret_delegate = d;
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "xnnpack: out of memory");
	free(producer);
	free(last_consumer);
	free(is_graph_output);
	free(value_of);
	xnnpack_delegate_free(d);
	return r;
}

int xnnpack_delegate_run(struct xnnpack_delegate *d, struct graph *g, int node, int *ret_next_node)
{
	struct segment *s;
	bool moved = false;
	enum xnn_status st;

	if (!d || node < 0 || node >= d->nnodes || d->segment_at[node] < 0)
		return 0;
	s = &d->segments[d->segment_at[node]];
	for (size_t k = 0; k < s->nexternal; k++) {
		void *data = g->tensors[s->external_tensor[k]].data;
		if (s->externals[k].data != data) {
			s->externals[k].data = data;
			moved = true;
		}
	}
	if (moved) {
		st = xnn_setup_runtime(s->runtime, s->nexternal, s->externals);
		if (st != xnn_status_success) {
			log_error("xnnpack: cannot bind the buffers of nodes %d..%d (status %d)",
				  g->nodes[s->first_node].index, g->nodes[s->end_node - 1].index, (int)st);
			return -EIO;
		}
	}
	st = xnn_invoke_runtime(s->runtime);
	if (st != xnn_status_success) {
		log_error("xnnpack: running nodes %d..%d failed (status %d)", g->nodes[s->first_node].index,
			  g->nodes[s->end_node - 1].index, (int)st);
		return -EIO;
	}
	*ret_next_node = s->end_node;
	return 1;
}

void xnnpack_delegate_stats(const struct xnnpack_delegate *d, int *ret_delegated_nodes,
			    int *ret_runtimes)
{
	*ret_delegated_nodes = d ? d->delegated_nodes : 0;
	*ret_runtimes = d ? d->nsegments : 0;
}

void xnnpack_delegate_free(struct xnnpack_delegate *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nsegments; i++) {
		xnn_delete_runtime(d->segments[i].runtime);
		free(d->segments[i].externals);
		free(d->segments[i].external_tensor);
	}
	for (int i = 0; i < d->nowned; i++)
		free(d->owned[i]);
	if (d->threadpool)
		pthreadpool_destroy(d->threadpool);
	free(d->owned);
	free(d->segments);
	free(d->segment_at);
	free(d);
}

#endif /* CAMCLASS_HAVE_XNNPACK */
