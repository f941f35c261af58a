// SPDX-License-Identifier: GPL-2.0
/*
 * Symbolizer tests against real binaries: each test compiles a small program into a temporary
 * directory (gcc, g++, rustc, objcopy, strip, xz), runs it, reads the addresses it prints,
 * and asks the symbolizer for their names while the program waits on stdin.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syms.h"

#define MAX_ADDRS 4
#define C_ADDRS	  4 /* lines prog.c prints first */

static char tmpdir[] = "/tmp/test_syms.XXXXXX";

/*
 * Prints target_fn, local_fn, a return address inside target_fn (its call of report()) and the
 * vdso's address; then prints the address of ws_fn for each 'd' that it reads and dlopens.
 */
static const char prog_c[] =
	"#include <dlfcn.h>\n"
	"#include <stdio.h>\n"
	"#include <sys/auxv.h>\n"
	"#include <unistd.h>\n"
	"\n"
	"__attribute__((noinline)) int report(int x)\n"
	"{\n"
	"	printf(\"%p\\n\", __builtin_return_address(0));\n"
	"	return x;\n"
	"}\n"
	"\n"
	"__attribute__((noinline)) int target_fn(int x)\n"
	"{\n"
	"	return report(x) + 1; /* CALL_LINE */\n"
	"}\n"
	"\n"
	"static __attribute__((noinline)) int local_fn(int x)\n"
	"{\n"
	"	return x * 2;\n"
	"}\n"
	"\n"
	"int main(void)\n"
	"{\n"
	"	char c;\n"
	"\n"
	"	printf(\"%p\\n%p\\n\", (void *)&target_fn, (void *)&local_fn);\n"
	"	target_fn(local_fn(1));\n"
	"	printf(\"%#lx\\n\", getauxval(AT_SYSINFO_EHDR));\n"
	"	fflush(stdout);\n"
	"	while (read(0, &c, 1) > 0) {\n"
	"		void *h = c == 'd' ? dlopen(\"./libws.so\", RTLD_NOW) : NULL;\n"
	"\n"
	"		printf(\"%p\\n\", h ? dlsym(h, \"ws_fn\") : NULL);\n"
	"		fflush(stdout);\n"
	"	}\n"
	"	return 0;\n"
	"}\n";

/* ws_fn@@WS_1.0 is what .symtab calls the default version: the symbolizer drops "@@WS_1.0" */
static const char lib_c[] = "__attribute__((noinline)) int ws_new_fn(int x)\n"
			    "{\n"
			    "	return x * 5;\n"
			    "}\n"
			    "__asm__(\".symver ws_new_fn, ws_fn@@WS_1.0\");\n";

static const char lib_map[] = "WS_1.0 { global: ws_fn; local: *; };\n";

static const char prog_cc[] = "#include <cstdio>\n"
			      "#include <unistd.h>\n"
			      "\n"
			      "namespace ns {\n"
			      "struct Widget {\n"
			      "	static int poke(int x);\n"
			      "};\n"
			      "__attribute__((noinline)) int Widget::poke(int x)\n"
			      "{\n"
			      "	return x + 1;\n"
			      "}\n"
			      "template <typename T> __attribute__((noinline)) T twice(T x)\n"
			      "{\n"
			      "	return x + x;\n"
			      "}\n"
			      "template int twice<int>(int);\n"
			      "} // namespace ns\n"
			      "\n"
			      "int main()\n"
			      "{\n"
			      "	char c;\n"
			      "\n"
			      "	std::printf(\"%p\\n%p\\n\", (void *)&ns::Widget::poke,\n"
			      "		    (void *)&ns::twice<int>);\n"
			      "	std::fflush(stdout);\n"
			      "	while (read(0, &c, 1) > 0)\n"
			      "		;\n"
			      "	return ns::Widget::poke(0) + ns::twice(1) - 3;\n"
			      "}\n";

