/* model_tensor.c — one Tensor table of a TFLite file → struct tensor: name, type, shape, per-tensor
 * or per-channel quantization and the constant data of its buffer, each validated before it is
 * used. Split from model.c (the walk over the whole file) to keep each file to one job; the
 * reader's state and error helpers are shared through model_reader.h. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inference/model.h"
#include "inference/model_reader.h"

static int read_shape(struct reader *r, int i, const struct fbs_table *tt, struct tensor *t,
		      uint64_t *ret_elems)
{
	struct fbs_vec shape, sig;
	uint64_t elems = 1;
	FB(fbs_vector(tt, 0, 4, &shape), "tensor %d shape", i);
	FB(fbs_vector(tt, 7, 4, &sig), "tensor %d shape_signature", i);
	if (shape.n > GRAPH_MAX_DIMS)
		return failf(r, -ENOTSUP, "tensor %d '%s': %u dimensions, at most %d supported", i, t->name,
			     shape.n, GRAPH_MAX_DIMS);
	t->ndim = (int)shape.n;
	for (uint32_t d = 0; d < shape.n; d++) {
		int32_t dim = fbs_vec_i32(&shape, d);
		if (dim < 0)
			return failf(r, -ENOTSUP, "tensor %d '%s': dynamic shape (dimension %u is %d)", i,
				     t->name, d, (int)dim);
		t->dims[d] = dim;
		/* elems <= 2^30 before this step and dim < 2^31: no 64-bit overflow */
		elems *= (uint64_t)dim;
		if (elems > MODEL_MAX_TENSOR_BYTES)
			return failf(r, -ENOTSUP, "tensor %d '%s': shape has too many elements (limit %zu)", i,
				     t->name, MODEL_MAX_TENSOR_BYTES);
	}
	/* An unknown batch (Keras models say [-1, H, W, C]) runs as the stored batch, as TFLite
	 * does without a resize; any other unknown dimension would need shape inference. */
	for (uint32_t d = 0; d < sig.n; d++) {
		int32_t s = fbs_vec_i32(&sig, d);
		if (s < 0 && !(d == 0 && t->ndim > 0 && t->dims[0] == 1))
			return failf(r, -ENOTSUP,
				     "tensor %d '%s': dynamic shape (shape_signature dimension %u is %d); "
				     "convert with a fixed input shape", i, t->name, d, (int)s);
	}
	*ret_elems = elems;
	return 0;
}

static int zero_point_ok(enum tensor_type type, int64_t zp)
{
	switch (type) {
	case TT_INT8:
		return zp >= -128 && zp <= 127;
	case TT_UINT8:
		return zp >= 0 && zp <= 255;
	default:
		return zp >= INT32_MIN && zp <= INT32_MAX;
	}
}

static int read_quantization(struct reader *r, int i, const struct fbs_table *tt, struct tensor *t)
{
	struct fbs_table q;
	struct fbs_vec scale, zp;
	bool present;
	uint8_t details_type;
	int32_t axis;
	FB(fbs_table(tt, 4, &q, &present), "tensor %d quantization", i);
	if (!present)
		return 0;
	FB(fbs_vector(&q, 2, 4, &scale), "tensor %d quantization scale", i);
	FB(fbs_vector(&q, 3, 8, &zp), "tensor %d quantization zero_point", i);
	FB(fbs_u8(&q, 4, 0, &details_type), "tensor %d quantization details", i);
	FB(fbs_i32(&q, 6, 0, &axis), "tensor %d quantized_dimension", i);
	if (details_type != 0)
		return failf(r, -ENOTSUP, "tensor %d '%s': custom quantization is not supported", i, t->name);
	if (scale.n == 0)
		return 0;
	if (zp.n != scale.n)
		return failf(r, -EBADMSG, "tensor %d '%s': %u scales but %u zero points", i, t->name,
			     scale.n, zp.n);
	/* Some converters (person_detect) label 1-D per-channel biases with the filter's axis 3:
	 * the only axis a 1-D tensor has is 0, so read it as that. */
	if (scale.n > 1 && t->ndim == 1 && axis >= 1)
		axis = 0;
	if (scale.n > 1 && (axis < 0 || axis >= t->ndim || (uint32_t)t->dims[axis] != scale.n))
		return failf(r, -EBADMSG,
			     "tensor %d '%s': %u per-channel scales do not match quantized_dimension %d of a %d-D tensor",
			     i, t->name, scale.n, (int)axis, t->ndim);
	t->scales = malloc(scale.n * sizeof(float));
	t->zero_points = malloc(scale.n * sizeof(int32_t));
	if (!t->scales || !t->zero_points)
		return failf(r, -ENOMEM, "out of memory for quantization of tensor %d", i);
	for (uint32_t c = 0; c < scale.n; c++) {
		float s = fbs_vec_f32(&scale, c);
		int64_t z = fbs_vec_i64(&zp, c);
		if (!isfinite(s) || s < 0)
			return failf(r, -EBADMSG, "tensor %d '%s': invalid scale %g at channel %u", i, t->name,
				     (double)s, c);
		if (!zero_point_ok(t->type, z))
			return failf(r, -EBADMSG, "tensor %d '%s': zero point %lld out of range for %s", i,
				     t->name, (long long)z, tensor_type_name(t->type));
		t->scales[c] = s;
		t->zero_points[c] = (int32_t)z;
	}
	t->nq = (int)scale.n;
	t->quant_axis = axis;
	t->scale = t->scales[0];
	t->zero_point = t->zero_points[0];
	return 0;
}

