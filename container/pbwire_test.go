package container

// pbAppendMapEntry appends one entry of a map<string,string> field. Only
// the tests build such maps (label selectors, filters); nsx never sends one.
func pbAppendMapEntry(b []byte, num int, k, v string) []byte {
	var e []byte
	e = pbAppendString(e, 1, k)
	e = pbAppendString(e, 2, v)
	return pbAppendMessage(b, num, e)
}
