#!/usr/bin/env bash
# Creates (or reuses) the Python venv that holds the conformance-test peers and prints its
# path on stdout (the only thing printed there; progress and errors go to stderr).
#
#   kosoku            the Autobahn TestSuite case files (fuzzingclient / fuzzingserver)
#   autobahn[twisted] Autobahn|Python, the reference peer
#   proxy.py          an HTTP CONNECT proxy (client proxy tests)
#   trustme           test certificates for the TLS interop with Autobahn|Python
#   bjdata            Autobahn's `wamp.2.ubjson` codec (installed as pure Python: its C part
#                     is built against numpy 1 and fails to import under numpy 2)
#
# Location: ${FERROBAHN_CACHE:-$HOME/.cache/ferrobahn}/venv
# Python:   $PYTHON if set, else python3.11, else python3 if that is 3.11.
#
# The venv is reused when its stamp (the pin list below + interpreter) matches and the
# packages import; otherwise it is deleted and created afresh. To change a version, edit
# the pins: the next run rebuilds the venv.
set -euo pipefail

# Exact pins (the whole dependency closure, from `pip freeze` on Python 3.11, 2026-11-22).
PINS=(
    "kosoku==0.1.0"
    "autobahn[twisted]==26.10.2"
    "Twisted==26.10.0"
    "attrs==26.1.0"
    "Automat==25.4.16"
    "cbor2==6.2.1"
    "cffi==2.1.1"
    "constantly==23.10.4"
    "cryptography==50.0.2"
    "hyperlink==21.0.0"
    "idna==3.20"
    "Incremental==24.11.0"
    "msgpack==1.2.4"
    "packaging==26.3"
    "pycparser==3.12"
    "txaio==26.6.1"
    "typing_extensions==4.16.0"
    "ujson==6.1.0"
    "zope.interface==8.7"
    "bjdata==0.6.6"
    "numpy==2.4.6"
    "proxy.py==2.4.10"
    "trustme==1.2.1"
    # Autobahn's permessage-brotli and permessage-snappy (imported only when present).
    "brotli==1.2.1"
    "python-snappy==0.7.3"
    "cramjam==2.14.0"
)

die() { echo "venv.sh: $*" >&2; exit 1; }

cache="${FERROBAHN_CACHE:-$HOME/.cache/ferrobahn}"
venv="$cache/venv"
mkdir -p "$cache"

# --- pick the interpreter -------------------------------------------------------------
is_311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }
python=""
if [[ -n "${PYTHON:-}" ]]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1 || ! is_311 "$PYTHON"; then
        die "\$PYTHON=$PYTHON is not a Python 3.11 interpreter"
    fi
    python="$(command -v "$PYTHON")"
else
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && is_311 "$candidate"; then
            python="$(command -v "$candidate")"
            break
        fi
    done
    [[ -n "$python" ]] || die "no Python 3.11 found (tried python3.11, python3; or set \$PYTHON)"
fi
py_id="$("$python" -c 'import sys; print(sys.version.split()[0], sys.base_prefix)')"

stamp_text="$(printf '%s\n' "python $py_id" "${PINS[@]}")"

venv_ok() {
    [[ -x "$venv/bin/python" && -x "$venv/bin/kosoku" && -f "$venv/.ferrobahn-stamp" ]] || return 1
    [[ "$(cat "$venv/.ferrobahn-stamp")" == "$stamp_text" ]] || return 1
    "$venv/bin/python" -c 'import kosoku, autobahn.twisted.websocket, twisted, bjdata, proxy, trustme, brotli, snappy' >/dev/null 2>&1
}

# Serialise concurrent callers (two shells running the tests at once).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/venv.lock"
    flock 9
fi

if venv_ok; then
    echo "$venv"
    exit 0
fi

# --- (re)create -----------------------------------------------------------------------
if [[ -e "$venv" ]]; then
    echo "venv.sh: $venv is missing, stale or broken; re-creating it" >&2
    rm -rf "$venv"
else
    echo "venv.sh: creating $venv" >&2
fi

if ! "$python" -c 'import ensurepip' >/dev/null 2>&1; then
    die "$python has no ensurepip, so 'python -m venv' cannot install pip." \
        "On Debian/Ubuntu: apt-get install python3.11-venv (or use a Python with ensurepip)."
fi

log="$(mktemp "${TMPDIR:-/tmp}/ferrobahn-venv.XXXXXX.log")"
if ! "$python" -m venv "$venv" >"$log" 2>&1; then
    cat "$log" >&2
    rm -rf "$venv"
    die "'$python -m venv $venv' failed (log above)"
fi
if ! PYBJDATA_NO_EXTENSION=1 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "${PINS[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    rm -rf "$venv"
    die "pip install into $venv failed (log above)"
fi
rm -f "$log"

printf '%s\n' "$stamp_text" >"$venv/.ferrobahn-stamp"
venv_ok || die "the new venv at $venv does not import kosoku/autobahn/twisted"
echo "$venv"
