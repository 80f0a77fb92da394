/* tflite_meta.c — the labels of a retrained model as TFLite metadata, and rt_write() which puts
 * the model, its metadata and the labels file together.
 *
 * Layout (the one the TFLite metadata writer produces, so the Task library, the metadata
 * extractor and any reader of the official schema find the labels): the model's `metadata`
 * vector has an entry "TFLITE_METADATA" naming a buffer that holds a ModelMetadata flatbuffer
 * (file identifier "M001", tensorflow_lite_support/metadata/metadata_schema.fbs); its output
 * tensor metadata lists an associated file "labels.txt" of type TENSOR_AXIS_LABELS; the file
 * itself is a member of a zip archive appended to the flatbuffer (stored, not deflated, as the
 * Python writer's zipfile does), with offsets counted from the archive's own start.
 * The input's metadata carries the normalization that our preprocessing rule implies
 * (capture.h: q = qmin + pixel), mean = zero point − qmin and std = 1/scale, so a TFLite
 * runtime feeding pixels the metadata way computes the same tensor. */
#include "inference/retrain_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inference/fbb.h"
#include "inference/zip_api.h"
#include "lib/errbuf.h"

/* metadata_schema.fbs enum values */
enum { AF_TENSOR_AXIS_LABELS = 2, CP_FEATURE = 1, CP_IMAGE = 2, CS_RGB = 1, CS_GRAYSCALE = 2, PU_NORMALIZATION = 1 };
#define ZIP_MTIME 315532800 /* 1980-01-01: the same bytes for the same inputs */

static struct fbb_ref str(struct fbb *b, const char *s)
{
	return fbb_string(b, s, strlen(s));
}

/* The 8-bit quantization the model's integer body gives its input (through a leading QUANTIZE
 * for a float input), as eng_input_info() reports it. */
static const struct tensor *integer_input(const struct graph *g)
{
	const struct tensor *in = &g->tensors[g->inputs[0]];
	if (in->type != TT_FLOAT32)
		return in;
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i].op == OP_QUANTIZE && g->nodes[i].inputs[0] == g->inputs[0])
			return &g->tensors[g->nodes[i].outputs[0]];
	return NULL;
}

static struct fbb_ref input_metadata(struct fbb *b, const struct graph *g)
{
	const struct tensor *in = &g->tensors[g->inputs[0]], *q = integer_input(g);
	struct fbb_ref units = { 0 };
	if (q && q->nq == 1 && q->scale > 0) {
		float mean = (float)(q->zero_point - (q->type == TT_INT8 ? -128 : 0)), std = 1.0f / q->scale;
		struct fbb_ref mv = fbb_vector(b, &mean, 1, 4, 4), sv = fbb_vector(b, &std, 1, 4, 4);
		fbb_table_start(b);
		fbb_add_ref(b, 0, mv);
		fbb_add_ref(b, 1, sv);
		struct fbb_ref norm = fbb_table_end(b);
		fbb_table_start(b);
		fbb_add_u8(b, 0, PU_NORMALIZATION, 0);
		fbb_add_ref(b, 1, norm);
		struct fbb_ref unit = fbb_table_end(b);
		units = fbb_vector_refs(b, &unit, 1);
	}
	fbb_table_start(b);
	fbb_add_i8(b, 0, in->ndim == 4 && in->dims[3] == 1 ? CS_GRAYSCALE : CS_RGB, 0);
	struct fbb_ref image = fbb_table_end(b);
	fbb_table_start(b);
	fbb_add_u8(b, 0, CP_IMAGE, 0);
	fbb_add_ref(b, 1, image);
	struct fbb_ref content = fbb_table_end(b);
	struct fbb_ref name = str(b, "image"), desc = str(b, "Input image to be classified.");
	fbb_table_start(b);
	fbb_add_ref(b, 0, name);
	fbb_add_ref(b, 1, desc);
	fbb_add_ref(b, 3, content);
	fbb_add_ref(b, 4, units);
	return fbb_table_end(b);
}