/* Types the reader copies; which ones an op accepts is its kernel's business (FLOAT16 weights
 * are dequantized at load, INT16 activations are refused by name, INT64 paddings are read). */
static bool type_supported(int8_t type)
{
	return type == TT_FLOAT32 || type == TT_INT32 || type == TT_UINT8 || type == TT_INT8 ||
	       type == TT_FLOAT16 || type == TT_INT16 || type == TT_INT64 || type == TT_BOOL;
}

int model_read_tensor(struct reader *r, int i, const struct fbs_table *tt, struct tensor *t)
{
	const char *name;
	size_t name_len;
	int8_t type;
	uint32_t buffer;
	bool is_variable, has_sparsity;
	struct fbs_table sparsity;
	uint64_t elems = 0;
	int rc;

	FB(fbs_string(tt, 3, &name, &name_len), "tensor %d name", i);
	t->name = strndup(name ? name : "", name_len);
	if (!t->name)
		return failf(r, -ENOMEM, "out of memory for tensor names");
	FB(fbs_i8(tt, 1, TT_FLOAT32, &type), "tensor %d type", i);
	FB(fbs_u32(tt, 2, 0, &buffer), "tensor %d buffer", i);
	FB(fbs_bool(tt, 5, false, &is_variable), "tensor %d is_variable", i);
	FB(fbs_table(tt, 6, &sparsity, &has_sparsity), "tensor %d sparsity", i);
	if (!type_supported(type))
		return failf(r, -ENOTSUP, "tensor %d '%s': type %s (%d) is not supported (INT8, UINT8, INT16, INT32, INT64, BOOL, FLOAT16, FLOAT32 are)",
			     i, t->name, tensor_type_name((enum tensor_type)type), type);
	t->type = (enum tensor_type)type;
	if (is_variable)
		return failf(r, -ENOTSUP, "tensor %d '%s': variable tensors are not supported", i, t->name);
	if (has_sparsity)
		return failf(r, -ENOTSUP, "tensor %d '%s': sparse tensors are not supported", i, t->name);
	rc = read_shape(r, i, tt, t, &elems);
	if (rc < 0)
		return rc;
	t->bytes = (size_t)elems * tensor_type_size(t->type);
	if (t->bytes > MODEL_MAX_TENSOR_BYTES)
		return failf(r, -ENOTSUP, "tensor %d '%s': %zu bytes, limit %zu", i, t->name, t->bytes,
			     MODEL_MAX_TENSOR_BYTES);
	rc = read_quantization(r, i, tt, t);
	if (rc < 0)
		return rc;
	if (buffer >= r->nbuffers)
		return failf(r, -EBADMSG, "tensor %d '%s': buffer index %u out of range (%u buffers)", i,
			     t->name, buffer, r->nbuffers);
	if (r->buffers[buffer].len > 0) {
		const uint8_t *data = r->buffers[buffer].data;
		if (r->buffers[buffer].len != t->bytes)
			return failf(r, -EBADMSG, "tensor %d '%s': buffer %u has %zu bytes, the shape needs %zu",
				     i, t->name, buffer, r->buffers[buffer].len, t->bytes);
		if ((uintptr_t)data % tensor_type_size(t->type) != 0)
			return failf(r, -EBADMSG, "tensor %d '%s': constant data in buffer %u is misaligned", i,
				     t->name, buffer);
		t->is_const = true;
		t->data = (uint8_t *)data; /* read only: the mapping is PROT_READ */
	}
	return 0;
}
