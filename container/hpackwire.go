package container

// HPACK (RFC 7541) for the gRPC client: header blocks of requests are
// encoded, header blocks of replies decoded. Written here rather than
// taken from golang.org/x/net/http2/hpack because that package builds its
// static-table maps in its init, which every nsx command ran at start-up
// (~45 µs under inittrace) for the few commands that talk to containerd.
//
// The encoder sends every field as a literal without indexing and without
// Huffman coding, so it keeps no table. The decoder implements all of
// RFC 7541 §6: the static and dynamic tables, size updates and Huffman
// strings, whose decoding tables are built on first use.

import (
	"errors"
	"sync"
)

// hpackField is one decoded header field.
type hpackField struct {
	Name, Value string
}

var errHPACK = errors.New("hpack: malformed header block")

// hpackMaxString bounds one decoded string, as a server could announce any
// length.
const hpackMaxString = 1 << 20

// appendHPACKField appends name: value as a literal header field without
// indexing, with a new name (RFC 7541 §6.2.2), strings not Huffman-coded.
func appendHPACKField(b []byte, name, value string) []byte {
	b = append(b, 0)
	b = appendHPACKString(b, name)
	return appendHPACKString(b, value)
}

func appendHPACKString(b []byte, s string) []byte {
	b = appendHPACKInt(b, 0, 7, uint64(len(s)))
	return append(b, s...)
}

// appendHPACKInt appends v with an n-bit prefix whose other bits are
// those of first (RFC 7541 §5.1).
func appendHPACKInt(b []byte, first byte, n uint, v uint64) []byte {
	max := uint64(1)<<n - 1
	if v < max {
		return append(b, first|byte(v))
	}
	b = append(b, first|byte(max))
	for v -= max; v >= 0x80; v >>= 7 {
		b = append(b, byte(v)|0x80)
	}
	return append(b, byte(v))
}

// appendHPACKTableSizeZero appends a dynamic table size update to 0: the
// encoder keeps no table, and says so when the server lowers the size its
// decoder allows (RFC 7541 §4.2 wants an update after such a change).
func appendHPACKTableSizeZero(b []byte) []byte { return append(b, 0x20) }

// hpackDecoder decodes the header blocks of one connection's replies.
type hpackDecoder struct {
	limit   int          // the table size we allowed (SETTINGS_HEADER_TABLE_SIZE)
	maxSize int          // the size the server's encoder last chose
	size    int          // bytes in dyn, counted as RFC 7541 §4.1 does
	dyn     []hpackField // oldest first
}

func newHPACKDecoder(limit int) *hpackDecoder {
	return &hpackDecoder{limit: limit, maxSize: limit}
}