static struct fbb_ref output_metadata(struct fbb *b)
{
	struct fbb_ref fname = str(b, TFLITE_LABELS_FILE);
	struct fbb_ref fdesc = str(b, "Labels for categories that the model can recognize.");
	fbb_table_start(b);
	fbb_add_ref(b, 0, fname);
	fbb_add_ref(b, 1, fdesc);
	fbb_add_i8(b, 2, AF_TENSOR_AXIS_LABELS, 0);
	struct fbb_ref file = fbb_table_end(b);
	struct fbb_ref files = fbb_vector_refs(b, &file, 1);
	fbb_table_start(b);
	struct fbb_ref feature = fbb_table_end(b);
	fbb_table_start(b);
	fbb_add_u8(b, 0, CP_FEATURE, 0);
	fbb_add_ref(b, 1, feature);
	struct fbb_ref content = fbb_table_end(b);
	struct fbb_ref name = str(b, "probability"), desc = str(b, "Probabilities of the labels respectively.");
	fbb_table_start(b);
	fbb_add_ref(b, 0, name);
	fbb_add_ref(b, 1, desc);
	fbb_add_ref(b, 3, content);
	fbb_add_ref(b, 6, files);
	return fbb_table_end(b);
}

int tflite_write_metadata(const struct rt_base *base, int classes, const char *name, uint8_t **ret_buf,
			  size_t *ret_len, char *err, size_t errlen)
{
	struct fbb fb, *b = &fb;
	char desc[256];
	fbb_init(b);
	struct fbb_ref in = input_metadata(b, &base->g);
	struct fbb_ref inv = fbb_vector_refs(b, &in, 1);
	struct fbb_ref out = output_metadata(b);
	struct fbb_ref outv = fbb_vector_refs(b, &out, 1);
	struct fbb_ref sgname = str(b, "image_classifier");
	fbb_table_start(b);
	fbb_add_ref(b, 0, sgname);
	fbb_add_ref(b, 2, inv);
	fbb_add_ref(b, 3, outv);
	struct fbb_ref sg = fbb_table_end(b);
	struct fbb_ref sgv = fbb_vector_refs(b, &sg, 1);
	const char *slash = strrchr(base->path, '/');
	snprintf(desc, sizeof(desc), "%d-class image classifier: the features of %s with a head trained by "
		 "camclass retrain", classes, slash ? slash + 1 : base->path);
	struct fbb_ref nm = str(b, name), ds = str(b, desc), version = str(b, "1"), parser = str(b, "1.0.0");
	fbb_table_start(b);
	fbb_add_ref(b, 0, nm);
	fbb_add_ref(b, 1, ds);
	fbb_add_ref(b, 2, version);
	fbb_add_ref(b, 3, sgv);
	fbb_add_ref(b, 7, parser);
	struct fbb_ref root = fbb_table_end(b);
	int r = fbb_finish(b, root, "M001", ret_buf, ret_len);
	if (r < 0)
		return err_setf(err, errlen, r, "cannot build the metadata: %s", strerror(-r));
	return 0;
}

static int zip_fail(const struct zip_api *Z, char *err, size_t errlen, zip_error_t *ze,
		    const char *what)
{
	err_setf(err, errlen, -EIO, "labels zip: %s: %s", what, Z->zip_error_strerror(ze));
	Z->zip_error_fini(ze);
	return -EIO;
}

