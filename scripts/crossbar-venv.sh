#!/usr/bin/env bash
# Creates (or reuses) the Python venv that holds the Crossbar.io router (in a venv of its
# own: it pins its own autobahn) and prints its path on stdout (progress goes to stderr).
#
# Pins: tests/wamp_crossbar/requirements.txt (the whole closure of crossbar==26.10.1, from
# `pip freeze` on Python 3.11). Location: ${FERROBAHN_CACHE:-$HOME/.cache/ferrobahn}/crossbar-venv.
# Reused while its stamp (pins + interpreter) matches and crossbar imports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "crossbar-venv.sh: $*" >&2; exit 1; }
pins="tests/wamp_crossbar/requirements.txt"
cache="${FERROBAHN_CACHE:-$HOME/.cache/ferrobahn}"
venv="$cache/crossbar-venv"
mkdir -p "$cache"

python=""
for candidate in ${PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
        python="$(command -v "$candidate")"
        break
    fi
done
[[ -n "$python" ]] || die "no Python 3.11 found"
stamp="$("$python" -c 'import sys; print(sys.version.split()[0], sys.base_prefix)')
$(cat "$pins")"

if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/crossbar-venv.lock"
    flock 9
fi
if [[ -x "$venv/bin/crossbar" && -f "$venv/.ferrobahn-stamp" && "$(cat "$venv/.ferrobahn-stamp")" == "$stamp" ]] &&
    "$venv/bin/python" -c 'import crossbar' >/dev/null 2>&1; then
    echo "$venv"
    exit 0
fi
echo "crossbar-venv.sh: creating $venv (about 1-2 minutes)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
log="$(mktemp "${TMPDIR:-/tmp}/ferrobahn-crossbar-venv.XXXXXX.log")"
if ! PYBJDATA_NO_EXTENSION=1 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -r "$pins" >"$log" 2>&1; then
    cat "$log" >&2
    rm -rf "$venv"
    die "pip install failed (log above)"
fi
rm -f "$log"
printf '%s\n' "$stamp" >"$venv/.ferrobahn-stamp"
"$venv/bin/python" -c 'import crossbar' || die "crossbar does not import"
echo "$venv"
