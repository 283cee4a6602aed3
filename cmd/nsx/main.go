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
