// Package evidence writes and verifies evidence packs: one zip archive of
// an incident's record for a regulator or a court, with a manifest of the
// SHA-256 digest of every file, signed with Ed25519.
//
// A zip, not a tar.gz: every office machine opens it without tools, each
// file can be read and checked on its own (the central directory lists
// them, so a verifier never has to unpack the whole archive), and an
// entry added or changed is seen by name.
package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// Format names the pack layout; Verify refuses any other.
const Format = "breachflow-evidence/v1"

// The two files every pack has besides its documents.
const (
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.sig"
)

// maxFile bounds what Verify reads of one entry; a pack is made of
// documents, not data dumps.
const maxFile = 256 << 20

// Header is what every document of a pack says about the pack first: the
// incident, when the pack was made and whether it is interim (the
// incident is still open, so the record is not final).
type Header struct {
	Incident    string    `json:"incident"`
	GeneratedAt time.Time `json:"generated_at"`
	Interim     bool      `json:"interim"`
	Notice      string    `json:"notice"`
}

// NewHeader is the header of a pack of incident made at at.
func NewHeader(incident string, at time.Time, interim bool) Header {
	h := Header{Incident: incident, GeneratedAt: at.UTC(), Interim: interim,
		Notice: "FINAL evidence pack: the incident is closed."}
	if interim {
		h.Notice = "INTERIM evidence pack: the incident is still open; this record is not final."
	}
	return h
}

