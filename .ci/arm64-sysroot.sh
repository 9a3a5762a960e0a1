#!/usr/bin/env bash
# Prepares what tests/test_arm64_qemu.py needs on an x86-64 Debian machine:
# qemu-user-static, and an arm64 sysroot holding Debian's python3 and cffi.
#
#   bash .ci/arm64-sysroot.sh [ROOT]      (default ROOT: .cache/arm64-root in the repo)
#
# The sysroot's packages come from the machine's own apt sources, resolved and
# downloaded with a private apt state (its own lists, status and cache), so the
# host's package database is never touched; each .deb is then unpacked with
# `dpkg -x`.  Nothing is installed into ROOT: qemu runs ROOT/usr/bin/python3
# with `-L ROOT`, so ARM64 CPython, libffi and libgcc_s (__clear_cache) are real.
# Idempotent: a complete ROOT is left as it is.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=.ci/debs.sh
source "$repo/.ci/debs.sh"
root="${1:-$repo/.cache/arm64-root}"
# libgcc-s1 brings the instruction-cache flush; python3-cffi-backend the _cffi_backend module.
packages=(python3 python3-cffi python3-cffi-backend libgcc-s1)
done_marker="$root/.complete"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

if ! command -v qemu-aarch64-static >/dev/null; then
    echo "installing qemu-user-static" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi

if [ -f "$done_marker" ]; then
    echo "arm64 sysroot already present: $root" >&2
    exit 0
fi

# The default location lives in the repo: keep it out of git whatever .gitignore says.
if [ -z "${1:-}" ]; then
    mkdir -p "$repo/.cache"
    [ -f "$repo/.cache/.gitignore" ] || echo '*' >"$repo/.cache/.gitignore"
fi

state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
: >"$state/status"
apt_private=(
    -o APT::Architecture=arm64
    -o Dir::State::Lists="$state/lists"
    -o Dir::State::status="$state/status"
    -o Dir::State::extended_states="$state/extended_states"
    -o Dir::Cache="$state/cache"
    # The downloads go into a private temporary folder that apt's sandbox user cannot enter.
    -o APT::Sandbox::User=root
)
echo "resolving and downloading arm64 ${packages[*]}" >&2
as_root apt-get "${apt_private[@]}" update -qq
as_root apt-get "${apt_private[@]}" install -y -qq --download-only --no-install-recommends "${packages[@]}" >/dev/null

unpack_debs "$state/cache/archives" "$root"
if [ ! -x "$root/usr/bin/python3" ]; then
    echo "error: $root/usr/bin/python3 missing after unpacking $count packages" >&2
    exit 1
fi
touch "$done_marker"
echo "arm64 sysroot ready: $root ($count packages)" >&2
