// SPDX-License-Identifier: GPL-2.0
/* bpf_floor OBJ SECONDS: load OBJ, attach every program in it, hold them SECONDS. */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;

	if (argc != 3) {
		fprintf(stderr, "usage: bpf_floor OBJ SECONDS\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (libbpf_get_error(obj) || bpf_object__load(obj)) {
		fprintf(stderr, "bpf_floor: cannot load %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (libbpf_get_error(bpf_program__attach(prog))) {
			fprintf(stderr, "bpf_floor: cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
	}
	sleep((unsigned int)atoi(argv[2]));
	bpf_object__close(obj);
	return 0;
}
