/* insn_count.c — a QEMU TCG plugin that counts the guest instructions a program executes under
 * qemu-user, for scripts/bench-arm: a deterministic proxy for how much work our arm64/armhf
 * kernels do, on a machine without ARM hardware (issue 18). It is built for the host
 * (scripts/bench-arm builds it with cc) and loaded by Debian's dynamic qemu-aarch64 / qemu-arm
 * (package qemu-user; qemu-user-static cannot load plugins).
 *
 *   qemu-aarch64 -plugin build/qemu-insn-count.so,out=FILE[,mark=ADDR,text=ADDR]
 *                [,lib=NAME,libmark=OFFSET] PROGRAM ARGS...
 *
 * Counting: every translated block gets an inline add of its instruction count, executed when
 * the block runs (QEMU's cheapest instrumentation, no callback per block). Blocks end at
 * branches, so the count is exact unless a block is left half-way (a fault inside it), which
 * our programs do not do. One counter for all vCPUs: meant for single-threaded runs
 * (`--threads 1`); with several guest threads the inline adds race and the total is only close.
 *
 * Marks record the counter's value each time a block starting at a chosen function's entry
 * runs; the deltas between marks are the instructions executed in between.
 * - mark=ADDR: a function's address in the program's ELF file; text=ADDR: the p_vaddr of the
 *   ELF's lowest executable PT_LOAD. qemu's start_code is that plus the load bias of a PIE (its
 *   entry_code is the dynamic loader's entry, no use here). Thumb addresses (bit 0 set) are
 *   taken as the even address they run at. scripts/bench-arm marks mono_now_ns, the clock
 *   `camclass bench` reads around each inference and each profiled step. Tag 0.
 * - lib=NAME,libmark=OFFSET: a function at OFFSET in a shared library whose path contains NAME
 *   (scripts/bench-arm: xnn_run_operator in libXNNPACK.so, called once per XNNPACK operator).
 *   The library's base is read from /proc/self/maps (qemu's own: the guest's mappings are
 *   qemu's) after each system call until it appears; that needs guest addresses to be host
 *   addresses (guest_base 0, as for a 64-bit guest here), which is checked against the
 *   program's own mapping — otherwise no library marks are made and the output says so. Tag 1.
 *
 * Output (FILE, written at exit): "mark K COUNT TAG" per mark in order, "lib-unmapped" when lib=
 * was given but never seen (or unusable), then "insns TOTAL".
 *
 * The few API functions used are declared here from QEMU's documented plugin API (version 1,
 * QEMU 7.2; Debian does not ship qemu-plugin.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- QEMU plugin API, version 1 (declarations only) --- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed through */
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_syscall_ret_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_idx,
						  int64_t num, int64_t ret);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_ret_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_start_code(void);
const char *qemu_plugin_path_to_binary(void); /* a copy the caller frees */
void qemu_plugin_outs(const char *string);

#define PLUGIN_API_VERSION 1
__attribute__((visibility("default"))) int qemu_plugin_version = PLUGIN_API_VERSION;
__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
								int argc, char **argv);

/* --- state --- */
#define MAX_MARKS (1u << 22) /* a profiled MobileNetV2 makes ~500; a runaway program stops here */
#define MAPS_LINE 4608

struct mark { uint64_t count; int tag; };
static int tag_program = 0, tag_lib = 1; /* on_mark's userdata */

static uint64_t insns;         /* instructions executed (inline adds) */
static struct mark *marks;     /* in order */
static size_t nmarks, marks_cap;
static bool marks_overflowed;
static char out_path[4096];
/* program mark */
static bool have_mark, bias_known;
static uint64_t mark_elf, text_elf; /* from the arguments: addresses in the ELF file */
static uint64_t mark_vaddr;    /* mark_elf where qemu loaded the program */
/* library mark */
static char lib_name[256];
static uint64_t libmark_offset;
static bool lib_wanted, lib_found, lib_unusable;
static uint64_t libmark_vaddr;

static void on_mark(unsigned int vcpu_index, void *userdata)
{
	(void)vcpu_index;
	if (nmarks == marks_cap) {
		size_t cap = marks_cap ? marks_cap * 2 : 1024;
		struct mark *m = cap <= MAX_MARKS ? realloc(marks, cap * sizeof(*m)) : NULL;
		if (!m) {
			marks_overflowed = true;
			return;
		}
		marks = m;
		marks_cap = cap;
	}
	marks[nmarks++] = (struct mark){ .count = insns, .tag = *(const int *)userdata };
}

/* Start of the mapping at file offset 0 of a file whose path contains `name` (or, with
 * `contains`, of any mapping of it that contains that address) in qemu's /proc/self/maps. */
