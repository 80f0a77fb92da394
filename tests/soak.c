/* soak.c — `make soak` (scripts/soak; not part of make test): the real build/camclassd under a
 * long mixed load, reporting what stays bounded and what is lost (issue #13).
 *
 * For --minutes (default 10): a file source at --fps (default 120) over good JPEGs with corrupt
 * ones mixed in (a 0×0 header, a truncated file); --subscribers (default 256) subscribers that
 * read everything and check every result's seq against the previous one and its "dropped"
 * field; one subscriber that never reads; churn (a client connects, subscribes, reads a little
 * and leaves every 50 ms); a snapshot flood every 2 s (a client asks for 40 snapshots without
 * reading, then leaves); a SIGHUP every 20 s alternating two models and two top_k values. Once a
 * second it samples the daemon's RSS and open fds.
 *
 * Report: results seen per healthy subscriber, those reported as "dropped", those lost with no
 * "dropped" (must be 0), RSS and fd figures (first minute vs the rest: growth must stay small),
 * the daemon's own counters from status. Exit 0 when the daemon lived, nothing was lost
 * unreported and RSS/fds stayed bounded; 1 otherwise. Single-threaded: one epoll loop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <jansson.h>

#include "capture/capture.h"
#include "tests/testutil.h"

#define MAX_SUBS 1024
#define READ_BYTES 65536
#define RSS_GROWTH_LIMIT_KB (32 * 1024)
#define FD_GROWTH_LIMIT 16

struct sub {
	int fd;
	char buf[READ_BYTES];
	size_t len;
	uint64_t last_seq, results, dropped, lost;
	bool stalled;
};

static struct sub subs[MAX_SUBS + 1];
static char dir[80], sock_path[100], ini[120], log_path[120], frames[100];
static pid_t daemon_pid = -1;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "soak: %s: %s\n", what, strerror(errno));
	if (daemon_pid > 0)
		kill(daemon_pid, SIGKILL);
	exit(1);
}

static int connect_sock(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_str(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		(void)0; /* churn clients may be cut off: that is part of the load */
}

/* One JPEG per shared photo, plus a 0×0 one and a truncated one. */
static void make_frames(void)
{
	static const char *const photos[] = { "images/cat.bmp", "images/grace_hopper.bmp" };
	struct cap_decoder *dec;
	if (cap_decoder_new(&dec) < 0 || mkdir(frames, 0755) < 0)
		die("frames");
	for (size_t i = 0; i < 2; i++) {
		size_t len;
		uint8_t *bmp = tu_read_file(tu_model_path(photos[i]), &len);
		struct cap_image img;
		struct cap_prep prep = { .target = { .width = 1, .height = 1, .channels = 3 },
					 .crop = CAP_CROP_FULL };
		if (!bmp || cap_decode_still(dec, bmp, len, &prep, &img) < 0)
			die("decode a shared photo");
		tjhandle tj = tjInitCompress();
		unsigned char *jpg = NULL;
		unsigned long jlen = 0;
		if (!tj || tjCompress2(tj, img.pixels, img.width, (int)img.stride_bytes, img.height,
				       TJPF_RGB, &jpg, &jlen, TJSAMP_420, 90, 0) != 0)
			die("encode");
		for (int copy = 0; copy < 4; copy++) {
			char p[400];
			snprintf(p, sizeof(p), "%s/%zu%d-good.jpg", frames, i, copy);
			FILE *f = fopen(p, "wb");
			if (!f || fwrite(jpg, 1, jlen, f) != jlen || fclose(f) != 0)
				die(p);
		}
		if (i == 0) {   /* the corrupt ones: SOF says 0×0; cut in half */
			char p[400];
			for (size_t k = 2; k + 9 < jlen;) {
				if (jpg[k + 1] >= 0xC0 && jpg[k + 1] <= 0xC2) {
					memset(jpg + k + 5, 0, 4);
					break;
				}
				k += 2 + ((size_t)jpg[k + 2] << 8 | jpg[k + 3]);
			}
			snprintf(p, sizeof(p), "%s/05-zero-size.jpg", frames);
			FILE *f = fopen(p, "wb");
			if (!f || fwrite(jpg, 1, jlen, f) != jlen || fclose(f) != 0)
				die(p);
			snprintf(p, sizeof(p), "%s/15-truncated.jpg", frames);
			f = fopen(p, "wb");
			if (!f || fwrite(jpg, 1, jlen / 2, f) != jlen / 2 || fclose(f) != 0)
				die(p);
		}
		tjFree(jpg);
		tjDestroy(tj);
		free(bmp);
	}
	cap_decoder_free(dec);
}

