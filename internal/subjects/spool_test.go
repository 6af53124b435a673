package subjects

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// TestSpoolNeverPlaintext: what an upload spools to disk holds no byte
// run of the customers' data, reads back whole, and refuses a file that
// was changed or cut between the passes.
func TestSpoolNeverPlaintext(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("external_id,name,email\n")
	for i := range 2000 {
		csv.WriteString("C" + strings.Repeat("7", i%5) + ",Zelda Quixote,zelda.quixote@customers.example\n")
	}
	dir := t.TempDir()
	open := func(t *testing.T) *Spool {
		t.Helper()
		s, err := NewSpool(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if _, err := io.Copy(s, strings.NewReader(csv.String())); err != nil {
			t.Fatal(err)
		}
		return s
	}

	s := open(t)
	r, err := s.Reader()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(s.Name())
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"Zelda", "zelda.quixote", "customers.example", "external_id"} {
		if bytes.Contains(onDisk, []byte(plain)) {
			t.Fatalf("the spool file holds %q in plaintext", plain)
		}
	}
	back, err := io.ReadAll(r)
	if err != nil || string(back) != csv.String() {
		t.Fatalf("read back %d bytes (%v), want the %d written", len(back), err, csv.Len())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Name()); !os.IsNotExist(err) {
		t.Fatalf("the spool file outlives Close: %v", err)
	}

	for name, damage := range map[string]func(b []byte) []byte{
		"flipped byte": func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"cut short":    func(b []byte) []byte { return b[:len(b)-100] },
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if err := s.w.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(s.Name())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Name(), damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			s.w = nopCloser{} // already finished above
			r, err := s.Reader()
			if err == nil {
				_, err = io.ReadAll(r)
			}
			if err == nil {
				t.Fatal("a damaged spool read back without an error")
			}
		})
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
