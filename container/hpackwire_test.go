package container

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// x/net's hpack (what grpc-go servers encode with) is the reference: every
// block it writes, with its dynamic table, Huffman strings and size
// updates, decodes to the same fields here, and what we encode decodes
// there.

func TestHPACKStaticTableAsXNet(t *testing.T) {
	for i := 1; i <= len(hpackStatic); i++ {
		want, err := hpack.NewDecoder(4096, nil).DecodeFull([]byte{0x80 | byte(i)})
		if err != nil || len(want) != 1 {
			t.Fatalf("x/net index %d: %v", i, err)
		}
		got, err := newHPACKDecoder(4096).decode([]byte{0x80 | byte(i)})
		if err != nil || len(got) != 1 || got[0].Name != want[0].Name || got[0].Value != want[0].Value {
			t.Errorf("index %d: %v %v, x/net: %v", i, got, err, want[0])
		}
	}
	if _, err := newHPACKDecoder(4096).decode([]byte{0x80 | byte(len(hpackStatic)+1)}); err == nil {
		t.Error("an index past the tables decoded")
	}
}

func TestHPACKDecodeXNetBlocks(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	dec := newHPACKDecoder(4096)
	names := []string{":status", "content-type", "grpc-status", "grpc-message", "x-nsx-engine", "date", "server"}
	for block := 0; block < 3000; block++ {
		buf.Reset()
		if r.Intn(50) == 0 {
			enc.SetMaxDynamicTableSize(uint32(r.Intn(4097)))
		}
		var want []hpack.HeaderField
		for n := r.Intn(8); n >= 0; n-- {
			f := hpack.HeaderField{Name: names[r.Intn(len(names))], Sensitive: r.Intn(10) == 0}
			switch r.Intn(4) {
			case 0:
				f.Value = "200"
			case 1:
				f.Value = "application/grpc"
			case 2:
				b := make([]byte, r.Intn(300))
				r.Read(b) // every byte value, so every Huffman code
				f.Value = string(b)
			default:
				f.Value = strings.Repeat("nsx-engine ", r.Intn(5))
			}
			if err := enc.WriteField(f); err != nil {
				t.Fatal(err)
			}
			want = append(want, f)
		}
		got, err := dec.decode(buf.Bytes())
		if err != nil {
			t.Fatalf("block %d: %v", block, err)
		}
		if len(got) != len(want) {
			t.Fatalf("block %d: %d fields, want %d", block, len(got), len(want))
		}
		for i := range got {
			if got[i].Name != want[i].Name || got[i].Value != want[i].Value {
				t.Fatalf("block %d field %d: %q: %q, want %q: %q", block, i, got[i].Name, got[i].Value, want[i].Name, want[i].Value)
			}
		}
	}
}

func TestHPACKHuffmanAsXNet(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 5000; i++ {
		b := make([]byte, r.Intn(64))
		r.Read(b)
		coded := hpack.AppendHuffmanString(nil, string(b))
		got, err := huffmanDecode(coded)
		if err != nil || got != string(b) {
			t.Fatalf("huffmanDecode(%x) = %q %v, want %q", coded, got, err, b)
		}
	}
	// EOS in the data, padding of 8 bits or more, padding not all ones.
	for _, bad := range [][]byte{{0xff, 0xff, 0xff, 0xfc}, {0xff}, {0x00}, {0x1f, 0xff}} {
		if s, err := huffmanDecode(bad); err == nil {
			t.Errorf("huffmanDecode(%x) = %q, want an error", bad, s)
		}
	}
}

func TestHPACKEncodeForXNet(t *testing.T) {
	var b []byte
	b = appendHPACKTableSizeZero(b)
	fields := [][2]string{{":method", "POST"}, {":path", "/containerd.services.containers.v1.Containers/List"},
		{"content-type", "application/grpc"}, {"x-long", strings.Repeat("v", 300)}, {"empty", ""}}
	for _, f := range fields {
		b = appendHPACKField(b, f[0], f[1])
	}
	got, err := hpack.NewDecoder(4096, nil).DecodeFull(b)
	if err != nil || len(got) != len(fields) {
		t.Fatalf("x/net decodes %v %v", got, err)
	}
	for i, f := range fields {
		if got[i].Name != f[0] || got[i].Value != f[1] {
			t.Errorf("field %d: %v, want %v", i, got[i], f)
		}
	}
}

func TestHPACKMalformed(t *testing.T) {
	for _, bad := range [][]byte{
		{0x80},             // index 0
		{0x7f},             // truncated integer
		{0x40, 0x05, 'a'},  // string longer than the block
		{0x82, 0x20},       // size update after a field
		{0x3f, 0xe2, 0x1f}, // size update above the limit
		{0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // integer overflow
	} {
		if f, err := newHPACKDecoder(4096).decode(bad); err == nil {
			t.Errorf("decode(%x) = %v, want an error", bad, f)
		}
	}
}