// decode returns the fields of one complete header block.
func (d *hpackDecoder) decode(p []byte) ([]hpackField, error) {
	var out []hpackField
	for len(p) > 0 {
		b := p[0]
		var err error
		switch {
		case b&0x80 != 0: // indexed field
			var idx uint64
			if idx, p, err = hpackInt(p, 7); err != nil {
				return nil, err
			}
			f, ok := d.field(idx)
			if !ok {
				return nil, errHPACK
			}
			out = append(out, f)
		case b&0xe0 == 0x20: // dynamic table size update
			if len(out) > 0 {
				return nil, errHPACK // only at the start of a block
			}
			var v uint64
			if v, p, err = hpackInt(p, 5); err != nil {
				return nil, err
			}
			if v > uint64(d.limit) {
				return nil, errHPACK
			}
			d.maxSize = int(v)
			d.evict(0)
		default: // literals: with incremental indexing (01), without (0000), never indexed (0001)
			index := b&0xc0 == 0x40
			prefix := uint(4)
			if index {
				prefix = 6
			}
			var idx uint64
			if idx, p, err = hpackInt(p, prefix); err != nil {
				return nil, err
			}
			var f hpackField
			if idx == 0 {
				if f.Name, p, err = hpackString(p); err != nil {
					return nil, err
				}
			} else {
				named, ok := d.field(idx)
				if !ok {
					return nil, errHPACK
				}
				f.Name = named.Name
			}
			if f.Value, p, err = hpackString(p); err != nil {
				return nil, err
			}
			if index {
				d.add(f)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// field returns the entry at idx of the static table followed by the
// dynamic one, newest first (RFC 7541 §2.3.3).
func (d *hpackDecoder) field(idx uint64) (hpackField, bool) {
	switch {
	case idx == 0:
		return hpackField{}, false
	case idx <= uint64(len(hpackStatic)):
		e := hpackStatic[idx-1]
		return hpackField{e[0], e[1]}, true
	}
	i := idx - uint64(len(hpackStatic)) - 1
	if i >= uint64(len(d.dyn)) {
		return hpackField{}, false
	}
	return d.dyn[len(d.dyn)-1-int(i)], true
}

func entrySize(f hpackField) int { return len(f.Name) + len(f.Value) + 32 }

// add inserts f, evicting the oldest entries to make room; an entry larger
// than the table empties it and is not kept (RFC 7541 §4.4).
func (d *hpackDecoder) add(f hpackField) {
	n := entrySize(f)
	if n > d.maxSize {
		d.dyn, d.size = d.dyn[:0], 0
		return
	}
	d.evict(n)
	d.dyn = append(d.dyn, f)
	d.size += n
}

// evict drops the oldest entries until room more bytes fit.
func (d *hpackDecoder) evict(room int) {
	drop := 0
	for d.size+room > d.maxSize && drop < len(d.dyn) {
		d.size -= entrySize(d.dyn[drop])
		drop++
	}
	if drop > 0 {
		d.dyn = append(d.dyn[:0], d.dyn[drop:]...)
	}
}

// hpackInt decodes an integer with an n-bit prefix (RFC 7541 §5.1).
func hpackInt(p []byte, n uint) (uint64, []byte, error) {
	if len(p) == 0 {
		return 0, nil, errHPACK
	}
	max := uint64(1)<<n - 1
	v := uint64(p[0]) & max
	p = p[1:]
	if v < max {
		return v, p, nil
	}
	for shift := uint(0); ; shift += 7 {
		if len(p) == 0 || shift > 28 {
			return 0, nil, errHPACK // truncated, or beyond what any field needs
		}
		b := p[0]
		p = p[1:]
		v += uint64(b&0x7f) << shift
		if b&0x80 == 0 {
			return v, p, nil
		}
	}
}

// hpackString decodes a string literal (RFC 7541 §5.2).
func hpackString(p []byte) (string, []byte, error) {
	if len(p) == 0 {
		return "", nil, errHPACK
	}
	huffman := p[0]&0x80 != 0
	n, p, err := hpackInt(p, 7)
	if err != nil {
		return "", nil, err
	}
	if n > uint64(len(p)) || n > hpackMaxString {
		return "", nil, errHPACK
	}
	raw := p[:n]
	p = p[n:]
	if !huffman {
		return string(raw), p, nil
	}
	s, err := huffmanDecode(raw)
	return s, p, err
}

// huffTables are the decoding tables of the canonical Huffman code of
// RFC 7541 Appendix B: codes of one length are consecutive, in symbol
// order, so the lengths alone define them.
type huffTables struct {
	first  [31]uint32 // first code of each length
	count  [31]uint32 // codes of each length
	offset [31]uint32 // index in syms of the first symbol of each length
	syms   [257]uint16
}

var (
	huffOnce sync.Once
	huff     *huffTables
)

func huffmanTables() *huffTables {
	huffOnce.Do(func() {
		t := &huffTables{}
		for _, l := range huffmanLengths {
			t.count[l]++
		}
		code, idx := uint32(0), uint32(0)
		for l := 1; l <= 30; l++ {
			t.first[l] = code
			t.offset[l] = idx
			for s, sl := range huffmanLengths {
				if int(sl) == l {
					t.syms[idx] = uint16(s)
					idx++
				}
			}
			code = (code + t.count[l]) << 1
		}
		huff = t
	})
	return huff
}

// huffmanDecode decodes a Huffman-coded string. The padding must be the
// most significant bits of EOS (all ones) and shorter than a byte; EOS
// itself is an error (RFC 7541 §5.2).
func huffmanDecode(src []byte) (string, error) {
	t := huffmanTables()
	dst := make([]byte, 0, len(src)*8/5)
	code, n := uint32(0), 0
	for _, b := range src {
		for i := 7; i >= 0; i-- {
			code = code<<1 | uint32(b>>uint(i))&1
			n++
			if n > 30 {
				return "", errHPACK
			}
			if code >= t.first[n] && code-t.first[n] < t.count[n] {
				sym := t.syms[t.offset[n]+code-t.first[n]]
				if sym == 256 {
					return "", errHPACK
				}
				dst = append(dst, byte(sym))
				code, n = 0, 0
			}
		}
	}
	if n > 7 || code != uint32(1)<<uint(n)-1 {
		return "", errHPACK
	}
	return string(dst), nil
}

// huffmanLengths is the code length in bits of each symbol (the bytes,
// then EOS), from RFC 7541 Appendix B.
var huffmanLengths = [257]uint8{
	13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
	28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
	6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
	5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
	13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
	15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
	6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
	20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
	24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
	22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
	21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
	26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
	19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
	20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
	26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
	30,
}

// hpackStatic is the static table of RFC 7541 Appendix A (index 1 first).
var hpackStatic = [...][2]string{
	{":authority", ""}, {":method", "GET"}, {":method", "POST"}, {":path", "/"},
	{":path", "/index.html"}, {":scheme", "http"}, {":scheme", "https"},
	{":status", "200"}, {":status", "204"}, {":status", "206"}, {":status", "304"},
	{":status", "400"}, {":status", "404"}, {":status", "500"}, {"accept-charset", ""},
	{"accept-encoding", "gzip, deflate"}, {"accept-language", ""}, {"accept-ranges", ""},
	{"accept", ""}, {"access-control-allow-origin", ""}, {"age", ""}, {"allow", ""},
	{"authorization", ""}, {"cache-control", ""}, {"content-disposition", ""},
	{"content-encoding", ""}, {"content-language", ""}, {"content-length", ""},
	{"content-location", ""}, {"content-range", ""}, {"content-type", ""}, {"cookie", ""},
	{"date", ""}, {"etag", ""}, {"expect", ""}, {"expires", ""}, {"from", ""}, {"host", ""},
	{"if-match", ""}, {"if-modified-since", ""}, {"if-none-match", ""}, {"if-range", ""},
	{"if-unmodified-since", ""}, {"last-modified", ""}, {"link", ""}, {"location", ""},
	{"max-forwards", ""}, {"proxy-authenticate", ""}, {"proxy-authorization", ""},
	{"range", ""}, {"referer", ""}, {"refresh", ""}, {"retry-after", ""}, {"server", ""},
	{"set-cookie", ""}, {"strict-transport-security", ""}, {"transfer-encoding", ""},
	{"user-agent", ""}, {"vary", ""}, {"via", ""}, {"www-authenticate", ""},
}