static void write_ini(int fps, int variant)
{
	static const char *const models[][2] = {
		{ "mobilenet_v1_0.25_128_quant.tflite", "imagenet_labels.txt" },
		{ "vww_96_int8.tflite", "vww_labels.txt" },
	};
	char model[512], labels[512], tmp[400];
	snprintf(model, sizeof(model), "%s", tu_model_path(models[variant % 2][0]));
	snprintf(labels, sizeof(labels), "%s", tu_model_path(models[variant % 2][1]));
	snprintf(tmp, sizeof(tmp), "%s.tmp", ini);
	FILE *f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	fprintf(f, "[camera]\nsource = file\nfile = %s\nfps = %d\n[model]\nbackend = builtin\n"
		"threads = 1\npath = %s\nlabels = %s\n[classify]\ntop_k = %d\n[socket]\npath = %s\n"
		"max_clients = %d\n[log]\nlevel = info\n", frames, fps, model, labels,
		variant / 2 % 2 ? 2 : 3, sock_path, MAX_SUBS + 64);
	if (fclose(f) != 0 || rename(tmp, ini) < 0)
		die(ini);
}

static long proc_kb(const char *field)
{
	char p[64], line[256];
	long kb = -1;
	snprintf(p, sizeof(p), "/proc/%d/status", (int)daemon_pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			kb = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return kb;
}

static int proc_fds(void)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)daemon_pid);
	DIR *d = opendir(p);
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

/* Lines of a subscriber: count results and check seq/dropped. */
static void take_lines(struct sub *s)
{
	char *start = s->buf, *nl;
	while ((nl = memchr(start, '\n', s->len - (size_t)(start - s->buf)))) {
		*nl = 0;
		if (strstr(start, "\"type\":\"result\"")) {
			const char *q = strstr(start, "\"seq\":");
			const char *d = strstr(start, "\"dropped\":");
			uint64_t seq = q ? strtoull(q + 6, NULL, 10) : 0;
			uint64_t dropped = d ? strtoull(d + 10, NULL, 10) : 0;
			if (s->last_seq && seq > s->last_seq + 1 + dropped)
				s->lost += seq - s->last_seq - 1 - dropped;
			s->dropped += dropped;
			s->results++;
			s->last_seq = seq;
		}
		start = nl + 1;
	}
	s->len -= (size_t)(start - s->buf);
	memmove(s->buf, start, s->len);
}

static json_t *status_of(void)
{
	int fd = connect_sock();
	if (fd < 0) {
		fprintf(stderr, "soak: status: cannot connect: %s\n", strerror(errno));
		return NULL;
	}
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	send_str(fd, "{\"cmd\":\"status\",\"id\":\"soak\"}\n");
	static char buf[1 << 16];
	size_t len = 0, parsed = 0;
	json_t *st = NULL;
	while (!st && len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0) {
			fprintf(stderr, "soak: status: %s after %zu bytes\n",
				n == 0 ? "connection closed" : strerror(errno), len);
			break;
		}
		len += (size_t)n;
		buf[len] = 0;
		char *nl;
		while (!st && (nl = strchr(buf + parsed, '\n'))) {
			*nl = 0;
			if (strstr(buf + parsed, "\"id\":\"soak\""))
				st = json_loads(buf + parsed, 0, NULL);
			parsed = (size_t)(nl + 1 - buf);
		}
	}
	close(fd);
	return st;
}

