# camclassd — build, test, install.
#
#   make                 build/camclassd and build/camclass
#   make test            install missing deps, build, run every test suite (also SANITIZE=1)
#   make run             install missing deps, build, start the demo daemon + a watching client
#   make SANITIZE=1      ASan+UBSan build (into build/san)
#   make CC=clang        clang build
#   make CROSS_COMPILE=aarch64-linux-gnu-   arm64 build (into build/aarch64)
#   make CROSS_COMPILE=arm-linux-gnueabihf- TARGET_SYSROOT=build/sysroot-armhf   armhf build
#                        (into build/arm; the sysroot comes from scripts/armhf-sysroot)
#   make XNNPACK=0       build without the XNNPACK backend
#   make install PREFIX=/usr DESTDIR=...
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

PKGS := libv4l2 libturbojpeg libsystemd inih jansson libzip libpng
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla -fno-strict-aliasing \
           -I. $(PKG_CFLAGS) -MMD -MP
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
ISA_X86   := sse41 avx2 avx512vnni
ISA_ARM64 := neon dotprod
ISA_ARM32 := neon
ISA_ALL   := $(ISA_X86) $(ISA_ARM64)
CFLAGS_sse41      := -msse4.1
CFLAGS_avx2       := -mavx2 -mfma
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

# camclass-mqtt (tools/mqtt/): the only binary linked with libmosquitto; built when pkg-config
# finds libmosquitto (cross builds without the -dev package skip it and its tests).
HAVE_MOSQUITTO := $(shell $(PKG_CONFIG) --exists libmosquitto 2>/dev/null && echo 1)
MQTT_OBJ      := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/mqtt/*.c))
MQTT_CORE_OBJ := $(filter-out $(BUILD)/obj/tools/mqtt/main.o,$(MQTT_OBJ))
MQTT_LIBS     := $(shell $(PKG_CONFIG) --libs libmosquitto 2>/dev/null)
MQTT_BIN      := $(if $(HAVE_MOSQUITTO),$(BUILD)/camclass-mqtt)

TEST_SRC  := $(if $(HAVE_MOSQUITTO),$(wildcard tests/test_*.c),$(filter-out tests/test_mqtt_%,$(wildcard tests/test_*.c)))
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# The test library: every other tests/*.c (testutil.c, ops_graph.c, ...), linked into every test.
TESTLIB_SRC := $(filter-out $(wildcard tests/test_*.c),$(wildcard tests/*.c))
TESTLIB     := $(BUILD)/libcamclass-test.a
TEST_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)

.PHONY: all test unit-tests soak test-vm test-arm64 test-armhf run install uninstall clean fuzz fuzz-run bench deps \
        demo-clip check-deps
all: $(BUILD)/camclassd $(BUILD)/camclass $(MQTT_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CFLAGS_$(call isa_of,$<)) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(CROSS_COMPILE)ar rcs $@ $^

$(BUILD)/camclassd: $(CAMCLASSD_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/camclass: $(CAMCLASS_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/camclass-mqtt: $(MQTT_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(MQTT_LIBS) $(LDLIBS)

$(TESTLIB): $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(CROSS_COMPILE)ar rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TESTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

# tests of tools/mqtt link its modules (but not its main)
$(BUILD)/tests/test_mqtt_%: $(BUILD)/obj/tests/test_mqtt_%.o $(TESTLIB) $(MQTT_CORE_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(MQTT_LIBS) $(LDLIBS)

unit-tests: $(TEST_BIN) $(BUILD)/camclassd $(BUILD)/camclass $(MQTT_BIN)

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

# --- install ----------------------------------------------------------------------------------------
SYSTEMD_UNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)/etc/camclassd $(DESTDIR)$(SYSTEMD_UNITDIR)
	install -m 0755 $(BUILD)/camclassd $(DESTDIR)$(PREFIX)/sbin/camclassd
	install -m 0755 $(BUILD)/camclass $(DESTDIR)$(PREFIX)/bin/camclass
	test -e $(DESTDIR)/etc/camclassd/camclassd.ini || install -m 0644 etc/camclassd.ini $(DESTDIR)/etc/camclassd/camclassd.ini
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/camclassd.service > $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.service
	install -m 0644 systemd/camclassd.socket $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.socket
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' 'systemd/camclassd@.service' > '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd@.service'
	install -m 0644 'systemd/camclassd@.socket' '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd@.socket'
	$(if $(MQTT_BIN),install -m 0755 $(BUILD)/camclass-mqtt $(DESTDIR)$(PREFIX)/bin/camclass-mqtt)
	$(if $(MQTT_BIN),for u in camclass-mqtt.service camclass-mqtt@.service; do sed 's|@BINDIR@|$(PREFIX)/bin|g' "systemd/$$u" > "$(DESTDIR)$(SYSTEMD_UNITDIR)/$$u"; done)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/camclassd $(DESTDIR)$(PREFIX)/bin/camclass \
	      $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.service $(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd.socket \
	      '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd@.service' '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclassd@.socket' \
	      $(DESTDIR)$(PREFIX)/bin/camclass-mqtt $(DESTDIR)$(SYSTEMD_UNITDIR)/camclass-mqtt.service \
	      '$(DESTDIR)$(SYSTEMD_UNITDIR)/camclass-mqtt@.service'

clean:
	rm -rf build
