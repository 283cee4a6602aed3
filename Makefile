# nsx: one static binary; see README.md.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/nsxproject/nsx/internal/cli.Version=$(VERSION)
KUBECTL_LDFLAGS := -s -w -X github.com/nsxproject/nsx/internal/kubectl.Version=$(VERSION)
# The helper image kubectl-nsx uses by default (--image): only the nsx binary.
IMAGE   := ghcr.io/nsxproject/nsx:$(VERSION)
export CGO_ENABLED := 0

.PHONY: build debug-build run test test-deps engines unit lint bench fuzz clean image k8s-up k8s-down

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/nsx ./cmd/nsx
	ln -sf nsx $(BIN)/nsenter
	ln -sf nsx $(BIN)/lsns
	ln -sf nsx $(BIN)/unshare
	$(GO) build -trimpath -ldflags '$(KUBECTL_LDFLAGS)' -o $(BIN)/kubectl-nsx ./cmd/kubectl-nsx

# The unoptimised build a debugger needs. The raw-clone child must fit the
# linker's nosplit stack budget without optimisation too, so CI links it.
debug-build:
	$(GO) build -gcflags='all=-N -l' -o $(BIN)/nsx-debug ./cmd/nsx

# A self-contained demo: no container engine needed.
run: build
	bash scripts/demo.sh $(BIN)/nsx

# Installs what the tests need (Debian packages, container engines) and runs
# every test. Meant for a root shell on a fresh machine, as CI runs it.
test: engines build debug-build k8s-up image
	$(GO) vet ./...
	# The cluster goes down whatever the tests did: the kubelet's sysctls,
	# iptables chains and cgroups are not left on the host.
	$(GO) test -count=1 -timeout 30m ./...; rc=$$?; bash scripts/k8s.sh down; exit $$rc

test-deps:
	bash scripts/test-deps.sh

# dockerd, containerd (with CRI) and podman, started without systemd, with a
# busybox image imported: there is no registry.
engines: test-deps
	bash scripts/engines.sh install
	bash scripts/engines.sh start
	bash scripts/engines.sh images

# The helper image of kubectl-nsx, from scratch: the static nsx binary and
# nothing else, built with the local docker (there is no registry) and, when
# the test cluster runs, imported into its containerd.
image: build
	bash scripts/k8s.sh image $(BIN)/nsx $(IMAGE)

# A real single-node Kubernetes (etcd, kube-apiserver, kubelet v1.37.2 built
# from the module proxy) for kubectl-nsx's tests; see scripts/k8s.sh.
k8s-up: engines
	bash scripts/k8s.sh up

k8s-down:
	bash scripts/k8s.sh down

# Tests that need no root and no engines.
unit:
	$(GO) test -count=1 -short ./...

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

fuzz:
	$(GO) test -run XXX -fuzz FuzzParse -fuzztime 30s ./internal/getopt/

bench: engines build k8s-up
	# As for test: the cluster goes down whatever the bench did.
	bash bench/run.sh $(BIN)/nsx > docs/benchmarks.md; rc=$$?; bash scripts/k8s.sh down; exit $$rc
	cat docs/benchmarks.md

clean:
	rm -rf $(BIN)
