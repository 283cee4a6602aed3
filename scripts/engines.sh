#!/usr/bin/env bash
# engines.sh — the container engines nsx's tests run against, without systemd
# and without a registry.
#
#   bash scripts/engines.sh install   Debian packages (apt-get; idempotent)
#   bash scripts/engines.sh start     containerd (with CRI), dockerd, podman's API
#                                     service; waits until each answers
#   bash scripts/engines.sh images    nsx-busybox:latest (and nsx-pause:latest for
#                                     CRI sandboxes) from busybox-static, imported
#                                     into docker, podman and containerd
#   bash scripts/engines.sh stop [containerd|dockerd|podman]
#                                     stops what start started (containers
#                                     keep running: dockerd has live-restore)
#   bash scripts/engines.sh status    says which engines answer
#
# Logs, pid files and the generated configs live in /tmp/nsx-engines. Every
# subcommand is idempotent and quiet when there is nothing to do; it runs as
# root with no stdin (CI=true).
set -euo pipefail

DIR=/tmp/nsx-engines
CONTAINERD_SOCK=/run/containerd/containerd.sock
DOCKER_SOCK=/var/run/docker.sock
PODMAN_SOCK=/run/podman/podman.sock
PAUSE_REF=docker.io/library/nsx-pause:latest

PKGS=(docker.io containerd runc podman conmon busybox-static hyperfine iptables
	containernetworking-plugins catatonit curl util-linux)

log() { printf 'engines: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root"
}

# ---------------------------------------------------------------- install

cmd_install() {
	need_root
	local missing=() p
	for p in "${PKGS[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		# No init system here: keep maintainer scripts from starting daemons
		# (start does that, with the flags the tests need).
		local policy=/usr/sbin/policy-rc.d made_policy=
		if [ ! -e "$policy" ]; then
			printf '#!/bin/sh\nexit 101\n' >"$policy"
			chmod 755 "$policy"
			made_policy=1
		fi
		apt-get update -qq >/dev/null
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
		[ -z "$made_policy" ] || rm -f "$policy"
	fi
	write_configs
}

# Configuration files the engines read. containerd gets its own file passed
# with --config; podman reads a drop-in from containers.conf.d.
write_configs() {
	mkdir -p "$DIR" /etc/containers/containers.conf.d
	cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.grpc.v1.cri"]
  # No registry is reachable: the pause image is built by 'images'.
  sandbox_image = "$PAUSE_REF"
  # Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj below ours.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
EOF
	# Podman without systemd: cgroupfs and file events. crun refuses hybrid
	# cgroup hierarchies, runc does not. Without CAP_SYS_RESOURCE the
	# container's rlimits may not exceed ours.
	local nofile nproc
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	[ "$nofile" = unlimited ] && nofile=1048576
	# conmon runs with RLIMIT_NPROC 32768 here, and runc may not raise it.
	if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
	cat >/etc/containers/containers.conf.d/50-nsx.conf <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
	if [ ! -e /etc/containers/policy.json ]; then
		cat >/etc/containers/policy.json <<'EOF'
{"default": [{"type": "insecureAcceptAnything"}]}
EOF
	fi
}

# ---------------------------------------------------------------- start

containerd_up() { ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }
docker_up() { curl -sf --max-time 2 --unix-socket "$DOCKER_SOCK" http://d/_ping >/dev/null 2>&1; }
podman_up() { curl -sf --max-time 2 --unix-socket "$PODMAN_SOCK" http://d/_ping >/dev/null 2>&1; }

# wait_for NAME CHECK LOGFILE: up to 60 s.
wait_for() {
	local name=$1 check=$2 logf=$3
	for _ in $(seq 1 300); do
		if $check; then
			return 0
		fi
		sleep 0.2
	done
	log "$name did not answer within 60 s; last lines of $logf:"
	tail -n 20 "$logf" >&2 || true
	exit 1
}

# spawn NAME LOGFILE CMD...: run CMD as a daemon in its own session, stdin
# from /dev/null, so that it outlives this script and the test run's shell.
spawn() {
	local name=$1 logf=$2
	shift 2
	setsid "$@" </dev/null >>"$logf" 2>&1 &
	echo $! >"$DIR/$name.pid"
}

start_containerd() {
	if containerd_up; then
		return
	fi
	[ -f "$DIR/containerd.toml" ] || write_configs
	log "starting containerd"
	spawn containerd "$DIR/containerd.log" containerd --config "$DIR/containerd.toml"
	wait_for containerd containerd_up "$DIR/containerd.log"
	# A dockerd that lost containerd reconnects only after a long gRPC
	# back-off: restart it (live-restore keeps its containers running).
	if docker_up; then
		log "restarting dockerd to reconnect it to containerd"
		stop_one dockerd
	fi
}

start_dockerd() {
	if docker_up; then
		return
	fi
	log "starting dockerd"
	rm -f /var/run/docker.pid
	spawn dockerd "$DIR/dockerd.log" dockerd \
		--containerd="$CONTAINERD_SOCK" \
		--host="unix://$DOCKER_SOCK" \
		--exec-opt native.cgroupdriver=cgroupfs \
		--live-restore
	wait_for dockerd docker_up "$DIR/dockerd.log"
}

start_podman() {
	if podman_up; then
		return
	fi
	[ -f /etc/containers/containers.conf.d/50-nsx.conf ] || write_configs
	log "starting podman system service"
	mkdir -p "$(dirname "$PODMAN_SOCK")"
	rm -f "$PODMAN_SOCK"
	spawn podman "$DIR/podman.log" podman system service --time=0 "unix://$PODMAN_SOCK"
	wait_for podman podman_up "$DIR/podman.log"
}

cmd_start() {
	need_root
	mkdir -p "$DIR"
	for b in containerd dockerd podman runc; do
		command -v "$b" >/dev/null || die "$b is not installed: run 'bash scripts/engines.sh install' first"
	done
	start_containerd
	start_dockerd
	start_podman
}

# ---------------------------------------------------------------- stop / status

stop_one() {
	local name=$1 pidf="$DIR/$1.pid" pid
	if [ ! -f "$pidf" ] && [ "$name" = dockerd ] && [ -f /var/run/docker.pid ]; then
		pidf=/var/run/docker.pid
	fi
	if [ ! -f "$pidf" ]; then
		case $name in
		containerd) ! containerd_up || die "containerd answers but was not started by this script" ;;
		dockerd) ! docker_up || die "dockerd answers but was not started by this script" ;;
		podman) ! podman_up || die "podman service answers but was not started by this script" ;;
		esac
		return 0
	fi
	pid=$(cat "$pidf")
	# Only the daemon itself: a stale pid file may name a reused PID.
	local comm
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	if [ "$comm" = "$name" ]; then
		log "stopping $name ($pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "$name ($pid) ignored SIGTERM for 15 s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.5
		fi
	fi
	rm -f "$pidf"
}

