# Sourced by .ci/arm64-sysroot.sh and .ci/pythons.sh: what both do with the Debian packages they downloaded.

# unpack_debs ARCHIVES TARGET: unpack every .deb of ARCHIVES into TARGET (made anew); sets `count` to how many.
unpack_debs() {
    rm -rf "$2"
    mkdir -p "$2"
    count=0
    for deb in "$1"/*.deb; do
        dpkg -x "$deb" "$2"
        count=$((count + 1))
    done
}
