package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"time"
)

// Sealer encrypts and decrypts one field with authenticated additional
// data; internal/codec.Keyring is one. The store never calls it: callers
// seal a subject's email and name before UpsertSubjects and open them after
// GetSubjects, so the database only ever holds ciphertext.
type Sealer interface {
	Seal(plaintext, additional []byte) (keyID string, sealed []byte, err error)
	Open(keyID string, sealed, additional []byte) ([]byte, error)
}

// SubjectRecord is an affected customer as stored: no plaintext email or
// name, only what the caller sealed and a keyed hash of the email.
type SubjectRecord struct {
	ID          int64  // assigned by the store; ignored by UpsertSubjects
	IncidentID  string // filled on reads; UpsertSubjects takes it as an argument
	ExternalID  string // "" when the import had none; unique per incident otherwise
	EmailHMAC   string // lower-case hex HMAC-SHA256 of the lower-cased email; "" without email
	EmailSealed []byte
	NameSealed  []byte
	// AddressSealed is the sealed postal address, or empty when the import
	// had none (an empty address is not sealed, so "has an address" is a
	// length test the store can make).
	AddressSealed  []byte
	KeyID          string // the Sealer key that sealed EmailSealed, NameSealed and AddressSealed
	Locale         string // BCP 47, e.g. "en", "zh-CN"
	Country        string // ISO 3166-1 alpha-2, or ""
	Subdivision    string // ISO 3166-2, e.g. "US-CA", or ""
	Tier           string // SubjectTierHigh, SubjectTierMedium or SubjectTierLow
	AccountManager string
	DataElements   []string  // stored as JSON text; read back as nil when empty
	CreatedAt      time.Time // set by the store
	UpdatedAt      time.Time // set by the store on every upsert
}

// Subject tiers.
const (
	SubjectTierHigh   = "high"
	SubjectTierMedium = "medium"
	SubjectTierLow    = "low"
)

// UnknownJurisdiction is the SubjectCounts key for subjects with neither a
// country nor a subdivision.
const UnknownJurisdiction = "unknown"

// Limits on subject paging and batches.
const (
	DefaultSubjectPage = 1000
	MaxSubjectPage     = 10000
	// MaxSubjectBatch bounds one UpsertSubjects call, so one transaction
	// never holds the incident lock for long.
	MaxSubjectBatch = 5000
)

// getSubjectsChunk keeps GetSubjects' IN lists well under SQLite's and
// PostgreSQL's bound-parameter limits.
const getSubjectsChunk = 500

func validSubjectTier(t string) bool {
	switch t {
	case SubjectTierHigh, SubjectTierMedium, SubjectTierLow:
		return true
	}
	return false
}

// checkSubject refuses records that could not be merged or would break the
// table's constraints, naming the batch index.
func checkSubject(i int, r SubjectRecord) error {
	switch {
	case r.ExternalID == "" && r.EmailHMAC == "":
		return fmt.Errorf("%w: subject %d has neither an external id nor an email hash", ErrInvalid, i)
	case r.EmailHMAC != "" && !isLowerHex(r.EmailHMAC, 64):
		return fmt.Errorf("%w: subject %d: email hash is not 64 lower-case hex digits", ErrInvalid, i)
	case !validSubjectTier(r.Tier):
		return fmt.Errorf("%w: subject %d has unknown tier %q", ErrInvalid, i, r.Tier)
	case r.KeyID == "" && (len(r.EmailSealed) > 0 || len(r.NameSealed) > 0 || len(r.AddressSealed) > 0):
		return fmt.Errorf("%w: subject %d has sealed fields but no key id", ErrInvalid, i)
	}
	return nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return false
	}
	return strings.ToLower(s) == s
}

const subjectColumns = `id, incident_id, external_id, email_hmac, email_sealed, name_sealed, key_id,
	locale, country, subdivision, tier, account_manager, data_elements, created_at, updated_at, address_sealed`

