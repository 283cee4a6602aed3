# Shared by the bench scripts. Every comparison runs through bench/alternate:
# the commands alternate round by round (the order rotating), and each ratio
# is the median of per-round ratios, so that the drifting load of a shared
# machine hits both sides alike. hyperfine, which runs all of one command's
# repetitions before the next command's, swung ±30% between runs here.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ALT is the alternate binary; built once unless the caller gave one.
if [ -z "${ALT:-}" ]; then
	ALT=$(mktemp -d)/alternate
	(cd "$BENCH_DIR/.." && CGO_ENABLED=0 go build -o "$ALT" ./bench/alternate)
fi

# alt ARGS...: bench/alternate with the round counts from the environment.
# With BENCH_TSV set, the results are also appended to that file (run.sh
# builds its summary from it).
alt() {
	"$ALT" -rounds "${BENCH_ROUNDS:-400}" -warmup "${BENCH_WARMUP:-20}" ${BENCH_TSV:+-tsv "$BENCH_TSV"} "$@"
}

# machine: one line saying where this ran.
machine() {
	local cpu mem
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "$(nproc) × $cpu, $mem, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
}

# UL238 and UL241: the system's util-linux nsenter and the 2.41.5 oracle.
UL238=${UL238:-/usr/bin/nsenter}
UL241=${UL241:-/opt/util-linux-2.41/bin/nsenter}
ul_version() { "$1" -V | awk '{ print $NF }'; }
