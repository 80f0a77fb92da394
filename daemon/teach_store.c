/* teach_store.c — the sample files of live teaching: <dir>/samples/<label>/<id>.jpg and <id>.emb.
 *
 * Labels come from socket clients, so a label is also a folder name only after a strict check
 * (1..64 of A-Z a-z 0-9 _ . -, not starting with '.'): nothing a client sends can name another
 * path. The .emb file caches the embedding as the base computed it (quantized bytes, with the
 * base's embedding size and quantization in a header): training reads only these, and a cache
 * made with another base is skipped with a warning rather than mixed in. Both files are written
 * through a temporary file and a rename, the JPEG first: a crash leaves at most a JPEG without
 * its .emb, which the scan ignores. Sizes count toward max_disk_bytes. */
#include "daemon/teach_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "lib/log.h"

#define EMB_MAGIC "CCTEACH1"
#define EMB_HEADER 20 /* magic 8, depth u32, type u8 + 3 pad, scale f32 */
#define JPEG_QUALITY 90

bool teach_label_ok(const char *label)
{
	size_t n = label ? strlen(label) : 0;
	if (n == 0 || n > TEACH_LABEL_MAX || label[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = label[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

int teach_label_index(struct teach *t, const char *label, bool create)
{
	for (int i = 0; i < t->nlabels; i++)
		if (strcmp(t->labels[i].name, label) == 0)
			return i;
	if (!create)
		return -ENOENT;
	if (t->nlabels == TEACH_MAX_LABELS)
		return -ENOSPC;
	snprintf(t->labels[t->nlabels].name, sizeof(t->labels[0].name), "%s", label);
	t->labels[t->nlabels].count = 0;
	return t->nlabels++;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void emb_header(const struct teach *t, uint8_t *h)
{
	uint32_t bits;
	memcpy(h, EMB_MAGIC, 8);
	put_u32(h + 8, (uint32_t)t->emb->depth);
	h[12] = (uint8_t)t->emb->type;
	h[13] = h[14] = h[15] = 0;
	memcpy(&bits, &t->emb->scale, 4);
	put_u32(h + 16, bits);
}

static int add_sample(struct teach *t, int label, const char *id, uint64_t bytes, const uint8_t *emb)
{
	if (t->nsamples == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct teach_sample *ns = realloc(t->samples, ncap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		t->samples = ns;
		t->cap = ncap;
	}
	struct teach_sample *s = &t->samples[t->nsamples];
	s->emb = malloc((size_t)t->emb->depth);
	if (!s->emb)
		return -ENOMEM;
	memcpy(s->emb, emb, (size_t)t->emb->depth);
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->label = label;
	s->bytes = bytes;
	t->nsamples++;
	t->labels[label].count++;
	t->disk_bytes += bytes;
	unsigned long long n = strtoull(id, NULL, 16);
	if (n >= t->next_id)
		t->next_id = n + 1;
	return 0;
}

/* One <id>.emb of a label folder: checked against the base, then indexed. */
static void scan_one(struct teach *t, int label, const char *folder, const char *name)
{
	char path[4200], id[TEACH_ID_LEN];
	size_t len = strlen(name);
	if (len < 5 || len - 4 >= sizeof(id) || strcmp(name + len - 4, ".emb") != 0)
		return;
	memcpy(id, name, len - 4);
	id[len - 4] = 0;
	if (snprintf(path, sizeof(path), "%s/%s", folder, name) >= (int)sizeof(path))
		return;
	uint8_t head[EMB_HEADER], want[EMB_HEADER];
	size_t depth = (size_t)t->emb->depth;
	uint8_t *emb = malloc(depth);
	FILE *f = fopen(path, "rb");
	struct stat js;
	char jpg[4200];
	if (snprintf(jpg, sizeof(jpg), "%s/%s.jpg", folder, id) >= (int)sizeof(jpg))
		jpg[0] = 0;
	emb_header(t, want);
	bool ok = emb && f && fread(head, 1, EMB_HEADER, f) == EMB_HEADER && memcmp(head, want, EMB_HEADER) == 0 &&
		  fread(emb, 1, depth, f) == depth && fgetc(f) == EOF && stat(jpg, &js) == 0;
	if (f)
		fclose(f);
	if (!ok)
		log_warning("teach: %s: skipped (not an embedding of the base %s, or no JPEG beside it)", path, t->base_path);
	else if (add_sample(t, label, id, (uint64_t)js.st_size + EMB_HEADER + depth, emb) < 0)
		log_warning("teach: %s: out of memory", path);
	free(emb);
}

/* Temporary files (NAME.tmp.XXXXXX, rt_write_file()) left by a stop in the middle of a write:
 * never loaded, removed at start. */
static void remove_leftovers(const char *folder)
{
	DIR *d = opendir(folder);
	struct dirent *de;
	char path[4200];
	while (d && (de = readdir(d)))
		if (strstr(de->d_name, ".tmp.") && snprintf(path, sizeof(path), "%s/%s", folder, de->d_name) <
							      (int)sizeof(path) && unlink(path) == 0)
			log_info("teach: removed %s, left by an interrupted write", path);
	if (d)
		closedir(d);
}

int teach_store_scan(struct teach *t, char *err, size_t errlen)
{
	remove_leftovers(t->dir);
	char path[4200];
	snprintf(path, sizeof(path), "%s/samples", t->dir);
	if (mkdir(t->dir, 0750) < 0 && errno != EEXIST)
		goto fail;
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		goto fail;
	DIR *d = opendir(path);
	if (!d)
		goto fail;
	struct dirent *de;
	while ((de = readdir(d))) {
		char folder[4200];
		if (!teach_label_ok(de->d_name))
			continue;
		if (snprintf(folder, sizeof(folder), "%s/%s", path, de->d_name) >= (int)sizeof(folder))
			continue;
		remove_leftovers(folder);
		DIR *ld = opendir(folder);
		if (!ld)
			continue;
		int label = teach_label_index(t, de->d_name, true);
		struct dirent *fe;
		while (label >= 0 && (fe = readdir(ld)))
			scan_one(t, label, folder, fe->d_name);
		closedir(ld);
	}
	closedir(d);
	return 0;
fail:
	snprintf(err, errlen, "[teach] dir %s: %s", path, strerror(errno));
	return -errno;
}

/* The model's input tensor back to pixels (our preprocessing rule: q = qmin + pixel), as JPEG. */
static int tensor_jpeg(const struct teach *t, const uint8_t *tensor, unsigned char **ret, unsigned long *ret_len)
{
	const int w = t->in.dims[2], h = t->in.dims[1], c = t->in.dims[3];
	size_t n = (size_t)w * h * c;
	uint8_t *px = malloc(n);
	tjhandle tj = tjInitCompress();
	int r = -ENOMEM;
	if (px && tj) {
		for (size_t i = 0; i < n; i++)
			px[i] = t->in.type == ENG_INT8 ? (uint8_t)((int8_t)tensor[i] + 128) : tensor[i];
		*ret = NULL;
		r = tjCompress2(tj, px, w, 0, h, c == 1 ? TJPF_GRAY : TJPF_RGB, ret, ret_len,
				c == 1 ? TJSAMP_GRAY : TJSAMP_444, JPEG_QUALITY, 0) == 0 ? 0 : -EIO;
	}
	if (tj)
		tjDestroy(tj);
	free(px);
	return r;
}

int teach_store_save(struct teach *t, int label, const uint8_t *tensor, const uint8_t *emb, char *err, size_t errlen)
{
	char folder[4200], path[4300], id[TEACH_ID_LEN], name[TEACH_LABEL_MAX + 1];
	unsigned char *jpeg = NULL;
	unsigned long jpeg_len = 0;
	size_t depth = (size_t)t->emb->depth;
	pthread_mutex_lock(&t->lock);
	if (t->disk_bytes >= t->max_disk_bytes || t->labels[label].count >= t->max_per_label) {
		pthread_mutex_unlock(&t->lock);
		snprintf(err, errlen, "limit reached ([teach] max_disk_mb or max_samples_per_label)");
		return -ENOSPC;
	}
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)t->next_id++);
	snprintf(name, sizeof(name), "%s", t->labels[label].name);
	pthread_mutex_unlock(&t->lock);
	snprintf(folder, sizeof(folder), "%s/samples/%s", t->dir, name);
	if (mkdir(folder, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", folder, strerror(errno));
		return -errno;
	}
	int r = tensor_jpeg(t, tensor, &jpeg, &jpeg_len);
	if (r < 0) {
		snprintf(err, errlen, "cannot encode the sample as JPEG");
		tjFree(jpeg);
		return r;
	}
	uint8_t *rec = malloc(EMB_HEADER + depth);
	if (!rec) {
		tjFree(jpeg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	emb_header(t, rec);
	memcpy(rec + EMB_HEADER, emb, depth);
	snprintf(path, sizeof(path), "%s/%s.jpg", folder, id);
	r = rt_write_file(path, jpeg, jpeg_len, err, errlen);
	if (r >= 0) {
		snprintf(path, sizeof(path), "%s/%s.emb", folder, id);
		r = rt_write_file(path, rec, EMB_HEADER + depth, err, errlen);
		if (r < 0) {
			snprintf(path, sizeof(path), "%s/%s.jpg", folder, id);
			unlink(path);
		}
	}
	free(rec);
	uint64_t bytes = jpeg_len + EMB_HEADER + depth;
	tjFree(jpeg);
	if (r < 0)
		return r;
	pthread_mutex_lock(&t->lock);
	r = add_sample(t, label, id, bytes, emb);
	pthread_mutex_unlock(&t->lock);
	if (r < 0)
		snprintf(err, errlen, "out of memory");
	return r;
}

/* Removes one sample (id) or all of a label (id NULL); lock held. */
int teach_store_forget(struct teach *t, int label, const char *id, int *ret_removed)
{
	int removed = 0;
	for (size_t i = 0; i < t->nsamples;) {
		struct teach_sample *s = &t->samples[i];
		if (s->label != label || (id && strcmp(s->id, id) != 0)) {
			i++;
			continue;
		}
		char path[4300];
		for (int k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "%s/samples/%s/%s.%s", t->dir, t->labels[label].name, s->id,
				 k ? "emb" : "jpg");
			if (unlink(path) < 0 && errno != ENOENT)
				log_warning("teach: cannot remove %s: %m", path);
		}
		t->disk_bytes -= s->bytes;
		t->labels[label].count--;
		free(s->emb);
		t->samples[i] = t->samples[--t->nsamples];
		removed++;
	}
	if (!id) {
		char folder[4200];
		snprintf(folder, sizeof(folder), "%s/samples/%s", t->dir, t->labels[label].name);
		(void)rmdir(folder);
	}
	*ret_removed = removed;
	return removed ? 0 : -ENOENT;
}

void teach_store_free(struct teach *t)
{
	for (size_t i = 0; i < t->nsamples; i++)
		free(t->samples[i].emb);
	free(t->samples);
	t->samples = NULL;
	t->nsamples = t->cap = 0;
}
