package nsenter

import (
	"bytes"
	"errors"
	"strconv"
)

// Output runs the program and returns its standard output, as
// exec.Cmd.Output. When Stderr is nil, the program's standard error is
// kept (its first and last 32 KiB) in the *ExitError's Stderr.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("nsenter: Stdout already set")
	}
	var stdout bytes.Buffer
	c.Stdout = &stdout
	var stderr *headTail
	if c.Stderr == nil {
		stderr = &headTail{keep: 32 << 10}
		c.Stderr = stderr
	}
	err := c.Run()
	var ee *ExitError
	if stderr != nil && errors.As(err, &ee) {
		ee.Stderr = stderr.Bytes()
	}
	return stdout.Bytes(), err
}

// CombinedOutput runs the program and returns its standard output and
// standard error together, in the order it wrote them, as
// exec.Cmd.CombinedOutput.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("nsenter: Stdout already set")
	}
	if c.Stderr != nil {
		return nil, errors.New("nsenter: Stderr already set")
	}
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out // one pipe: see sameWriter
	err := c.Run()
	return out.Bytes(), err
}

// headTail keeps the first and the last keep bytes written to it, so that a
// program that writes without end cannot exhaust memory through an error
// message.
type headTail struct {
	keep    int
	head    []byte
	tail    []byte // a ring of up to keep bytes once head is full
	tailAt  int    // where the ring's oldest byte is
	dropped int64  // bytes between head and tail that were not kept
}

func (h *headTail) Write(p []byte) (int, error) {
	n := len(p)
	if room := h.keep - len(h.head); room > 0 {
		take := min(room, len(p))
		h.head = append(h.head, p[:take]...)
		p = p[take:]
	}
	if len(p) > h.keep {
		h.dropped += int64(len(h.tail) + len(p) - h.keep)
		h.tail = append(h.tail[:0], p[len(p)-h.keep:]...)
		h.tailAt = 0
		return n, nil
	}
	for len(p) > 0 {
		if len(h.tail) < h.keep {
			take := min(h.keep-len(h.tail), len(p))
			h.tail = append(h.tail, p[:take]...)
			p = p[take:]
			continue
		}
		m := copy(h.tail[h.tailAt:], p)
		h.tailAt = (h.tailAt + m) % h.keep
		h.dropped += int64(m)
		p = p[m:]
	}
	return n, nil
}

// Bytes returns what was kept, with a line saying how much was left out.
func (h *headTail) Bytes() []byte {
	out := append([]byte(nil), h.head...)
	if h.dropped > 0 {
		out = append(out, "\n... omitting "+strconv.FormatInt(h.dropped, 10)+" bytes ...\n"...)
	}
	out = append(out, h.tail[h.tailAt:]...)
	return append(out, h.tail[:h.tailAt]...)
}
