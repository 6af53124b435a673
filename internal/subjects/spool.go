package subjects

import (
	"fmt"
	"io"
	"os"

	"filippo.io/age"
)

// Spool keeps an upload on disk between the import's two passes without
// ever writing it in plaintext: it is encrypted as it is written (age,
// to an X25519 identity made for this spool alone and held only in
// memory), so the temporary file holds no customer's name or email in
// readable form, and a file changed between the passes fails to open.
type Spool struct {
	f  *os.File
	id *age.X25519Identity
	w  io.WriteCloser
}

// NewSpool creates an empty spool file in dir ("" = os.TempDir()).
func NewSpool(dir string) (*Spool, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	f, err := os.CreateTemp(dir, "breachflow-upload-*.age")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	w, err := age.Encrypt(f, id.Recipient())
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Spool{f: f, id: id, w: w}, nil
}

// Write encrypts p onto the spool.
func (s *Spool) Write(p []byte) (int, error) { return s.w.Write(p) }

// Name is the spool file's path.
func (s *Spool) Name() string { return s.f.Name() }

// Reader finishes writing and returns the spool's plaintext from the
// start; reading fails if the file was altered or cut short.
func (s *Spool) Reader() (io.Reader, error) {
	if err := s.w.Close(); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	r, err := age.Decrypt(s.f, s.id)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return r, nil
}

// Close closes and removes the spool file.
func (s *Spool) Close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil && !os.IsNotExist(rerr) {
		err = rerr
	}
	return err
}
