package target

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]Ref{
		"4242":             {PID: 4242},
		"4242:77":          {PID: 4242, Inode: 77},
		"/run/netns/blue":  {Path: "/run/netns/blue"},
		"docker:web1":      {Container: "docker:web1"},
		"web1":             {Container: "web1"},
		"cri:ns/pod/ctr":   {Container: "cri:ns/pod/ctr"},
		"containerd:a/b/c": {Container: "containerd:a/b/c"},
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "12abc", "-5", "4242:", "4242:x"} {
		if r, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, r)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "1:2", "/x", "docker:a", "a", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		n := 0
		for _, set := range []bool{r.PID != 0, r.Path != "", r.Container != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("Parse(%q) = %+v: not exactly one kind of target", s, r)
		}
		if r.PID < 0 {
			t.Fatalf("Parse(%q): negative PID", s)
		}
	})
}
