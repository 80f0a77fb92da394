/* filesrc.c — the file source: JPEGs replayed at `fps`, looping, as if from an MJPEG camera.
 * PNG files in a directory are decoded here (libpng, capture/png.c) and delivered as raw RGB24
 * or GREY frames, so everything after the source sees an ordinary camera format.
 *
 * Two layouts: a directory of .jpg/.jpeg/.png files (sorted by name with strcmp, so "frame-0001"
 * naming gives the intended order; each file is read when it is due, so a folder of large
 * photos costs one file of memory), or one concatenated-JPEG .mjpeg file (read once, split at
 * SOI…EOI by cap_mjpeg_next, damaged pieces skipped). Pacing uses absolute deadlines on
 * CLOCK_MONOTONIC (frame n is due at start + n/fps); if the consumer falls behind by more
 * than a frame, the schedule restarts from now rather than bursting to catch up. Timestamps
 * are the delivery time, like a camera's. */
#include "capture/capture.h"
#include "capture/internal.h"
#include "lib/clock.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (256u << 20)   /* one JPEG or one .mjpeg file */
#define MAX_FILES      100000

struct span { size_t start, len; };

struct cap_session {
	const char *path;
	char **names;          /* directory mode: sorted file names */
	size_t n_names;
	uint8_t *data;         /* .mjpeg: whole file; directory: the current file */
	size_t data_bytes;
	struct span *spans;    /* .mjpeg: the frames */
	size_t n_spans;
	size_t next_index;
	uint64_t period_ns, due_ns, sequence;
	int fps, width, height;
	enum cap_pixfmt format;  /* of the last frame: MJPEG, or RGB24/GREY from a PNG */
	uint8_t *pixels;         /* a decoded PNG */
	size_t pixels_bytes;
	int stride;
};

static int read_file(const char *path, uint8_t **buf, size_t *ret_bytes)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int r = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size > MAX_FILE_BYTES) {
		close(fd);
		return CAP_ERR_INVALID;
	}
	size_t size = (size_t)st.st_size, got = 0;
	uint8_t *nb = realloc(*buf, size ? size : 1);
	if (!nb) {
		close(fd);
		return CAP_ERR_NOMEM;
	}
	*buf = nb;
	while (got < size) {
		ssize_t n = read(fd, nb + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : CAP_ERR_IO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (r == 0)
		*ret_bytes = got;
	return r;
}

static bool is_image_name(const char *n)
{
	const char *dot = strrchr(n, '.');
	return dot && n[0] != '.' &&
	       (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".png") == 0);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void file_session_close(struct cap_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_names; i++)
		free(s->names[i]);
	free(s->names);
	free(s->data);
	free(s->spans);
	free(s->pixels);
	free(s);
}

static int list_dir(struct cap_session *s, char *err, size_t errlen)
{
	DIR *d = opendir(s->path);
	struct dirent *e;
	size_t cap = 0;
	if (!d) {
		snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		return CAP_ERR_INVALID;
	}
	while ((e = readdir(d)) && s->n_names < MAX_FILES) {
		if (!is_image_name(e->d_name))
			continue;
		if (s->n_names == cap) {
			cap = cap ? 2 * cap : 64;
			char **nn = realloc(s->names, cap * sizeof(*nn));
			if (!nn)
				break;
			s->names = nn;
		}
		if (!(s->names[s->n_names] = strdup(e->d_name)))
			break;
		s->n_names++;
	}
	closedir(d);
	if (e && s->n_names < MAX_FILES)
		return CAP_ERR_NOMEM;
	if (s->n_names == 0) {
		snprintf(err, errlen, "%s: no .jpg, .jpeg or .png files", s->path);
		return CAP_ERR_INVALID;
	}
	qsort(s->names, s->n_names, sizeof(*s->names), cmp_names);
	return 0;
}

static int split_mjpeg(struct cap_session *s, char *err, size_t errlen)
{
	int r = read_file(s->path, &s->data, &s->data_bytes);
	size_t pos = 0, start, len, cap = 0;
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", s->path, cap_strerror(r));
		return r == CAP_ERR_NOMEM ? r : CAP_ERR_INVALID;
	}
	while (cap_mjpeg_next(s->data, s->data_bytes, &pos, &start, &len) == 0) {
		if (s->n_spans == cap) {
			cap = cap ? 2 * cap : 64;
			struct span *ns = realloc(s->spans, cap * sizeof(*ns));
			if (!ns)
				return CAP_ERR_NOMEM;
			s->spans = ns;
		}
		s->spans[s->n_spans++] = (struct span){ start, len };
	}
	if (s->n_spans == 0) {
		snprintf(err, errlen, "%s: no complete JPEG image in the file", s->path);
		return CAP_ERR_INVALID;
	}
	return 0;
}

/* What a file's bytes deliver: a PNG decoded to raw pixels (format, size, stride set), else a
 * JPEG passed on as is (size from its SOF). data and bytes become the frame's. */
