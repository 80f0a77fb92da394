/* metadata.c — see metadata.h. Field ids are the declaration order in metadata_schema.fbs
 * (ModelMetadata: name 0, description 1, version 2, subgraph_metadata 3, author 4;
 * SubGraphMetadata: input_tensor_metadata 2, output_tensor_metadata 3, associated_files 4;
 * TensorMetadata: process_units 4, associated_files 6; ProcessUnit: options union 0/1 with
 * NormalizationOptions = 1 (mean 0, std 1); AssociatedFile: name 0, type 2 with
 * TENSOR_AXIS_LABELS = 2) and in schema.fbs (Model: buffers 4, metadata 6; Metadata: name 0,
 * buffer 1). The zip is read with libzip (Debian's libzip, loaded on first use: zip_api.h),
 * never by hand: the metadata writer appends an ordinary archive whose offsets count from the
 * start of the model file. */
#include "inference/metadata.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "inference/fbs.h"
#include "inference/zip_api.h"

#define PU_NORMALIZATION 1
#define FILE_TENSOR_AXIS_LABELS 2

static void copy_str(const struct fbs_table *t, int id, char *dst, size_t cap)
{
	const char *s = NULL;
	size_t n = 0;
	dst[0] = 0;
	if (fbs_string(t, id, &s, &n) < 0 || !s)
		return;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
	for (size_t i = 0; i < n; i++) /* keep messages and model-info lines printable */
		if ((unsigned char)dst[i] < 0x20 && dst[i] != '\n')
			dst[i] = ' ';
}

/* The labels file among a list of AssociatedFile tables, if any. */
static int find_labels(const struct fbs_table *t, int id, struct eng_metadata *m)
{
	struct fbs_vec v;
	if (fbs_vector(t, id, 4, &v) < 0)
		return -EBADMSG;
	for (uint32_t i = 0; i < v.n && !m->labels_file[0]; i++) {
		struct fbs_table f;
		int8_t type;
		if (fbs_vec_table(&v, i, &f) < 0 || fbs_i8(&f, 2, 0, &type) < 0)
			return -EBADMSG;
		if (type == FILE_TENSOR_AXIS_LABELS)
			copy_str(&f, 0, m->labels_file, sizeof(m->labels_file));
	}
	return 0;
}

static int read_normalization(const struct fbs_table *tm, struct eng_metadata *m)
{
	struct fbs_vec units;
	if (fbs_vector(tm, 4, 4, &units) < 0)
		return -EBADMSG;
	for (uint32_t i = 0; i < units.n; i++) {
		struct fbs_table u, opt;
		struct fbs_vec mean, std;
		uint8_t type;
		bool present;
		if (fbs_vec_table(&units, i, &u) < 0 || fbs_u8(&u, 0, 0, &type) < 0)
			return -EBADMSG;
		if (type != PU_NORMALIZATION)
			continue;
		if (fbs_table(&u, 1, &opt, &present) < 0 || !present || fbs_vector(&opt, 0, 4, &mean) < 0 ||
		    fbs_vector(&opt, 1, 4, &std) < 0)
			return -EBADMSG;
		if (mean.n < 1 || mean.n > ENG_MAX_NORM || std.n != mean.n)
			return -EBADMSG;
		for (uint32_t c = 0; c < mean.n; c++) {
			m->mean[c] = fbs_vec_f32(&mean, c);
			m->std[c] = fbs_vec_f32(&std, c);
		}
		m->norm_count = (int)mean.n;
		return 0;
	}
	return 0;
}

/* First-subgraph metadata: input normalization, output labels. */
static int read_subgraph(const struct fbs_table *mm, struct eng_metadata *m)
{
	struct fbs_vec sgs, ins, outs;
	struct fbs_table sg, tm;
	if (fbs_vector(mm, 3, 4, &sgs) < 0)
		return -EBADMSG;
	if (sgs.n == 0)
		return 0;
	if (fbs_vec_table(&sgs, 0, &sg) < 0 || fbs_vector(&sg, 2, 4, &ins) < 0 || fbs_vector(&sg, 3, 4, &outs) < 0)
		return -EBADMSG;
	if (ins.n > 0 && (fbs_vec_table(&ins, 0, &tm) < 0 || read_normalization(&tm, m) < 0))
		return -EBADMSG;
	if (outs.n > 0 && (fbs_vec_table(&outs, 0, &tm) < 0 || find_labels(&tm, 6, m) < 0))
		return -EBADMSG;
	if (!m->labels_file[0] && find_labels(&sg, 4, m) < 0)
		return -EBADMSG;
	return 0;
}

static int read_model_metadata(const uint8_t *data, size_t len, struct eng_metadata *m)
{
	struct fbs fb = { .buf = data, .len = len };
	struct fbs_table mm;
	if (fbs_root(&fb, "M001", &mm) < 0)
		return -EBADMSG;
	copy_str(&mm, 0, m->name, sizeof(m->name));
	copy_str(&mm, 1, m->description, sizeof(m->description));
	copy_str(&mm, 2, m->version, sizeof(m->version));
	copy_str(&mm, 4, m->author, sizeof(m->author));
	if (read_subgraph(&mm, m) < 0)
		return -EBADMSG;
	if (!m->labels_file[0] && find_labels(&mm, 6, m) < 0)
		return -EBADMSG;
	return 0;
}