int main(int argc, char **argv)
{
	double minutes = 10;
	int n_subs = 256, fps = 120;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--minutes") == 0)
			minutes = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--subscribers") == 0)
			n_subs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--fps") == 0)
			fps = atoi(argv[i + 1]);
	}
	if (n_subs < 1 || n_subs > MAX_SUBS || minutes <= 0 || fps < 1 || fps > 240) {
		fprintf(stderr, "usage: soak [--minutes M] [--subscribers 1..%d] [--fps 1..240]\n", MAX_SUBS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(sock_path, sizeof(sock_path), "%s/s.sock", dir);
	snprintf(ini, sizeof(ini), "%s/camclassd.ini", dir);
	snprintf(log_path, sizeof(log_path), "%s/daemon.log", dir);
	snprintf(frames, sizeof(frames), "%s/frames", dir);
	make_frames();
	int variant = 0;
	write_ini(fps, variant);

	char bin[512];
	snprintf(bin, sizeof(bin), "%s/camclassd", tu_build_dir());
	daemon_pid = fork();
	if (daemon_pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("LISTEN_FDS");
		unsetenv("WATCHDOG_USEC");
		execl(bin, bin, "-c", ini, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300 && access(sock_path, F_OK) != 0; i++)
		usleep(100 * 1000);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i <= n_subs; i++) {
		struct sub *s = &subs[i];
		s->fd = connect_sock();
		if (s->fd < 0)
			die("connect a subscriber");
		s->stalled = i == n_subs;      /* the last one never reads */
		send_str(s->fd, "{\"cmd\":\"subscribe\"}\n");
		fcntl(s->fd, F_SETFL, O_NONBLOCK);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
		if (!s->stalled && epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
			die("epoll_ctl");
	}

	const double t0 = now_s(), end = t0 + minutes * 60;
	double next_churn = t0, next_flood = t0 + 2, next_reload = t0 + 20, next_sample = t0 + 1;
	long rss_first_max = 0, rss_later_max = 0, rss_min = -1, rss_last = 0;
	int fds_first_max = 0, fds_later_max = 0, fds_last = 0;
	unsigned reloads = 0, floods = 0, churned = 0;
	int flood_fd = -1;
	bool alive = true;

	while (now_s() < end && alive) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 20);
		for (int i = 0; i < n; i++) {
			struct sub *s = evs[i].data.ptr;
			for (;;) {
				ssize_t r = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
				if (r <= 0) {
					if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
						fprintf(stderr, "soak: subscriber %ld was disconnected\n",
							(long)(s - subs));
						epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
					}
					break;
				}
				s->len += (size_t)r;
				take_lines(s);
			}
		}
		double t = now_s();
		if (t >= next_churn) {
			next_churn = t + 0.05;
			int fd = connect_sock();
			if (fd >= 0) {
				char tmp[4096];
				send_str(fd, "{\"cmd\":\"subscribe\",\"top_k\":1}\n{\"cmd\":\"status\"}\n");
				usleep(1000);
				(void)!recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
				close(fd);
				churned++;
			}
		}
		if (t >= next_flood) {
			next_flood = t + 2;
			if (flood_fd >= 0)
				close(flood_fd);
			flood_fd = connect_sock();
			for (int k = 0; flood_fd >= 0 && k < 40; k++)
				send_str(flood_fd, "{\"cmd\":\"snapshot\"}\n");
			floods++;
		}
		if (t >= next_reload) {
			next_reload = t + 20;
			write_ini(fps, ++variant);
			kill(daemon_pid, SIGHUP);
			reloads++;
		}
		if (t >= next_sample) {
			next_sample = t + 1;
			alive = waitpid(daemon_pid, NULL, WNOHANG) == 0;
			long rss = proc_kb("VmRSS:");
			int fds = proc_fds();
			if (rss > 0) {
				rss_last = rss;
				if (rss_min < 0 || rss < rss_min)
					rss_min = rss;
				if (t - t0 < 60)
					rss_first_max = rss > rss_first_max ? rss : rss_first_max;
				else
					rss_later_max = rss > rss_later_max ? rss : rss_later_max;
			}
			if (fds > 0) {
				fds_last = fds;
				if (t - t0 < 60)
					fds_first_max = fds > fds_first_max ? fds : fds_first_max;
				else
					fds_later_max = fds > fds_later_max ? fds : fds_later_max;
			}
		}
	}
	if (flood_fd >= 0)
		close(flood_fd);

	uint64_t results = 0, dropped = 0, lost = 0, min_results = UINT64_MAX;
	for (int i = 0; i < n_subs; i++) {
		results += subs[i].results;
		dropped += subs[i].dropped;
		lost += subs[i].lost;
		if (subs[i].results < min_results)
			min_results = subs[i].results;
	}
	json_t *st = alive ? status_of() : NULL;
	double secs = now_s() - t0;
	long hwm = proc_kb("VmHWM:");
	printf("soak: %.0f s, %d subscribers (+1 never reading), fps %d, %u reloads, %u snapshot floods, "
	       "%u churn clients\n", secs, n_subs, fps, reloads, floods, churned);
	printf("soak: results per subscriber: %.0f on average (%.1f/s), fewest %llu; reported dropped "
	       "%llu in all; lost without \"dropped\": %llu\n", (double)results / n_subs,
	       (double)results / n_subs / secs, (unsigned long long)min_results,
	       (unsigned long long)dropped, (unsigned long long)lost);
	printf("soak: RSS kB: min %ld, max in the first minute %ld, max after it %ld, last %ld, peak %ld\n",
	       rss_min, rss_first_max, rss_later_max, rss_last, hwm);
	printf("soak: fds: max in the first minute %d, max after it %d, last %d\n", fds_first_max,
	       fds_later_max, fds_last);
	if (st)
		printf("soak: daemon status: frames_corrupt %lld, results_overwritten %lld, "
		       "results_dropped %lld, clients %lld, health %s\n",
		       (long long)json_integer_value(json_object_get(st, "frames_corrupt")),
		       (long long)json_integer_value(json_object_get(st, "results_overwritten")),
		       (long long)json_integer_value(json_object_get(st, "results_dropped")),
		       (long long)json_integer_value(json_object_get(st, "clients")),
		       json_string_value(json_object_get(st, "health")));
	json_decref(st);

	bool ok = alive && lost == 0 && min_results > 0 &&
		  (minutes < 2 || (rss_later_max <= rss_first_max + RSS_GROWTH_LIMIT_KB &&
				   fds_later_max <= fds_first_max + FD_GROWTH_LIMIT));
	if (!alive)
		printf("soak: FAIL the daemon died; log in %s\n", log_path);
	if (alive) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
	}
	for (int i = 0; i <= n_subs; i++)
		close(subs[i].fd);
	printf("soak: %s\n", ok ? "PASS" : "FAIL");
	if (ok)
		tu_rm_rf(dir);
	else
		printf("soak: kept %s\n", dir);
	return ok ? 0 : 1;
}
