/* v4l2_explain.c — camera errors that say what to do: the text behind a failed open or a busy
 * device, for the one log line source.c writes about it.
 *
 * Why here and not in the caller: the fix depends on facts only visible at the device — its
 * owner, group and mode, this process's groups, whether the kernel (EACCES) or the device cgroup
 * (EPERM: systemd's DevicePolicy=) said no, and which process holds a busy camera. The holder
 * is found the way fuser does it, by comparing every /proc/<pid>/fd/<n> with the device node;
 * under ProtectProc=invisible (the shipped unit) other users' processes are hidden, and the
 * message then says how to look as root instead. The scan is bounded (MAX_PROCS processes,
 * MAX_FDS descriptors each) so a busy machine never stalls the capture thread for long. */
#include "capture/internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PROCS   32768
#define MAX_FDS     4096
#define MAX_HOLDERS 4

static bool same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static bool holds(long pid, const struct stat *dev)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	for (unsigned n = 0; !found && n < MAX_FDS && (e = readdir(d)); n++) {
		struct stat st;
		char fd_path[128];
		if (e->d_name[0] == '.')
			continue;
		snprintf(fd_path, sizeof(fd_path), "/proc/%ld/fd/%.20s", pid, e->d_name);
		found = stat(fd_path, &st) == 0 && same_file(&st, dev);
	}
	closedir(d);
	return found;
}

int cap_device_holders(const char *device, char *out, size_t len)
{
	struct stat dev;
	if (len)
		out[0] = 0;
	if (stat(device, &dev) < 0)
		return -errno;
	DIR *proc = opendir("/proc");
	if (!proc)
		return -errno;
	int found = 0;
	size_t used = 0;
	struct dirent *e;
	for (unsigned n = 0; found < MAX_HOLDERS && n < MAX_PROCS && (e = readdir(proc)); n++) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (!isdigit((unsigned char)e->d_name[0]) || *end || pid == (long)getpid() ||
		    !holds(pid, &dev))
			continue;
		char comm[64] = "?", path[64];
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		int w = snprintf(out + used, len > used ? len - used : 0, "%spid %ld (%s)",
				 found ? ", " : "", pid, comm);
		if (w > 0 && used + (size_t)w < len)
			used += (size_t)w;
		found++;
	}
	closedir(proc);
	return found;
}

static bool in_group(gid_t gid)
{
	if (getegid() == gid)
		return true;
	gid_t groups[256];
	int n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

void cap_v4l2_explain(const char *device, const char *what, int err, char *out, size_t len)
{
	struct stat st;
	char holders[256];
	switch (err) {
	case ENOENT:
		snprintf(out, len, "%s: no such device node: waiting for it to appear (is the camera "
			 "plugged in? stable names: ls /dev/v4l/by-id/)", device);
		return;
	case EACCES:
		if (stat(device, &st) == 0) {
			struct group *g = getgrgid(st.st_gid);
			char gname[64];
			snprintf(gname, sizeof(gname), "%s", g ? g->gr_name : "?");
			if (g && !in_group(st.st_gid)) {
				snprintf(out, len, "%s: %s: permission denied: the node is group '%s' "
					 "mode %04o and this process (uid %u) is not in that group: "
					 "add SupplementaryGroups=%s to the unit (camclassd.service has "
					 "video) or run as a member (usermod -aG %s USER)", device, what,
					 gname, (unsigned)(st.st_mode & 07777), (unsigned)geteuid(),
					 gname, gname);
				return;
			}
			snprintf(out, len, "%s: %s: permission denied (node group '%s', mode %04o, uid "
				 "%u): the group may not read and write it; a udev rule sets "
				 "GROUP=\"video\", MODE=\"0660\"", device, what, gname,
				 (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
			return;
		}
		break;
	case EPERM:
		snprintf(out, len, "%s: %s: operation not permitted: the device cgroup forbids it "
			 "(systemd DevicePolicy=closed): the unit needs DeviceAllow=char-video4linux "
			 "rw (in camclassd.service) or DeviceAllow=%s rw", device, what, device);
		return;
	case EBUSY: {
		int n = cap_device_holders(device, holders, sizeof(holders));
		if (n > 0)
			snprintf(out, len, "%s: %s: busy: another process is using the camera: %s",
				 device, what, holders);
		else
			snprintf(out, len, "%s: %s: busy: another process is using the camera (/proc "
				 "does not show which to this user; as root: fuser -v %s)", device,
				 what, device);
		return;
	}
	default:
		break;
	}
	snprintf(out, len, "%s: %s: %s", device, what, strerror(err));
}
