/* pipeline.c — capture thread, classify thread, and the hooks the IPC server calls.
 *
 * Why it is built this way:
 * - Two threads joined by capture's newest-frame slot: the camera is drained at its own rate
 *   (a slow model never makes V4L2 buffers pile up, stale frames are dropped and counted), and
 *   the classify thread always works on the freshest frame.
 * - The capture thread owns the cap_source; the main thread only ever calls cap_stop() on it,
 *   under cam_lock, to wake it (shutdown, on-demand stop, camera reconfiguration). The thread
 *   then closes the source itself and decides under the lock whether to open a new one.
 * - The classify thread owns the model while it runs; a reload pauses it between two frames
 *   (pause_req/paused under cl_lock) and swaps the model from the main thread. That keeps the
 *   engine single-threaded, as engine.h requires, without a lock around every inference.
 * - Everything the status/snapshot hooks read (last result, last image, latencies) is copied
 *   under stats_lock by the classify thread once per frame. */
#include "daemon/pipeline.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "capture/capture.h"
#include "daemon/log.h"
#include "daemon/model_internal.h"
#include "daemon/postproc.h"

#define NEXT_TIMEOUT_MS 500      /* cap_next wait: the capture loop turns at least this often */
#define TAKE_TIMEOUT_MS 200      /* cap_slot_take wait: bounds how long a reload pause waits */
#define LATENCY_SAMPLES 256
#define SNAPSHOT_QUALITY 90
#define CLASSIFY_STALL_NS (30ull * 1000000000ull) /* a slow model on a Pi takes ~1 s */
#define NS_PER_MS 1000000.0
#define RATE_WINDOW_NS (3ull * 1000000000ull)

enum camera_state { CAM_IDLE, CAM_STARTING, CAM_STREAMING, CAM_DISCONNECTED };
static const char *const camera_state_names[] = { "stopped", "starting", "streaming",
						  "disconnected" };

/* The camera part of the config, owned by the pipeline (cap_config points into it). */
struct camera_settings {
	struct config_control controls[CONFIG_MAX_CONTROLS];
	struct cap_control cap_controls[CONFIG_MAX_CONTROLS];
	struct cap_config cap;
	char *device, *file;
};

struct latency_ring {
	double ms[LATENCY_SAMPLES];
	size_t n, next;
};

struct pipeline {
	struct health *health;
	struct server *srv;
	int event_fd;

	/* capture thread */
	pthread_t cap_thread;
	bool cap_started;
	pthread_mutex_t cam_lock;
	pthread_cond_t cam_cond;
	struct cap_source *source;   /* capture thread writes, under cam_lock */
	struct camera_settings cam;  /* under cam_lock */
	bool reopen_req, stopping, wanted; /* under cam_lock */
	_Atomic int cam_state;       /* enum camera_state; atomic: the main loop never waits */
	struct cap_slot *slot;

	/* classify thread */
	pthread_t cl_thread;
	bool cl_started;
	pthread_mutex_t cl_lock;
	pthread_cond_t cl_cond;
	bool pause_req, paused, classify_stopping; /* under cl_lock */
	struct pl_model *model;      /* classify thread uses; swapped only while paused */
	struct postproc pp;
	uint64_t min_interval_ns;    /* from [classify] rate */
	struct cap_decoder *decoder;
	uint64_t seq;

	/* settings read by the hooks (main thread only) */
	enum config_mode mode;
	int threads;
	char *device_desc;           /* for status */

	/* shared with the hooks and pl_tick, under stats_lock */
	pthread_mutex_t stats_lock;
	struct srv_result last;      /* valid when last.seq != 0 */
	uint8_t *snap_pixels;
	int snap_w, snap_h, snap_channels;
	size_t snap_cap;
	uint64_t snap_seq;
	struct latency_ring lat_c2r, lat_decode, lat_prep, lat_infer;
	uint64_t frames_in, results_out, frames_corrupt, frames_rate_skipped;
	char format[64];             /* "yuyv 640x480" as negotiated, for status */
	char fail_msg[256];
	bool failed;

	/* main thread: rates for status */
	uint64_t tick_ns, tick_frames_in, tick_results_out;
	double fps_in, fps_out;
	uint64_t start_ns;
};

/* --- settings ----------------------------------------------------------------------------- */

