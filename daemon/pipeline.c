/* pipeline.c — the pipeline's life: create, start, reconfigure on reload, tick, stop.
 *
 * Why it is built this way:
 * - Two worker threads joined by capture's newest-frame slot (capture_thread.c,
 *   classify_thread.c): the camera is drained at its own rate (a slow model never makes V4L2
 *   buffers pile up; stale frames are dropped and counted) and the classifier always works on
 *   the freshest frame. The IPC server's questions are answered in hooks.c.
 * - Everything that changes the workers' world happens here, on the main thread: a new model is
 *   swapped in while the classify thread is paused between two frames; new camera settings are
 *   handed to the capture thread under cam_lock, and cap_stop() wakes it to reopen. */
#include <stdarg.h>
#include <sys/eventfd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/health.h"
#include "daemon/pipeline_internal.h"
#include "lib/clock.h"
#include "lib/log.h"

/* --- settings ----------------------------------------------------------------------------- */

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

void pl_set_failed(struct pipeline *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pl_set_failed(struct pipeline *pl, const char *fmt, ...)
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

void pl_ring_add(struct latency_ring *r, double ms)
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

struct srv_latency_stat pl_ring_stat(const struct latency_ring *r)
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

/* --- lifecycle ------------------------------------------------------------------------------ */

static char *describe_source(const struct config *cfg)
{
	char buf[4200];
	if (cfg->camera.source == CAP_SOURCE_FILE)
		snprintf(buf, sizeof(buf), "file %s", cfg->camera.file);
	else
		snprintf(buf, sizeof(buf), "%s", cfg->camera.device);
	return strdup(buf);
}

int pl_new(const struct config *cfg, struct classifier *model, struct health *h,
	   struct pipeline **ret_pl, char *err, size_t errlen)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	int r;

	if (!pl) {
		clf_free(model);
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
	pl->start_ns = pl->tick_ns = mono_now_ns();

	r = pl_camera_settings_from(cfg, &pl->cam);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pl_camera_settings_link(&pl->cam);
	r = cap_config_check(&pl->cam.cap, err, errlen);
	if (r < 0)
		goto fail;
	r = pp_init(&pl->pp, clf_class_count(model), cfg->classify.smoothing);
	if (r < 0) {
		snprintf(err, errlen, "post-processing: %s", strerror(-r));
		goto fail;
	}
	pl->min_interval_ns = interval_from_rate(cfg->classify.rate);
	debounce_init(&pl->debounce, (unsigned)cfg->classify.debounce, pl->start_ns);
	pl->roi = cfg->model.roi;
	pl->state_threshold = cfg->classify.threshold;
	pl->state = pl->debounce;
	pl->mode = cfg->classify.mode;
	pl->threads = cfg->model.threads;
	pl->threshold = cfg->classify.threshold;
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
		r = view_new(&pl->view);
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
	return srv_set_labels(srv, clf_labels(pl->model), clf_class_count(pl->model));
}

int pl_start(struct pipeline *pl, struct server *srv)
{
	int r;
	pl->srv = srv;
	r = pthread_create(&pl->cl_thread, NULL, pl_classify_main, pl);
	if (r)
		return log_errno(LOG_ERR, r, "cannot start the classify thread");
	pl->cl_started = true;
	r = pthread_create(&pl->cap_thread, NULL, pl_capture_main, pl);
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
	pp_free(&pl->pp);
	clf_free(pl->model);
	pl_camera_settings_free(&pl->cam);
	pl_camera_settings_free(&pl->cam_prev);
	free(pl->device_desc);
	view_free(pl->view);
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

int pl_apply(struct pipeline *pl, const struct config *cfg, struct classifier *new_model)
{
	struct camera_settings cam;
	struct postproc pp;
	char err[256];
	char *desc = describe_source(cfg);
	int r = pl_camera_settings_from(cfg, &cam);

	if (r < 0 || !desc) {
		free(desc);
		if (r == 0)
			pl_camera_settings_free(&cam);
		clf_free(new_model);
		return log_errno(LOG_ERR, ENOMEM, "reload");
	}
	pl_camera_settings_link(&cam);
	pthread_mutex_lock(&pl->cam_lock);
	bool camera_changed = !pl_camera_settings_equal(&pl->cam, &cam);
	pthread_mutex_unlock(&pl->cam_lock);
	/* a new camera source must at least open (a file source's folder: present, not empty)
	 * before the running one is given up; unchanged settings are not probed again */
	r = camera_changed ? cap_probe(&cam.cap, err, sizeof(err))
			   : cap_config_check(&cam.cap, err, sizeof(err));
	if (r < 0) {
		log_error("reload rejected: camera: %s; the running configuration stays", err);
		goto fail;
	}
	r = pp_init(&pp, clf_class_count(new_model ? new_model : pl->model), cfg->classify.smoothing);
	if (r < 0) {
		log_errno(LOG_ERR, r, "reload rejected: post-processing");
		goto fail;
	}

	classify_pause(pl);
	bool new_model_loaded = new_model != NULL;
	if (new_model) {
		/* results of the old model still in the mailbox go out with the old labels */
		srv_dispatch(pl->srv);
		r = srv_set_labels(pl->srv, clf_labels(new_model), clf_class_count(new_model));
		if (r < 0) {
			classify_resume(pl);
			pp_free(&pp);
			log_errno(LOG_ERR, r, "reload rejected: cannot set labels");
			goto fail;
		}
		clf_free(pl->model);
		pl->model = new_model;
		new_model = NULL;
		pthread_mutex_lock(&pl->stats_lock);
		pl->last.seq = 0;
		pthread_mutex_unlock(&pl->stats_lock);
	}
	pp_free(&pl->pp);
	pl->pp = pp;
	pl->min_interval_ns = interval_from_rate(cfg->classify.rate);
	pl->roi = cfg->model.roi;
	pl->state_threshold = cfg->classify.threshold;
	if (new_model_loaded || (unsigned)cfg->classify.debounce != pl->debounce.n) {
		/* a new model's labels mean something else; a new N starts counting afresh */
		debounce_init(&pl->debounce, (unsigned)cfg->classify.debounce, mono_now_ns());
		pthread_mutex_lock(&pl->stats_lock);
		pl->state = pl->debounce;
		pthread_mutex_unlock(&pl->stats_lock);
	}
	classify_resume(pl);

	pthread_mutex_lock(&pl->cam_lock);
	camera_changed = !pl_camera_settings_equal(&pl->cam, &cam);
	if (camera_changed) {
		/* kept until the new settings deliver a frame (see pl_camera_revert) */
		pl_camera_proven(pl);
		pl->cam_prev = pl->cam;
		pl_camera_settings_link(&pl->cam_prev);
		pl->cam_unproven = true;
		pl->cam = cam;
		pl_camera_settings_link(&pl->cam);
		pl->reopen_req = true;
		if (pl->source)
			cap_stop(pl->source);
		pthread_cond_broadcast(&pl->cam_cond);
	}
	pthread_mutex_unlock(&pl->cam_lock);
	if (!camera_changed)
		pl_camera_settings_free(&cam);
	else
		log_info("camera settings changed: reopening");
	free(pl->device_desc);
	pl->device_desc = desc;
	pl->mode = cfg->classify.mode;
	pl->threads = cfg->model.threads;
	pl->threshold = cfg->classify.threshold;
	if (pl->mode == CONFIG_MODE_CONTINUOUS) {
		pl_set_wanted(pl, true);
	} else {
		struct srv_stats st;
		srv_get_stats(pl->srv, &st);
		pl_set_wanted(pl, st.subscribers + st.classify_pending > 0);
	}
	return 0;
fail:
	pl_camera_settings_free(&cam);
	free(desc);
	clf_free(new_model);
	return r < 0 ? r : -EINVAL;
}

void pl_tick(struct pipeline *pl, char *line, size_t len)
{
	uint64_t now = mono_now_ns();
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

	int n;
	switch ((enum camera_state)atomic_load(&pl->cam_state)) {
	case CAM_DISCONNECTED:
		n = snprintf(line, len, "camera disconnected, retrying");
		break;
	case CAM_IDLE:
		if (pl->mode == CONFIG_MODE_ON_DEMAND) {
			n = snprintf(line, len, "idle (on demand, camera closed)");
			break;
		}
		/* fall through */
	case CAM_STARTING:
	case CAM_STREAMING:
	default:
		n = snprintf(line, len, "%s %.1f fps", pl_camera_state_name(pl), pl->fps_in);
		break;
	}
	if (n < 0 || (size_t)n >= len)
		return;
	if (last.seq && last.n_labels && last.labels[0].score >= pl->threshold &&
	    last.labels[0].index < clf_class_count(pl->model))
		snprintf(line + n, len - (size_t)n, ", last: %s %.2f",
			 clf_labels(pl->model)[last.labels[0].index], last.labels[0].score);
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