static bool find_mapping(const char *name, bool by_address, uint64_t address, uint64_t *ret_start)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return false;
	char line[MAPS_LINE];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, offset;
		int path_at = 0;
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &offset, &path_at) < 3 || !path_at)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (!strstr(line + path_at, name))
			continue;
		if (by_address ? (address >= start && address < end) : offset == 0) {
			*ret_start = start;
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* After each system call until the library is found: the dynamic loader maps it with mmap. */
static void on_syscall_ret(qemu_plugin_id_t id, unsigned int vcpu_idx, int64_t num, int64_t ret)
{
	(void)id;
	(void)vcpu_idx;
	(void)num;
	(void)ret;
	uint64_t base;
	if (!lib_wanted || lib_found || lib_unusable || !find_mapping(lib_name, false, 0, &base))
		return;
	libmark_vaddr = base + libmark_offset;
	lib_found = true;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	const size_t n = qemu_plugin_tb_n_insns(tb);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, n);
	if (!bias_known) {
		/* start_code needs a running vCPU: known from the first block on, not at install. */
		const uint64_t start_code = qemu_plugin_start_code();
		mark_vaddr = (mark_elf & ~(uint64_t)1) + (start_code - text_elf);
		bias_known = true;
		/* Guest addresses are host addresses only if the program's code is where qemu's
		 * maps say the program file is. */
		const char *path = qemu_plugin_path_to_binary();
		const char *base = path ? strrchr(path, '/') : NULL;
		uint64_t unused;
		if (lib_wanted && (!path || !find_mapping(base ? base + 1 : path, true, start_code, &unused)))
			lib_unusable = true;
		free((void *)path);
	}
	const uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	if (have_mark && vaddr == mark_vaddr)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark, QEMU_PLUGIN_CB_NO_REGS, &tag_program);
	if (lib_found && vaddr == libmark_vaddr)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark, QEMU_PLUGIN_CB_NO_REGS, &tag_lib);
}

static void write_counts(qemu_plugin_id_t id, void *userdata)
{
	(void)id;
	(void)userdata;
	FILE *f = fopen(out_path, "w");
	if (!f) {
		qemu_plugin_outs("insn_count: cannot open the out= file\n");
		return;
	}
	for (size_t i = 0; i < nmarks; i++)
		fprintf(f, "mark %zu %" PRIu64 " %d\n", i, marks[i].count, marks[i].tag);
	if (marks_overflowed)
		fprintf(f, "marks-overflowed %u\n", MAX_MARKS);
	if (lib_wanted && (!lib_found || lib_unusable))
		fprintf(f, "lib-unmapped %s\n", lib_name);
	fprintf(f, "insns %" PRIu64 "\n", insns);
	if (fclose(f) != 0)
		qemu_plugin_outs("insn_count: writing the out= file failed\n");
	free(marks);
	marks = NULL;
}

/* "0x..." or decimal into *ret; false when it is not a whole number */
static bool parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	if (!*s)
		return false;
	unsigned long long v = strtoull(s, &end, 0);
	if (*end)
		return false;
	*ret = v;
	return true;
}

/* "KEY=VALUE" with KEY key and a VALUE shorter than len: copied into buf */
static bool take_string(const char *arg, const char *key, char *buf, size_t len)
{
	const size_t k = strlen(key);
	if (strncmp(arg, key, k) != 0 || arg[k] != '=' || !arg[k + 1] || strlen(arg + k + 1) >= len)
		return false;
	memcpy(buf, arg + k + 1, strlen(arg + k + 1) + 1);
	return true;
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	bool have_text = false, have_libmark = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (take_string(a, "out", out_path, sizeof(out_path))) {
		} else if (take_string(a, "lib", lib_name, sizeof(lib_name))) {
			lib_wanted = true;
		} else if (strncmp(a, "mark=", 5) == 0 && parse_u64(a + 5, &mark_elf)) {
			have_mark = true;
		} else if (strncmp(a, "text=", 5) == 0 && parse_u64(a + 5, &text_elf)) {
			have_text = true;
		} else if (strncmp(a, "libmark=", 8) == 0 && parse_u64(a + 8, &libmark_offset)) {
			have_libmark = true;
		} else {
			fprintf(stderr, "insn_count: bad argument '%s' (out=FILE, mark=ADDR, text=ADDR, "
				"lib=NAME, libmark=OFFSET)\n", a);
			return -1;
		}
	}
	if (!out_path[0] || have_mark != have_text || lib_wanted != have_libmark) {
		fprintf(stderr, "insn_count: needs out=FILE; text=ADDR with mark=ADDR; libmark= with lib=\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	if (lib_wanted)
		qemu_plugin_register_vcpu_syscall_ret_cb(id, on_syscall_ret);
	qemu_plugin_register_atexit_cb(id, write_counts, NULL);
	return 0;
}
