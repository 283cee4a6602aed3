#!/bin/bash
# bench/ls.sh NSX: compare `nsx ls` with util-linux `lsns` (hyperfine, same
# run) with 2,000+ processes in many namespaces, and show how nsx ls scales
# with the process count. Prints a markdown section on stdout. Needs root,
# unshare (util-linux), lsns and hyperfine.
set -euo pipefail
NSX=${1:?usage: bench/ls.sh path/to/nsx}
NSX=$(readlink -f "$NSX")
. "$(dirname "$0")/lib.sh"
for t in lsns unshare hyperfine setsid; do
	command -v "$t" >/dev/null || { echo "bench/ls.sh: $t not found" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench/ls.sh: needs root" >&2; exit 1; }

GROUP=10   # processes per namespace group: unshare, sh and 8 sleeps
leaders=()
cleanup() {
	for p in "${leaders[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	leaders=()
	# Wait until the killed processes have left /proc.
	for _ in $(seq 100); do
		[ "$(nprocs)" -le $((base + 20)) ] && break
		sleep 0.1
	done
}
trap cleanup EXIT

nprocs() { local n=0; for d in /proc/[0-9]*; do n=$((n+1)); done; echo "$n"; }
base=$(nprocs)

# grow_to N: start namespace groups (each in new net, uts, ipc and mount
# namespaces, a new session so that one kill ends it) until /proc holds at
# least N processes.
grow_to() {
	local want=$1 have
	have=$(nprocs)
	while [ "$have" -lt "$want" ]; do
		local batch=$(( (want - have + GROUP - 1) / GROUP ))
		for ((i = 0; i < batch; i++)); do
			setsid unshare -n -u -i -m --fork sh -c \
				'for i in 1 2 3 4 5 6 7 8; do sleep 3600 & done; wait' </dev/null >/dev/null 2>&1 &
			leaders+=($!)
			disown $!
		done
		sleep 0.5
		have=$(nprocs)
	done
}

mean_ms() { # mean_ms JSONFILE INDEX
	python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["mean"]*1000))' "$1" "$2"
}

tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT

echo "## nsx ls vs lsns"
echo
echo "Host: $(nproc) CPUs, $(uname -r), $(lsns --version). hyperfine -N, warm cache."
echo
grow_to 2000
n=$(nprocs)
nns=$(lsns -n | wc -l)
echo "With $n processes in $nns namespaces:"
echo
hyperfine -N --warmup 3 --min-runs 20 --style none \
	--export-json "$tmp/cmp.json" --export-markdown "$tmp/cmp.md" \
	-n "nsx ls" "$NSX ls" -n "lsns" "lsns" \
	-n "nsx ls -J" "$NSX ls -J" -n "lsns -J" "lsns -J" >/dev/null 2>&1
cat "$tmp/cmp.md"
echo
echo "The same two, alternating round by round (bench/alternate):"
echo
# lsns 2.41.5 also reads every process's open fds for the namespaces they
# hold, as nsx ls does; the system's 2.38 does not.
BENCH_ROUNDS=${BENCH_LS_ROUNDS:-30} BENCH_WARMUP=3 alt -cmd "nsx_ls=$NSX ls" -cmd "lsns=lsns" -cmd "lsns241=$(dirname "$UL241")/lsns" \
	-ratio "nsx ls ÷ lsns 2.38, $n processes=nsx_ls/lsns<=0.08" \
	-ratio "nsx ls ÷ lsns 2.41.5, $n processes=nsx_ls/lsns241<=0.08"
a=$(mean_ms "$tmp/cmp.json" 0); b=$(mean_ms "$tmp/cmp.json" 1)
c=$(mean_ms "$tmp/cmp.json" 2); d=$(mean_ms "$tmp/cmp.json" 3)
echo
echo "Ratio nsx/lsns: table $(python3 -c "print('%.3f' % ($a/$b))"), JSON $(python3 -c "print('%.3f' % ($c/$d))") (target ≤ 0.2)."
echo
echo "### nsx ls by process count"
echo
echo "| processes | namespaces | nsx ls mean (ms) | lsns mean (ms) | ratio |"
echo "|---:|---:|---:|---:|---:|"
cleanup
for target in 500 1000 2000 4000; do
	grow_to "$target"
	n=$(nprocs)
	nns=$(lsns -n | wc -l)
	hyperfine -N --warmup 3 --min-runs 10 --style none --export-json "$tmp/s.json" \
		"$NSX ls" "lsns" >/dev/null 2>&1
	x=$(mean_ms "$tmp/s.json" 0); y=$(mean_ms "$tmp/s.json" 1)
	echo "| $n | $nns | $x | $y | $(python3 -c "print('%.3f' % ($x/$y))") |"
done
