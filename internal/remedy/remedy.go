// Package remedy reads an incident's pool of remedy enrollment codes from
// the provider's CSV, seals each code for the store, and derives the
// unguessable links of the customers' notice pages.
//
// # The pool file
//
// A CSV (comma, UTF-8, optional byte order mark) with a header row naming
// the columns code, product, enrollment_url and enroll_by, in any order
// (case and separators are ignored: "Enrollment URL" is enrollment_url;
// "enrol_by", "enroll_by_date" and "expires" are enroll_by). Every row
// needs a code, a product, an absolute https (or http) enrollment URL with
// a host, and an enroll-by date (YYYY-MM-DD, the end of that day in UTC,
// or RFC 3339) that is not in the past. A code twice in the file is an
// error on its second line. Any error refuses the whole file: Parse
// answers every bad line with its number and reason, and nothing is
// written.
package remedy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/breachflow/breachflow/store"
)

// Code is one row of the pool file.
type Code struct {
	Line          int // the file's line number, for errors
	Code          string
	Product       string
	EnrollmentURL string
	EnrollBy      time.Time
}

// LineError is a refused row.
type LineError struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Limits of one pool file.
const (
	MaxRows     = 100000
	MaxFieldLen = 512
	MaxBytes    = 32 << 20
)

// ErrHeader is a header without one of the four columns.
var ErrHeader = errors.New("remedy: header")

var columnAliases = map[string]string{
	"code": "code", "enrollmentcode": "code", "activationcode": "code",
	"product": "product", "productname": "product",
	"enrollmenturl": "enrollment_url", "enrolmenturl": "enrollment_url", "url": "enrollment_url", "enrollurl": "enrollment_url",
	"enrollby": "enroll_by", "enrolby": "enroll_by", "enrollbydate": "enroll_by", "expires": "enroll_by", "expiry": "enroll_by",
}

func normalize(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Parse reads a pool file. It returns the codes when every row is good;
// otherwise the bad rows (with line numbers) and no codes. A file that
// cannot be read as a pool at all (not CSV, no header, too many rows) is
// an error.
func Parse(r io.Reader, now time.Time) ([]Code, []LineError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%w: the file is empty; want code,product,enrollment_url,enroll_by", ErrHeader)
	} else if err != nil {
		return nil, nil, fmt.Errorf("remedy: read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF")
		}
		f, ok := columnAliases[normalize(h)]
		if !ok {
			continue
		}
		if _, dup := col[f]; dup {
			return nil, nil, fmt.Errorf("%w: column %s appears twice", ErrHeader, f)
		}
		col[f] = i
	}
	var missing []string
	for _, f := range []string{"code", "product", "enrollment_url", "enroll_by"} {
		if _, ok := col[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("%w: missing column %s; want code,product,enrollment_url,enroll_by", ErrHeader, strings.Join(missing, ", "))
	}
	var (
		out  []Code
		bad  []LineError
		seen = map[string]int{}
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("remedy: line %d: %w", pe.Line, pe.Err)
			}
			return nil, nil, fmt.Errorf("remedy: read: %w", err)
		}
		if allBlank(rec) {
			continue
		}
		if len(out)+len(bad) >= MaxRows {
			return nil, nil, fmt.Errorf("remedy: more than %d rows; split the pool into several uploads", MaxRows)
		}
		get := func(f string) string {
			if i := col[f]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		c := Code{Line: line, Code: get("code"), Product: get("product"), EnrollmentURL: get("enrollment_url")}
		fail := func(field, reason string) { bad = append(bad, LineError{Line: line, Field: field, Reason: reason}) }
		ok := true
		for _, f := range [...]struct{ name, v string }{{"code", c.Code}, {"product", c.Product}, {"enrollment_url", c.EnrollmentURL}, {"enroll_by", get("enroll_by")}} {
			switch {
			case f.v == "":
				fail(f.name, f.name+" is blank")
				ok = false
			case !utf8.ValidString(f.v) || strings.IndexFunc(f.v, unicode.IsControl) >= 0:
				fail(f.name, f.name+" has control characters or is not UTF-8")
				ok = false
			case len(f.v) > MaxFieldLen:
				fail(f.name, fmt.Sprintf("%s is longer than %d bytes", f.name, MaxFieldLen))
				ok = false
			}
		}
		if !ok {
			continue
		}
		if first, dup := seen[c.Code]; dup {
			fail("code", "duplicate code: the same code is on line "+strconv.Itoa(first))
			continue
		}
		seen[c.Code] = line
		if u, err := url.Parse(c.EnrollmentURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fail("enrollment_url", "enrollment_url is not an absolute https URL")
			continue
		}
		by, err := parseDate(get("enroll_by"))
		if err != nil {
			fail("enroll_by", "enroll_by is not a date (YYYY-MM-DD or RFC 3339)")
			continue
		}
		if !by.After(now) {
			fail("enroll_by", "enroll_by "+get("enroll_by")+" is in the past")
			continue
		}
		c.EnrollBy = by
		out = append(out, c)
	}
	if len(bad) > 0 {
		return nil, bad, nil
	}
	return out, nil, nil
}

// parseDate reads YYYY-MM-DD as the last moment of that day in UTC, or an
// RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err
}

func allBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// CodeHMAC is the keyed hash that finds a duplicate code without
// decrypting the pool: hex HMAC-SHA256 under key, domain-separated from
// the email hash that shares the key.
func CodeHMAC(incidentID, code string, key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("remedy-code\x00" + incidentID + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

func additional(incidentID string) []byte { return []byte("remedy.code:" + incidentID) }

// Seal turns c into the record the store keeps: the code sealed with kr and
// hashed under hmacKey.
func Seal(incidentID string, c Code, kr store.Sealer, hmacKey []byte) (store.RemedyCode, error) {
	keyID, sealed, err := kr.Seal([]byte(c.Code), additional(incidentID))
	if err != nil {
		return store.RemedyCode{}, fmt.Errorf("remedy: seal code: %w", err)
	}
	return store.RemedyCode{IncidentID: incidentID, CodeHMAC: CodeHMAC(incidentID, c.Code, hmacKey), CodeSealed: sealed, KeyID: keyID,
		Product: c.Product, EnrollmentURL: c.EnrollmentURL, EnrollBy: c.EnrollBy}, nil
}

// Open recovers the code Seal sealed.
func Open(rec store.RemedyCode, kr store.Sealer) (string, error) {
	b, err := kr.Open(rec.KeyID, rec.CodeSealed, additional(rec.IncidentID))
	if err != nil {
		return "", fmt.Errorf("remedy: open code %d: %w", rec.ID, err)
	}
	return string(b), nil
}

// NewSalt is the random part of a notice page's token.
func NewSalt() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("remedy: salt: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// PageToken derives the token of a customer's notice page from the page's
// salt under key (the deployment's HMAC key): 256 bits nobody without the
// key can guess, the same for every resend of the notice, and holding no
// customer data. Only TokenHash of it is stored.
func PageToken(key []byte, incidentID string, subjectID int64, salt string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("notice-page\x00" + incidentID + "\x00" + strconv.FormatInt(subjectID, 10) + "\x00" + salt))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TokenHash is what the store keeps of a page token: hex SHA-256.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// ValidToken says whether s has a page token's shape, so a malformed one
// is refused before the store is asked.
func ValidToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// PageURL is the link in a notice.
func PageURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/n/" + token
}
