package container

// A client for the Docker Engine API, which podman also serves (its
// "compat" endpoints): container inspect and list, nothing else. It is
// hand-written over a minimal HTTP/1.1 client (httpwire.go) so that the
// docker: path costs one round trip and nsx links neither net/http nor any
// third-party module. TLS endpoints (tcp:// with DOCKER_TLS_VERIFY) are not
// supported: a daemon worth entering containers of is on this host, behind
// its unix socket.
//
// Version negotiation: the first request uses the unversioned path, which
// every daemon serves at its own API version. A daemon that refuses it
// (newer daemons may drop unversioned paths, or reject the version a path
// implies) answers 400 or 404 with its version in the Api-Version header;
// the request is then retried once under /v<that version>/. DOCKER_API_VERSION
// pins the version instead.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nsxproject/nsx/internal/inet"
)

// engineAPI talks to one Docker-API endpoint.
type engineAPI struct {
	runtime  string // "docker" or "podman", for messages
	endpoint string // as configured, e.g. unix:///var/run/docker.sock
	network  string // "unix" or "tcp"
	addr     string // socket path or host:port
	version  string // pinned API version ("1.41"), or ""
}

// apiError is a non-2xx reply.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
}

// parseEngineHost splits a DOCKER_HOST/CONTAINER_HOST value.
func parseEngineHost(host string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(host, "/"):
		return "unix", host, nil
	case strings.HasPrefix(host, "unix://"):
		p := strings.TrimPrefix(host, "unix://")
		if p == "" {
			return "", "", fmt.Errorf("%s: no socket path", host)
		}
		return "unix", p, nil
	case strings.HasPrefix(host, "tcp://"):
		// The authority of the URL: what follows "tcp://" up to a path,
		// query or fragment.
		addr := strings.TrimPrefix(host, "tcp://")
		if i := strings.IndexAny(addr, "/?#"); i >= 0 {
			addr = addr[:i]
		}
		if addr == "" || strings.ContainsAny(addr, "@ %") {
			return "", "", fmt.Errorf("%s: bad address", host)
		}
		return "tcp", addr, nil
	case strings.HasPrefix(host, "ssh://"):
		return "", "", fmt.Errorf("%s: ssh endpoints are not supported: a remote daemon's PIDs are not this host's", host)
	}
	return "", "", fmt.Errorf("%s: unsupported endpoint (want unix:// or tcp://)", host)
}

func newEngineAPI(runtime, endpoint string) (*engineAPI, error) {
	network, addr, err := parseEngineHost(endpoint)
	if err != nil {
		return nil, err
	}
	if network == "tcp" && runtime == "docker" && (getenv("DOCKER_TLS_VERIFY") != "" || getenv("DOCKER_TLS") != "") {
		return nil, fmt.Errorf("%s: TLS endpoints are not supported (use the daemon's unix socket)", endpoint)
	}
	return &engineAPI{runtime: runtime, endpoint: endpoint, network: network, addr: addr}, nil
}

func (a *engineAPI) close() {}

// where names the endpoint in messages.
func (a *engineAPI) where() string {
	if a.network == "unix" {
		return a.addr
	}
	return a.endpoint
}

// get performs GET path and returns the body of a 2xx reply. Non-2xx
// replies are *apiError; transport failures are returned as they come.
func (a *engineAPI) get(ctx context.Context, path string) ([]byte, error) {
	prefix := ""
	if a.version != "" {
		prefix = "/v" + a.version
	}
	body, hdr, err := a.do(ctx, prefix+path)
	if err == nil || prefix != "" {
		return body, err
	}
	var ae *apiError
	if errors.As(err, &ae) && (ae.Status == 400 || ae.Status == 404) && versionRefusal(ae.Message) {
		if v := hdr["api-version"]; v != "" && validAPIVersion(v) {
			body, _, err = a.do(ctx, "/v"+v+path)
		}
	}
	return body, err
}

// versionRefusal reports a reply that refuses the request's API version
// rather than the thing asked for.
func versionRefusal(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "version") || strings.Contains(m, "page not found")
}

