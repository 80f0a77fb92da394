# camclassd — build, test, install.
#
#   make                 build/camclassd, build/camclass, build/camclass-web and build/camclass-mqtt
#   make test            install missing deps, build, run every test suite (also SANITIZE=1)
#   make run             install missing deps, build, start the demo daemon + a watching client
#   make SANITIZE=1      ASan+UBSan build (into build/san)
#   make CC=clang        clang build
#   make CROSS_COMPILE=aarch64-linux-gnu-   arm64 build (into build/aarch64)
#   make CROSS_COMPILE=arm-linux-gnueabihf- TARGET_SYSROOT=build/sysroot-armhf   armhf build
#                        (into build/arm; the sysroot comes from scripts/armhf-sysroot)
#   make XNNPACK=0       build without the XNNPACK backend
#   make install PREFIX=/usr DESTDIR=...   (also builds the man pages: make man, needs scdoc)
#   make dist            build/camclassd-VERSION.tar.gz (git archive + a VERSION file)
#   make CAMCLASS_VERSION=1.2.3   the version every binary prints (default: git describe, else
#                        the VERSION file of a tarball)
#
# Sources are found by folder: every .c in lib/ capture/ inference/ inference/ops/
# inference/ops/fast/ ipc/ and daemon/ (but daemon/main.c) goes into one static library;
# daemon/main.c makes camclassd, tools/camclass/*.c make camclass, each tests/test_*.c makes one
# cmocka test binary (linked with the test library: the other tests/*.c) and each
# fuzz/fuzz_*.c one libFuzzer target (make fuzz, clang only).

CROSS_COMPILE ?=
CC            ?= cc
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
PKG_CONFIG    ?= pkg-config
PREFIX        ?= /usr/local
DESTDIR       ?=
SANITIZE      ?= 0
XNNPACK       ?= auto
comma         := ,

TARGET_ARCH_NAME := $(shell $(CC) -dumpmachine 2>/dev/null | cut -d- -f1)

ifneq ($(CROSS_COMPILE),)
  BUILD ?= build/$(TARGET_ARCH_NAME)
  ifeq ($(TARGET_ARCH_NAME),aarch64)
    export PKG_CONFIG_LIBDIR := /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
  endif
  ifeq ($(TARGET_ARCH_NAME),arm)
    export PKG_CONFIG_LIBDIR := /usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig
  endif
  # TARGET_SYSROOT: the target's -dev packages unpacked into a private folder instead of installed
  # (scripts/armhf-sysroot: Debian's armhf multiarch packages cannot be installed here). pkg-config
  # reads its .pc files and moves their -I/-L paths into it; the linker finds the libraries those
  # libraries need there too. libc stays the cross toolchain's. armhf without multiarch packages
  # takes build/sysroot-armhf when scripts/armhf-sysroot has made it.
  ifeq ($(TARGET_ARCH_NAME)$(wildcard /usr/lib/arm-linux-gnueabihf/pkgconfig/libturbojpeg.pc),arm)
    TARGET_SYSROOT ?= $(wildcard build/sysroot-armhf)
    ifeq ($(TARGET_SYSROOT),)
      $(warning no armhf libraries to link with: run scripts/armhf-sysroot first)
    endif
  endif
  TARGET_SYSROOT ?=
  ifneq ($(TARGET_SYSROOT),)
    TARGET_TRIPLET := $(shell $(CC) -dumpmachine)
    export PKG_CONFIG_LIBDIR := $(TARGET_SYSROOT)/usr/lib/$(TARGET_TRIPLET)/pkgconfig:$(TARGET_SYSROOT)/usr/share/pkgconfig
    LDFLAGS += -Wl,-rpath-link,$(TARGET_SYSROOT)/usr/lib/$(TARGET_TRIPLET):$(TARGET_SYSROOT)/lib/$(TARGET_TRIPLET)
  endif
  # make 4.3 does not pass exported variables to $(shell): hand the target's .pc folder over.
  PKG_CONFIG := PKG_CONFIG_LIBDIR=$(PKG_CONFIG_LIBDIR) $(if $(TARGET_SYSROOT),PKG_CONFIG_SYSROOT_DIR=$(TARGET_SYSROOT)) $(PKG_CONFIG)
