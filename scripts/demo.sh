#!/bin/sh
# Runs offcpu on the bundled demo workload: threads that sleep, wait for a
# mutex, a pipe, a socket and fsync, each timing its own waits.
set -e
cd "$(dirname "$0")/.."
export WAITERS_DIR=build
build/fixtures/waiters -d 12 all > build/demo-waiters.out &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
# dash runs no EXIT trap when a signal (a closed pipe, Ctrl-C) ends the script
trap 'exit 1' INT TERM HUP PIPE
sleep 0.5
echo "\$ offcpu -p $pid --by thread 4"
build/offcpu -p "$pid" --by thread 4
echo
echo "\$ offcpu -p $pid -n 3 4"
build/offcpu -p "$pid" -n 3 4