static const char prog_rs[] = "use std::io::Read;\n"
			      "\n"
			      "#[inline(never)]\n"
			      "fn target_fn(x: u64) -> u64 {\n"
			      "    x.wrapping_mul(31) ^ 7\n"
			      "}\n"
			      "\n"
			      "fn main() {\n"
			      "    println!(\"{:p}\", target_fn as *const ());\n"
			      "    let v = target_fn(std::env::args().count() as u64);\n"
			      "    let mut buf = [0u8; 16];\n"
			      "    while let Ok(n) = std::io::stdin().read(&mut buf) {\n"
			      "        if n == 0 {\n"
			      "            break;\n"
			      "        }\n"
			      "    }\n"
			      "    if v == 42 {\n"
			      "        println!(\"unlikely\");\n"
			      "    }\n"
			      "}\n";

/*
 * outer calls middle and middle calls inner, both inlined; inner's call of report() is printed.
 * As C++ the functions are in a namespace: LLVM puts their DWARF inside it.
 */
static const char inl_c[] = "#include <stdio.h>\n"
			    "#include <unistd.h>\n"
			    "\n"
			    "#ifdef __cplusplus\n"
			    "namespace ns {\n"
			    "#endif\n"
			    "__attribute__((noinline)) int report(int x)\n"
			    "{\n"
			    "	printf(\"%p\\n\", __builtin_return_address(0));\n"
			    "	fflush(stdout);\n"
			    "	return x;\n"
			    "}\n"
			    "\n"
			    "static inline __attribute__((always_inline)) int inner(int x)\n"
			    "{\n"
			    "	return report(x) + 1; /* INNER_LINE */\n"
			    "}\n"
			    "\n"
			    "static inline __attribute__((always_inline)) int middle(int x)\n"
			    "{\n"
			    "	return inner(x) * 3; /* MIDDLE_LINE */\n"
			    "}\n"
			    "\n"
			    "__attribute__((noinline)) int outer(int x)\n"
			    "{\n"
			    "	return middle(x) - 2; /* OUTER_LINE */\n"
			    "}\n"
			    "#ifdef __cplusplus\n"
			    "}\n"
			    "using ns::outer;\n"
			    "#endif\n"
			    "\n"
			    "int main(int argc, char **argv)\n"
			    "{\n"
			    "	char c;\n"
			    "\n"
			    "	(void)argv;\n"
			    "	outer(argc);\n"
			    "	while (read(0, &c, 1) > 0)\n"
			    "		;\n"
			    "	return 0;\n"
			    "}\n";

/* ---- helpers ---- */

struct child {
	pid_t pid;
	int in;
	FILE *out;
	uint64_t addr[MAX_ADDRS];
};

/* children live here so that the teardown can reap those an assertion left behind */
static struct child pool[8];

static struct child *child_alloc(void)
{
	for (size_t i = 0; i < sizeof(pool) / sizeof(pool[0]); i++)
		if (!pool[i].pid) {
			memset(&pool[i], 0, sizeof(pool[i]));
			return &pool[i];
		}
	fail_msg("too many children");
	return NULL;
}

/* Runs a shell command in tmpdir; it must succeed. */
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n, rc;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", tmpdir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		print_message("command failed (%d): %s\n", rc, cmd);
	assert_int_equal(rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc), 0);
}

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static uint64_t read_addr(struct child *c)
{
	char line[128];
	uint64_t addr;

	assert_non_null(fgets(line, sizeof(line), c->out));
	addr = strtoull(line, NULL, 16);
	assert_true(addr != 0);
	return addr;
}

/* Runs tmpdir/prog with pipes on stdin and stdout and reads the n addresses it prints first. */
static struct child *spawn(const char *prog, int n)
{
	struct child *c = child_alloc();
	int in[2], out[2];

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		if (chdir(tmpdir) == 0)
			execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	c->out = fdopen(out[0], "r");
	assert_non_null(c->out);
	for (int i = 0; i < n; i++)
		c->addr[i] = read_addr(c);
	return c;
}

static void reap(struct child *c)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	close(c->in);
	fclose(c->out);
	c->pid = 0;
}

/* Spawns prog (as spawn does) and snapshots it in s. */
static struct child *spawn_snapshot(struct syms *s, const char *prog, int n)
{
	struct child *c = spawn(prog, n);

	assert_int_equal(syms_snapshot(s, c->pid, 0), 0);
	return c;
}

