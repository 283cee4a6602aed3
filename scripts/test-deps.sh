#!/usr/bin/env bash
# Debian packages the tests need besides the container engines, one list per
# concern in scripts/packages.d/*.list (one name a line, # comments), and the
# util-linux 2.41.5 oracle (scripts/oracle.sh).
set -euo pipefail
cd "$(dirname "$0")"
need=()
for pkg in $(sed 's/#.*//' packages.d/*.list | sort -u); do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	# No init system here: keep maintainer scripts from starting daemons.
	policy=/usr/sbin/policy-rc.d made_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	[ -z "$made_policy" ] || rm -f "$policy"
fi
bash ./oracle.sh install