// UpsertSubjects writes a batch of subjects for one incident in one
// transaction. A record whose non-empty ExternalID is already stored for
// the incident updates that row; a record without ExternalID updates the
// row with the same EmailHMAC and no external id; anything else is
// inserted. Later records in the batch win over earlier ones. The incident
// must exist (ErrNotFound otherwise). Concurrent upserts for one incident
// are serialised.
func (s *SQL) UpsertSubjects(ctx context.Context, incidentID string, batch []SubjectRecord) (inserted, updated int, err error) {
	if incidentID == "" {
		return 0, 0, fmt.Errorf("store: upsert subjects: %w: incident id is empty", ErrInvalid)
	}
	if len(batch) > MaxSubjectBatch {
		return 0, 0, fmt.Errorf("store: upsert subjects: %w: batch of %d is over %d", ErrInvalid, len(batch), MaxSubjectBatch)
	}
	for i, r := range batch {
		if err := checkSubject(i, r); err != nil {
			return 0, 0, fmt.Errorf("store: upsert subjects: %w", err)
		}
	}
	if s.dialect == DialectPostgres {
		inserted, updated, err = s.upsertSubjectsPostgres(ctx, incidentID, batch)
	} else {
		inserted, updated, err = s.upsertSubjectsEach(ctx, incidentID, batch)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: upsert subjects for %q: %w", incidentID, err)
	}
	return inserted, updated, nil
}

// upsertSubjectsEach looks up and writes one record at a time with
// prepared statements: on SQLite a statement is a library call, not a
// round trip, and this is faster there than batching into one statement.
func (s *SQL) upsertSubjectsEach(ctx context.Context, incidentID string, batch []SubjectRecord) (inserted, updated int, err error) {
	// SQLite's write lock orders every writer, so the look-up-then-write
	// below cannot race into a unique violation.
	err = s.write(ctx, func(tx *sql.Tx) error {
		inserted, updated = 0, 0
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`), incidentID).Scan(&one); err != nil {
			return notFound(err)
		}
		// The repeated "<> ''" conditions are what let the planners use the
		// partial unique indexes: a bound parameter proves nothing about
		// emptiness, and without them each look-up scans the incident.
		byExternal, err := tx.PrepareContext(ctx, s.q(`SELECT id FROM subjects
			WHERE incident_id = ? AND external_id = ? AND external_id <> ''`))
		if err != nil {
			return err
		}
		defer byExternal.Close()
		byEmail, err := tx.PrepareContext(ctx, s.q(`SELECT id FROM subjects
			WHERE incident_id = ? AND external_id = '' AND email_hmac = ? AND email_hmac <> ''`))
		if err != nil {
			return err
		}
		defer byEmail.Close()
		ins, err := tx.PrepareContext(ctx, s.q(`INSERT INTO subjects (incident_id, external_id, email_hmac,
			email_sealed, name_sealed, key_id, locale, country, subdivision, tier, account_manager,
			data_elements, created_at, updated_at, address_sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return err
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, s.q(`UPDATE subjects SET email_hmac = ?, email_sealed = ?,
			name_sealed = ?, key_id = ?, locale = ?, country = ?, subdivision = ?, tier = ?,
			account_manager = ?, data_elements = ?, updated_at = ?, address_sealed = ? WHERE id = ?`))
		if err != nil {
			return err
		}
		defer upd.Close()
		stamp := s.timeArg(now())
		for i, r := range batch {
			elems := r.DataElements
			if elems == nil {
				elems = []string{}
			}
			elemsJSON, err := json.Marshal(elems)
			if err != nil {
				return err
			}
			email, name := nonNil(r.EmailSealed), nonNil(r.NameSealed)
			var id int64
			if r.ExternalID != "" {
				err = byExternal.QueryRowContext(ctx, incidentID, r.ExternalID).Scan(&id)
			} else {
				err = byEmail.QueryRowContext(ctx, incidentID, r.EmailHMAC).Scan(&id)
			}
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if _, err := ins.ExecContext(ctx, incidentID, r.ExternalID, r.EmailHMAC, email, name, r.KeyID,
					r.Locale, r.Country, r.Subdivision, r.Tier, r.AccountManager, string(elemsJSON), stamp, stamp, nonNil(r.AddressSealed)); err != nil {
					return fmt.Errorf("subject %d: %w", i, err)
				}
				inserted++
			case err != nil:
				return fmt.Errorf("subject %d: %w", i, err)
			default:
				if _, err := upd.ExecContext(ctx, r.EmailHMAC, email, name, r.KeyID, r.Locale, r.Country,
					r.Subdivision, r.Tier, r.AccountManager, string(elemsJSON), stamp, nonNil(r.AddressSealed), id); err != nil {
					return fmt.Errorf("subject %d: %w", i, err)
				}
				updated++
			}
		}
		return nil
	})
	return inserted, updated, err
}

// nonNil turns nil into an empty slice: the columns are NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ListSubjectIDs returns up to limit ids of the incident's subjects greater
// than afterID, ascending: pass the last id of one page as afterID of the
// next. limit 0 means DefaultSubjectPage; larger than MaxSubjectPage is cut
// to it.
func (s *SQL) ListSubjectIDs(ctx context.Context, incidentID string, afterID int64, limit int) ([]int64, error) {
	return s.listSubjectIDs(ctx, incidentID, afterID, math.MaxInt64, limit)
}