static bool has_section(const char *bin, const char *section)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "readelf -SW '%s/%s' | grep -q ' %s '", tmpdir, bin, section);
	return system(cmd) == 0;
}

/* 1-based line of marker in text */
static int line_of(const char *text, const char *marker)
{
	const char *at = strstr(text, marker);
	int line = 1;

	assert_non_null(at);
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	return line;
}

/* Start of the file's mapping at offset 0: the load bias of a PIE whose first segment is at 0. */
static uint64_t map_base(pid_t pid, const char *file)
{
	char path[64], line[1024];
	unsigned long long lo = 0, off;
	uint64_t base = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (!base && fgets(line, sizeof(line), f)) {
		const char *name = strrchr(line, '/');

		if (name && !strncmp(name + 1, file, strlen(file)) &&
		    name[1 + strlen(file)] == '\n' &&
		    sscanf(line, "%llx-%*x %*s %llx", &lo, &off) == 2 && off == 0)
			base = lo;
	}
	fclose(f);
	assert_true(base != 0);
	return base;
}

static void wait_zombie(pid_t pid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(path, "r");
		const char *state = NULL;

		assert_non_null(f);
		if (fgets(buf, sizeof(buf), f) && strrchr(buf, ')'))
			state = strrchr(buf, ')') + 2;
		fclose(f);
		if (state && *state == 'Z')
			return;
		usleep(1000);
	}
	fail_msg("pid %d did not become a zombie", (int)pid);
}

static const char *find_rustc(void)
{
	static char path[512];
	FILE *p = popen("command -v rustc 2>/dev/null", "r");

	path[0] = '\0';
	if (p) {
		if (!fgets(path, sizeof(path), p))
			path[0] = '\0';
		pclose(p);
	}
	path[strcspn(path, "\n")] = '\0';
	if (path[0])
		return path;
	return access("/root/.cargo/bin/rustc", X_OK) == 0 ? "/root/.cargo/bin/rustc" : NULL;
}

static struct syms *new_syms(const char *debuginfo_path, bool lines, bool no_demangle)
{
	struct syms_opts o = {
		.debuginfo_path = debuginfo_path, .lines = lines, .no_demangle = no_demangle};
	struct syms *s = syms_new(&o);

	assert_non_null(s);
	return s;
}

/* Spawns prog, snapshots it, and checks the names of target_fn and local_fn. */
static void check_c_prog(const char *prog, const char *debuginfo_path)
{
	struct child *c;
	struct syms *s = new_syms(debuginfo_path, false, false);

	c = spawn_snapshot(s, prog, C_ADDRS);
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[0] + 1), "target_fn");
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[1] + 1), "local_fn");
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[2]), "target_fn");
	reap(c);
	syms_free(s);
}

/* ---- tests ---- */

static void test_debug_symbols_and_lines(void **state)
{
	char want[64];
	struct child *c;
	struct syms *s = new_syms(NULL, true, false);
	const char *name;

	(void)state;
	sh("gcc -O0 -g -o prog_g prog.c -ldl");
	check_c_prog("./prog_g", NULL);

	c = spawn_snapshot(s, "./prog_g", C_ADDRS);
	assert_true(syms_has_snapshot(s, c->pid, 0));
	/* the return address follows the call: addr - 1 is still the call's line */
	snprintf(want, sizeof(want), "target_fn (prog.c:%d)", line_of(prog_c, "CALL_LINE"));
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[2]), want);
	name = syms_user(s, c->pid, 0, c->addr[1] + 1);
	assert_true(!strncmp(name, "local_fn (prog.c:", 17));
	/* cached: the same interned pointer comes back */
	assert_ptr_equal(syms_user(s, c->pid, 0, c->addr[1] + 1), name);
	reap(c);
	syms_free(s);
}

static void test_dynsym_only(void **state)
{
	struct child *c;
	struct syms *s = new_syms(NULL, false, false);

	(void)state;
	sh("gcc -O0 -rdynamic -o prog_dyn prog.c -ldl && strip --strip-all prog_dyn");
	assert_false(has_section("prog_dyn", ".symtab"));
	c = spawn_snapshot(s, "./prog_dyn", C_ADDRS);
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[0] + 1), "target_fn");
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[2]), "target_fn");
	reap(c);
	syms_free(s);
}