else ifeq ($(SANITIZE),1)
  BUILD ?= build/san
else
  BUILD ?= build
endif

PKGS := libv4l2 libturbojpeg inih jansson libpng
# libzip is compiled against but not linked: inference/zip_api.c loads it when a model's
# associated files are read or written (it drags in libcrypto, ~1.5 MB of resident memory).
# The soname to load is the one of the libzip.so this build sees (readelf: any target arch).
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) libzip 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
LIBZIP_SONAME := $(shell readelf -d "$(TARGET_SYSROOT)$$($(PKG_CONFIG) --variable=libdir libzip 2>/dev/null)/libzip.so" 2>/dev/null | \
                   sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')

OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla -fno-strict-aliasing \
           -I. $(PKG_CFLAGS) -MMD -MP $(if $(LIBZIP_SONAME),-DCAMCLASS_LIBZIP_SONAME='"$(LIBZIP_SONAME)"')
LDLIBS  += $(PKG_LIBS) -lpthread -lm

ifeq ($(SANITIZE),1)
  CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
endif

# XNNPACK (Debian's libxnnpack-dev has no .pc file): built in when its header is found. Cross
# builds take it from XNNPACK_SYSROOT, a folder made by scripts/xnnpack-sysroot (the arm64 -dev
# packages cannot be installed beside the amd64 ones); without one they build without it.
XNNPACK_SYSROOT ?=
XNNPACK_LIBDIR  := $(XNNPACK_SYSROOT)/usr/lib/$(shell $(CC) -dumpmachine 2>/dev/null)
ifeq ($(XNNPACK),auto)
  ifneq ($(CROSS_COMPILE),)
    XNNPACK := $(if $(and $(XNNPACK_SYSROOT),$(wildcard $(XNNPACK_SYSROOT)/usr/include/xnnpack.h)),1,0)
  else ifneq ($(wildcard /usr/include/xnnpack.h),)
    XNNPACK := 1
  else
    XNNPACK := 0
  endif
endif
ifeq ($(XNNPACK),1)
  CFLAGS += -DCAMCLASS_HAVE_XNNPACK=1 $(if $(XNNPACK_SYSROOT),-isystem $(XNNPACK_SYSROOT)/usr/include)
  LDLIBS += $(if $(XNNPACK_SYSROOT),-L$(XNNPACK_LIBDIR) -Wl$(comma)-rpath-link$(comma)$(XNNPACK_LIBDIR)) \
            -lXNNPACK -lpthreadpool -lcpuinfo
endif

# Per-ISA kernels: a file named *_<isa>.c is compiled only for its architecture, with the flags
# for that ISA; the code picks it at run time after checking the CPU.
# 32-bit ARM (Debian armhf) is built for its baseline, ARMv7 with VFPv3-D16 and no NEON; only the
# *_neon.c files get NEON (-mfpu=neon: VFPv3 with 32 registers and NEON, what HWCAP_NEON promises,
# down to Cortex-A8), and gemm.c calls them only when the kernel reports HWCAP_NEON.
ISA_X86   := sse41 avx2 avx512 avx512vnni
ISA_ARM64 := neon dotprod
ISA_ARM32 := neon
ISA_ALL   := $(ISA_X86) $(ISA_ARM64)
CFLAGS_sse41      := -msse4.1
CFLAGS_avx2       := -mavx2 -mfma
CFLAGS_avx512     := -mavx512f -mfma
CFLAGS_avx512vnni := -mavx512f -mavx512bw -mavx512vl -mavx512vnni
CFLAGS_neon       :=
CFLAGS_dotprod    := -march=armv8.2-a+dotprod
ifeq ($(TARGET_ARCH_NAME),x86_64)
  ISA_HERE := $(ISA_X86)
else ifeq ($(TARGET_ARCH_NAME),aarch64)
  ISA_HERE := $(ISA_ARM64)
else ifeq ($(TARGET_ARCH_NAME),arm)
  ISA_HERE := $(ISA_ARM32)
  CFLAGS_neon := -mfpu=neon
else
  ISA_HERE :=
endif
isa_of = $(lastword $(subst _, ,$(basename $(notdir $(1)))))
isa_keep = $(foreach f,$(1),$(if $(filter $(call isa_of,$(f)),$(ISA_ALL)),$(if $(filter $(call isa_of,$(f)),$(ISA_HERE)),$(f)),$(f)))

LIB_SRC := $(call isa_keep,$(wildcard lib/*.c capture/*.c inference/*.c inference/ops/*.c inference/ops/*/*.c ipc/*.c) \
           $(filter-out daemon/main.c,$(wildcard daemon/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB     := $(BUILD)/libcamclass.a

CAMCLASSD_OBJ := $(BUILD)/obj/daemon/main.o
CAMCLASS_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/camclass/*.c))

# camclass-web (tools/web/): the only binary that links libmicrohttpd and libcrypt. Its page
# (tools/web/static/) is compiled in as a generated C table (scripts/embed-assets). Built by
# `make` wherever pkg-config finds libmicrohttpd (cross builds without it skip it, saying so).
WEB_PKGS     := libmicrohttpd libcrypt
WEB_CFLAGS   := $(shell $(PKG_CONFIG) --cflags $(WEB_PKGS) 2>/dev/null)
WEB_LIBS     := $(shell $(PKG_CONFIG) --libs $(WEB_PKGS) 2>/dev/null)
WEB_HAVE     := $(shell $(PKG_CONFIG) --exists $(WEB_PKGS) 2>/dev/null && echo 1)
WEB_STATIC   := $(sort $(wildcard tools/web/static/*))
WEB_PURE_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,tools/web/auth.c tools/web/request.c tools/web/metrics.c)
WEB_OBJ      := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/web/*.c)) $(BUILD)/obj/gen/web_assets.o
WEB_BIN      := $(if $(WEB_HAVE),$(BUILD)/camclass-web)
ifeq ($(WEB_HAVE),)
  $(warning libmicrohttpd not found by pkg-config: camclass-web is not built (scripts/install-deps build))
endif

# camclass-mqtt (tools/mqtt/): the only binary linked with libmosquitto; built when pkg-config
# finds libmosquitto (cross builds without the -dev package skip it and its tests).
HAVE_MOSQUITTO := $(shell $(PKG_CONFIG) --exists libmosquitto 2>/dev/null && echo 1)
MQTT_OBJ      := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/mqtt/*.c))
MQTT_CORE_OBJ := $(filter-out $(BUILD)/obj/tools/mqtt/main.o,$(MQTT_OBJ))
MQTT_LIBS     := $(shell $(PKG_CONFIG) --libs libmosquitto 2>/dev/null)
MQTT_BIN      := $(if $(HAVE_MOSQUITTO),$(BUILD)/camclass-mqtt)

# Tests of the companions need their libraries: without them (cross builds) they are left out,
# like the binaries they test.
TEST_SRC  := $(filter-out $(if $(HAVE_MOSQUITTO),,tests/test_mqtt_%) $(if $(WEB_HAVE),,tests/test_web.c),\
               $(wildcard tests/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# The test library: every other tests/*.c (testutil.c, ops_graph.c, ...), linked into every test.
TESTLIB_SRC := $(filter-out $(wildcard tests/test_*.c),$(wildcard tests/*.c))
TESTLIB     := $(BUILD)/libcamclass-test.a
TEST_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)

.PHONY: all dist man FORCE test unit-tests soak test-vm test-arm64 test-armhf run install uninstall clean fuzz fuzz-run bench deps \
        demo-clip check-deps
all: $(BUILD)/camclassd $(BUILD)/camclass $(WEB_BIN) $(MQTT_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CFLAGS_$(call isa_of,$<)) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(CROSS_COMPILE)ar rcs $@ $^

$(BUILD)/camclassd: $(CAMCLASSD_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/camclass: $(CAMCLASS_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/tools/web/%.o: CFLAGS += $(WEB_CFLAGS)
$(BUILD)/gen/web_assets.c: $(WEB_STATIC) scripts/embed-assets
	scripts/embed-assets $@ $(WEB_STATIC)
$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/camclass-web: $(WEB_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(WEB_LIBS) $(LDLIBS)
# tests/test_web.c checks the HTTP-free parts of camclass-web (they come after the library on
# the command line, so the library is named again after them).
$(BUILD)/tests/test_web: $(WEB_PURE_OBJ)
$(BUILD)/tests/test_web: LDLIBS := $(LIB) $(WEB_LIBS) $(LDLIBS)
$(BUILD)/camclass-mqtt: $(MQTT_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(MQTT_LIBS) $(LDLIBS)

$(TESTLIB): $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(CROSS_COMPILE)ar rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TESTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

# --- version ---------------------------------------------------------------------------------------
# One version for every binary (lib/version.h): make CAMCLASS_VERSION=... wins (debian/rules passes
# the package's), then `git describe` in a git checkout, then the VERSION file `make dist` puts in
# a tarball. Only lib/version.o is compiled with it; the stamp file changes (and rebuilds that one
# object) only when the version does.
ifeq ($(origin CAMCLASS_VERSION),undefined)
  CAMCLASS_VERSION := $(shell if git rev-parse --git-dir >/dev/null 2>&1; then \
	git describe --tags --always --dirty 2>/dev/null; elif [ -f VERSION ]; then cat VERSION; fi)
endif
CAMCLASS_VERSION := $(or $(shell printf '%s' '$(CAMCLASS_VERSION)' | head -n1 | tr -cd 'A-Za-z0-9.+~:_-'),unknown)
VERSION_STAMP := $(BUILD)/gen/version
$(VERSION_STAMP): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(CAMCLASS_VERSION)' | cmp -s - $@ || printf '%s\n' '$(CAMCLASS_VERSION)' > $@
$(BUILD)/obj/lib/version.o: $(VERSION_STAMP)
$(BUILD)/obj/lib/version.o: CFLAGS += -DCAMCLASS_VERSION='"$(CAMCLASS_VERSION)"'
FORCE:

dist:
	@mkdir -p $(BUILD)/dist
	printf '%s\n' '$(CAMCLASS_VERSION)' > $(BUILD)/dist/VERSION
	git archive --prefix=camclassd-$(CAMCLASS_VERSION)/ --add-file=$(BUILD)/dist/VERSION \
	    -o $(BUILD)/camclassd-$(CAMCLASS_VERSION).tar.gz HEAD

# tests of tools/mqtt link its modules (but not its main)
$(BUILD)/tests/test_mqtt_%: $(BUILD)/obj/tests/test_mqtt_%.o $(TESTLIB) $(MQTT_CORE_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(MQTT_LIBS) $(LDLIBS)

unit-tests: $(TEST_BIN) $(BUILD)/camclassd $(BUILD)/camclass $(WEB_BIN) $(MQTT_BIN)

# `make soak`: 10 minutes of mixed load on the real daemon (scripts/soak; not part of make test)
$(BUILD)/soak: $(BUILD)/obj/tests/soak.o $(TESTLIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

soak: $(BUILD)/soak $(BUILD)/camclassd
	CAMCLASS_BUILD=$(BUILD) scripts/soak

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# --- dependencies ------------------------------------------------------------------------------
deps:
	scripts/install-deps build test

check-deps:
	@scripts/install-deps --check build test >/dev/null 2>&1 || scripts/install-deps build test

# --- tests ---------------------------------------------------------------------------------------
# scripts/run-tests runs every suite, keeps going on failure, and ends with one line
# "N passed, N failed" over all of them.
test: check-deps
	scripts/run-tests

test-vm: all
	scripts/test-vm

test-arm64:
	scripts/test-arm64

test-armhf:
	scripts/test-armhf

# --- fuzzing (clang + libFuzzer) ----------------------------------------------------------------
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
               -DCAMCLASS_FUZZ=1
FUZZ_LIB_SRC := $(call isa_keep,$(LIB_SRC))
fuzz: $(FUZZ_BIN)
build/fuzz/fuzz_mqtt_cmd: FUZZ_EXTRA_SRC := tools/mqtt/command.c
build/fuzz/fuzz_mqtt_cmd: tools/mqtt/command.c
build/fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_EXTRA_SRC) $(FUZZ_LIB_SRC) $(PKG_LIBS) -lpthread -lm $(if $(filter 1,$(XNNPACK)),-DCAMCLASS_HAVE_XNNPACK=1 -lXNNPACK -lpthreadpool -lcpuinfo)

# camclass-web's request handling: its pure parts plus what they use of the library.
build/fuzz/fuzz_web_request: fuzz/fuzz_web_request.c $(WEB_PURE_OBJ:$(BUILD)/obj/%.o=%.c) $(FUZZ_LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(PKG_LIBS) $(WEB_LIBS) -lpthread -lm $(if $(filter 1,$(XNNPACK)),-DCAMCLASS_HAVE_XNNPACK=1 -lXNNPACK -lpthreadpool -lcpuinfo)

# --- demo ------------------------------------------------------------------------------------------
# The demo clip: Fashion-MNIST test images as 640x480 JPEG frames, made from the installed dataset
# (Debian's python3, not a pyenv one: numpy/PIL come from Debian packages).
DEMO_CLIP_DIR ?= build/demo-clip
demo-clip:
	@scripts/install-deps --check demo >/dev/null 2>&1 || scripts/install-deps demo
	/usr/bin/python3 tools/demo_clip.py --out $(DEMO_CLIP_DIR)

# make run needs only the build and demo packages (not the test VM and cross toolchains).
run:
	@scripts/install-deps --check build demo >/dev/null 2>&1 || scripts/install-deps build demo
	$(MAKE) all
	scripts/run-demo

bench: all
	scripts/bench

# --- man pages --------------------------------------------------------------------------------------
# scdoc sources in docs/man/NAME.SECTION.scd become $(BUILD)/man/NAME.SECTION; tests/suite-man.sh
# checks each with `man --warnings -l`.
MAN_SRC  := $(wildcard docs/man/*.scd)
MAN_PAGE := $(MAN_SRC:docs/man/%.scd=$(BUILD)/man/%)
# installed: every page but those of companions this build leaves out (no libmosquitto, ...)
MAN_INSTALL := $(filter-out $(if $(MQTT_BIN),,%/camclass-mqtt.1) $(if $(WEB_BIN),,%/camclass-web.1),$(MAN_PAGE))
man: $(MAN_PAGE)
$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@.tmp && mv $@.tmp $@

# --- install ----------------------------------------------------------------------------------------
# The demo model and its labels go to $(PREFIX)/share/camclassd/models/, and the INI installed in
# /etc names them there (its /usr/share/camclassd is rewritten for another PREFIX), so a fresh
# install classifies with no edits. An INI already in /etc is kept. The units' @SBINDIR@ becomes
# $(PREFIX)/sbin. sysusers.d/camclassd.conf makes the socket's group 'camclass' (systemd-sysusers
# at boot; run it once by hand after a make install).
SYSTEMD_UNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
SYSUSERSDIR     ?= $(shell $(PKG_CONFIG) --variable=sysusersdir systemd 2>/dev/null || echo /usr/lib/sysusers.d)
DATADIR         := $(PREFIX)/share/camclassd
DOCDIR          ?= $(PREFIX)/share/doc/camclassd
SYSCONFDIR      ?= /etc
LIBEXECDIR      ?= $(PREFIX)/libexec/camclassd
TRIPLET         := $(shell $(CC) -print-multiarch 2>/dev/null)
install: all man
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	for m in $(MAN_INSTALL); do s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR)/camclassd \
	    $(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DATADIR)/models \
	    $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BUILD)/camclassd $(DESTDIR)$(PREFIX)/sbin/camclassd
	install -m 0755 $(BUILD)/camclass $(DESTDIR)$(PREFIX)/bin/camclass
	install -m 0644 models/demo/fashion.tflite $(DESTDIR)$(DATADIR)/models/fashion.tflite
	install -m 0644 models/demo/labels.txt $(DESTDIR)$(DATADIR)/models/fashion-labels.txt
	install -m 0644 models/demo/README.md $(DESTDIR)$(DATADIR)/models/README.md
	test -e $(DESTDIR)$(SYSCONFDIR)/camclassd/camclassd.ini || \
	    sed 's|/usr/share/camclassd/|$(DATADIR)/|g' etc/camclassd.ini > $(DESTDIR)$(SYSCONFDIR)/camclassd/camclassd.ini
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/camclassd/camclassd.ini
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/camclassd.service > $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.service
	install -m 0644 systemd/camclassd.socket $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.socket
	install -m 0644 systemd/camclassd.sysusers $(DESTDIR)$(SYSUSERSDIR)/camclassd.conf
	install -m 0644 examples/* $(DESTDIR)$(DOCDIR)/examples/
	install -d $(DESTDIR)$(LIBEXECDIR)
	sed 's|@TRIPLET@|$(TRIPLET)|g' systemd/camclassd-libcamera.sh > $(DESTDIR)$(LIBEXECDIR)/camclassd-libcamera
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/camclassd-libcamera
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g; s|@SBINDIR@|$(PREFIX)/sbin|g; s|@DATADIR@|$(DATADIR)|g' \
	    systemd/camclassd-libcamera.conf > $(DESTDIR)$(DATADIR)/camclassd-libcamera.conf
	chmod 0644 $(DESTDIR)$(DATADIR)/camclassd-libcamera.conf
	$(if $(WEB_BIN),install -m 0755 $(WEB_BIN) $(DESTDIR)$(PREFIX)/bin/camclass-web)
	$(if $(WEB_BIN),sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/camclass-web.service > $(DESTDIR)$(SYSTEMD_UNITDIR)/camclass-web.service)
	$(if $(WEB_BIN),chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/camclass-web.service)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' 'systemd/camclassd@.service' > '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd@.service'
	install -m 0644 'systemd/camclassd@.socket' '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd@.socket'
	$(if $(MQTT_BIN),install -m 0755 $(BUILD)/camclass-mqtt $(DESTDIR)$(PREFIX)/bin/camclass-mqtt)
	$(if $(MQTT_BIN),for u in camclass-mqtt.service camclass-mqtt@.service; do sed 's|@BINDIR@|$(PREFIX)/bin|g' "systemd/$$u" > "$(DESTDIR)$(SYSTEMD_UNITDIR)/$$u" && chmod 0644 "$(DESTDIR)$(SYSTEMD_UNITDIR)/$$u"; done)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/camclassd $(DESTDIR)$(PREFIX)/bin/camclass \
	      $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.service $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.socket \
	      $(DESTDIR)$(SYSUSERSDIR)/camclassd.conf \
	      $(foreach m,$(MAN_PAGE),$(DESTDIR)$(PREFIX)/share/man/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
	      '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd@.service' '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd@.socket' \
	      $(DESTDIR)$(PREFIX)/bin/camclass-mqtt $(DESTDIR)$(SYSTEMD_UNITDIR)/camclass-mqtt.service \
	      $(DESTDIR)$(PREFIX)/bin/camclass-web $(DESTDIR)$(SYSTEMD_UNITDIR)/camclass-web.service \
	      '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclass-mqtt@.service'
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(LIBEXECDIR)

clean:
	rm -rf build
