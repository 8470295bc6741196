#!/usr/bin/env bash
# Install convostore as a user would — a regular (non-editable) install of the server and
# PostgreSQL extras only, into a fresh virtualenv in a temporary directory — then run
# smoke_install.py with that virtualenv's Python against real `convostore serve` processes.
# The install comes from a copy of the checkout's files (tracked and new, not ignored), so
# nothing built or installed in the checkout can slip into it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

work="$(mktemp -d "${TMPDIR:-/tmp}/convostore-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT

mkdir "$work/src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$root" ls-files -z --cached --others --exclude-standard \
    | (cd "$root" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) \
    | tar -C "$root" --null -T - -cf - | tar -C "$work/src" -xf -
else
  tar -C "$root" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' \
    -cf - . | tar -C "$work/src" -xf -
fi

echo "smoke test: installing convostore[server,postgres] into a clean virtualenv"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$work/src[server,postgres]"

# run from the temporary directory, so that only the installed package can be imported
cd "$work"
env -u PYTHONPATH -u PYTHONHOME "$work/venv/bin/python" "$root/scripts/smoke_install.py"
