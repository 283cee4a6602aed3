// Command kubectl-nsx is the kubectl plugin `kubectl nsx`: it runs nsx in a
// helper pod on a pod's node to enter one of its containers. A binary of its
// own so that the Kubernetes client libraries never weigh on nsx itself.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nsxproject/nsx/internal/kubectl"
)

func main() {
	err := kubectl.Run(context.Background(), kubectl.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:])
	if err == nil {
		return
	}
	var exit *kubectl.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.Code)
	}
	fmt.Fprintf(os.Stderr, "kubectl-nsx: %s\n", err)
	if kubectl.IsUsage(err) {
		fmt.Fprintln(os.Stderr, "Try 'kubectl nsx --help' for more information.")
	}
	os.Exit(1)
}
