#!/usr/bin/env bash
# Mutation testing of one module (not part of the default CI run: minutes per module).
#   tools/mutation.sh plan|weights|metrics|confusion|priors|row-keys|manifest-writer|all [--keep]
# Needs the test extra plus mutmut: .venv/bin/pip install -e '.[test,mutation]'
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
exec "$python" "$root/tools/mutation.py" "$@"
