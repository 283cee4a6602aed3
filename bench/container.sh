#!/usr/bin/env bash
# bench/container.sh NSX — prints a markdown section comparing, in one
# hyperfine run, entering a Docker container three ways:
#
#   nsx enter docker:NAME -- true      (resolves the name through the API)
#   docker exec NAME true
#   nsenter -t PID -a true             (util-linux, PID given)
#
# Targets: nsx at least 25 times faster than docker exec, and at most 1.5
# times util-linux's time. A fourth command, nsx enter -t PID -a true, shows
# what resolving the name costs; a fifth, nsx debug docker:NAME -- true, what
# building the debug mount namespace costs. Needs root, dockerd with nsx-busybox:latest
# (bash scripts/engines.sh install start images) and hyperfine.
set -euo pipefail

NSX=${1:?usage: bench/container.sh PATH-TO-NSX}
[ -x "$NSX" ] || {
	echo "container.sh: $NSX is not executable" >&2
	exit 1
}
for c in hyperfine docker nsenter awk; do
	command -v "$c" >/dev/null || {
		echo "container.sh: $c not found" >&2
		exit 1
	}
done

NAME=nsx-bench-$$
TMP=$(mktemp -d)
cleanup() {
	docker rm -f "$NAME" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

docker run -d --name "$NAME" --network none nsx-busybox:latest sleep 3600 >/dev/null
PID=$(docker inspect -f '{{.State.Pid}}' "$NAME")

# All three must work, and nsx must land where nsenter does.
want=$(nsenter -t "$PID" -a readlink /proc/self/ns/net)
got=$("$NSX" enter "docker:$NAME" -- readlink /proc/self/ns/net)
if [ "$got" != "$want" ]; then
	echo "container.sh: nsx entered $got, nsenter $want" >&2
	exit 1
fi
docker exec "$NAME" true
got=$("$NSX" debug "docker:$NAME" -- readlink /proc/self/ns/net)
if [ "$got" != "$want" ]; then
	echo "container.sh: nsx debug entered $got, nsenter $want" >&2
	exit 1
fi

NSX_CMD="$NSX enter docker:$NAME -- true"
DOCKER_CMD="docker exec $NAME true"
NSENTER_CMD="nsenter -t $PID -a true"
NSXPID_CMD="$NSX enter -t $PID -a true"
# nsx debug runs the host's true in the container's namespaces, in a mount
# namespace it builds (toolbox mirror, /target copy, fresh /proc).
DEBUG_CMD="$NSX debug docker:$NAME -- true"
hyperfine -N --style none --warmup 20 --min-runs 30 \
	--export-csv "$TMP/run.csv" \
	"$NSX_CMD" "$DOCKER_CMD" "$NSENTER_CMD" "$NSXPID_CMD" "$DEBUG_CMD" >"$TMP/hyperfine.txt" 2>&1 || {
	cat "$TMP/hyperfine.txt" >&2
	exit 1
}

# CSV: command,mean,stddev,median,user,system,min,max (seconds), one row
# per command in the order given.
row() { awk -F, -v n="$1" 'NR == n + 1 { print $2, $3, $4 }' "$TMP/run.csv"; }
read -r nsx_mean nsx_sd nsx_med <<<"$(row 1)"
read -r dk_mean dk_sd dk_med <<<"$(row 2)"
read -r ne_mean ne_sd ne_med <<<"$(row 3)"
read -r np_mean np_sd np_med <<<"$(row 4)"
read -r db_mean db_sd db_med <<<"$(row 5)"

ms() { awk -v s="$1" 'BEGIN { printf "%.2f ms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "missed" }'; }

faster=$(ratio "$dk_mean" "$nsx_mean")
vs_ne=$(ratio "$nsx_mean" "$ne_mean")
faster_med=$(ratio "$dk_med" "$nsx_med")
vs_ne_med=$(ratio "$nsx_med" "$ne_med")
debug_faster=$(ratio "$dk_mean" "$db_mean")
debug_faster_med=$(ratio "$dk_med" "$db_med")
server=$(docker version -f '{{.Server.Version}}' 2>/dev/null || echo unknown)

cat <<EOF
## Entering a container: nsx vs docker exec vs nsenter

One hyperfine run (\`-N\`, 20 warm-ups, at least 30 runs each) on $(uname -r), $(nproc) CPUs, dockerd $server; the
container runs \`nsx-busybox:latest\`, and every command runs busybox \`true\` inside it. nsx resolves the
container's name through the Docker API at each run; nsenter is given the PID.

| command | mean | σ | median |
| --- | ---: | ---: | ---: |
| \`nsx enter docker:NAME -- true\` | $(ms "$nsx_mean") | $(ms "$nsx_sd") | $(ms "$nsx_med") |
| \`docker exec NAME true\` | $(ms "$dk_mean") | $(ms "$dk_sd") | $(ms "$dk_med") |
| \`nsenter -t PID -a true\` | $(ms "$ne_mean") | $(ms "$ne_sd") | $(ms "$ne_med") |
| \`nsx enter -t PID -a true\` (no resolution, for reference) | $(ms "$np_mean") | $(ms "$np_sd") | $(ms "$np_med") |
| \`nsx debug docker:NAME -- true\` (host's true, debug mount namespace) | $(ms "$db_mean") | $(ms "$db_sd") | $(ms "$db_med") |

| ratio | mean | median | target | |
| --- | ---: | ---: | --- | --- |
| docker exec ÷ nsx (times faster) | $faster | $faster_med | ≥ 25 | $(verdict "$faster" 25 ">=") |
| nsx ÷ nsenter | $vs_ne | $vs_ne_med | ≤ 1.5 | $(verdict "$vs_ne" 1.5 "<=") |
| docker exec ÷ nsx debug (times faster) | $debug_faster | $debug_faster_med | none | |

Resolving \`docker:NAME\` (one Engine API round trip and the PID's validation) costs
$(awk -v a="$nsx_mean" -v b="$np_mean" 'BEGIN { printf "%.2f ms", (a - b) * 1000 }') on the mean, the difference between the first and last rows.
EOF
