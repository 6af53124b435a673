package activities

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net/textproto"
	"testing"
)

// TestWriteDottedMatchesDotWriter: writeDotted writes what net/textproto's
// DotWriter writes, byte for byte, for messages of lines with leading
// dots, bare LFs, CRLFs, lone CRs inside a line, non-ASCII text, empty
// lines, no final line end, and the empty message.
func TestWriteDottedMatchesDotWriter(t *testing.T) {
	pieces := []string{".", "..", "a", "é", "\n", "\r\n", "\ra", " ", "=2E", "\r\n.\r\n"}
	rng := rand.New(rand.NewPCG(1, 13))
	cases := []string{"", ".", "\n", "\r\n", "a\r", ".\r", "a", ".a\r\n.b\n..c\r\nd"}
	for range 5000 {
		var b bytes.Buffer
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	for _, msg := range cases {
		var want, got bytes.Buffer
		tw := textproto.NewWriter(bufio.NewWriter(&want))
		dw := tw.DotWriter()
		if _, err := dw.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if err := dw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := writeDotted(bufio.NewWriter(&got), []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("writeDotted(%q) = %q, DotWriter writes %q", msg, got.Bytes(), want.Bytes())
		}
	}
}
