/* tflite_options.c — a base operator's builtin options, copied field by field from the file into
 * the model being written (tflite_write.c). A table of the option types the engine's ops use
 * gives each field's kind and schema default, so a field this writer does not know is an error
 * instead of a silently dropped setting; an options type it does not know is copied only when
 * its table is empty. Field ids: tensorflow/lite/schema/schema.fbs v3. */
#include "inference/retrain_internal.h"

#include "inference/fbb.h"
#include "inference/fbs.h"
#include "lib/errbuf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* BuiltinOptions union types with the kinds of their fields by id ('b' byte/bool, 'i' int32,
 * 'f' float32, 'v' int32 vector) and the schema's defaults. */
struct opt_desc {
	uint8_t type;
	const char *kinds;
	int32_t defaults[8];
};
static const struct opt_desc opt_descs[] = {
	{ 1, "biiiii", { 0, 0, 0, 0, 1, 1 } },     /* Conv2DOptions */
	{ 2, "biiibii", { 0, 0, 0, 0, 0, 1, 1 } }, /* DepthwiseConv2DOptions */
	{ 5, "biiiib", { 0 } },                    /* Pool2DOptions */
	{ 8, "bbbb", { 0 } },                      /* FullyConnectedOptions */
	{ 9, "f", { 0 } },                         /* SoftmaxOptions */
	{ 10, "ib", { 0 } },                       /* ConcatenationOptions */
	{ 11, "bb", { 0, 1 } },                    /* AddOptions */
	{ 17, "v", { 0 } },                        /* ReshapeOptions */
	{ 21, "b", { 0 } },                        /* MulOptions */
	{ 27, "b", { 0 } },                        /* ReducerOptions */
	{ 30, "v", { 0 } },                        /* SqueezeOptions */
};
/* The builtin options of base operator n, copied from the file. */
int tflite_copy_options(struct fbb *fb, const struct fbs_vec *raw_ops, const struct node *n, uint8_t *ret_type,
			struct fbb_ref *ret, char *err, size_t errlen)
{
	struct fbs_table op, opts;
	bool present = false;
	uint8_t type;
	*ret = (struct fbb_ref){ 0 };
	if (fbs_vec_table(raw_ops, (uint32_t)n->index, &op) < 0 || fbs_u8(&op, 3, 0, &type) < 0 ||
	    fbs_table(&op, 4, &opts, &present) < 0)
		return err_setf(err, errlen, -EBADMSG, "operator %d: options unreadable", n->index);
	*ret_type = type;
	if (!present || type == 0)
		return 0;
	const struct opt_desc *d = NULL;
	for (size_t i = 0; i < sizeof(opt_descs) / sizeof(opt_descs[0]); i++)
		if (opt_descs[i].type == type)
			d = &opt_descs[i];
	size_t nslots = (opts.vt_len - 4) / 2, known = d ? strlen(d->kinds) : 0;
	for (size_t id = known; id < nslots; id++) {
		const uint8_t *e = opts.fb->buf + opts.vt_pos + 4 + 2 * id;
		if (e[0] | e[1])
			return err_setf(err, errlen, -ENOTSUP, "operator %d (%s): options type %u field %zu is not known to this "
				     "writer", n->index, builtin_op_name(n->op), type, id);
	}
	struct fbb_ref vec = { 0 };
	for (size_t id = 0; id < known; id++)
		if (d->kinds[id] == 'v') {
			struct fbs_vec v;
			if (fbs_vector(&opts, (int)id, 4, &v) < 0)
				return err_setf(err, errlen, -EBADMSG, "operator %d: options vector unreadable", n->index);
			if (v.present)
				vec = fbb_vector(fb, fbs_vec_data(&v), v.n, 4, 4);
		}
	fbb_table_start(fb);
	for (size_t id = 0; id < known; id++) {
		int fid = (int)id, r = 0;
		int32_t def = d->defaults[id];
		if (d->kinds[id] == 'b') {
			int8_t v;
			r = fbs_i8(&opts, fid, (int8_t)def, &v);
			fbb_add_i8(fb, fid, v, (int8_t)def);
		} else if (d->kinds[id] == 'i') {
			int32_t v;
			r = fbs_i32(&opts, fid, def, &v);
			fbb_add_i32(fb, fid, v, def);
		} else if (d->kinds[id] == 'f') {
			float v;
			r = fbs_f32(&opts, fid, (float)def, &v);
			fbb_add_f32(fb, fid, v, (float)def);
		} else {
			fbb_add_ref(fb, fid, vec);
		}
		if (r < 0) {
			fbb_table_end(fb);
			return err_setf(err, errlen, -EBADMSG, "operator %d: options field %d unreadable", n->index, fid);
		}
	}
	*ret = fbb_table_end(fb);
	return 0;
}

