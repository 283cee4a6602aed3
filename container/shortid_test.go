package container

import "testing"

func TestContainerShortID(t *testing.T) {
	for _, c := range []struct {
		c    *Container
		want string
	}{
		{&Container{ID: "0123456789abcdef0123"}, "0123456789ab"},
		{&Container{ID: "nsx-sample-with-a-long-name"}, "nsx-sample-with-a-long-name"}, // a containerd ID that is a name
		{&Container{ID: "abc"}, "abc"},
		{nil, ""},
	} {
		if got := c.c.ShortID(); got != c.want {
			t.Errorf("ShortID of %+v = %q, want %q", c.c, got, c.want)
		}
	}
}
