package procfs

import (
	"strconv"
	"strings"
)

// IDMapRange is one line of /proc/PID/uid_map or gid_map: Count IDs starting
// at Inside in the process's user namespace are Outside… in the reader's.
type IDMapRange struct {
	Inside  uint32
	Outside uint32
	Count   uint32
}

// IDMap is a parsed uid_map or gid_map. An empty map means that no ID is
// mapped (a user namespace whose map was never written).
type IDMap []IDMapRange

// ParseIDMap parses the text of a uid_map or gid_map file.
func ParseIDMap(text string) (IDMap, error) {
	var m IDMap
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, ErrFormat
		}
		var v [3]uint32
		for i, s := range f {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, ErrFormat
			}
			v[i] = uint32(n)
		}
		if v[2] == 0 || uint64(v[0])+uint64(v[2]) > 1<<32 || uint64(v[1])+uint64(v[2]) > 1<<32 {
			return nil, ErrFormat
		}
		m = append(m, IDMapRange{Inside: v[0], Outside: v[1], Count: v[2]})
	}
	return m, nil
}

// ToInside maps an ID of the reader's namespace into the map's namespace.
func (m IDMap) ToInside(id uint32) (uint32, bool) {
	for _, r := range m {
		if id >= r.Outside && uint64(id) < uint64(r.Outside)+uint64(r.Count) {
			return r.Inside + (id - r.Outside), true
		}
	}
	return 0, false
}

// ReadIDMap reads /proc/PID/uid_map (name "uid_map") or gid_map.
func ReadIDMap(pid int, name string) (IDMap, error) {
	b, err := ReadSmall(Root + "/" + strconv.Itoa(pid) + "/" + name)
	if err != nil {
		return nil, err
	}
	return ParseIDMap(string(b))
}
