#!/usr/bin/env bash
# bench/container.sh NSX: entering a Docker container by name with nsx,
# against docker exec, nsx with the PID and util-linux with the PID, all
# alternating in one run, and nsx debug docker:NAME (what building the debug
# mount namespace costs). Prints a markdown section. Needs root, dockerd with
# nsx-busybox:latest (bash scripts/engines.sh install start images).
set -euo pipefail
NSX=$(readlink -f "${1:?usage: bench/container.sh PATH-TO-NSX}")
. "$(dirname "$0")/lib.sh"
standard_path
command -v docker >/dev/null || { echo "container.sh: docker not found" >&2; exit 1; }

NAME=nsx-bench-$$
cleanup() {
	docker rm -f "$NAME" >/dev/null 2>&1 || true
	rm -f "/run/nsx/cache/docker/$NAME"
}
trap cleanup EXIT

# On a shared machine containerd may be restarting (the engines' tests stop
# it): try a few times before giving up.
for try in 1 2 3 4 5; do
	docker run -d --name "$NAME" --network none nsx-busybox:latest sleep 3600 >/dev/null && break
	[ "$try" = 5 ] && exit 1
	docker rm -f "$NAME" >/dev/null 2>&1 || true
	sleep 3
done
PID=$(docker inspect -f '{{.State.Pid}}' "$NAME")

# All must work, and nsx must land where nsenter does.
want=$("$UL238" -t "$PID" -a readlink /proc/self/ns/net)
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
server=$(docker version -f '{{.Server.Version}}' 2>/dev/null || echo unknown)

echo "## Entering a container: nsx vs docker exec vs nsenter"
echo
echo "Machine: $(machine); dockerd $server. The container runs \`nsx-busybox:latest\`; every"
echo "command runs busybox \`true\` inside it (nsx and nsenter look it up along PATH=$BENCH_PATH, docker exec along the image's). \`nsx enter docker:NAME\` resolves the name at every"
echo "run: from nsx's validated cache (the process's start time and cgroup, docker's"
echo "config.v2.json) after the first run, and through the Engine API with \`NSX_CACHE=off\`."
echo "\`nsx debug\` runs the host's \`true\` in the container's namespaces, in a mount namespace it builds."
echo
BENCH_ROUNDS=${BENCH_DOCKER_ROUNDS:-120} alt \
	-cmd "nsx_name=$NSX enter docker:$NAME -- true" \
	-cmd "nsx_api=env NSX_CACHE=off $NSX enter docker:$NAME -- true" \
	-cmd "docker_exec=docker exec $NAME true" \
	-cmd "nsx_pid=$NSX enter -t $PID -a -- true" \
	-cmd "ul238=$UL238 -t $PID -a true" \
	-cmd "ul241=$UL241 -t $PID -a true" \
	-cmd "explain_name=$NSX enter --explain docker:$NAME" \
	-cmd "explain_pid=$NSX enter --explain -t $PID -a" \
	-cmd "nsx_debug=$NSX debug docker:$NAME -- true" \
	-ratio "docker exec NAME true ÷ nsx enter docker:NAME -- true=docker_exec/nsx_name>=25" \
	-ratio "nsx enter docker:NAME ÷ nsx enter -t PID -a=nsx_name/nsx_pid<=1.10" \
	-ratio "by name, API every time, over by PID=nsx_api/nsx_pid" \
	-ratio "by name over util-linux with the PID=nsx_name/ul238" \
	-ratio "by name over util-linux 2.41 with the PID=nsx_name/ul241" \
	-ratio "docker exec NAME true ÷ nsx debug docker:NAME -- true=docker_exec/nsx_debug" \
	-diff "resolving docker:NAME from the cache, beyond -t PID=explain_name-explain_pid" \
	-diff "resolving through the API every time, beyond the cache=nsx_api-nsx_name" \
	-diff "nsx debug's mount namespace (toolbox mirror, /target, fresh /proc), beyond nsx enter=nsx_debug-nsx_name"
