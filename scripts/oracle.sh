#!/usr/bin/env bash
# oracle.sh — util-linux 2.41.5 from Debian trixie, beside the system's 2.38,
# for differential tests only (the product never runs it).
#
#   bash scripts/oracle.sh install   idempotent; needs root and the Debian mirror
#   bash scripts/oracle.sh path      prints the directory of the wrappers
#
# The packages are unpacked into $ROOT (never into /: trixie's libc would
# break the host) and run with trixie's own loader and libraries. Wrappers
# named nsenter, lsns and unshare in $ROOT/bin pass --argv0 so that messages
# carry the same prefix as the real programs.
set -euo pipefail

ROOT=${NSX_ORACLE_ROOT:-/opt/util-linux-2.41}
VERSION=2.41.5
PKGS=(util-linux libmount1 libsmartcols1 libblkid1 libselinux1 libc6 libcap-ng0 libpcre2-8-0 libuuid1 libsystemd0 libudev1 libcap2 libzstd1 liblzma5 libgcrypt20 libgpg-error0 liblz4-1 libtinfo6 libncursesw6 libaudit1 libpam0g)
TOOLS=(nsenter lsns unshare)

log() { printf 'oracle: %s\n' "$*" >&2; }

installed() {
	[ -x "$ROOT/bin/nsenter" ] && "$ROOT/bin/nsenter" -V 2>/dev/null | grep -q "util-linux $VERSION"
}

cmd_install() {
	installed && return 0
	[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
	local mirror work
	mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
	[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\/debian\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1)
	[ -n "$mirror" ] || { log "no Debian mirror found in the apt sources"; exit 1; }
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$work/sources.list"
	local opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=- \
		-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq)
	log "fetching util-linux $VERSION from trixie"
	apt-get "${opts[@]}" update >/dev/null
	(cd "$work/debs" && apt-get "${opts[@]}" download "${PKGS[@]}" >/dev/null)
	rm -rf "$ROOT.new"
	mkdir -p "$ROOT.new/bin"
	local d
	for d in "$work"/debs/*.deb; do dpkg -x "$d" "$ROOT.new"; done
	local t
	for t in "${TOOLS[@]}"; do
		cat >"$ROOT.new/bin/$t" <<W
#!/bin/sh
exec $ROOT/usr/lib64/ld-linux-x86-64.so.2 --argv0 "\$(basename "\$0")" --library-path $ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu $ROOT/usr/bin/$t "\$@"
W
		chmod 755 "$ROOT.new/bin/$t"
	done
	rm -rf "$ROOT"
	mv "$ROOT.new" "$ROOT"
	installed || { log "installed, but $ROOT/bin/nsenter -V does not print $VERSION"; exit 1; }
	log "installed in $ROOT"
}

case "${1:-}" in
install) cmd_install ;;
path) echo "$ROOT/bin" ;;
*) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
