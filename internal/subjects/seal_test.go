package subjects

import (
	"bytes"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/codec"
)

func testKeyring(t *testing.T, ids ...string) *codec.Keyring {
	t.Helper()
	var specs []string
	for _, id := range ids {
		k, err := codec.NewKey(id)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, k)
	}
	kr, err := codec.ParseKeys(strings.Join(specs, ","))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

var hmacKey = bytes.Repeat([]byte{7}, 32)

func TestSealOpen(t *testing.T) {
	kr := testKeyring(t, "k1")
	s := Subject{ExternalID: "C-1", Name: "Ada Lovelace", Email: "Ada@Example.com", Locale: "en-GB", Country: "GB",
		Tier: TierHigh, AccountManager: "Grace", DataElements: []string{"email"}}
	rec, err := Seal("BR-AAAAAA", s, kr, hmacKey)
	if err != nil {
		t.Fatal(err)
	}
	if rec.KeyID != "k1" || rec.ExternalID != "C-1" || rec.Locale != "en-GB" || rec.Tier != TierHigh || rec.DataElements[0] != "email" {
		t.Errorf("record = %+v", rec)
	}
	if bytes.Contains(rec.EmailSealed, []byte("Example")) || bytes.Contains(rec.NameSealed, []byte("Ada")) {
		t.Error("sealed fields hold plaintext")
	}
	if rec.EmailHMAC != EmailHMAC("ada@example.com", hmacKey) || len(rec.EmailHMAC) != 64 {
		t.Errorf("EmailHMAC %q is not the case-folded address's", rec.EmailHMAC)
	}
	if EmailHMAC("ada@example.com", bytes.Repeat([]byte{8}, 32)) == rec.EmailHMAC {
		t.Error("EmailHMAC ignores its key")
	}
	name, email, err := Open(rec, kr)
	if err != nil || name != s.Name || email != s.Email {
		t.Fatalf("Open = %q, %q, %v", name, email, err)
	}
	// Rotation: a keyring with a newer key in front still opens old records.
	rotated := testKeyring(t, "k2")
	if _, _, err := Open(rec, rotated); err == nil {
		t.Error("a keyring without k1 opened the record")
	}
	// The ciphertext is bound to its incident and field.
	moved := rec
	moved.IncidentID = "BR-BBBBBB"
	if _, _, err := Open(moved, kr); err == nil {
		t.Error("a record moved to another incident still opened")
	}
	swapped := rec
	swapped.EmailSealed, swapped.NameSealed = rec.NameSealed, rec.EmailSealed
	if _, _, err := Open(swapped, kr); err == nil {
		t.Error("name and email swapped still opened")
	}
}

func TestSealRefuses(t *testing.T) {
	kr := testKeyring(t, "k1")
	if _, err := Seal("BR-AAAAAA", Subject{Email: "a@example.com"}, kr, []byte("short")); err == nil {
		t.Error("short HMAC key accepted")
	}
	if _, err := Seal("", Subject{Email: "a@example.com"}, kr, hmacKey); err == nil {
		t.Error("empty incident id accepted")
	}
	if EmailHMAC("  ", hmacKey) != "" {
		t.Error("blank email has a hash")
	}
}
