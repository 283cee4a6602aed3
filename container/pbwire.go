package container

// A minimal protocol-buffers wire codec, enough for the few containerd and
// CRI messages the resolver sends and reads. It is hand-written rather than
// generated so that the nsx binary links no protobuf or gRPC runtime: their
// package initialisers cost about 1.2 ms at every start of every nsx command
// (measured with a program that only imports them).

import "errors"

// Wire types.
const (
	wireVarint = 0
	wireI64    = 1
	wireBytes  = 2
	wireSGroup = 3
	wireEGroup = 4
	wireI32    = 5
)

var errProto = errors.New("malformed protobuf message")

func pbAppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func pbAppendTag(b []byte, num int, typ int) []byte {
	return pbAppendVarint(b, uint64(num)<<3|uint64(typ))
}

// pbAppendString appends a string (or bytes, or an embedded message) field.
// Empty strings are omitted, as proto3 does.
func pbAppendString(b []byte, num int, s string) []byte {
	if s == "" {
		return b
	}
	b = pbAppendTag(b, num, wireBytes)
	b = pbAppendVarint(b, uint64(len(s)))
	return append(b, s...)
}

// pbAppendMessage appends an embedded message, even an empty one (presence
// matters for messages).
func pbAppendMessage(b []byte, num int, msg []byte) []byte {
	b = pbAppendTag(b, num, wireBytes)
	b = pbAppendVarint(b, uint64(len(msg)))
	return append(b, msg...)
}

func pbAppendUint(b []byte, num int, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = pbAppendTag(b, num, wireVarint)
	return pbAppendVarint(b, v)
}

func pbAppendBool(b []byte, num int, v bool) []byte {
	if !v {
		return b
	}
	return pbAppendUint(b, num, 1)
}

func pbVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		if i == 9 && c > 1 {
			return 0, -1
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, -1
}

// pbField is one decoded field: Num and Type, with Varint set for varint
// fields and Bytes for length-delimited ones.
type pbField struct {
	Num    int
	Type   int
	Varint uint64
	Bytes  []byte
}

// pbEach calls fn for every field of msg, in wire order. Fixed-width fields
// are skipped; groups are refused (no message nsx reads has them).
func pbEach(msg []byte, fn func(f pbField) error) error {
	for len(msg) > 0 {
		tag, n := pbVarint(msg)
		if n < 0 || tag>>3 == 0 || tag>>3 > 1<<29-1 {
			return errProto
		}
		msg = msg[n:]
		f := pbField{Num: int(tag >> 3), Type: int(tag & 7)}
		switch f.Type {
		case wireVarint:
			v, n := pbVarint(msg)
			if n < 0 {
				return errProto
			}
			f.Varint = v
			msg = msg[n:]
		case wireI64:
			if len(msg) < 8 {
				return errProto
			}
			msg = msg[8:]
			continue
		case wireI32:
			if len(msg) < 4 {
				return errProto
			}
			msg = msg[4:]
			continue
		case wireBytes:
			l, n := pbVarint(msg)
			if n < 0 || l > uint64(len(msg)-n) {
				return errProto
			}
			f.Bytes = msg[n : n+int(l)]
			msg = msg[n+int(l):]
		default:
			return errProto
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// pbMapEntry decodes one map<string,string> entry.
func pbMapEntry(b []byte) (k, v string, err error) {
	err = pbEach(b, func(f pbField) error {
		if f.Type != wireBytes {
			return nil
		}
		switch f.Num {
		case 1:
			k = string(f.Bytes)
		case 2:
			v = string(f.Bytes)
		}
		return nil
	})
	return k, v, err
}

// pbInt64 reinterprets a varint as a proto int64/int32 (two's complement).
func pbInt64(v uint64) int64 { return int64(v) }
