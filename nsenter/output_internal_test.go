package nsenter

import (
	"bytes"
	"strings"
	"testing"
)

func TestHeadTailKeepsBothEnds(t *testing.T) {
	for _, chunk := range []int{1, 3, 7, 10, 100} {
		h := &headTail{keep: 10}
		var all bytes.Buffer
		for i := 0; i < 57; i += chunk {
			p := []byte(strings.Repeat(string(rune('a'+i%26)), min(chunk, 57-i)))
			for j := range p {
				p[j] = byte('a' + (i+j)%26)
			}
			all.Write(p)
			h.Write(p)
		}
		b := all.Bytes()
		want := string(b[:10]) + "\n... omitting 37 bytes ...\n" + string(b[len(b)-10:])
		if got := string(h.Bytes()); got != want {
			t.Errorf("chunks of %d: %q, want %q", chunk, got, want)
		}
	}
	h := &headTail{keep: 10}
	h.Write([]byte("short"))
	h.Write([]byte("-and-more"))
	if got := string(h.Bytes()); got != "short-and-more" {
		t.Errorf("under 2*keep: %q", got)
	}
}
