// nsx lives for milliseconds: sizing GOMAXPROCS from cgroup limits at start-up
// and watching them afterwards costs more than it could ever save.
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command nsx enters, lists and inspects Linux namespaces and the containers
// built from them. Invoked as nsenter or lsns it behaves as util-linux's.
package main

import (
	"os"

	"github.com/nsxproject/nsx/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
