# waitscope: BPF objects -> skeletons -> user library -> tools, tests, fixtures.
# `make V=1` shows the commands.

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
OUT := build
CLANG ?= clang
# rustup's, where it is, else Debian's (make deps installs it when there is none)
RUSTC ?= $(shell command -v rustc 2>/dev/null || echo $(HOME)/.cargo/bin/rustc)
CARGO ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)
CC ?= cc
BPFTOOL ?= bpftool
# Debian's python3 has python3-pytest; a python3 earlier in PATH (pyenv) may not
PYTEST ?= /usr/bin/python3 -m pytest

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PREFIX ?= /usr/local
DESTDIR ?=
VERSION := $(shell cat VERSION)

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I$(OUT) -Ibpf -Iuser
LDLIBS += -lbpf -ldw -lelf -liberty -lz -lpthread
# the static tools carry every library; libdw also reads xz- and bzip2-compressed sections
STATIC_LDLIBS := -static -lbpf -ldw -lelf -liberty -lz -llzma -lbz2 -lpthread
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf \
	-Wall -Werror -mcpu=v3

TOOLS := offcpu semlat poolwait
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(wildcard bpf/*.bpf.c))
SKELS := $(patsubst $(OUT)/%.bpf.o,$(OUT)/%.skel.h,$(BPF_OBJS))
LIB_SRCS := $(wildcard user/*.c)
LIB_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(LIB_SRCS))
LIB := $(OUT)/libwaitscope.a
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURES := $(patsubst tests/fixtures/%.c,$(OUT)/fixtures/%,$(FIXTURE_SRCS))
FIXTURES += $(patsubst tests/fixtures/%.cpp,$(OUT)/fixtures/%,$(wildcard tests/fixtures/*.cpp))
# as users' binaries are built: optimized, no frame pointers
RUST_FIXTURES := $(OUT)/fixtures/rlocks $(OUT)/fixtures/tokiosvc
FIXTURES += $(OUT)/fixtures/waiters-nofp $(OUT)/fixtures/waiters-nocfi $(RUST_FIXTURES)
# make bench: pingpong as users build, beside the frame-pointer one (--stack fp vs auto)
FIXTURES += $(OUT)/fixtures/pingpong-nofp
HDRS := $(wildcard user/*.h bpf/*.h) $(OUT)/syscall_names.h

# each tool's own code: tools/NAME/*.c, its front end in main.c
tool_objs = $(patsubst tools/%.c,$(OUT)/tools/%.o,$(wildcard tools/$(1)/*.c))
# a tool's unit tests (tests/unit/test_NAME_*.c) link the tool's code but its main.c
unit_tool = $(firstword $(foreach t,$(TOOLS),$(if $(filter test_$(t)_%,$(1)),$(t))))
unit_objs = $(foreach o,$(call tool_objs,$(call unit_tool,$(1))),$(if $(filter main.o,$(notdir $(o))),,$(o)))

.PHONY: all deps demo check unit integration bench vmlinux clean format lint static man \
	install uninstall FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: $(addprefix $(OUT)/,$(TOOLS)) $(FIXTURES)

deps:
	$(Q)scripts/deps.sh

$(OUT) $(OUT)/user $(OUT)/tests $(OUT)/fixtures $(OUT)/static $(OUT)/man \
		$(addprefix $(OUT)/tools/,$(TOOLS)):
	$(Q)mkdir -p $@

# syscall names of this architecture, from the C library's headers
$(OUT)/syscall_names.h: scripts/gen-syscalls.sh | $(OUT)
	$(call msg,GEN,$@)
	$(Q)CC="$(CC)" scripts/gen-syscalls.sh > $@

# rewritten only when the commit changes, so that a build after a commit relinks the tools
$(OUT)/version.h: FORCE | $(OUT)
	$(Q)scripts/gen-version.sh > $@.tmp && { cmp -s $@.tmp $@ || mv $@.tmp $@; }; rm -f $@.tmp

$(OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux/$(ARCH)/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUT)/user/%.o: user/%.c $(HDRS) | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(OUT)/tools/%.o: tools/%.c $(SKELS) $(HDRS) $(OUT)/version.h $(wildcard tools/*/*.h) \
		| $(addprefix $(OUT)/tools/,$(TOOLS))
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(dir $<) -c $< -o $@

# glibc warns that a static dlopen (libdw's optional debuginfod client) and getaddrinfo
# (poolwait's DSN host names) need its own libraries at run time: the tools never ask for
# debuginfod, and a static poolwait wants addresses, not names (see the manuals' STATIC BUILD)
define tool_rule
$(OUT)/$(1): $(call tool_objs,$(1)) $(LIB)
	$$(call msg,LINK,$$@)
	$(Q)$$(CC) $$(CFLAGS) $$^ $$(LDLIBS) -o $$@

$(OUT)/static/$(1): $(call tool_objs,$(1)) $(LIB) | $(OUT)/static
	$$(call msg,STATIC,$$@)
	$(Q)$$(CC) $$(CFLAGS) -s $$^ $$(STATIC_LDLIBS) -o $$@ 2> $$@.log || { cat $$@.log; exit 1; }
	$(Q)grep -v -e '__libdwfl_debuginfod_init' -e "Using 'dlopen'" -e 'resolve_name' \
		-e "Using 'getaddrinfo'" $$@.log || true; rm -f $$@.log

$(OUT)/man/$(1).8: docs/$(1).md scripts/md2man.py VERSION | $(OUT)/man
	$$(call msg,MAN,$$@)
	$(Q)scripts/md2man.py $$< $(VERSION) > $$@
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

