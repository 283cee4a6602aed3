package nsenter

import (
	"github.com/nsxproject/nsx/internal/audit"
)

// auditMode is what the record calls this kind of entry.
func auditMode(o *Options) string {
	if o.Debug != nil {
		if o.Debug.Writable {
			return audit.ModeDebugRW
		}
		return audit.ModeDebug
	}
	if o.ReadOnly {
		return audit.ModeReadOnly
	}
	return audit.ModeEnter
}

// auditStart writes the start record of a run when Options.Audit asks for
// one. The namespace inodes come from the same pinned target and files the
// join uses; an error means the run must not go on.
func (c *Cmd) auditStart(b *build, inPlace bool) error {
	if !c.Options.Audit {
		return nil
	}
	cfg, err := audit.LoadConfig()
	if err != nil {
		return err
	}
	if cfg.Sink == audit.SinkOff {
		return nil
	}
	b.readIDs()
	info := audit.Info{
		Mode:        auditMode(&c.Options),
		Pidfd:       -1,
		Namespaces:  map[string]uint64{},
		Program:     b.spec.Path,
		Argv:        b.spec.Argv,
		ExecInPlace: inPlace,
	}
	for _, s := range b.plan.Steps {
		if s.ID != 0 {
			info.Namespaces[s.Kind.ProcName()] = uint64(s.ID)
		}
	}
	if t := c.Target; t != nil {
		info.Target, info.PID, info.Pidfd = t.Ref().String(), t.PID(), t.Pidfd()
		if f := t.Container(); f != nil {
			info.Container = &audit.Container{Runtime: f.Runtime, Name: f.Name, ID: f.ID}
		}
	}
	run, err := cfg.Begin(info)
	if err != nil {
		return err
	}
	c.auditRun = run
	return nil
}

// auditFailed writes the end record of a run whose program never started.
func (c *Cmd) auditFailed(err error) {
	c.auditRun.EndError(exitCode(err), err)
}