// JSON is a JSON document: the header under "pack", the content under
// "data".
func (h Header) JSON(data any) ([]byte, error) {
	b, err := json.MarshalIndent(struct {
		Pack Header `json:"pack"`
		Data any    `json:"data"`
	}{h, data}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Markdown is a Markdown document under a block that states the header.
func (h Header) Markdown(body string) []byte {
	var b strings.Builder
	if h.Interim {
		b.WriteString("> **INTERIM** — ")
	} else {
		b.WriteString("> ")
	}
	fmt.Fprintf(&b, "%s Incident %s, evidence pack generated %s.\n\n", h.Notice, h.Incident, h.GeneratedAt.Format(time.RFC3339))
	b.WriteString(body)
	if !strings.HasSuffix(body, "\n") {
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// File is one document of a pack.
type File struct {
	Path string // slash-separated, relative, e.g. "reports/gdpr-art33.md"
	Data []byte
}

// Entry is one file as the manifest lists it.
type Entry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
}

// Manifest lists every file of a pack with its digest; its signature
// covers its exact bytes.
type Manifest struct {
	Format      string    `json:"format"`
	Incident    string    `json:"incident"`
	GeneratedAt time.Time `json:"generated_at"`
	Interim     bool      `json:"interim"`
	Notice      string    `json:"notice"`
	Algorithm   string    `json:"signature_algorithm"`
	PublicKey   string    `json:"public_key"`  // base64 of the Ed25519 public key
	Fingerprint string    `json:"fingerprint"` // Fingerprint of it
	Files       []Entry   `json:"files"`
}

// Fingerprint names a public key: "sha256:" and the hex digest of it.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// KeyFromSeed reads an Ed25519 private key from the base64 of its 32-byte
// seed (BREACHFLOW_EVIDENCE_KEY).
func KeyFromSeed(b64 string) (ed25519.PrivateKey, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("want standard base64 of a %d-byte Ed25519 seed", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey reads a base64 Ed25519 public key.
func ParsePublicKey(b64 string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("want standard base64 of a %d-byte Ed25519 public key", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// Write writes the pack as a zip to w: the files in order, then the
// manifest and its signature. Entry times are the header's, so the same
// record gives the same archive.
func Write(w io.Writer, h Header, files []File, key ed25519.PrivateKey) error {
	pub := key.Public().(ed25519.PublicKey)
	m := Manifest{Format: Format, Incident: h.Incident, GeneratedAt: h.GeneratedAt, Interim: h.Interim, Notice: h.Notice,
		Algorithm: "Ed25519", PublicKey: base64.StdEncoding.EncodeToString(pub), Fingerprint: Fingerprint(pub)}
	zw := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: h.GeneratedAt})
		if err != nil {
			return err
		}
		_, err = fw.Write(data)
		return err
	}
	seen := map[string]bool{}
	for _, f := range files {
		if err := checkPath(f.Path); err != nil {
			return err
		}
		if seen[f.Path] || f.Path == ManifestFile || f.Path == SignatureFile {
			return fmt.Errorf("evidence: %s twice in one pack", f.Path)
		}
		seen[f.Path] = true
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, Entry{Path: f.Path, SHA256: hex.EncodeToString(sum[:]), Size: len(f.Data)})
		if err := add(f.Path, f.Data); err != nil {
			return fmt.Errorf("evidence: write %s: %w", f.Path, err)
		}
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	raw = append(raw, '\n')
	if err := add(ManifestFile, raw); err != nil {
		return fmt.Errorf("evidence: write manifest: %w", err)
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw)) + "\n"
	if err := add(SignatureFile, []byte(sig)); err != nil {
		return fmt.Errorf("evidence: write signature: %w", err)
	}
	return zw.Close()
}

func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
		return fmt.Errorf("evidence: %q is not a clean relative path", p)
	}
	return nil
}

// Report is what Verify found.
type Report struct {
	Manifest Manifest
	// SignatureOK: the manifest's signature verifies with the key used.
	SignatureOK bool
	// KeyFromPack: no key was given, so the key inside the manifest was
	// used; that proves integrity, not origin, until its fingerprint is
	// compared with the one the organisation publishes.
	KeyFromPack bool
	// KeyMismatch: a key was given and the manifest names another.
	KeyMismatch bool
	Altered     []string // listed, present, different digest or size
	Added       []string // present, not listed (or present twice)
	Removed     []string // listed, not present
}

// OK reports whether the pack is intact and its signature verifies.
func (r *Report) OK() bool {
	return r.SignatureOK && len(r.Altered) == 0 && len(r.Added) == 0 && len(r.Removed) == 0
}

// Problems lists, one per line, what is wrong with the pack.
func (r *Report) Problems() []string {
	var out []string
	if !r.SignatureOK {
		switch {
		case r.KeyMismatch:
			out = append(out, "bad signature: the manifest was not signed with the given public key")
		default:
			out = append(out, "bad signature: "+ManifestFile+" was altered or not signed with its key")
		}
	}
	for _, p := range r.Altered {
		out = append(out, "altered: "+p)
	}
	for _, p := range r.Added {
		out = append(out, "added: "+p)
	}
	for _, p := range r.Removed {
		out = append(out, "removed: "+p)
	}
	return out
}

// ErrNotAPack reports an archive without a readable manifest or signature.
var ErrNotAPack = errors.New("evidence: not an evidence pack")

// Verify checks the zip in r against its manifest and the manifest's
// signature against pub (nil: the key the manifest names, see
// Report.KeyFromPack). Every file is named that was altered, added or
// removed.
func Verify(r io.ReaderAt, size int64, pub ed25519.PublicKey) (*Report, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAPack, err)
	}
	contents := map[string][]byte{}
	unreadable := map[string]bool{} // bytes changed under the zip's own checksum
	rep := &Report{}
	for _, f := range zr.File {
		if _, dup := contents[f.Name]; dup || unreadable[f.Name] {
			rep.Added = append(rep.Added, f.Name+" (a second entry of that name)")
			continue
		}
		b, err := readEntry(f)
		if err != nil {
			unreadable[f.Name] = true
			continue
		}
		contents[f.Name] = b
	}
	if unreadable[ManifestFile] || unreadable[SignatureFile] {
		rep.Altered = append(rep.Altered, ManifestFile)
		return rep, nil
	}
	raw, ok := contents[ManifestFile]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrNotAPack, ManifestFile)
	}
	sigText, ok := contents[SignatureFile]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrNotAPack, SignatureFile)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep.Manifest); err != nil {
		// An unreadable manifest is reported as what it is: altered.
		rep.Altered = append(rep.Altered, ManifestFile)
		return rep, nil
	}
	if rep.Manifest.Format != Format {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrNotAPack, rep.Manifest.Format, Format)
	}
	if pub == nil {
		rep.KeyFromPack = true
		if pub, err = ParsePublicKey(rep.Manifest.PublicKey); err != nil {
			return nil, fmt.Errorf("evidence: the manifest's public key: %w", err)
		}
	} else if rep.Manifest.PublicKey != base64.StdEncoding.EncodeToString(pub) {
		rep.KeyMismatch = true
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	rep.SignatureOK = err == nil && ed25519.Verify(pub, raw, sig)

	listed := map[string]bool{}
	for _, e := range rep.Manifest.Files {
		listed[e.Path] = true
		if unreadable[e.Path] {
			rep.Altered = append(rep.Altered, e.Path)
			continue
		}
		b, ok := contents[e.Path]
		if !ok {
			rep.Removed = append(rep.Removed, e.Path)
			continue
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != e.SHA256 || len(b) != e.Size {
			rep.Altered = append(rep.Altered, e.Path)
		}
	}
	for name := range unreadable {
		if !listed[name] {
			rep.Added = append(rep.Added, name)
		}
	}
	for name := range contents {
		if !listed[name] && name != ManifestFile && name != SignatureFile {
			rep.Added = append(rep.Added, name)
		}
	}
	slices.Sort(rep.Added)
	return rep, nil
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("larger than %d bytes", maxFile)
	}
	return b, nil
}
