#!/usr/bin/env bash
# bench/audit.sh NSX: what the audit trail costs an `nsx enter`: audit = off,
# file: and syslog (a real rsyslogd) in one hyperfine run. The configuration
# path is fixed (/etc/nsx/nsx.conf), so the script re-runs itself in a
# private mount namespace with overlays on /etc and /dev: each benchmark's
# --prepare switches nsx.conf there, and the host's /etc and /dev/log are
# never touched. Prints a markdown section.
set -euo pipefail
NSX=$(readlink -f "${1:?usage: bench/audit.sh path/to/nsx}")
here=$(cd "$(dirname "$0")" && pwd)
if [ "${NSX_AUDIT_BENCH_PRIVATE:-}" != 1 ]; then
	exec unshare --mount --propagation private env NSX_AUDIT_BENCH_PRIVATE=1 bash "$here/audit.sh" "$NSX"
fi
. "$here/lib.sh"

d=$(mktemp -d /tmp/nsx-audit-bench.XXXXXX)
rsyslog_pid= target_pid=
cleanup() {
	[ -z "$target_pid" ] || kill -KILL -- "-$target_pid" 2>/dev/null || true
	[ -z "$rsyslog_pid" ] || { kill "$rsyslog_pid" 2>/dev/null; wait "$rsyslog_pid" 2>/dev/null || true; }
	umount -l /etc /dev "$d" 2>/dev/null || true
	rmdir "$d" 2>/dev/null || true
}
trap cleanup EXIT
mount -t tmpfs nsx-audit-bench "$d"
mkdir -p "$d"/etc/nsx "$d"/etcw "$d"/dev "$d"/devw "$d"/rsyslog
mount -t overlay -o "lowerdir=/etc,upperdir=$d/etc,workdir=$d/etcw" nsx-audit-bench-etc /etc
mount -t overlay -o "lowerdir=/dev,upperdir=$d/dev,workdir=$d/devw" nsx-audit-bench-dev /dev
rm -f /dev/log
ln -s "$d/rsyslog/log" /dev/log
printf 'audit = off\n' >"$d/off.conf"
printf 'audit = file:%s/audit.log\n' "$d" >"$d/file.conf"
printf 'audit = syslog\n' >"$d/syslog.conf"

syslog=
if command -v rsyslogd >/dev/null || [ -x /usr/sbin/rsyslogd ]; then
	cat >"$d/rsyslog/rsyslog.conf" <<CONF
global(workDirectory="$d/rsyslog")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$d/rsyslog/log" RateLimit.Interval="0" CreatePath="off")
authpriv.* action(type="omfile" file="$d/rsyslog/authpriv.log")
CONF
	"$(command -v rsyslogd || echo /usr/sbin/rsyslogd)" -n -f "$d/rsyslog/rsyslog.conf" -i "$d/rsyslog/pid" </dev/null >/dev/null 2>&1 &
	rsyslog_pid=$!
	for _ in $(seq 100); do [ -S "$d/rsyslog/log" ] && break; sleep 0.05; done
	[ -S "$d/rsyslog/log" ] && syslog=1
fi

setsid unshare -pmnuiCT --mount-proc --fork sleep 3600 </dev/null >/dev/null 2>&1 &
target_pid=$!
target=
for _ in $(seq 100); do
	target=$(pgrep -P "$target_pid" | head -1 || true)
	[ -n "$target" ] && break
	sleep 0.02
done
[ -n "$target" ] || { echo "bench/audit.sh: fixture did not start" >&2; exit 1; }

cmd="$NSX enter -t $target -a true"
args=(--prepare "cp $d/off.conf /etc/nsx/nsx.conf" --prepare "cp $d/file.conf /etc/nsx/nsx.conf"
	-n "nsx enter, audit = off" -n "nsx enter, audit = file:")
cmds=("$cmd" "$cmd")
if [ -n "$syslog" ]; then
	args+=(--prepare "cp $d/syslog.conf /etc/nsx/nsx.conf" -n "nsx enter, audit = syslog (rsyslogd)")
	cmds+=("$cmd")
fi
export BENCH_MEDIANS; BENCH_MEDIANS=$d/medians
echo "## The cost of the audit trail"
echo
echo "\`nsx enter -t PID -a true\` (7 kinds) with each nsx.conf(5) setting, in one hyperfine"
echo "run: each benchmark's --prepare switches the configuration in a private mount namespace."
compare "audit = off, then the sinks" -- "${args[@]}" "${cmds[@]}"
python3 - "$BENCH_MEDIANS" "$(wc -l <"$d/audit.log")" <<'PY'
import sys
row = list(map(float, open(sys.argv[1]).read().split()))
off = row[0]
parts = [f"a file costs {row[1] - off:+.2f} ms per run"]
if len(row) > 2:
    parts.append(f"syslog {row[2] - off:+.2f} ms")
print()
print(f"Against `audit = off` ({off:.2f} ms), " + ", ".join(parts) +
      f" (two records per run; the file got {sys.argv[2]} lines).")
PY