cmd_stop() {
	need_root
	if [ $# -gt 0 ]; then
		local d
		for d in "$@"; do
			case $d in
			containerd | dockerd | podman) stop_one "$d" ;;
			docker) stop_one dockerd ;;
			*) die "stop: unknown daemon $d (containerd, dockerd, podman)" ;;
			esac
		done
		return
	fi
	stop_one podman
	stop_one dockerd
	stop_one containerd
}

cmd_status() {
	local rc=0
	if containerd_up; then echo "containerd: up"; else echo "containerd: down"; rc=1; fi
	if docker_up; then echo "dockerd: up"; else echo "dockerd: down"; rc=1; fi
	if podman_up; then echo "podman: up"; else echo "podman: down"; rc=1; fi
	return $rc
}

# ---------------------------------------------------------------- images

# A root filesystem holding busybox-static and its applets.
build_rootfs() {
	local root=$1 a
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var}
	chmod 1777 "$root/tmp"
	# As on a distribution: /var/run is /run (a container that mounts the
	# host's /run finds the engines' sockets at their usual paths).
	ln -s ../run "$root/var/run"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	: >"$root/etc/hosts"
	: >"$root/etc/resolv.conf"
}

docker_has() { docker image inspect "$1" >/dev/null 2>&1; }
ctr_has() { ctr --address "$CONTAINERD_SOCK" -n "$1" images ls -q 2>/dev/null | grep -qx "$2"; }

cmd_images() {
	need_root
	command -v docker >/dev/null || die "docker is not installed"
	docker_up || die "dockerd does not answer: run 'bash scripts/engines.sh start' first"
	containerd_up || die "containerd does not answer: run 'bash scripts/engines.sh start' first"
	[ -x /bin/busybox ] || die "/bin/busybox is missing: install busybox-static"
	mkdir -p "$DIR"

	if ! docker_has nsx-busybox:latest || ! docker_has nsx-pause:latest; then
		log "building nsx-busybox:latest and nsx-pause:latest"
		build_rootfs "$DIR/rootfs"
		tar -C "$DIR/rootfs" -c . >"$DIR/rootfs.tar"
		docker import -c 'CMD ["/bin/sh"]' "$DIR/rootfs.tar" nsx-busybox:latest >/dev/null
		# The pause container of a CRI pod sandbox: sleeps until killed and
		# exits on TERM or INT.
		docker import \
			-c 'ENTRYPOINT ["/bin/sh", "-c", "trap \"exit 0\" TERM INT; sleep 2147483647 & wait"]' \
			"$DIR/rootfs.tar" nsx-pause:latest >/dev/null
	fi

	local ns
	for ns in default k8s.io; do
		if ! ctr_has "$ns" docker.io/library/nsx-busybox:latest || ! ctr_has "$ns" "$PAUSE_REF"; then
			log "importing into containerd namespace $ns"
			docker save nsx-busybox:latest nsx-pause:latest |
				ctr --address "$CONTAINERD_SOCK" -n "$ns" images import - >/dev/null
		fi
	done

	if ! podman image exists nsx-busybox:latest 2>/dev/null; then
		log "loading into podman"
		docker save nsx-busybox:latest | podman load -q >/dev/null
	fi
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop)
	shift
	cmd_stop "$@"
	;;
status) cmd_status ;;
images) cmd_images ;;
*)
	echo "usage: $0 install|start|images|stop|status" >&2
	exit 2
	;;
esac