static void camera_settings_free(struct camera_settings *s)
{
	free(s->device);
	free(s->file);
	s->device = s->file = NULL;
}

static int camera_settings_from(const struct config *cfg, struct camera_settings *ret)
{
	struct camera_settings s = { 0 };
	s.device = strdup(cfg->camera.device);
	s.file = strdup(cfg->camera.file);
	if (!s.device || !s.file) {
		camera_settings_free(&s);
		return -ENOMEM;
	}
	memcpy(s.controls, cfg->camera.controls, sizeof(s.controls));
	for (size_t i = 0; i < cfg->camera.n_controls; i++)
		s.cap_controls[i] = (struct cap_control){ .name = s.controls[i].name,
							  .value = s.controls[i].value };
	s.cap = (struct cap_config){
		.kind = cfg->camera.source == CONFIG_SOURCE_FILE ? CAP_SOURCE_FILE : CAP_SOURCE_V4L2,
		.device = s.device,
		.path = s.file,
		.format = (enum cap_pixfmt)cap_format_from_name(config_format_name(cfg->camera.format)),
		.width = cfg->camera.width,
		.height = cfg->camera.height,
		.fps = cfg->camera.fps,
		.n_controls = cfg->camera.n_controls,
	};
	*ret = s;
	return 0;
}

/* Fix the internal pointers after the struct was copied into its final place. */
static void camera_settings_link(struct camera_settings *s)
{
	for (size_t i = 0; i < s->cap.n_controls; i++)
		s->cap_controls[i].name = s->controls[i].name;
	s->cap.controls = s->cap_controls;
	s->cap.device = s->device;
	s->cap.path = s->file;
}

static bool camera_settings_equal(const struct camera_settings *a, const struct camera_settings *b)
{
	if (a->cap.kind != b->cap.kind || a->cap.format != b->cap.format ||
	    a->cap.width != b->cap.width || a->cap.height != b->cap.height ||
	    a->cap.fps != b->cap.fps || a->cap.n_controls != b->cap.n_controls ||
	    strcmp(a->device, b->device) != 0 || strcmp(a->file, b->file) != 0)
		return false;
	for (size_t i = 0; i < a->cap.n_controls; i++)
		if (strcmp(a->controls[i].name, b->controls[i].name) != 0 ||
		    a->controls[i].value != b->controls[i].value)
			return false;
	return true;
}

static uint64_t interval_from_rate(double rate)
{
	return rate > 0 ? (uint64_t)(1e9 / rate) : 0;
}

/* --- helpers -------------------------------------------------------------------------------- */

static void wake_main(struct pipeline *pl)
{
	uint64_t one = 1;
	ssize_t w = write(pl->event_fd, &one, sizeof(one));
	(void)w; /* the counter cannot overflow in practice; a failed wake-up only delays */
}

static void set_failed(struct pipeline *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_failed(struct pipeline *pl, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&pl->stats_lock);
	if (!pl->failed) {
		va_start(ap, fmt);
		vsnprintf(pl->fail_msg, sizeof(pl->fail_msg), fmt, ap);
		va_end(ap);
		pl->failed = true;
	}
	pthread_mutex_unlock(&pl->stats_lock);
	wake_main(pl);
}

