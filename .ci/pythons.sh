#!/usr/bin/env bash
# Prepares CPython 3.13, 3.14 and 3.15 on an x86-64 Debian machine, each in a venv with the
# test dependencies that have wheels for it, so that .ci/run can run the suite under each.
#
#   bash .ci/pythons.sh [ROOT]      (default ROOT: .cache/pythons in the repo)
#
# The interpreters are Debian's (suite forky of the mirror the machine's apt already uses),
# resolved and downloaded with a private apt state (its own sources, lists, status and cache),
# so the host's package database is never touched; every .deb is unpacked into ROOT/sys with
# `dpkg -x`.  forky's binaries need forky's libc, so each pythonX.Y is pointed at ROOT's dynamic
# loader and libraries with patchelf: the host's own suite's patchelf (forky's, 0.18, writes
# binaries that crash at start), downloaded alone with a second private apt state.  forky has
# no free-threaded build (python3.Yt) to test: jit/backend/target.py refuses those, as
# tests/test_target.py checks.
# Idempotent: a complete ROOT is left as it is.  Prints one line per interpreter:
# `VERSION PATH-OF-THE-VENV'S-PYTHON`.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=.ci/debs.sh
source "$repo/.ci/debs.sh"
root="${1:-$repo/.cache/pythons}"
versions=(3.13 3.14 3.15)
sys="$root/sys"
done_marker="$root/.complete"

# What the tests need, as in pyproject.toml's test extra: cffi and pytest without fail, the others
# (`spec=import name`) where they have a wheel.  Each comes from a wheel only (no source builds: an
# old toolchain would take minutes, or fail); one left out is listed in the venv's
# cpjit-left-out.txt, and tests/conftest.py skips what imports it, on that version only.
required_packages=("cffi>=1.15" "pytest>=8" "hypothesis>=6.100")
optional_packages=(
    "numpy>=1.26=numpy" "pytest-benchmark>=4=pytest_benchmark" "pyelftools==0.33=elftools"
    "ziglang==0.17.1=ziglang" "llvmlite==0.50.0=llvmlite" "unicorn>=2.1,<3=unicorn"
    "capstone>=5.0,<6=capstone" "matplotlib>=3.8=matplotlib"
)

report() {
    for v in "${versions[@]}"; do
        echo "$v $root/venv-$v/bin/python"
    done
}

if [ -f "$done_marker" ]; then
    echo "interpreters already present: $root" >&2
    report
    exit 0
fi

# The default location lives in the repo: keep it out of git whatever .gitignore says.
if [ -z "${1:-}" ]; then
    mkdir -p "$repo/.cache"
    [ -f "$repo/.cache/.gitignore" ] || echo '*' >"$repo/.cache/.gitignore"
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

# The mirror the machine's apt already uses for Debian (deb822 or one-line sources).
mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -vE '^[[:space:]]*#' | grep -oE '(https?)://[^ ]*/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ' || true)"
if [ -z "$mirror" ]; then
    echo "error: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2
    exit 1
fi

state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
: >"$state/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror forky main" >"$state/sources.list"
apt_private=(
    -o Dir::Etc::SourceList="$state/sources.list"
    -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$state/lists"
    -o Dir::State::status="$state/status"
    -o Dir::State::extended_states="$state/extended_states"
    -o Dir::Cache="$state/cache"
    # The downloads go into a private temporary folder that apt's sandbox user cannot enter.
    -o APT::Sandbox::User=root
)
as_root apt-get "${apt_private[@]}" update -qq
packages=()
for v in "${versions[@]}"; do
    packages+=("python$v" "python$v-venv")
done
echo "resolving and downloading ${packages[*]} from forky" >&2
as_root apt-get "${apt_private[@]}" install -y -qq --download-only --no-install-recommends "${packages[@]}" >/dev/null

# patchelf from the machine's own sources (same private state, minus the forky sources file).
host_state="$state/host"
mkdir -p "$host_state/lists/partial" "$host_state/patchelf"
host_apt=(
    -o Dir::State::Lists="$host_state/lists"
    -o Dir::State::status="$state/status"
    -o Dir::Cache="$state/cache"
    -o APT::Sandbox::User=root
)
as_root apt-get "${host_apt[@]}" update -qq
(cd "$host_state" && as_root apt-get "${host_apt[@]}" download -qq patchelf >/dev/null)
dpkg -x "$host_state"/patchelf_*.deb "$host_state/patchelf"

rm -rf "$root"
unpack_debs "$state/cache/archives" "$sys"
loader="$sys/usr/lib64/ld-linux-x86-64.so.2"
libs="$sys/usr/lib/x86_64-linux-gnu:$sys/lib/x86_64-linux-gnu"
if [ ! -e "$loader" ]; then
    echo "error: $loader missing after unpacking $count packages" >&2
    exit 1
fi
patchelf=("$host_state/patchelf/usr/bin/patchelf")
for v in "${versions[@]}"; do
    exe="$sys/usr/bin/python$v"
    # DT_RPATH, not DT_RUNPATH: it also serves the libraries of the extension modules dlopen'ed later.
    "${patchelf[@]}" --set-interpreter "$loader" --force-rpath --set-rpath "$libs" "$exe"
done

for v in "${versions[@]}"; do
    python="$sys/usr/bin/python$v"
    venv="$root/venv-$v"
    if [ ! -x "$python" ]; then
        echo "error: $python missing after unpacking $count packages" >&2
        exit 1
    fi
    "$python" -m venv --without-pip "$venv"
    # Debian's ensurepip looks for its wheels in the system's /usr/share/python-wheels: pip is
    # bootstrapped from ROOT's own wheel instead (a wheel is importable as it is).
    pip_wheel="$(ls "$sys"/usr/share/python-wheels/pip-*.whl | head -n 1)"
    "$venv/bin/python" "$pip_wheel/pip" install -q --disable-pip-version-check pip
    pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all:)
    "${pip[@]}" "${required_packages[@]}"
    : >"$venv/cpjit-left-out.txt"
    for entry in "${optional_packages[@]}"; do
        spec="${entry%=*}"
        if ! "${pip[@]}" "$spec" >"$state/pip.log" 2>&1; then
            echo "python$v: no wheel for $spec, left out" >&2
            echo "${entry##*=}" >>"$venv/cpjit-left-out.txt"
        fi
    done
done
touch "$done_marker"
echo "interpreters ready: $root ($count packages)" >&2
report
