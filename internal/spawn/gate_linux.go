package spawn

import "context"

// waitGate returns once s.StartGate, if any, is open.
func waitGate(s *Spec) {
	if s.StartGate != nil {
		<-s.StartGate
	}
}

type startGateKey struct{}

// WithStartGate returns ctx carrying gate, for a Cmd made by
// nsenter.CommandContext: its Start then sets Spec.StartGate from it. A
// context value keeps the gate, which only nsx's command line needs, out
// of the public API.
func WithStartGate(ctx context.Context, gate <-chan struct{}) context.Context {
	return context.WithValue(ctx, startGateKey{}, gate)
}

// StartGateFrom returns the gate ctx carries, or nil.
func StartGateFrom(ctx context.Context) <-chan struct{} {
	if ctx == nil {
		return nil
	}
	gate, _ := ctx.Value(startGateKey{}).(<-chan struct{})
	return gate
}
