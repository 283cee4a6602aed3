package namespace

import "testing"

func TestTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	var all Set
	for _, k := range All {
		if seen[k.ProcName()] {
			t.Errorf("%s listed twice", k)
		}
		seen[k.ProcName()] = true
		if got, err := Parse(k.ProcName()); err != nil || got != k {
			t.Errorf("Parse(%q) = %v, %v", k.ProcName(), got, err)
		}
		all = all.Add(k)
	}
	if all != AllKinds || len(all.Kinds()) != 8 {
		t.Errorf("AllKinds = %v", AllKinds)
	}
	if got, _ := Parse("mount"); got != Mount {
		t.Error("Parse(mount)")
	}
	if _, err := Parse("bogus"); err == nil || err.Error() != "unknown namespace type: bogus" {
		t.Errorf("Parse(bogus): %v", err)
	}
	if User.ThreadJoinable() || Time.ThreadJoinable() || !Net.ThreadJoinable() {
		t.Error("ThreadJoinable")
	}
}

func TestKindOfRefusesNonNamespaceFiles(t *testing.T) {
	kindOfPath := func(path string) (Kind, error) {
		f, err := OpenFile(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return KindOf(int(f.Fd()))
	}
	if k, err := kindOfPath("/proc/self/ns/net"); err != nil || k != Net {
		t.Errorf("net: %v, %v", k, err)
	}
	if _, err := kindOfPath("/etc/passwd"); err == nil {
		t.Error("/etc/passwd accepted as a namespace")
	}
}

func TestAllKindsIsAll(t *testing.T) {
	if AllKinds != SetOf(All[:]...) {
		t.Errorf("AllKinds %#x, All makes %#x", uint32(AllKinds), uint32(SetOf(All[:]...)))
	}
	for _, k := range All {
		if _, ok := infoOf(k); !ok {
			t.Errorf("%#x has no row", uint32(k))
		}
	}
}