static void jpeg_size(const uint8_t *p, size_t n, int *w, int *h);
static int frame_of(struct cap_session *s, const uint8_t **data, size_t *bytes)
{
	if (!cap_png_sniff(*data, *bytes)) {
		s->format = CAP_FMT_MJPEG;
		s->stride = 0;
		jpeg_size(*data, *bytes, &s->width, &s->height);
		return 0;
	}
	struct cap_image img;
	int r = cap_png_decode(*data, *bytes, &s->pixels, &s->pixels_bytes, &img);
	if (r < 0)
		return r;
	s->format = img.channels == 3 ? CAP_FMT_RGB24 : CAP_FMT_GREY;
	s->width = img.width;
	s->height = img.height;
	s->stride = (int)img.stride_bytes;
	*data = img.pixels;
	*bytes = img.stride_bytes * (size_t)img.height;
	return 0;
}

/* Size from the SOF segment: walk the markers like cap_jpeg_length, bounded. */
static void jpeg_size(const uint8_t *p, size_t n, int *w, int *h)
{
	size_t i = 2;
	*w = *h = 0;
	while (i + 9 < n && p[i] == 0xFF) {
		uint8_t m = p[i + 1];
		size_t seg = (size_t)p[i + 2] << 8 | p[i + 3];
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			*h = p[i + 5] << 8 | p[i + 6];
			*w = p[i + 7] << 8 | p[i + 8];
			return;
		}
		if (m == 0xDA || seg < 2)
			return;
		i += 2 + seg;
	}
}

static int file_session_open(const struct cap_config *cfg, struct cap_session **ret, char *err,
			     size_t errlen)
{
	struct cap_session *s = calloc(1, sizeof(*s));
	struct stat st;
	int r;
	if (!s)
		return CAP_ERR_NOMEM;
	s->path = cfg->path;
	s->fps = cfg->fps;
	s->period_ns = 1000000000ull / (uint64_t)cfg->fps;
	s->format = CAP_FMT_MJPEG;
	if (stat(cfg->path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", cfg->path, strerror(errno));
		r = CAP_ERR_INVALID;
	} else {
		r = S_ISDIR(st.st_mode) ? list_dir(s, err, errlen) : split_mjpeg(s, err, errlen);
	}
	if (r < 0) {
		file_session_close(s);
		return r;
	}
	if (s->n_spans) {
		jpeg_size(s->data + s->spans[0].start, s->spans[0].len, &s->width, &s->height);
	} else {
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", s->path, s->names[0]);
		if (read_file(full, &s->data, &s->data_bytes) == 0) {
			const uint8_t *d = s->data;
			size_t n = s->data_bytes;
			(void)frame_of(s, &d, &n);
		}
	}
	s->due_ns = mono_now_ns();
	*ret = s;
	return 0;
}

static int file_session_next(struct cap_session *s, int timeout_ms, int stop_fd,
			     struct cap_frame *ret, char *err, size_t errlen)
{
	uint64_t now = mono_now_ns();
	if (s->due_ns > now) {
		uint64_t wait = s->due_ns - now;
		bool timeout = wait > (uint64_t)timeout_ms * 1000000ull;
		struct pollfd p = { .fd = stop_fd, .events = POLLIN };
		if (timeout)
			wait = (uint64_t)timeout_ms * 1000000ull;
		if (poll(&p, 1, (int)((wait + 999999) / 1000000)) > 0)
			return CAP_ERR_STOPPED;
		if (timeout)
			return CAP_ERR_TIMEOUT;
		now = mono_now_ns();
	}
	const uint8_t *data;
	size_t bytes;
	if (s->n_spans) {
		const struct span *sp = &s->spans[s->next_index % s->n_spans];
		const char *base = strrchr(s->path, '/');
		data = s->data + sp->start;
		bytes = sp->len;
		snprintf(ret->origin, sizeof(ret->origin), "%s#%zu", base ? base + 1 : s->path,
			 s->next_index % s->n_spans);
	} else {
		const char *name = s->names[s->next_index % s->n_names];
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", s->path, name);
		int r = read_file(full, &s->data, &s->data_bytes);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", full, cap_strerror(r));
			return CAP_ERR_IO;
		}
		data = s->data;
		bytes = s->data_bytes;
		snprintf(ret->origin, sizeof(ret->origin), "%s", name);
	}
	s->next_index++;
	int r = frame_of(s, &data, &bytes);
	if (r < 0) {
		snprintf(err, errlen, "%s frame %zu: PNG: %s", s->path, s->next_index - 1, cap_strerror(r));
		return CAP_ERR_IO;
	}
	s->due_ns += s->period_ns;
	if (s->due_ns + s->period_ns < now)   /* fell behind: no catch-up burst */
		s->due_ns = now + s->period_ns;
	ret->data = data;
	ret->bytes = bytes;
	ret->format = s->format;
	ret->width = s->width;
	ret->height = s->height;
	ret->stride_bytes = s->stride;
	ret->timestamp_ns = now;
	ret->sequence = s->sequence++;
	return 0;
}

static void file_session_release(struct cap_session *s)
{
	(void)s;   /* the data stays in the session's buffer until the next frame */
}

static void file_session_negotiated(const struct cap_session *s, enum cap_pixfmt *fmt, int *w,
				    int *h, int *fps)
{
	*fmt = s->format;
	*w = s->width;
	*h = s->height;
	*fps = s->fps;
}

const struct cap_session_ops cap_file_ops = {
	.open = file_session_open,
	.next = file_session_next,
	.release = file_session_release,
	.close = file_session_close,
	.negotiated = file_session_negotiated,
};
