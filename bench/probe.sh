#!/bin/sh
# bench/probe.sh [ROUNDS] [OPTIONS]: the same as `bench/run.py probe ...` (see `bench/run.py probe --help`).
exec python3 "$(dirname "$0")/run.py" probe "$@"
