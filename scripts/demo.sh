#!/usr/bin/env bash
# make run: a self-contained demo. It starts a sandbox process in new pid,
# mount, net, uts, ipc, cgroup and time namespaces (util-linux unshare creates
# it; nsx does not have an unshare command yet) and shows nsx entering it.
set -euo pipefail
nsx=${1:-bin/nsx}
if [ "$(id -u)" != 0 ]; then
	echo "make run needs root (it creates namespaces): try 'sudo make run'" >&2
	exit 1
fi
ready=$(mktemp)
unshare --pid --mount --net --uts --ipc --cgroup --time --fork --mount-proc \
	sh -c 'hostname nsx-sandbox; ip link set lo up 2>/dev/null; echo ready >"$1"; exec sleep 300' sh "$ready" &
launcher=$!
trap 'kill $launcher 2>/dev/null; wait 2>/dev/null; rm -f "$ready"' EXIT
for _ in $(seq 100); do [ -s "$ready" ] && break; sleep 0.05; done
# unshare --fork's child is the sandbox (sh, which execs sleep).
pid=$(pgrep -P "$launcher" | head -1)

show() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
echo "sandbox: PID $pid (host view)"
show hostname
show "$nsx" enter -t "$pid" -a hostname
show "$nsx" enter --explain "$pid"
echo
echo "--- processes: host has $(ls -d /proc/[0-9]* | wc -l) entries in /proc; inside:"
show "$nsx" enter "$pid" -- sh -c 'ls -d /proc/[0-9]* | sed "s,/proc/,pid ,"'
echo
echo "--- network interfaces (host, then inside):"
show sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' '; echo"
show "$nsx" enter "$pid" -- sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' '; echo"
echo
echo "--- namespaces differ from the host's:"
for k in mnt uts ipc net pid cgroup time; do
	printf '%-7s host %-22s sandbox %s\n' "$k" "$(readlink /proc/self/ns/$k)" \
		"$("$nsx" enter -t "$pid" -a readlink /proc/self/ns/$k)"
done
echo
echo "--- look without touching: a private read-only copy of the sandbox's mounts"
show "$nsx" enter --read-only "$pid" -- sh -c 'touch /tmp/nsx-demo-probe 2>&1 || true'
show "$nsx" enter "$pid" -- sh -c 'touch /tmp/nsx-demo-probe && rm /tmp/nsx-demo-probe && echo "the sandbox itself still writes"'
echo
echo "--- the same binary is util-linux nsenter when called so:"
show "$(dirname "$nsx")/nsenter" -t "$pid" -u -n hostname
show "$(dirname "$nsx")/nsenter" --bogus || true
