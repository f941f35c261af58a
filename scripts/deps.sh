#!/bin/sh
# Installs what waitscope needs to build and test, from Debian's archive, if
# it is missing. Runs as root; says exactly what is missing otherwise.
set -e
PKGS="make gcc g++ clang llvm bpftool libbpf-dev libelf-dev libdw-dev libiberty-dev zlib1g-dev
liblzma-dev libbz2-dev
libcmocka-dev libc6-dbg man-db binutils elfutils xz-utils python3 python3-pytest python3-jsonschema libbpf-tools bpftrace stress-ng
postgresql pgbouncer openssl libpq-dev cppcheck chromium golang-go librust-parking-lot-dev librust-tokio-dev librust-tokio-postgres-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
# the Rust fixtures want cargo and rustc: rustup's if there are, else Debian's
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ] &&
	! dpkg-query -W -f='${Status}' cargo 2>/dev/null | grep -q 'install ok installed'; then
	missing="$missing rustc cargo"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
