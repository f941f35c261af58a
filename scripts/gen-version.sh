#!/bin/sh
# The version and the commit the tools are built from, as a C header.
# Outside a git clone (a tarball) the commit is "unknown".
version=$(cat VERSION)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
if [ "$commit" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null; then
	commit="$commit-dirty"
fi
printf '#define WAITSCOPE_VERSION "%s"\n#define WAITSCOPE_COMMIT "%s"\n' "$version" "$commit"
