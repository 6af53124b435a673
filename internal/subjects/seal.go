package subjects

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	var address []byte
	addressKeyID := keyID
	if !s.Address.Empty() {
		plain, err := json.Marshal(s.Address)
		if err != nil {
			return store.SubjectRecord{}, fmt.Errorf("subjects: seal address: %w", err)
		}
		if addressKeyID, address, err = kr.Seal(plain, additional("address", incidentID)); err != nil {
			return store.SubjectRecord{}, fmt.Errorf("subjects: seal address: %w", err)
		}
	}
	if nameKeyID != keyID || addressKeyID != keyID {
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
		AddressSealed:  address,
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

// Address is a customer's postal address as imported. Country is the
// row's ISO 3166-1 alpha-2 country; Region is printed as given (or, when
// the file has no region column, the subdivision code's second half).
type Address struct {
	Lines      []string `json:"lines,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// Empty reports whether the row had no address column filled (the
// country alone is residence, not an address).
func (a Address) Empty() bool {
	return len(a.Lines) == 0 && a.City == "" && a.Region == "" && a.PostalCode == ""
}

// OpenAddress recovers the postal address Seal sealed in rec; the zero
// Address when the subject has none.
func OpenAddress(rec store.SubjectRecord, kr store.Sealer) (Address, error) {
	if len(rec.AddressSealed) == 0 {
		return Address{}, nil
	}
	plain, err := kr.Open(rec.KeyID, rec.AddressSealed, additional("address", rec.IncidentID))
	if err != nil {
		return Address{}, fmt.Errorf("subjects: open address of subject %d: %w", rec.ID, err)
	}
	var a Address
	if err := json.Unmarshal(plain, &a); err != nil {
		return Address{}, fmt.Errorf("subjects: open address of subject %d: %w", rec.ID, err)
	}
	return a, nil
}
