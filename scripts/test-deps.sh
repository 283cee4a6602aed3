#!/usr/bin/env bash
# Debian packages the tests need besides the container engines: util-linux
# (nsenter, unshare, lsns as oracles), a static busybox for chroot targets,
# hyperfine for the benchmarks.
set -euo pipefail
need=()
for pkg in util-linux busybox-static procps iproute2 hyperfine; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
