#!/bin/sh
# bench/hcl.sh [N] [ROUNDS] [OPTIONS]: the same as `bench/run.py hcl ...` (see `bench/run.py hcl --help`).
exec python3 "$(dirname "$0")/run.py" hcl "$@"