static void ring_add(struct latency_ring *r, double ms)
{
	r->ms[r->next] = ms;
	r->next = (r->next + 1) % LATENCY_SAMPLES;
	if (r->n < LATENCY_SAMPLES)
		r->n++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static struct srv_latency_stat ring_stat(const struct latency_ring *r)
{
	double sorted[LATENCY_SAMPLES];
	struct srv_latency_stat st = { 0, 0 };
	if (r->n == 0)
		return st;
	memcpy(sorted, r->ms, r->n * sizeof(double));
	qsort(sorted, r->n, sizeof(double), cmp_double);
	st.p50_ms = sorted[(r->n - 1) / 2];
	st.p99_ms = sorted[(size_t)((r->n - 1) * 0.99)];
	return st;
}

static void set_cam_state(struct pipeline *pl, enum camera_state st)
{
	atomic_store(&pl->cam_state, st);
}

/* --- capture thread ------------------------------------------------------------------------- */

/* What the device gave, kept for the status hook (which must not touch the source). */
static void remember_format(struct pipeline *pl, struct cap_source *src)
{
	enum cap_pixfmt fmt;
	int w, h, fps;
	char buf[sizeof(pl->format)] = "";
	if (cap_negotiated(src, &fmt, &w, &h, &fps) == 0)
		snprintf(buf, sizeof(buf), "%s %dx%d", cap_format_name(fmt), w, h);
	pthread_mutex_lock(&pl->stats_lock);
	memcpy(pl->format, buf, sizeof(buf));
	pthread_mutex_unlock(&pl->stats_lock);
}

/* Returns with cam_lock held and either pl->stopping or a source to read from. */
static void capture_wait_for_work(struct pipeline *pl)
{
	char err[256];
	for (;;) {
		if (pl->stopping)
			return;
		if (pl->source && (pl->reopen_req || !pl->wanted)) {
			cap_close(pl->source);
			pl->source = NULL;
			if (!pl->wanted) {
				log_info("camera stopped (no demand)");
				set_cam_state(pl, CAM_IDLE);
			}
		}
		if (pl->source)
			return;
		if (!pl->wanted) {
			health_idle(pl->health, health_now_ns());
			pthread_cond_wait(&pl->cam_cond, &pl->cam_lock);
			continue;
		}
		pl->reopen_req = false;
		int r = cap_open(&pl->cam.cap, &pl->source, err, sizeof(err));
		if (r < 0) {
			pl->stopping = true;
			pthread_mutex_unlock(&pl->cam_lock);
			set_failed(pl, "camera: %s", err);
			pthread_mutex_lock(&pl->cam_lock);
			return;
		}
		set_cam_state(pl, CAM_STARTING);
		health_streaming(pl->health, health_now_ns());
		log_info("camera started (%s)",
			 pl->cam.cap.kind == CAP_SOURCE_FILE ? pl->cam.file : pl->cam.device);
	}
}

static void *capture_main(void *arg)
{
	struct pipeline *pl = arg;
	bool disconnected = false;

	pthread_setname_np(pthread_self(), "capture"); /* for top -H, and the watchdog test */
	uint64_t corrupt_logged = 0;

	for (;;) {
		pthread_mutex_lock(&pl->cam_lock);
		capture_wait_for_work(pl);
		struct cap_source *src = pl->source;
		bool stop = pl->stopping;
		pthread_mutex_unlock(&pl->cam_lock);
		if (stop)
			break;

		struct cap_frame frame;
		int r = cap_next(src, NEXT_TIMEOUT_MS, &frame);
		uint64_t now = health_now_ns();
		switch (r) {
		case 0:
			health_frame(pl->health, now);
			if (disconnected) {
				disconnected = false;
				log_info("camera connected again");
				srv_publish_event(pl->srv, "camera_connected", NULL);
			}
			if (atomic_load(&pl->cam_state) != CAM_STREAMING)
				remember_format(pl, src);
			set_cam_state(pl, CAM_STREAMING);
			r = cap_slot_put(pl->slot, &frame);
			cap_release(src, &frame);
			pthread_mutex_lock(&pl->stats_lock);
			pl->frames_in++;
			pthread_mutex_unlock(&pl->stats_lock);
			if (r < 0 && r != CAP_ERR_STOPPED) /* STOPPED: shutting down */
				log_errno(LOG_WARNING, r, "frame dropped");
			break;
		case CAP_ERR_TIMEOUT:
			break; /* still streaming: health judges by the last frame */
		case CAP_ERR_DISCONNECTED:
			health_backoff(pl->health, now);
			if (!disconnected) {
				disconnected = true;
				log_warning("camera disconnected: %s; retrying", cap_last_error(src));
				srv_publish_event(pl->srv, "camera_disconnected", NULL);
			}
			set_cam_state(pl, CAM_DISCONNECTED);
			break;
		case CAP_ERR_CORRUPT:
			pthread_mutex_lock(&pl->stats_lock);
			pl->frames_corrupt++;
			pthread_mutex_unlock(&pl->stats_lock);
			if (corrupt_logged++ < 10)
				log_warning("corrupt frame skipped");
			break;
		case CAP_ERR_STOPPED:
			pthread_mutex_lock(&pl->cam_lock);
			if (pl->source == src && !pl->stopping && pl->wanted)
				pl->reopen_req = true; /* woken for a reconfiguration */
			pthread_mutex_unlock(&pl->cam_lock);
			break;
		default:
			if (cap_error_is_config(r)) {
				set_failed(pl, "camera: %s", cap_last_error(src));
				pthread_mutex_lock(&pl->cam_lock);
				pl->stopping = true;
				pthread_mutex_unlock(&pl->cam_lock);
			} else {
				log_errno(LOG_WARNING, r, "camera: %s", cap_last_error(src));
				health_backoff(pl->health, now);
			}
			break;
		}
	}
	pthread_mutex_lock(&pl->cam_lock);
	if (pl->source) {
		cap_close(pl->source);
		pl->source = NULL;
	}
	set_cam_state(pl, CAM_IDLE);
	pthread_mutex_unlock(&pl->cam_lock);
	cap_slot_close(pl->slot);
	return NULL;
}

/* --- classify thread ------------------------------------------------------------------------ */

/* Between frames: honour a pause request (reload). Returns false when stopping. */
static bool classify_checkpoint(struct pipeline *pl)
{
	bool go_on;
	pthread_mutex_lock(&pl->cl_lock);
	if (pl->pause_req) {
		pl->paused = true;
		pthread_cond_broadcast(&pl->cl_cond);
		while (pl->pause_req)
			pthread_cond_wait(&pl->cl_cond, &pl->cl_lock);
		pl->paused = false;
	}
	go_on = !pl->classify_stopping;
	pthread_mutex_unlock(&pl->cl_lock);
	return go_on;
}

static void keep_snapshot(struct pipeline *pl, const struct cap_image *img, uint64_t seq)
{
	size_t row = (size_t)img->width * (size_t)img->channels;
	size_t need = row * (size_t)img->height;
	if (need > pl->snap_cap) {
		uint8_t *p = realloc(pl->snap_pixels, need);
		if (!p)
			return; /* keep the older snapshot; a later frame may fit */
		pl->snap_pixels = p;
		pl->snap_cap = need;
	}
	for (int y = 0; y < img->height; y++)
		memcpy(pl->snap_pixels + (size_t)y * row, img->pixels + (size_t)y * img->stride_bytes, row);
	pl->snap_w = img->width;
	pl->snap_h = img->height;
	pl->snap_channels = img->channels;
	pl->snap_seq = seq;
}

static void classify_one(struct pipeline *pl, const struct cap_frame *frame, uint64_t t0)
{
	struct pl_model *m = pl->model;
	struct cap_image img;
	struct srv_result res = { 0 };
	int r;

	r = cap_decode(pl->decoder, frame, &m->prep, &img);
	uint64_t t1 = health_now_ns();
	if (r == 0)
		r = cap_preprocess(&img, &m->prep, eng_input(m->engine), m->input.bytes);
	uint64_t t2 = health_now_ns();
	if (r < 0) {
		pthread_mutex_lock(&pl->stats_lock);
		pl->frames_corrupt++;
		pthread_mutex_unlock(&pl->stats_lock);
		log_errno(LOG_DEBUG, r, "frame %llu not decodable", (unsigned long long)frame->sequence);
		return;
	}
	r = eng_invoke(m->engine);
	uint64_t t3 = health_now_ns();
	if (r < 0) {
		set_failed(pl, "inference failed on model %s: %s", m->name, strerror(-r));
		return;
	}
	for (size_t i = 0; i < m->n_classes; i++)
		m->scores[i] = eng_output_value(m->engine, i);
	pp_run(&pl->pp, m->scores, &res);
	uint64_t t4 = health_now_ns();
	res.seq = ++pl->seq;
	res.frame_ts_ns = frame->timestamp_ns;
	res.result_ts_ns = t4;
	res.latency_ms.capture_to_result =
		t4 > frame->timestamp_ns ? (double)(t4 - frame->timestamp_ns) / NS_PER_MS : 0;
	res.latency_ms.decode = (double)(t1 - t0) / NS_PER_MS;
	res.latency_ms.preprocess = (double)(t2 - t1) / NS_PER_MS;
	res.latency_ms.inference = (double)(t3 - t2) / NS_PER_MS;
	srv_publish_result(pl->srv, &res);

	pthread_mutex_lock(&pl->stats_lock);
	pl->last = res;
	pl->results_out++;
	ring_add(&pl->lat_c2r, res.latency_ms.capture_to_result);
	ring_add(&pl->lat_decode, res.latency_ms.decode);
	ring_add(&pl->lat_prep, res.latency_ms.preprocess);
	ring_add(&pl->lat_infer, res.latency_ms.inference);
	keep_snapshot(pl, &img, res.seq);
	pthread_mutex_unlock(&pl->stats_lock);
}

static void *classify_main(void *arg)
{
	struct pipeline *pl = arg;
	uint64_t last_start_ns = 0;

	pthread_setname_np(pthread_self(), "classify");
	while (classify_checkpoint(pl)) {
		struct cap_frame frame;
		int r = cap_slot_take(pl->slot, TAKE_TIMEOUT_MS, &frame);
		if (r == CAP_ERR_STOPPED)
			break;
		if (r < 0)
			continue;
		uint64_t now = health_now_ns();
		if (pl->min_interval_ns && last_start_ns && now - last_start_ns < pl->min_interval_ns) {
			pthread_mutex_lock(&pl->stats_lock);
			pl->frames_rate_skipped++;
			pthread_mutex_unlock(&pl->stats_lock);
			continue;
		}
		last_start_ns = now;
		health_classify_begin(pl->health, now);
		classify_one(pl, &frame, now);
		health_classify_end(pl->health);
	}
	return NULL;
}

/* --- hooks (main thread, called from srv_dispatch) ----------------------------------------- */

static const char *camera_state_name(struct pipeline *pl)
{
	return camera_state_names[atomic_load(&pl->cam_state)];
}

static int hook_hello(void *userdata, struct srv_hello *ret)
{
	struct pipeline *pl = userdata;
	const struct pl_model *m = pl->model;
	*ret = (struct srv_hello){ .model = m->name, .input_dims = (unsigned)m->input.ndim,
				   .label_count = (unsigned)m->n_classes,
				   .camera_state = camera_state_name(pl) };
	for (int i = 0; i < m->input.ndim && i < 4; i++)
		ret->input_shape[i] = (unsigned)m->input.dims[i];
	return 0;
}

static int hook_status(void *userdata, struct srv_status *ret)
{
	struct pipeline *pl = userdata;
	static char format[sizeof(pl->format)];

	pthread_mutex_lock(&pl->stats_lock);
	memcpy(format, pl->format, sizeof(format));
	pthread_mutex_unlock(&pl->stats_lock);
	*ret = (struct srv_status){
		.camera_state = camera_state_name(pl),
		.device = pl->device_desc,
		.format = format,
		.fps_in = pl->fps_in,
		.fps_out = pl->fps_out,
		.model = pl->model->name,
		.backend = eng_backend_name(eng_backend_used(pl->model->engine)),
		.threads = (unsigned)pl->threads,
		.uptime_s = (double)(health_now_ns() - pl->start_ns) / 1e9,
	};
	pthread_mutex_lock(&pl->stats_lock);
	ret->frames_skipped = cap_slot_skipped(pl->slot) + pl->frames_rate_skipped;
	ret->frames_corrupt = pl->frames_corrupt;
	ret->capture_to_result = ring_stat(&pl->lat_c2r);
	ret->decode = ring_stat(&pl->lat_decode);
	ret->preprocess = ring_stat(&pl->lat_prep);
	ret->inference = ring_stat(&pl->lat_infer);
	pthread_mutex_unlock(&pl->stats_lock);
	return 0;
}

static void set_wanted(struct pipeline *pl, bool wanted)
{
	pthread_mutex_lock(&pl->cam_lock);
	if (pl->wanted != wanted) {
		pl->wanted = wanted;
		if (!wanted && pl->source)
			cap_stop(pl->source);
		pthread_cond_broadcast(&pl->cam_cond);
	}
	pthread_mutex_unlock(&pl->cam_lock);
}

static int hook_classify(void *userdata)
{
	struct pipeline *pl = userdata;
	set_wanted(pl, true); /* demand_changed follows; this makes it immediate */
	return 0;
}

static void hook_demand_changed(void *userdata, unsigned subscribers, unsigned classify_pending)
{
	struct pipeline *pl = userdata;
	if (pl->mode == CONFIG_MODE_ON_DEMAND)
		set_wanted(pl, subscribers + classify_pending > 0);
}

static int hook_snapshot(void *userdata, uint8_t **ret_jpeg, size_t *ret_len, uint64_t *ret_seq)
{
	struct pipeline *pl = userdata;
	unsigned char *jpeg = NULL;
	unsigned long jpeg_len = 0;
	int r = 0;
	tjhandle tj = tjInitCompress();

	if (!tj)
		return -ENOMEM;
	pthread_mutex_lock(&pl->stats_lock);
	if (!pl->snap_seq) {
		r = -ENODATA;
	} else if (tjCompress2(tj, pl->snap_pixels, pl->snap_w, pl->snap_w * pl->snap_channels,
			       pl->snap_h, pl->snap_channels == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg,
			       &jpeg_len, pl->snap_channels == 1 ? TJSAMP_GRAY : TJSAMP_420,
			       SNAPSHOT_QUALITY, 0) != 0) {
		log_error("snapshot: JPEG encoding failed: %s", tjGetErrorStr2(tj));
		r = -EIO;
	} else {
		*ret_seq = pl->snap_seq;
	}
	pthread_mutex_unlock(&pl->stats_lock);
	tjDestroy(tj);
	if (r < 0) {
		tjFree(jpeg);
		return r;
	}
	/* the server frees with free(); turbojpeg's buffer must go through tjFree() */
	uint8_t *copy = malloc(jpeg_len);
	if (!copy) {
		tjFree(jpeg);
		return -ENOMEM;
	}
	memcpy(copy, jpeg, jpeg_len);
	tjFree(jpeg);
	*ret_jpeg = copy;
	*ret_len = jpeg_len;
	return 0;
}

void pl_hooks(struct pipeline *pl, struct srv_hooks *ret_hooks)
{
	*ret_hooks = (struct srv_hooks){
		.userdata = pl,
		.hello = hook_hello,
		.status = hook_status,
		.classify = hook_classify,
		.snapshot = hook_snapshot,
		.demand_changed = hook_demand_changed,
	};
}

/* --- lifecycle ------------------------------------------------------------------------------ */

static char *describe_source(const struct config *cfg)
{
	char buf[4200];
	if (cfg->camera.source == CONFIG_SOURCE_FILE)
		snprintf(buf, sizeof(buf), "file %s", cfg->camera.file);
	else
		snprintf(buf, sizeof(buf), "%s", cfg->camera.device);
	return strdup(buf);
}

int pl_new(const struct config *cfg, struct pl_model *model, struct health *h,
	   struct pipeline **ret_pl, char *err, size_t errlen)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	int r;

	if (!pl) {
		pl_model_free(model);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pl->model = model;
	pl->health = h;
	pl->event_fd = -1;
	pthread_mutex_init(&pl->cam_lock, NULL);
	pthread_cond_init(&pl->cam_cond, NULL);
	pthread_mutex_init(&pl->cl_lock, NULL);
	pthread_cond_init(&pl->cl_cond, NULL);
	pthread_mutex_init(&pl->stats_lock, NULL);
	pl->start_ns = pl->tick_ns = health_now_ns();

	r = camera_settings_from(cfg, &pl->cam);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	camera_settings_link(&pl->cam);
	r = cap_config_check(&pl->cam.cap, err, errlen);
	if (r < 0)
		goto fail;
	r = pp_init(&pl->pp, model->n_classes, cfg->classify.top_k, cfg->classify.threshold,
		    cfg->classify.smoothing);
	if (r < 0) {
		snprintf(err, errlen, "post-processing: %s", strerror(-r));
		goto fail;
	}
	pl->min_interval_ns = interval_from_rate(cfg->classify.rate);
	pl->mode = cfg->classify.mode;
	pl->threads = cfg->model.threads;
	pl->wanted = pl->mode == CONFIG_MODE_CONTINUOUS;
	pl->device_desc = describe_source(cfg);
	pl->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!pl->device_desc || pl->event_fd < 0) {
		r = pl->event_fd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "pipeline: %s", strerror(-r));
		goto fail;
	}
	r = cap_slot_new(&pl->slot);
	if (r == 0)
		r = cap_decoder_new(&pl->decoder);
	if (r < 0) {
		snprintf(err, errlen, "capture: %s", cap_strerror(r));
		goto fail;
	}
	*ret_pl = pl;
	return 0;
