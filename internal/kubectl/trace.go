package kubectl

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"
)

// The plugin's time goes into a few round trips to the API server and the
// exec stream; KUBECTL_NSX_TRACE=1 prints, on stderr, when each phase and
// each HTTP request ended, counted from the process's start, so that a slow
// call can be taken apart (bench/k8s.sh's breakdown, a user's bug report).
var (
	traceOn    = os.Getenv("KUBECTL_NSX_TRACE") != ""
	traceStart = time.Now()
	traceMu    sync.Mutex
)

// tracef notes a phase's end.
func tracef(format string, a ...any) {
	if !traceOn {
		return
	}
	traceMu.Lock()
	defer traceMu.Unlock()
	fmt.Fprintf(os.Stderr, "kubectl-nsx: trace: %7.1f ms  %s\n", float64(time.Since(traceStart).Microseconds())/1000, fmt.Sprintf(format, a...))
}

// tracedTransport notes every request with its duration and protocol.
type tracedTransport struct{ next http.RoundTripper }

func (t tracedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	began := time.Now()
	resp, err := t.next.RoundTrip(req)
	took := float64(time.Since(began).Microseconds()) / 1000
	if err != nil {
		tracef("%s %s: %v (%.1f ms)", req.Method, req.URL.Path, err, took)
	} else {
		tracef("%s %s: %s %s %s (%.1f ms)", req.Method, req.URL.Path, resp.Proto, resp.Status, resp.Header.Get("Content-Type"), took)
	}
	return resp, err
}
