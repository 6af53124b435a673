package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func testKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	k, err := KeyFromSeed("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testPack(t *testing.T, key ed25519.PrivateKey, interim bool) []byte {
	t.Helper()
	h := NewHeader("BR-7K3F9Q", time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), interim)
	summary, err := h.JSON(map[string]any{"title": "CRM export"})
	if err != nil {
		t.Fatal(err)
	}
	timeline, err := h.JSON(map[string]any{"timeline": []int{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = Write(&buf, h, []File{
		{Path: "summary.json", Data: summary},
		{Path: "timeline.json", Data: timeline},
		{Path: "reports/gdpr-art33.md", Data: h.Markdown("# Report\n")},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rezip rewrites the archive entry by entry through edit, which returns
// the new content or nil to drop the entry; extra entries are appended.
func rezip(t *testing.T, pack []byte, edit func(name string, b []byte) []byte, extra ...File) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pack), int64(len(pack)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	write := func(name string, b []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if nb := edit(f.Name, b); nb != nil {
			write(f.Name, nb)
		}
	}
	for _, f := range extra {
		write(f.Path, f.Data)
	}
	zw.Close()
	return out.Bytes()
}

func verify(t *testing.T, pack []byte, pub ed25519.PublicKey) *Report {
	t.Helper()
	rep, err := Verify(bytes.NewReader(pack), int64(len(pack)), pub)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestPackVerifies(t *testing.T) {
	key := testKey(t)
	pub := key.Public().(ed25519.PublicKey)
	pack := testPack(t, key, false)
	rep := verify(t, pack, pub)
	if !rep.OK() || rep.KeyFromPack || len(rep.Manifest.Files) != 3 || rep.Manifest.Fingerprint != Fingerprint(pub) {
		t.Fatalf("an intact pack: %+v, problems %v", rep, rep.Problems())
	}
	if rep := verify(t, pack, nil); !rep.OK() || !rep.KeyFromPack {
		t.Fatalf("verified with the pack's own key: %+v", rep)
	}
	if !bytes.Equal(pack, testPack(t, key, false)) {
		t.Error("the same record gave two different archives")
	}
}

func TestPackTamperingIsNamed(t *testing.T) {
	key := testKey(t)
	pub := key.Public().(ed25519.PublicKey)
	pack := testPack(t, key, false)
	same := func(_ string, b []byte) []byte { return b }
	for _, tc := range []struct {
		name    string
		pack    []byte
		problem string
	}{
		{"altered", rezip(t, pack, func(n string, b []byte) []byte {
			if n == "timeline.json" {
				b = bytes.Replace(b, []byte("3"), []byte("9"), 1)
			}
			return b
		}), "altered: timeline.json"},
		{"removed", rezip(t, pack, func(n string, b []byte) []byte {
			if n == "reports/gdpr-art33.md" {
				return nil
			}
			return b
		}), "removed: reports/gdpr-art33.md"},
		{"added", rezip(t, pack, same, File{Path: "extra.txt", Data: []byte("x")}), "added: extra.txt"},
		{"manifest re-hashed without the key", func() []byte {
			forged := []byte(`{"timeline":[]}` + "\n")
			sum := sha256.Sum256(forged)
			return rezip(t, pack, func(n string, b []byte) []byte {
				switch n {
				case "timeline.json":
					return forged
				case ManifestFile:
					var m Manifest
					json.Unmarshal(b, &m)
					for i := range m.Files {
						if m.Files[i].Path == "timeline.json" {
							m.Files[i].SHA256, m.Files[i].Size = hex.EncodeToString(sum[:]), len(forged)
						}
					}
					nb, _ := json.MarshalIndent(m, "", "  ")
					return append(nb, '\n')
				}
				return b
			})
		}(), "bad signature"},
		{"one byte of the archive", func() []byte {
			zr, _ := zip.NewReader(bytes.NewReader(pack), int64(len(pack)))
			out := slices.Clone(pack)
			for _, f := range zr.File {
				if f.Name == "summary.json" {
					off, _ := f.DataOffset()
					out[off+int64(f.CompressedSize64)/2] ^= 0x01
				}
			}
			return out
		}(), "altered: summary.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := verify(t, tc.pack, pub)
			probs := strings.Join(rep.Problems(), "\n")
			if rep.OK() || !strings.Contains(probs, tc.problem) {
				t.Fatalf("problems %q, want %q", probs, tc.problem)
			}
		})
	}
	other, _ := KeyFromSeed("HxwdGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgEAAAA=")
	rep := verify(t, pack, other.Public().(ed25519.PublicKey))
	if rep.OK() || !rep.KeyMismatch || !strings.Contains(strings.Join(rep.Problems(), "\n"), "given public key") {
		t.Fatalf("another organisation's key: %+v", rep)
	}
}

func TestInterimIsMarkedInEveryFile(t *testing.T) {
	key := testKey(t)
	for _, interim := range []bool{true, false} {
		pack := testPack(t, key, interim)
		zr, err := zip.NewReader(bytes.NewReader(pack), int64(len(pack)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name == SignatureFile {
				continue // a signature, not a document
			}
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			marked := strings.Contains(string(b), "INTERIM") &&
				(strings.Contains(string(b), `"interim": true`) || strings.HasPrefix(string(b), "> **INTERIM**"))
			if marked != interim {
				t.Errorf("interim %v: %s marked %v:\n%s", interim, f.Name, marked, b)
			}
		}
	}
}
