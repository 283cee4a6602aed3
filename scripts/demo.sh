#!/usr/bin/env bash
# make run: a self-contained demo. nsx unshare starts a sandbox process in
# new pid, mount, net, uts, ipc, cgroup and time namespaces, and nsx enters
# it. Ctrl-C or the end of the demo kills the sandbox's init, which takes the
# whole namespace with it; nothing is left behind.
set -euo pipefail
nsx=${1:-bin/nsx}
if [ "$(id -u)" != 0 ]; then
	echo "make run needs root (it creates namespaces): try 'sudo make run'" >&2
	exit 1
fi
work=$(mktemp -d /tmp/nsx-demo.XXXXXX)
ready=$work/ready
pid=
# --kill-child: should nsx itself die, the sandbox gets SIGKILL.
"$nsx" unshare --pid --mount --net --uts --ipc --cgroup --time --fork --mount-proc --kill-child \
	sh -c 'hostname nsx-sandbox; echo $$ >"$1"; exec sleep 300' sh "$ready" &
launcher=$!
cleanup() {
	# The sandbox is PID 1 of its namespace: killing it ends everything
	# in there, and nsx unshare returns at once.
	if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; else kill -KILL "$launcher" 2>/dev/null || true; fi
	wait "$launcher" 2>/dev/null || true
	umount "$work/uts" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 100); do [ -s "$ready" ] && break; sleep 0.05; done
# The sandbox wrote its PID in its own namespace (1); find it on the host:
# nsx's child relays, its grandchild is the sandbox.
relay=$(pgrep -P "$launcher" | head -1)
pid=$(pgrep -P "$relay" | head -1)

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
echo
echo "--- a persistent namespace: nsx unshare binds it to a file, nsx enter finds it"
show "$nsx" unshare --uts="$work/uts" hostname nsx-persistent
show "$nsx" enter "$work/uts" -- hostname
show "$(dirname "$nsx")/unshare" -fp sh -c 'echo "PID $$ in a new PID namespace"'