static void test_build_id_debuginfo(void **state)
{
	struct child *c;
	struct syms *plain = new_syms(NULL, false, false);
	const char *name;

	(void)state;
	sh("gcc -O0 -g -Wl,--build-id -o prog_bid prog.c -ldl"
	   " && objcopy --only-keep-debug prog_bid prog_bid.debug"
	   " && strip --strip-all prog_bid"
	   " && id=$(readelf -n prog_bid | sed -n 's/.*Build ID: *//p')"
	   " && d=.build-id/$(echo $id | cut -c1-2) && mkdir -p $d"
	   " && mv prog_bid.debug $d/$(echo $id | cut -c3-).debug");
	assert_false(has_section("prog_bid", ".symtab"));
	assert_false(has_section("prog_bid", ".gnu_debuglink"));
	check_c_prog("./prog_bid", tmpdir);

	/* without the path the same binary has no names: the debug file made the difference */
	c = spawn_snapshot(plain, "./prog_bid", C_ADDRS);
	name = syms_user(plain, c->pid, 0, c->addr[1] + 1);
	assert_true(!strncmp(name, "prog_bid+0x", 11));
	reap(c);
	syms_free(plain);
}

static void test_minidebuginfo(void **state)
{
	(void)state;
	/* Fedora's find-debuginfo recipe: function symbols not in .dynsym, xz'ed */
	sh("gcc -O0 -o prog_mini prog.c -ldl"
	   " && nm -D prog_mini --format=posix --defined-only"
	   " | awk '{print $1}' | sort > dynsyms"
	   " && nm prog_mini --format=posix --defined-only"
	   " | awk '$2 == \"T\" || $2 == \"t\" || $2 == \"D\" {print $1}' | sort > funcsyms"
	   " && comm -13 dynsyms funcsyms > keep_symbols"
	   " && objcopy --only-keep-debug prog_mini mini.debug"
	   " && objcopy -S --remove-section .gdb_index --remove-section .comment"
	   " --keep-symbols=keep_symbols mini.debug mini_debuginfo"
	   " && strip --strip-all -R .comment prog_mini && xz -f mini_debuginfo"
	   " && objcopy --add-section .gnu_debugdata=mini_debuginfo.xz prog_mini");
	assert_false(has_section("prog_mini", ".symtab"));
	assert_true(has_section("prog_mini", ".gnu_debugdata"));
	check_c_prog("./prog_mini", NULL);
}

static void test_cplusplus(void **state)
{
	struct child *c;
	struct syms *s = new_syms(NULL, false, false);
	struct syms *raw = new_syms(NULL, false, true);

	(void)state;
	write_file("prog.cc", prog_cc);
	sh("g++ -O0 -g -o prog_cc prog.cc");
	c = spawn_snapshot(s, "./prog_cc", 2);
	assert_int_equal(syms_snapshot(raw, c->pid, 0), 0);
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[0] + 1), "ns::Widget::poke(int)");
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[1] + 1), "int ns::twice<int>(int)");
	assert_string_equal(syms_user(raw, c->pid, 0, c->addr[0] + 1), "_ZN2ns6Widget4pokeEi");
	reap(c);
	syms_free(raw);
	syms_free(s);
}

static void check_rust(const char *flags, const char *bin, const char *raw_prefix)
{
	const char *rustc = find_rustc();
	struct child *c;
	struct syms *s, *raw;

	if (!rustc) {
		print_message("rustc not found (PATH, /root/.cargo/bin): skipping the Rust case\n");
		skip();
	}
	write_file("prog.rs", prog_rs);
	sh("'%s' -C force-frame-pointers=yes -g %s --crate-name wsrust -o %s prog.rs", rustc, flags,
	   bin);
	s = new_syms(NULL, false, false);
	raw = new_syms(NULL, false, true);
	c = spawn_snapshot(s, bin, 1);
	assert_int_equal(syms_snapshot(raw, c->pid, 0), 0);
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[0] + 1), "wsrust::target_fn");
	/* proves which mangling the binary really used */
	assert_true(!strncmp(syms_user(raw, c->pid, 0, c->addr[0] + 1), raw_prefix,
			     strlen(raw_prefix)));
	reap(c);
	syms_free(raw);
	syms_free(s);
}