.SECONDEXPANSION:
$(OUT)/tests/%: tests/unit/%.c $$(call unit_objs,$$*) \
		$(LIB) $(HDRS) $(wildcard tests/unit/*.h tools/*/*.h) | $(OUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(if $(call unit_tool,$*),-Itools/$(call unit_tool,$*)) $< \
		$(filter %.o,$^) $(LIB) $(LDLIBS) -lcmocka -o $@

# Rust std's, parking_lot's and tokio's locks, `cargo build --release` (no frame pointers, no
# debug info), offline from Debian's crates (tests/fixtures/rlocks/.cargo/config.toml)
$(RUST_FIXTURES) &: tests/fixtures/rlocks/Cargo.toml tests/fixtures/rlocks/Cargo.lock \
		$(wildcard tests/fixtures/rlocks/src/*.rs tests/fixtures/rlocks/src/bin/*.rs) \
		| $(OUT)/fixtures
	$(call msg,CARGO,$(RUST_FIXTURES))
	$(Q)cd tests/fixtures/rlocks && MAKEFLAGS= RUSTC=$(RUSTC) $(CARGO) build -q --release \
		--frozen --target-dir $(abspath $(OUT))/cargo
	$(Q)cp $(OUT)/cargo/release/rlocks $(OUT)/cargo/release/tokiosvc $(OUT)/fixtures/

# a service on libpq, for semlat --symbol and poolwait
$(OUT)/fixtures/dispatch: tests/fixtures/dispatch.c $(wildcard tests/fixtures/*.h) | $(OUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I/usr/include/postgresql $< -lpq -lpthread -o $@

# one libpq connection idle inside and outside transactions, for poolwait
$(OUT)/fixtures/pgtx: tests/fixtures/pgtx.c $(wildcard tests/fixtures/*.h) | $(OUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I/usr/include/postgresql $< -lpq -lpthread -o $@

# release code with DWARF: the blocking calls lie in functions inlined into their callers
$(OUT)/fixtures/inlined: tests/fixtures/inlined.c $(wildcard tests/fixtures/*.h) | $(OUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -std=gnu11 -O2 -g -fomit-frame-pointer -Wall -Wextra -Werror $< -lpthread -o $@

# fixtures keep frame pointers so that stacks reach their named functions
$(OUT)/fixtures/%-nofp: tests/fixtures/%.c $(wildcard tests/fixtures/*.h) | $(OUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -std=gnu11 -O2 -g -fomit-frame-pointer -Wall -Wextra -Werror $< -lpthread -o $@

# frame pointers and no unwind tables at all: what the unwinder must fall back from
$(OUT)/fixtures/%-nocfi: tests/fixtures/%.c $(wildcard tests/fixtures/*.h) | $(OUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -std=gnu11 -O1 -g -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
		-Wall -Wextra -Werror $< -lpthread -o $@.tmp
	$(Q)objcopy --remove-section .eh_frame --remove-section .eh_frame_hdr \
		--remove-section .debug_frame $@.tmp $@ && rm -f $@.tmp

$(OUT)/fixtures/%: tests/fixtures/%.c $(wildcard tests/fixtures/*.h) | $(OUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -std=gnu11 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror $< -lpthread -o $@

# C++ fixtures are built as users' C++ services are: optimized, no frame pointers, over
# Debian's libstdc++ (which has none either)
$(OUT)/fixtures/%: tests/fixtures/%.cpp $(wildcard tests/fixtures/*.h) | $(OUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CXX) -std=c++17 -O2 -g -fomit-frame-pointer -Wall -Wextra -Werror $< -lpthread -o $@

static: $(addprefix $(OUT)/static/,$(TOOLS))

man: $(patsubst %,$(OUT)/man/%.8,$(TOOLS))

# what lands on a host: the self-contained tools, their manuals and JSON schemas
install: static man
	$(Q)install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/waitscope
	$(Q)set -e; for t in $(TOOLS); do \
		install -m 0755 $(OUT)/static/$$t $(DESTDIR)$(PREFIX)/sbin/$$t; \
		install -m 0644 $(OUT)/man/$$t.8 $(DESTDIR)$(PREFIX)/share/man/man8/$$t.8; \
		install -m 0644 docs/$$t.schema.json $(DESTDIR)$(PREFIX)/share/waitscope/; \
	done

uninstall:
	$(Q)for t in $(TOOLS); do \
		rm -f $(DESTDIR)$(PREFIX)/sbin/$$t $(DESTDIR)$(PREFIX)/share/man/man8/$$t.8 \
			$(DESTDIR)$(PREFIX)/share/waitscope/$$t.schema.json; \
	done
	$(Q)rmdir $(DESTDIR)$(PREFIX)/share/waitscope 2>/dev/null || true

vmlinux:
	$(call msg,GEN,vmlinux/$(ARCH)/vmlinux.h)
	$(Q)mkdir -p vmlinux/$(ARCH)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h

demo: deps all
	$(Q)scripts/demo.sh

unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# the database tools' tests need the private PostgreSQL; it stops whatever the outcome
integration: all
	$(Q)scripts/postgres.sh start
	$(Q)$(PYTEST) -q tests/integration; rc=$$?; scripts/postgres.sh stop; exit $$rc

check: deps
	$(Q)$(MAKE) --no-print-directory all static man unit
	$(Q)$(MAKE) --no-print-directory integration

bench: deps all
	$(Q)OUT=$(OUT) scripts/bench.sh

format:
	$(Q)clang-format -i $(wildcard bpf/*.c bpf/*.h user/*.c user/*.h tools/*/*.[ch] \
		tests/unit/*.[ch] tests/fixtures/*.[ch] tests/fixtures/*.cpp)

lint:
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem --library=cppcheck.cfg -I user -I bpf -I $(OUT) \
		$(addprefix -I tools/,$(TOOLS)) user tools tests/unit tests/fixtures

clean:
	$(Q)rm -rf $(OUT)
