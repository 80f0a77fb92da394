/* preflight.c — the checks of `camclassd --check-config` beyond the INI syntax (preflight.h).
 *
 * Why only stat()/access() for the camera: opening a V4L2 node can already disturb a camera that
 * streams for someone else (and takes hundreds of milliseconds on some), and the preflight must
 * stay fast enough for ExecStartPre=. access() answers the question that matters — may this
 * user open it read-write — with the same identity and groups the daemon will have.
 * Why the model is really loaded: a file that exists can still be truncated, not a TFLite model,
 * or have 1001 outputs for 1000 labels; only loading it says so. */
#include "daemon/preflight.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "daemon/classifier.h"
#include "daemon/pipeline.h"

static const char *cfg_name(const struct config *cfg)
{
	return cfg->path ? cfg->path : "(defaults)";
}

static int check_model(const struct config *cfg, FILE *out)
{
	char err[512];
	struct classifier *model = NULL;
	int saved_level = log_get_level();
	log_set_level(LOG_WARNING); /* pl_model_load's "model ...: input ..." line is for the daemon */
	int r = pl_model_load(cfg, &model, err, sizeof(err));
	log_set_level(saved_level);
	if (r < 0) {
		fprintf(out, "%s: [model]: %s\n", cfg_name(cfg), err);
		return r;
	}
	clf_free(model);
	return 0;
}

static int check_group(const struct config *cfg, FILE *out)
{
	const char *name = cfg->socket.group;
	if (!name || !name[0])
		return 0;
	errno = 0;
	if (getgrnam(name))
		return 0;
	int r = errno ? -errno : -ENOENT;
	if (r == -ENOENT || r == -ESRCH || r == -EBADF || r == -EPERM)
		fprintf(out, "%s: [socket] group: no group '%s' on this system (create it with "
			     "`groupadd --system %s`; the Debian package creates 'camclass')\n",
			cfg_name(cfg), name, name);
	else
		fprintf(out, "%s: [socket] group: cannot look up '%s': %s\n", cfg_name(cfg), name,
			strerror(-r));
	return -ENOENT;
}

static int check_device(const struct config *cfg, FILE *out)
{
	const char *dev = cfg->camera.device;
	struct stat st;
	if (stat(dev, &st) < 0) {
		if (errno == ENOENT) {
			fprintf(out, "%s: note: [camera] device %s is not there (yet); camclassd starts "
				     "anyway and opens it when it appears\n", cfg_name(cfg), dev);
			return 0;
		}
		int r = -errno;
		fprintf(out, "%s: [camera] device %s: %s\n", cfg_name(cfg), dev, strerror(-r));
		return r;
	}
	if (!S_ISCHR(st.st_mode)) {
		fprintf(out, "%s: [camera] device %s is not a device node (a camera is a character "
			     "device such as /dev/video0)\n", cfg_name(cfg), dev);
		return -ENODEV;
	}
	if (access(dev, R_OK | W_OK) < 0) {
		int r = -errno;
		if (r == -EACCES || r == -EPERM)
			fprintf(out, "%s: [camera] device %s: permission denied for this user: add it "
				     "to the device's group (usually 'video': usermod -aG video USER); "
				     "under systemd the unit needs SupplementaryGroups=video and "
				     "DeviceAllow=char-video4linux rw\n", cfg_name(cfg), dev);
		else
			fprintf(out, "%s: [camera] device %s: %s\n", cfg_name(cfg), dev, strerror(-r));
		return r;
	}
	return 0;
}

int preflight_check(const struct config *cfg, FILE *out)
{
	int first = 0, r;
	r = check_model(cfg, out);
	first = first ? first : r;
	r = check_group(cfg, out);
	first = first ? first : r;
	if (cfg->camera.source == CAP_SOURCE_V4L2) {
		r = check_device(cfg, out);
		first = first ? first : r;
	}
	return first;
}