static void test_rust_legacy(void **state)
{
	(void)state;
	/* rustc's default; "-C symbol-mangling-version=legacy" would need -Z unstable-options */
	check_rust("", "./prog_rs_legacy", "_ZN6wsrust9target_fn17h");
}

static void test_rust_v0(void **state)
{
	(void)state;
	check_rust("-C symbol-mangling-version=v0", "./prog_rs_v0", "_RNv");
}

static void test_exited_process(void **state)
{
	struct child *c;
	struct syms *s = new_syms(NULL, false, false);
	struct syms *late = new_syms(NULL, false, false);
	struct syms_stats st;
	pid_t pid;

	(void)state;
	sh("gcc -O0 -o prog_exit prog.c -ldl");
	c = spawn_snapshot(s, "./prog_exit", C_ADDRS);
	pid = c->pid;
	/* a zombie still has /proc/PID but empty maps: they must not replace the snapshot */
	assert_int_equal(kill(pid, SIGKILL), 0);
	wait_zombie(pid);
	assert_int_equal(syms_snapshot(s, pid, 0), -ESRCH);
	reap(c);
	assert_int_equal(kill(pid, 0), -1);

	assert_string_equal(syms_user(s, pid, 0, c->addr[0] + 1), "target_fn");
	assert_string_equal(syms_user(s, pid, 0, c->addr[1] + 1), "local_fn");
	assert_int_equal(syms_snapshot(s, pid, 0), -ENOENT);
	assert_true(syms_has_snapshot(s, pid, 0)); /* a failed re-snapshot keeps the old one */
	/* a symbolizer that never saw it alive has nothing to go by */
	assert_string_equal(syms_user(late, pid, 0, c->addr[0] + 1), "[unknown]");
	assert_false(syms_has_snapshot(late, pid, 0));
	syms_get_stats(late, &st);
	assert_int_equal(st.no_maps, 1);
	syms_free(late);
	syms_free(s);
}

static void test_deleted_binary(void **state)
{
	struct child *c;
	struct syms *s = new_syms(NULL, false, false);

	(void)state;
	sh("gcc -O0 -o prog_del prog.c -ldl");
	c = spawn("./prog_del", C_ADDRS);
	/* maps now say "prog_del (deleted)": only /proc/PID/map_files still reaches the file */
	sh("rm prog_del");
	assert_int_equal(syms_snapshot(s, c->pid, 0), 0);
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[1] + 1), "local_fn");
	reap(c);
	syms_free(s);
}

static void test_demangle(void **state)
{
	static const struct {
		const char *mangled, *want;
	} cases[] = {
		{"_ZN2ns6Widget4pokeEi", "ns::Widget::poke(int)"},
		{"_ZN2ns5twiceIiEET_S1_", "int ns::twice<int>(int)"},
		{"_ZN7mycrate3foo17h8b9f7d3a2c1e4f56E", "mycrate::foo"},
		/* a hash libiberty does not believe (too few distinct digits) still goes */
		{"_ZN7mycrate3foo17h0000000000000000E", "mycrate::foo"},
		{"_RNvCs1234_7mycrate3foo", "mycrate::foo"},
		{"_RNvMNtCs1234_7mycrate3barNtB2_3Baz3new", "<mycrate::bar::Baz>::new"},
	};
	char *d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = syms_demangle(cases[i].mangled);
		assert_non_null(d);
		assert_string_equal(d, cases[i].want);
		free(d);
	}
	assert_null(syms_demangle("main"));
	assert_null(syms_demangle("_Zfoo"));
	assert_null(syms_demangle(""));
}

static uint64_t kallsyms_addr(const char *want)
{
	char line[512], name[256], type;
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "r");
	uint64_t found = 0;

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 && !strcmp(name, want) &&
		    (type == 'T' || type == 't'))
			found = addr;
	fclose(f);
	return found;
}

