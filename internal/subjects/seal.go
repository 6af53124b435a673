package subjects

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/store"
)

// MinHMACKeyBytes is the shortest key Seal and EmailHMAC accept.
const MinHMACKeyBytes = 32

// EmailHMAC returns the de-duplication key of an email: hex HMAC-SHA256 of
// the trimmed, lower-cased address, or "" for no email. Keyed, so the
// column cannot be reversed by hashing a list of known addresses.
func EmailHMAC(email string, key []byte) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(email))
	return hex.EncodeToString(m.Sum(nil))
}

// additional binds a sealed value to its field and incident, so a
// ciphertext copied to another field or incident fails to open.
func additional(field, incidentID string) []byte {
	return []byte("subject." + field + ":" + incidentID)
}

// Seal turns s into the record the store keeps for incidentID: email and
// name sealed with kr, the email's HMAC under hmacKey, the rest as is.
func Seal(incidentID string, s Subject, kr store.Sealer, hmacKey []byte) (store.SubjectRecord, error) {
	if incidentID == "" {
		return store.SubjectRecord{}, errors.New("subjects: seal: empty incident id")
	}
	if len(hmacKey) < MinHMACKeyBytes {
		return store.SubjectRecord{}, fmt.Errorf("subjects: seal: HMAC key is %d bytes, want at least %d", len(hmacKey), MinHMACKeyBytes)
	}
	keyID, email, err := kr.Seal([]byte(s.Email), additional("email", incidentID))
	if err != nil {
		return store.SubjectRecord{}, fmt.Errorf("subjects: seal email: %w", err)
	}
	nameKeyID, name, err := kr.Seal([]byte(s.Name), additional("name", incidentID))
	if err != nil {
		return store.SubjectRecord{}, fmt.Errorf("subjects: seal name: %w", err)
	}
	if nameKeyID != keyID {
		// One KeyID column covers both fields; a rotation between the two
		// calls would make the name unreadable.
		return store.SubjectRecord{}, errors.New("subjects: seal: key changed between fields; retry")
	}
	return store.SubjectRecord{
		IncidentID:     incidentID,
		ExternalID:     s.ExternalID,
		EmailHMAC:      EmailHMAC(s.Email, hmacKey),
		EmailSealed:    email,
		NameSealed:     name,
		KeyID:          keyID,
		Locale:         s.Locale,
		Country:        s.Country,
		Subdivision:    s.Subdivision,
		Tier:           s.Tier,
		AccountManager: s.AccountManager,
		DataElements:   append([]string(nil), s.DataElements...),
	}, nil
}

// Open recovers the name and email Seal sealed in rec.
func Open(rec store.SubjectRecord, kr store.Sealer) (name, email string, err error) {
	e, err := kr.Open(rec.KeyID, rec.EmailSealed, additional("email", rec.IncidentID))
	if err != nil {
		return "", "", fmt.Errorf("subjects: open email of subject %d: %w", rec.ID, err)
	}
	n, err := kr.Open(rec.KeyID, rec.NameSealed, additional("name", rec.IncidentID))
	if err != nil {
		return "", "", fmt.Errorf("subjects: open name of subject %d: %w", rec.ID, err)
	}
	return string(n), string(e), nil
}