void md_read(const uint8_t *buf, size_t len, struct eng_metadata *ret)
{
	struct fbs fb = { .buf = buf, .len = len };
	struct fbs_table model;
	struct fbs_vec buffers, entries;
	memset(ret, 0, sizeof(*ret));
	if (fbs_root(&fb, "TFL3", &model) < 0 || fbs_vector(&model, 4, 4, &buffers) < 0 ||
	    fbs_vector(&model, 6, 4, &entries) < 0) {
		snprintf(ret->error, sizeof(ret->error), "model metadata list unreadable");
		return;
	}
	for (uint32_t i = 0; i < entries.n; i++) {
		struct fbs_table e, b;
		struct fbs_vec data;
		const char *name = NULL;
		size_t name_len = 0;
		uint32_t bi;
		if (fbs_vec_table(&entries, i, &e) < 0 || fbs_string(&e, 0, &name, &name_len) < 0 ||
		    fbs_u32(&e, 1, 0, &bi) < 0 || bi >= buffers.n || fbs_vec_table(&buffers, bi, &b) < 0 ||
		    fbs_vector(&b, 0, 1, &data) < 0) {
			snprintf(ret->error, sizeof(ret->error), "metadata entry %u unreadable", i);
			continue;
		}
		if (!name)
			continue;
		if (strcmp(name, "min_runtime_version") == 0) {
			size_t n = strnlen((const char *)fbs_vec_data(&data), data.n);
			if (n >= sizeof(ret->min_runtime_version))
				n = sizeof(ret->min_runtime_version) - 1;
			memcpy(ret->min_runtime_version, fbs_vec_data(&data), n);
			ret->min_runtime_version[n] = 0;
		} else if (strcmp(name, "TFLITE_METADATA") == 0) {
			char keep[sizeof(ret->min_runtime_version)];
			memcpy(keep, ret->min_runtime_version, sizeof(keep));
			if (read_model_metadata(fbs_vec_data(&data), data.n, ret) < 0) {
				memset(ret, 0, sizeof(*ret));
				snprintf(ret->error, sizeof(ret->error), "TFLITE_METADATA is corrupt (%s)",
					 fb.why ? fb.why : "invalid");
			} else {
				ret->present = 1;
			}
			memcpy(ret->min_runtime_version, keep, sizeof(keep));
		}
	}
}

int md_associated_file(const uint8_t *buf, size_t len, const char *name, char **ret_data,
		       size_t *ret_len, char *err, size_t errlen)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *z;
	zip_stat_t st;
	int rc = 0;
	char *data = NULL;
	const struct zip_api *Z = zip_api(err, errlen);
	if (!Z)
		return -ELIBACC;

	Z->zip_error_init(&ze);
	src = Z->zip_source_buffer_create(buf, len, 0, &ze);
	if (!src) {
		Z->zip_error_fini(&ze);
		snprintf(err, errlen, "out of memory opening the model's archive");
		return -ENOMEM;
	}
	z = Z->zip_open_from_source(src, ZIP_RDONLY, &ze);
	if (!z) {
		int code = Z->zip_error_code_zip(&ze);
		Z->zip_source_free(src);
		snprintf(err, errlen, "%s: %s", name,
			 code == ZIP_ER_NOZIP ? "the model has no associated files (no zip archive appended)" :
			 Z->zip_error_strerror(&ze));
		Z->zip_error_fini(&ze);
		return code == ZIP_ER_NOZIP ? -ENOENT : -EBADMSG;
	}
	Z->zip_error_fini(&ze);
	zip_int64_t idx = Z->zip_name_locate(z, name, 0);
	if (idx < 0) {
		snprintf(err, errlen, "%s: not among the model's associated files", name);
		rc = -ENOENT;
	} else if (Z->zip_stat_index(z, (zip_uint64_t)idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
		snprintf(err, errlen, "%s: %s", name, Z->zip_strerror(z));
		rc = -EBADMSG;
	} else if (st.size > ENG_MAX_ASSOCIATED_FILE) {
		snprintf(err, errlen, "%s: %llu bytes, more than %zu", name, (unsigned long long)st.size,
			 ENG_MAX_ASSOCIATED_FILE);
		rc = -EFBIG;
	} else if (!(data = malloc((size_t)st.size + 1))) {
		snprintf(err, errlen, "%s: out of memory", name);
		rc = -ENOMEM;
	} else {
		zip_file_t *f = Z->zip_fopen_index(z, (zip_uint64_t)idx, 0);
		zip_int64_t got = f ? Z->zip_fread(f, data, st.size) : -1;
		char extra;
		/* reading on to the end is what makes libzip check the member's CRC */
		if (got < 0 || (zip_uint64_t)got != st.size || Z->zip_fread(f, &extra, 1) != 0) {
			snprintf(err, errlen, "%s: %s", name, f ? Z->zip_file_strerror(f) : Z->zip_strerror(z));
			rc = -EBADMSG;
		}
		if (f)
			Z->zip_fclose(f);
	}
	Z->zip_discard(z); /* also frees src */
	if (rc < 0) {
		free(data);
		return rc;
	}
	data[st.size] = 0;
	*ret_data = data;
	*ret_len = (size_t)st.size;
	return 0;
}
