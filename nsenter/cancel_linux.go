package nsenter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nsxproject/nsx/target"
)

// CommandContext is Command with a context, as exec.CommandContext: when
// ctx is done before the program ends, Cancel is called (by default the
// program is killed with SIGKILL), and Start with a ctx already done enters
// nothing and fails with ctx's error.
//
// When the program runs under a relaying process (a PID namespace that
// could only be entered after the fork), SIGKILL ends the relay, and the
// kernel then kills the program too (SIGKILL is its parent-death signal).
// To let the program clean up, set Cancel to send SIGTERM through
// c.Process.Signal, which the relay forwards, with a WaitDelay as a bound.
func CommandContext(ctx context.Context, t *target.Pinned, opts Options, name string, args ...string) *Cmd {
	if ctx == nil {
		panic("nsenter: CommandContext with a nil Context")
	}
	c := Command(t, opts, name, args...)
	c.ctx = ctx
	return c
}

// checkCtx refuses to start with a context that is done, or a Cancel
// without a context to call it.
func (c *Cmd) checkCtx() error {
	if c.ctx == nil {
		if c.Cancel != nil {
			return errors.New("nsenter: Cmd.Cancel set on a Cmd not made by CommandContext")
		}
		return nil
	}
	return c.ctx.Err()
}

// watchCtx starts watching the context of a started program: once it is
// done, Cancel runs, and after WaitDelay the program is killed if it still
// runs. Wait ends the watch with endCtxWatch.
func (c *Cmd) watchCtx() {
	if c.ctx == nil || c.ctx.Done() == nil {
		return // no context, or one that can never be done
	}
	stop, result := make(chan struct{}), make(chan error, 1)
	c.ctxStop, c.ctxResult = stop, result
	ctx, cancel, delay, proc := c.ctx, c.Cancel, c.WaitDelay, c.Process
	if cancel == nil {
		cancel = proc.Kill
	}
	go func() {
		select {
		case <-stop:
			result <- nil
			return
		case <-ctx.Done():
		}
		var err error
		switch cerr := cancel(); {
		case cerr == nil:
			// The program was told to stop: what it does now may be
			// ctx's doing.
			err = ctx.Err()
		case errors.Is(cerr, os.ErrProcessDone):
			// It ended first; Wait has not collected it yet.
		default:
			err = fmt.Errorf("nsenter: canceling Cmd: %w", cerr)
		}
		if delay > 0 {
			timer := time.NewTimer(delay)
			select {
			case <-stop:
				timer.Stop()
			case <-timer.C:
				proc.Kill()
			}
		}
		result <- err
	}()
}

// endCtxWatch stops the watch once the program is collected and returns its
// verdict.
func (c *Cmd) endCtxWatch() error {
	if c.ctxStop == nil {
		return nil
	}
	close(c.ctxStop)
	return <-c.ctxResult
}