static void test_kernel(void **state)
{
	uint64_t addr = kallsyms_addr("schedule");
	struct syms *s;

	(void)state;
	if (!addr) {
		print_message("/proc/kallsyms hides addresses (not root?): skipping\n");
		skip();
	}
	s = new_syms(NULL, false, false);
	assert_string_equal(syms_kernel(s, addr + 1), "schedule");
	assert_string_equal(syms_kernel(s, addr + 8), "schedule");
	assert_string_equal(syms_kernel(s, 0x1000), "[unknown]");
	assert_string_equal(syms_kernel(s, 0), "[unknown]");
	syms_free(s);
}

static void test_unknown_and_module_offset(void **state)
{
	char want[128];
	struct child *c;
	struct syms *s = new_syms(NULL, false, false);
	struct syms_stats st;
	uint64_t base;

	(void)state;
	sh("gcc -O0 -o prog_strip prog.c -ldl && strip --strip-all prog_strip");
	c = spawn_snapshot(s, "./prog_strip", C_ADDRS);
	base = map_base(c->pid, "prog_strip");
	snprintf(want, sizeof(want), "prog_strip+0x%" PRIx64, c->addr[1] + 1 - base);
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[1] + 1), want);
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[3] + 1), "[vdso]");
	/* below mmap_min_addr nothing is ever mapped */
	assert_string_equal(syms_user(s, c->pid, 0, 0x1000), "[unknown]");
	assert_string_equal(syms_user(s, c->pid, 0, 0), "[unknown]");
	/* beyond pid_max: no process, no maps */
	assert_string_equal(syms_user(s, 0x3fffffff, 0, 0x401000), "[unknown]");
	syms_get_stats(s, &st);
	assert_int_equal(st.frames, 5);
	assert_int_equal(st.unknown, 5);
	assert_int_equal(st.no_maps, 1);
	reap(c);
	syms_free(s);
}

static void test_dlopen_resnapshot(void **state)
{
	struct child *c;
	struct syms *s = new_syms(NULL, false, false);
	struct syms_stats st;
	uint64_t lib_fn;

	(void)state;
	write_file("lib.c", lib_c);
	write_file("lib.map", lib_map);
	sh("gcc -O0 -g -o prog_dl prog.c -ldl && gcc -O0 -g -shared -fPIC"
	   " -Wl,--version-script=lib.map -o libws.so lib.c");
	c = spawn_snapshot(s, "./prog_dl", C_ADDRS);
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[0] + 1), "target_fn");
	assert_int_equal(write(c->in, "d", 1), 1);
	lib_fn = read_addr(c);
	/* not in the snapshot yet, and the symbolizer must not take a new one by itself */
	assert_string_equal(syms_user(s, c->pid, 0, lib_fn + 1), "[unknown]");
	assert_int_equal(syms_snapshot(s, c->pid, 0), 0);
	assert_string_equal(syms_user(s, c->pid, 0, lib_fn + 1), "ws_fn");
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[0] + 1), "target_fn");
	syms_get_stats(s, &st);
	assert_int_equal(st.frames, 4);
	assert_int_equal(st.unknown, 1);
	reap(c);
	syms_free(s);
}

/* Names of the frames at addr: as many as syms_user_frames() writes into max, checked. */
static void assert_frames(struct syms *s, pid_t pid, uint64_t addr, int max,
			  const char *const *want, int nwant)
{
	const char *got[8];
	int n = syms_user_frames(s, pid, 0, addr, got, max);

	assert_int_equal(n, nwant);
	for (int i = 0; i < n; i++)
		assert_string_equal(got[i], want[i]);
}

/* "FUNC (FILE:LINE)" of each of outer, middle and inner, FUNC as in names[], into lines[]. */
static void inl_lines(const char *file, const char *const *names, char (*lines)[64],
		      const char **out)
{
	static const char *const markers[] = {"OUTER_LINE", "MIDDLE_LINE", "INNER_LINE"};

	for (int i = 0; i < 3; i++) {
		snprintf(lines[i], sizeof(lines[i]), "%s (%s:%d)", names[i], file,
			 line_of(inl_c, markers[i]));
		out[i] = lines[i];
	}
}

