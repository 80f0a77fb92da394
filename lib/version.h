/* version.h — the one version string of every camclass binary (camclassd, camclass and the
 * companions camclass-mqtt, camclass-web).
 *
 * Contract: camclass_version() returns a static, NUL-terminated string that lives as long as
 * the program, e.g. "v0.1.0-12-g2babc1b" (git describe) or "0.1.0" (VERSION file or the Debian
 * package's version); "unknown" only when the build had neither. Any thread may call it; it
 * never fails and never allocates.
 *
 * Where it comes from: the Makefile computes VERSION once per build (make VERSION=... wins, then
 * `git describe --tags --always --dirty` in a git checkout, then the VERSION file of a tarball)
 * and compiles lib/version.c alone with it, so a new commit rebuilds one object, not the tree.
 * A program prints it for --version with camclass_print_version(). */
#ifndef CAMCLASS_VERSION_H
#define CAMCLASS_VERSION_H

#include <stdio.h>

const char *camclass_version(void);

/* Prints "<program> <version>\n" to f (the --version output of every binary). */
void camclass_print_version(FILE *f, const char *program);

#endif