func validAPIVersion(v string) bool {
	maj, min, ok := strings.Cut(v, ".")
	return ok && isDigits(maj) && isDigits(min)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxEngineReply bounds a reply body (a container list on a busy host is a
// few megabytes).
const maxEngineReply = 64 << 20

func (a *engineAPI) do(ctx context.Context, path string) ([]byte, map[string]string, error) {
	host := a.runtime
	if a.network == "tcp" {
		host = a.addr
	}
	r, err := h1Get(ctx, a.network, a.addr, host, path, maxEngineReply)
	if err != nil {
		return nil, nil, err
	}
	if r.Status/100 != 2 {
		return nil, r.Header, &apiError{Status: r.Status, Message: engineMessage(r.Body)}
	}
	return r.Body, r.Header, nil
}

// engineMessage extracts "message" from an error body.
func engineMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return oneLine(m.Message)
	}
	s := oneLine(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// engineContainer is the part of GET /containers/{id}/json the resolver
// uses; Docker and podman's compat endpoint give the same shape.
type engineContainer struct {
	ID    string `json:"Id"`
	Name  string `json:"Name"`
	State struct {
		Status     string
		Running    bool
		Paused     bool
		Restarting bool
		Dead       bool
		Pid        int
		ExitCode   int
		Error      string
	}
}

func parseEngineContainer(b []byte) (*engineContainer, error) {
	var c engineContainer
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if c.ID == "" {
		return nil, errors.New("inspect reply without Id")
	}
	return &c, nil
}

func (a *engineAPI) inspect(ctx context.Context, ref string) (*engineContainer, error) {
	body, err := a.get(ctx, "/containers/"+inet.PathEscape(ref)+"/json")
	if err != nil {
		return nil, err
	}
	c, err := parseEngineContainer(body)
	if err != nil {
		return nil, fmt.Errorf("%s API: %v", a.runtime, err)
	}
	return c, nil
}

// engineListItem is one element of GET /containers/json.
type engineListItem struct {
	ID    string   `json:"Id"`
	Names []string `json:"Names"`
	State string   `json:"State"`
}

func parseEngineList(b []byte) ([]engineListItem, error) {
	var l []engineListItem
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	return l, nil
}

func (a *engineAPI) list(ctx context.Context) ([]engineListItem, error) {
	body, err := a.get(ctx, "/containers/json?all=1")
	if err != nil {
		return nil, err
	}
	return parseEngineList(body)
}

// isAmbiguousReply recognises Docker's and podman's answers to an ID
// prefix that matches several containers.
func isAmbiguousReply(err error) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return false
	}
	m := strings.ToLower(ae.Message)
	return strings.Contains(m, "multiple ids found") || strings.Contains(m, "more than one result") || strings.Contains(m, "ambiguous")
}

func isNoSuchReply(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == 404 && !isAmbiguousReply(err) && !versionRefusal(ae.Message)
}

// engineName strips the leading '/' Docker puts on names.
func engineName(n string) string { return strings.TrimPrefix(n, "/") }

// candidatesByPrefix lists, for an ambiguity error, the containers whose ID
// starts with prefix.
func (a *engineAPI) candidatesByPrefix(ctx context.Context, prefix string) []string {
	l, err := a.list(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range l {
		if strings.HasPrefix(c.ID, prefix) {
			name := ""
			if len(c.Names) > 0 {
				name = engineName(c.Names[0])
			}
			out = append(out, candidateRef(a.runtime, name, c.ID))
		}
	}
	sortStrings(out)
	return out
}

// engineAmbiguous is the error for an ID prefix the daemon called
// ambiguous; the daemon's own words when the candidates cannot be listed.
func engineAmbiguous(ref, prefix string, reply error, cands []string) error {
	if len(cands) < 2 {
		msg := "several containers match"
		var ae *apiError
		if errors.As(reply, &ae) {
			msg = ae.Message
		}
		return newErr(ref, ErrAmbiguous, "ambiguous ID prefix "+prefix+": "+msg)
	}
	return ambiguous(ref, "ID prefix "+prefix, cands)
}

// candidateRef formats a candidate for an ambiguity message:
// "docker:web1 (3f2a9c1b4d5e)".
func candidateRef(runtime, name, id string) string {
	if name == "" {
		return runtime + ":" + shortID(id)
	}
	return runtime + ":" + name + " (" + shortID(id) + ")"
}

// engineStateError turns a non-running inspect state into the precise
// error users get.
func engineStateError(ref string, c *engineContainer, how string) error {
	s := c.State
	var d string
	switch {
	case s.Paused || s.Status == "paused":
		d = "container is paused (unpause it first)"
	case s.Restarting || s.Status == "restarting":
		d = "container is restarting"
	case s.Dead || s.Status == "dead":
		d = "container is dead"
	case s.Status == "created" || s.Status == "configured" || s.Status == "initialized":
		d = "container is created but not running"
	case s.Status == "removing":
		d = "container is being removed"
	case s.Status == "exited" || s.Status == "stopped" || !s.Running:
		d = fmt.Sprintf("container has exited (exit code %d)", s.ExitCode)
	default:
		return nil
	}
	if s.Error != "" {
		d += ": " + s.Error
	}
	return newErr(ref, ErrNotRunning, d+how)
}

// transportError classifies a failure to reach a daemon: ErrPermission for
// EACCES/EPERM on the socket, ErrUnreachable otherwise.
func transportError(err error) error {
	if errors.Is(err, os.ErrPermission) {
		return ErrPermission
	}
	return ErrUnreachable
}

// describeTransport says briefly why a daemon could not be reached.
func describeTransport(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no socket"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.Is(err, errHTTP) || errors.Is(err, errH2):
		return "not speaking the expected protocol"
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var de *dialError
	if errors.As(err, &de) && de.err != nil {
		return de.err.Error()
	}
	return err.Error()
}