static void test_inlined_frames(void **state)
{
	char lines[3][64];
	const char *plain[] = {"outer", "middle", "inner"}, *with_lines[3], *got[4];
	struct syms *s = new_syms(NULL, false, false), *sl = new_syms(NULL, true, false);
	struct child *c;
	uint64_t ips[2];

	(void)state;
	write_file("inl.c", inl_c);
	sh("gcc -O2 -g -fomit-frame-pointer -o prog_inl inl.c && strip -g -o prog_inl_bare "
	   "prog_inl");
	c = spawn_snapshot(s, "./prog_inl", 1);
	assert_int_equal(syms_snapshot(sl, c->pid, 0), 0);
	assert_frames(s, c->pid, c->addr[0], 8, plain, 3);
	/* the physical function comes first, then the inlined ones while there is room */
	assert_string_equal(syms_user(s, c->pid, 0, c->addr[0]), "outer");
	assert_frames(s, c->pid, c->addr[0], 2, plain, 2);
	/* each frame's line is in its own function: where it calls the next one */
	inl_lines("inl.c", plain, lines, with_lines);
	assert_frames(sl, c->pid, c->addr[0], 8, with_lines, 3);
	assert_frames(sl, c->pid, c->addr[0], 2, with_lines, 2);
	assert_string_equal(syms_user(sl, c->pid, 0, c->addr[0]), lines[0]);

	/* a stack: every address keeps its function, inlined frames take the room left */
	ips[0] = ips[1] = c->addr[0];
	assert_int_equal(syms_user_stack(s, c->pid, 0, ips, 2, got, 4), 4);
	assert_string_equal(got[2], "inner");
	assert_string_equal(got[3], "outer");
	assert_int_equal(syms_user_stack(s, c->pid, 0, ips, 2, got, 2), 2);
	assert_string_equal(got[1], "outer");
	assert_int_equal(syms_user_stack(s, c->pid, 0, ips, 2, got, 1), 1);
	reap(c);

	/* the same code without DWARF: the symbol table's function alone */
	c = spawn_snapshot(s, "./prog_inl_bare", 1);
	assert_frames(s, c->pid, c->addr[0], 8, plain, 1);
	reap(c);
	syms_free(sl);
	syms_free(s);
}

static void test_inlined_frames_llvm(void **state)
{
	char lines[3][64];
	const char *names[] = {"ns::outer(int)", "ns::middle(int)", "ns::inner(int)"}, *want[3];
	struct syms *s = new_syms(NULL, true, false);
	struct child *c;

	(void)state;
	if (system("command -v clang++ > /dev/null")) {
		print_message("clang++ not found: skipping\n");
		skip();
	}
	write_file("inl.cc", inl_c);
	/* elfutils 0.188 finds no CU without .debug_aranges, which clang leaves out unless asked */
	sh("clang++ -O2 -g -gdwarf-aranges -o prog_inl_cc inl.cc");
	c = spawn_snapshot(s, "./prog_inl_cc", 1);
	inl_lines("inl.cc", names, lines, want);
	assert_frames(s, c->pid, c->addr[0], 8, want, 3);
	reap(c);
	syms_free(s);
}

/* ---- fixture ---- */

static int group_setup(void **state)
{
	(void)state;
	/* a debuginfod server would be asked for every module without local debug info */
	unsetenv("DEBUGINFOD_URLS");
	if (!mkdtemp(tmpdir))
		return -1;
	write_file("prog.c", prog_c);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	for (size_t i = 0; i < sizeof(pool) / sizeof(pool[0]); i++)
		reap(&pool[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debug_symbols_and_lines),
		cmocka_unit_test(test_dynsym_only),
		cmocka_unit_test(test_build_id_debuginfo),
		cmocka_unit_test(test_minidebuginfo),
		cmocka_unit_test(test_cplusplus),
		cmocka_unit_test(test_rust_legacy),
		cmocka_unit_test(test_rust_v0),
		cmocka_unit_test(test_exited_process),
		cmocka_unit_test(test_deleted_binary),
		cmocka_unit_test(test_demangle),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_unknown_and_module_offset),
		cmocka_unit_test(test_dlopen_resnapshot),
		cmocka_unit_test(test_inlined_frames),
		cmocka_unit_test(test_inlined_frames_llvm),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