fail:
	pl_free(pl);
	return r;
}

int pl_model_labels_to_server(struct pipeline *pl, struct server *srv)
{
	return srv_set_labels(srv, (const char *const *)pl->model->labels.names,
			      pl->model->labels.count);
}

int pl_start(struct pipeline *pl, struct server *srv)
{
	int r;
	pl->srv = srv;
	r = pthread_create(&pl->cl_thread, NULL, classify_main, pl);
	if (r)
		return log_errno(LOG_ERR, r, "cannot start the classify thread");
	pl->cl_started = true;
	r = pthread_create(&pl->cap_thread, NULL, capture_main, pl);
	if (r)
		return log_errno(LOG_ERR, r, "cannot start the capture thread");
	pl->cap_started = true;
	return 0;
}

void pl_free(struct pipeline *pl)
{
	if (!pl)
		return;
	pthread_mutex_lock(&pl->cam_lock);
	pl->stopping = true;
	if (pl->source)
		cap_stop(pl->source);
	pthread_cond_broadcast(&pl->cam_cond);
	pthread_mutex_unlock(&pl->cam_lock);
	pthread_mutex_lock(&pl->cl_lock);
	pl->classify_stopping = true;
	pl->pause_req = false;
	pthread_cond_broadcast(&pl->cl_cond);
	pthread_mutex_unlock(&pl->cl_lock);
	if (pl->slot)
		cap_slot_close(pl->slot);
	if (pl->cap_started)
		pthread_join(pl->cap_thread, NULL);
	if (pl->cl_started)
		pthread_join(pl->cl_thread, NULL);
	if (pl->slot)
		cap_slot_free(pl->slot);
	if (pl->decoder)
		cap_decoder_free(pl->decoder);
	pp_free(&pl->pp);
	pl_model_free(pl->model);
	camera_settings_free(&pl->cam);
	free(pl->device_desc);
	free(pl->snap_pixels);
	if (pl->event_fd >= 0)
		close(pl->event_fd);
	pthread_mutex_destroy(&pl->cam_lock);
	pthread_cond_destroy(&pl->cam_cond);
	pthread_mutex_destroy(&pl->cl_lock);
	pthread_cond_destroy(&pl->cl_cond);
	pthread_mutex_destroy(&pl->stats_lock);
	free(pl);
}

