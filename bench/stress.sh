#!/bin/sh
# bench/stress.sh [SECONDS] [ROUNDS] [SECTIONS] [OPTIONS]: the same as `bench/run.py stress ...` (see `bench/run.py stress --help`).
exec python3 "$(dirname "$0")/run.py" stress "$@"