int tflite_labels_zip(const char *const *labels, int classes, uint8_t **ret_buf, size_t *ret_len,
		      char *err, size_t errlen)
{
	const struct zip_api *Z = zip_api(err, errlen);
	if (!Z)
		return -ELIBACC;
	size_t text_len = 0;
	for (int k = 0; k < classes; k++)
		text_len += strlen(labels[k]) + 1;
	char *text = malloc(text_len + 1), *p = text;
	if (!text)
		return err_setf(err, errlen, -ENOMEM, "out of memory");
	for (int k = 0; k < classes; k++)
		p += sprintf(p, "%s\n", labels[k]);

	zip_error_t ze;
	Z->zip_error_init(&ze);
	zip_source_t *mem = Z->zip_source_buffer_create(NULL, 0, 0, &ze);
	if (!mem) {
		free(text);
		return zip_fail(Z, err, errlen, &ze, "create");
	}
	zip_t *za = Z->zip_open_from_source(mem, ZIP_TRUNCATE, &ze);
	if (!za) {
		Z->zip_source_free(mem);
		free(text);
		return zip_fail(Z, err, errlen, &ze, "open");
	}
	Z->zip_source_keep(mem); /* survives Z->zip_close(): the bytes are read from it below */
	zip_source_t *file = Z->zip_source_buffer(za, text, text_len, 0);
	zip_int64_t idx = file ? Z->zip_file_add(za, TFLITE_LABELS_FILE, file, ZIP_FL_ENC_UTF_8) : -1;
	if (idx < 0)
		Z->zip_source_free(file);
	if (idx < 0 || Z->zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) < 0 ||
	    Z->zip_file_set_mtime(za, (zip_uint64_t)idx, ZIP_MTIME, 0) < 0 || Z->zip_close(za) < 0) {
		err_setf(err, errlen, -EIO, "labels zip: %s", Z->zip_strerror(za));
		Z->zip_discard(za);
		Z->zip_source_free(mem);
		free(text);
		return -EIO;
	}
	free(text);
	zip_stat_t st;
	uint8_t *out = NULL;
	int r = 0;
	if (Z->zip_source_stat(mem, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) || Z->zip_source_open(mem) < 0) {
		r = err_setf(err, errlen, -EIO, "labels zip: cannot read the archive back");
	} else {
		out = malloc(st.size ? st.size : 1);
		if (!out || Z->zip_source_read(mem, out, st.size) != (zip_int64_t)st.size)
			r = err_setf(err, errlen, out ? -EIO : -ENOMEM, "labels zip: cannot read the archive back");
		Z->zip_source_close(mem);
	}
	Z->zip_source_free(mem);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret_buf = out;
	*ret_len = st.size;
	return 0;
}

int rt_write(const struct rt_base *b, const struct rt_head *h, const char *const *labels,
	     const char *name, uint8_t **ret_buf, size_t *ret_len, char *err, size_t errlen)
{
	uint8_t *meta = NULL, *model = NULL, *zip = NULL;
	size_t meta_len = 0, model_len = 0, zip_len = 0;
	if (h->classes < 2 || h->classes > RT_MAX_CLASSES || h->depth != b->emb.depth)
		return err_setf(err, errlen, -EINVAL, "head of %d classes on %d features does not fit the embedding (%d)",
			     h->classes, h->depth, b->emb.depth);
	for (int k = 0; k < h->classes; k++) {
		size_t len = strlen(labels[k]);
		if (len == 0 || len >= RT_MAX_LABEL_BYTES || strchr(labels[k], '\n') || strchr(labels[k], '\r'))
			return err_setf(err, errlen, -EINVAL, "label %d '%s': must be 1..%d bytes on one line", k,
				     labels[k], RT_MAX_LABEL_BYTES - 1);
	}
	int r = tflite_write_metadata(b, h->classes, name, &meta, &meta_len, err, errlen);
	if (r >= 0)
		r = tflite_write_model(b, h, meta, meta_len, &model, &model_len, err, errlen);
	if (r >= 0)
		r = tflite_labels_zip(labels, h->classes, &zip, &zip_len, err, errlen);
	if (r >= 0) {
		uint8_t *all = realloc(model, model_len + zip_len);
		if (!all) {
			r = err_setf(err, errlen, -ENOMEM, "out of memory");
		} else {
			memcpy(all + model_len, zip, zip_len);
			*ret_buf = all;
			*ret_len = model_len + zip_len;
			model = NULL;
		}
	}
	free(meta);
	free(model);
	free(zip);
	return r;
}

int rt_write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16), *dir = strdup(path);
	int fd = -1, r = 0;
	if (!tmp || !dir) {
		r = err_setf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = err_setf(err, errlen, -errno, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
		goto out;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const uint8_t *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = err_setf(err, errlen, n < 0 ? -errno : -EIO, "%s: write failed: %s", tmp,
				  n < 0 ? strerror(errno) : "no progress");
			goto out;
		}
		done += (size_t)n;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		r = err_setf(err, errlen, -errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = err_setf(err, errlen, -errno, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) { /* the rename itself survives a power cut */
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	} else if (r < 0 && tmp && tmp[0]) {
		unlink(tmp);
	}
	free(tmp);
	free(dir);
	return r;
}