static void classify_pause(struct pipeline *pl)
{
	pthread_mutex_lock(&pl->cl_lock);
	pl->pause_req = true;
	while (pl->cl_started && !pl->paused && !pl->classify_stopping)
		pthread_cond_wait(&pl->cl_cond, &pl->cl_lock);
	pthread_mutex_unlock(&pl->cl_lock);
}

static void classify_resume(struct pipeline *pl)
{
	pthread_mutex_lock(&pl->cl_lock);
	pl->pause_req = false;
	pthread_cond_broadcast(&pl->cl_cond);
	pthread_mutex_unlock(&pl->cl_lock);
}

int pl_apply(struct pipeline *pl, const struct config *cfg, struct pl_model *new_model)
{
	struct camera_settings cam;
	struct postproc pp;
	char err[256];
	char *desc = describe_source(cfg);
	int r = camera_settings_from(cfg, &cam);

	if (r < 0 || !desc) {
		free(desc);
		if (r == 0)
			camera_settings_free(&cam);
		pl_model_free(new_model);
		return log_errno(LOG_ERR, ENOMEM, "reload");
	}
	camera_settings_link(&cam);
	r = cap_config_check(&cam.cap, err, sizeof(err));
	if (r < 0) {
		log_error("reload rejected: camera: %s", err);
		goto fail;
	}
	r = pp_init(&pp, new_model ? new_model->n_classes : pl->model->n_classes,
		    cfg->classify.top_k, cfg->classify.threshold, cfg->classify.smoothing);
	if (r < 0) {
		log_errno(LOG_ERR, r, "reload rejected: post-processing");
		goto fail;
	}

	classify_pause(pl);
	if (new_model) {
		/* results of the old model still in the mailbox go out with the old labels */
		srv_dispatch(pl->srv);
		r = srv_set_labels(pl->srv, (const char *const *)new_model->labels.names,
				   new_model->labels.count);
		if (r < 0) {
			classify_resume(pl);
			pp_free(&pp);
			log_errno(LOG_ERR, r, "reload rejected: cannot set labels");
			goto fail;
		}
		pl_model_free(pl->model);
		pl->model = new_model;
		new_model = NULL;
		pthread_mutex_lock(&pl->stats_lock);
		pl->last.seq = 0;
		pthread_mutex_unlock(&pl->stats_lock);
	}
	pp_free(&pl->pp);
	pl->pp = pp;
	pl->min_interval_ns = interval_from_rate(cfg->classify.rate);
	classify_resume(pl);

	pthread_mutex_lock(&pl->cam_lock);
	bool camera_changed = !camera_settings_equal(&pl->cam, &cam);
	if (camera_changed) {
		camera_settings_free(&pl->cam);
		pl->cam = cam;
		camera_settings_link(&pl->cam);
		pl->reopen_req = true;
		if (pl->source)
			cap_stop(pl->source);
		pthread_cond_broadcast(&pl->cam_cond);
	}
	pthread_mutex_unlock(&pl->cam_lock);
	if (!camera_changed)
		camera_settings_free(&cam);
	else
		log_info("camera settings changed: reopening");
	free(pl->device_desc);
	pl->device_desc = desc;
	pl->mode = cfg->classify.mode;
	pl->threads = cfg->model.threads;
	if (pl->mode == CONFIG_MODE_CONTINUOUS) {
		set_wanted(pl, true);
	} else {
		struct srv_stats st;
		srv_get_stats(pl->srv, &st);
		set_wanted(pl, st.subscribers + st.classify_pending > 0);
	}
	return 0;
fail:
	camera_settings_free(&cam);
	free(desc);
	pl_model_free(new_model);
	return r < 0 ? r : -EINVAL;
}

