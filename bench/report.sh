#!/bin/sh
# bench/report.sh [INSTANCES] [ROUNDS] [OPTIONS]: the same as `bench/run.py report ...` (see `bench/run.py report --help`).
exec python3 "$(dirname "$0")/run.py" report "$@"