// ListSubjectIDsThrough is ListSubjectIDs within (afterID, throughID]: a
// notice batch lists its own range, and the bound keeps the read to the
// range whatever plan the database picks (on a new incident, whose
// subjects PostgreSQL has no statistics for yet, it read every subject
// after afterID and sorted them for each batch).
func (s *SQL) ListSubjectIDsThrough(ctx context.Context, incidentID string, afterID, throughID int64, limit int) ([]int64, error) {
	return s.listSubjectIDs(ctx, incidentID, afterID, throughID, limit)
}

func (s *SQL) listSubjectIDs(ctx context.Context, incidentID string, afterID, throughID int64, limit int) ([]int64, error) {
	switch {
	case limit < 0:
		return nil, fmt.Errorf("store: list subject ids: %w: negative limit %d", ErrInvalid, limit)
	case limit == 0:
		limit = DefaultSubjectPage
	case limit > MaxSubjectPage:
		limit = MaxSubjectPage
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id FROM subjects WHERE incident_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?`),
		incidentID, afterID, throughID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list subject ids: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: list subject ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list subject ids: %w", err)
	}
	return ids, nil
}

// GetSubjects returns the subjects with these ids, ordered by id; ids that
// do not exist are left out rather than reported.
func (s *SQL) GetSubjects(ctx context.Context, ids []int64) ([]SubjectRecord, error) {
	var out []SubjectRecord
	for start := 0; start < len(ids); start += getSubjectsChunk {
		chunk := ids[start:min(start+getSubjectsChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
		got, err := s.scanSubjects(ctx, `SELECT `+subjectColumns+` FROM subjects WHERE id IN (`+marks+`) ORDER BY id`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: get subjects: %w", err)
		}
		out = append(out, got...)
	}
	// Chunks are each sorted; the caller's ids need not be.
	sortSubjects(out)
	return out, nil
}

func sortSubjects(rs []SubjectRecord) {
	slices.SortFunc(rs, func(a, b SubjectRecord) int { return cmp.Compare(a.ID, b.ID) })
}

func (s *SQL) scanSubjects(ctx context.Context, query string, args ...any) ([]SubjectRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SubjectRecord
	for rows.Next() {
		var (
			r     SubjectRecord
			elems string
		)
		if err := rows.Scan(&r.ID, &r.IncidentID, &r.ExternalID, &r.EmailHMAC, &r.EmailSealed, &r.NameSealed,
			&r.KeyID, &r.Locale, &r.Country, &r.Subdivision, &r.Tier, &r.AccountManager, &elems,
			dbTime{&r.CreatedAt}, dbTime{&r.UpdatedAt}, &r.AddressSealed); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(elems), &r.DataElements); err != nil {
			return nil, fmt.Errorf("subject %d: data elements: %w", r.ID, err)
		}
		if len(r.DataElements) == 0 {
			r.DataElements = nil
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SubjectCounts returns how many subjects the incident has per jurisdiction
// (the subdivision when known, else the country, else
// UnknownJurisdiction) and per tier.
func (s *SQL) SubjectCounts(ctx context.Context, incidentID string) (map[string]int, map[string]int, error) {
	byJurisdiction, err := s.countBy(ctx, `CASE WHEN subdivision <> '' THEN subdivision
		WHEN country <> '' THEN country ELSE '`+UnknownJurisdiction+`' END`, incidentID)
	if err != nil {
		return nil, nil, fmt.Errorf("store: subject counts: %w", err)
	}
	byTier, err := s.countBy(ctx, `tier`, incidentID)
	if err != nil {
		return nil, nil, fmt.Errorf("store: subject counts: %w", err)
	}
	return byJurisdiction, byTier, nil
}

// SubjectLocales counts the incident's subjects by notice locale.
func (s *SQL) SubjectLocales(ctx context.Context, incidentID string) (map[string]int, error) {
	byTag, err := s.countBy(ctx, `locale`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("store: subject locales: %w", err)
	}
	out := map[string]int{}
	for tag, n := range byTag {
		out[breach.NormalizeLocale(tag)] += n
	}
	return out, nil
}

// countBy groups the incident's subjects by a fixed SQL expression (never
// caller input).
func (s *SQL) countBy(ctx context.Context, expr, incidentID string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+expr+` AS k, COUNT(*) FROM subjects WHERE incident_id = ? GROUP BY k`), incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}