void pl_tick(struct pipeline *pl, char *line, size_t len)
{
	uint64_t now = health_now_ns();
	struct srv_result last;
	uint64_t fin, fout;

	pthread_mutex_lock(&pl->stats_lock);
	last = pl->last;
	fin = pl->frames_in;
	fout = pl->results_out;
	pthread_mutex_unlock(&pl->stats_lock);
	/* rates over a few seconds: a slow model gives one result every second or two, and a
	 * one-second window would show it as 0 and 1 in turn */
	if (now - pl->tick_ns >= RATE_WINDOW_NS) {
		double dt = (double)(now - pl->tick_ns) / 1e9;
		pl->fps_in = (double)(fin - pl->tick_frames_in) / dt;
		pl->fps_out = (double)(fout - pl->tick_results_out) / dt;
		pl->tick_ns = now;
		pl->tick_frames_in = fin;
		pl->tick_results_out = fout;
	}

	const char *state = camera_state_name(pl);
	int n;
	if (strcmp(state, "stopped") == 0 && pl->mode == CONFIG_MODE_ON_DEMAND)
		n = snprintf(line, len, "idle (on demand, camera closed)");
	else if (strcmp(state, "disconnected") == 0)
		n = snprintf(line, len, "camera disconnected, retrying");
	else
		n = snprintf(line, len, "%s %.1f fps", state, pl->fps_in);
	if (n < 0 || (size_t)n >= len)
		return;
	if (last.seq && last.n_labels && last.labels[0].index < pl->model->labels.count)
		snprintf(line + n, len - (size_t)n, ", last: %s %.2f",
			 pl->model->labels.names[last.labels[0].index], last.labels[0].score);
	else if (last.seq)
		snprintf(line + n, len - (size_t)n, ", last: nothing above threshold");
}

int pl_event_fd(const struct pipeline *pl)
{
	return pl->event_fd;
}

bool pl_failed(struct pipeline *pl, char *msg, size_t len)
{
	uint64_t v;
	ssize_t rd = read(pl->event_fd, &v, sizeof(v));
	(void)rd; /* only drains the wake-up */
	pthread_mutex_lock(&pl->stats_lock);
	bool failed = pl->failed;
	if (failed)
		snprintf(msg, len, "%s", pl->fail_msg);
	pthread_mutex_unlock(&pl->stats_lock);
	return failed;
}

void pl_health_limits(const struct pipeline *pl, struct health_limits *ret)
{
	/* capture itself calls a stream dead after CAP_STALL_MS; allow that plus a few frame
	 * intervals before we call the daemon unhealthy */
	uint64_t frame_ns = 1000000000ull / (uint64_t)(pl->cam.cap.fps > 0 ? pl->cam.cap.fps : 1);
	ret->frame_stall_ns = 2ull * CAP_STALL_MS * 1000000ull + 4 * frame_ns;
	ret->loop_stall_ns = 10ull * NEXT_TIMEOUT_MS * 1000000ull;
	ret->classify_stall_ns = CLASSIFY_STALL_NS;
}
