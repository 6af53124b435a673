package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// NoticeKindLetter is the notice kind of a postal letter. Its status is
// pending while its batch waits for the printer, sent once the batch is
// handed over, failed when it cannot be printed or comes back.
const NoticeKindLetter = "letter"

// Reasons a letter notice fails with; the text after the colon says more
// and holds no personal data.
const (
	LetterUnprintable = "address cannot be printed"
	LetterReturned    = "returned undeliverable"
)

// LetterBatch is one print run handed to a printer or mailing house.
type LetterBatch struct {
	ID          int64
	IncidentID  string
	CreatedBy   string
	CreatedAt   time.Time
	Letters     int // customers in the batch
	Unprintable int // customers left out because their address cannot be printed
	PrintedBy   string
	PrintedAt   *time.Time // nil until legal records the handoff
	Reference   string     // the printer's job or consignment reference
	PDFSHA256   string     // hex SHA-256 of the batch PDF recorded printed; empty before
	SubjectIDs  []int64    // filled by GetLetterBatch, ascending
}

// NewLetterBatch is what CreateLetterBatch records.
type NewLetterBatch struct {
	IncidentID string
	CreatedBy  string
	At         time.Time
	// Subjects are the customers whose letters the batch holds.
	Subjects []int64
	// Unprintable maps customers whose address cannot be printed to why;
	// each gets a failed letter notice and no place in the batch.
	Unprintable map[int64]string
	// MessageID names each letter notice (its reference on the page).
	MessageID func(subjectID int64) string
}

const letterBatchColumns = `id, incident_id, created_by, created_at, letters, unprintable, printed_by, printed_at, printer_reference, pdf_sha256`

// LetterCandidates returns, ascending, the incident's customers who need a
// letter: they have a postal address, and either no email (and no notice
// suppressed, by a substitute notice say) or an email notice that failed
// for good, and no letter notice yet — or one that failed because their
// address could not be printed, and they were imported again since (the
// import fixed the address, perhaps: the next batch tries again).
func (s *SQL) LetterCandidates(ctx context.Context, incidentID string) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT s.id FROM subjects s
		WHERE s.incident_id = ? AND length(s.address_sealed) > 0
		AND ((s.email_hmac = '' AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.incident_id = s.incident_id
			AND n.subject_id = s.id AND n.kind = ? AND n.status = ?))
		OR EXISTS (SELECT 1 FROM notices n WHERE n.incident_id = s.incident_id
			AND n.subject_id = s.id AND n.kind = ? AND n.status = ?))
		AND NOT EXISTS (SELECT 1 FROM notices l WHERE l.incident_id = s.incident_id AND l.subject_id = s.id AND l.kind = ?
			AND NOT (l.status = ? AND l.last_error LIKE ? AND s.updated_at > l.updated_at))
		ORDER BY s.id`), incidentID, breach.NoticeKindCustomer, NoticeSuppressed, breach.NoticeKindCustomer, NoticeFailed, NoticeKindLetter,
		NoticeFailed, LetterUnprintable+"%")
	if err != nil {
		return nil, fmt.Errorf("store: letter candidates: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: letter candidates: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: letter candidates: %w", err)
	}
	return out, nil
}

// CreateLetterBatch records a batch in one transaction: the batch, a
// pending letter notice and a batch item for each of its subjects, and a
// failed letter notice for each unprintable one. A subject whose letter
// notice failed as unprintable takes that notice again (same Message-ID);
// one that already has any other letter notice is ErrConflict (another
// batch took it), and nothing is written; ErrNotFound when the incident
// does not exist.
func (s *SQL) CreateLetterBatch(ctx context.Context, in NewLetterBatch) (LetterBatch, error) {
	switch {
	case in.CreatedBy == "":
		return LetterBatch{}, fmt.Errorf("store: create letter batch: %w: created by is empty", ErrInvalid)
	case in.MessageID == nil:
		return LetterBatch{}, fmt.Errorf("store: create letter batch: %w: no message id function", ErrInvalid)
	case len(in.Subjects)+len(in.Unprintable) == 0:
		return LetterBatch{}, fmt.Errorf("store: create letter batch: %w: no letters", ErrInvalid)
	}
	var b LetterBatch
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.checkIncident(ctx, tx, in.IncidentID); err != nil {
			return err
		}
		stamp := s.timeArg(in.At)
		if err := tx.QueryRowContext(ctx, s.q(`INSERT INTO letter_batches (incident_id, created_by, created_at, letters, unprintable)
			VALUES (?, ?, ?, ?, ?) RETURNING `+letterBatchColumns), in.IncidentID, in.CreatedBy, stamp,
			len(in.Subjects), len(in.Unprintable)).Scan(batchDest(&b)...); err != nil {
			return err
		}
		notice, err := tx.PrepareContext(ctx, s.q(`INSERT INTO notices (incident_id, subject_id, kind, status,
			attempts, message_id, last_error, jurisdiction, created_at, updated_at)
			SELECT s.incident_id, s.id, ?, ?, 0, ?, ?, `+subjectJurisdictionSQL+`, `+s.timeParam()+`, `+s.timeParam()+`
			FROM subjects s WHERE s.id = ? AND s.incident_id = ?
			ON CONFLICT (incident_id, subject_id, kind) DO UPDATE SET status = excluded.status, last_error = excluded.last_error,
				updated_at = excluded.updated_at
			WHERE notices.status = ? AND notices.last_error LIKE ?`))
		if err != nil {
			return err
		}
		defer notice.Close()
		// updated_at is the store's clock, as the subjects' is: a customer
		// imported after their letter proved unprintable is a candidate again.
		changed := s.timeArg(now())
		item, err := tx.PrepareContext(ctx, s.q(`INSERT INTO letter_batch_items (batch_id, incident_id, subject_id) VALUES (?, ?, ?)`))
		if err != nil {
			return err
		}
		defer item.Close()
		add := func(id int64, status, reason string) error {
			res, err := notice.ExecContext(ctx, NoticeKindLetter, status, in.MessageID(id), reason, stamp, changed, id, in.IncidentID,
				NoticeFailed, LetterUnprintable+"%")
			if err != nil {
				return fmt.Errorf("subject %d: %w", id, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n != 1 {
				return fmt.Errorf("%w: subject %d already has a letter or is not a subject of the incident", ErrConflict, id)
			}
			return nil
		}
		for _, id := range sortedIDs(in.Subjects) {
			if err := add(id, NoticePending, ""); err != nil {
				return err
			}
			if _, err := item.ExecContext(ctx, b.ID, in.IncidentID, id); err != nil {
				return fmt.Errorf("subject %d: %w", id, err)
			}
		}
		for id, why := range in.Unprintable {
			if err := add(id, NoticeFailed, LetterUnprintable+": "+why); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return LetterBatch{}, fmt.Errorf("store: create letter batch for %q: %w", in.IncidentID, err)
	}
	b.SubjectIDs = sortedIDs(in.Subjects)
	return b, nil
}

func batchDest(b *LetterBatch) []any {
	return []any{&b.ID, &b.IncidentID, &b.CreatedBy, dbTime{&b.CreatedAt}, &b.Letters, &b.Unprintable,
		&b.PrintedBy, optTime{&b.PrintedAt}, &b.Reference, &b.PDFSHA256}
}

// RecordLetterBatchPDF keeps the SHA-256 (hex) of the batch PDF that was
// handed to the printer. The first one recorded stays: a second call is a
// no-op, whatever its hash. ErrNotFound when the incident has no such batch.
func (s *SQL) RecordLetterBatchPDF(ctx context.Context, incidentID string, id int64, sha256 string) (LetterBatch, error) {
	if len(sha256) != 64 || strings.Trim(sha256, "0123456789abcdef") != "" {
		return LetterBatch{}, fmt.Errorf("store: record letter batch PDF: %w: %q is not a hex SHA-256", ErrInvalid, sha256)
	}
	var b LetterBatch
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE letter_batches SET pdf_sha256 = ? WHERE incident_id = ? AND id = ? AND pdf_sha256 = ''`),
			sha256, incidentID, id); err != nil {
			return err
		}
		return notFound(tx.QueryRowContext(ctx, s.q(`SELECT `+letterBatchColumns+` FROM letter_batches WHERE incident_id = ? AND id = ?`),
			incidentID, id).Scan(batchDest(&b)...))
	})
	if err != nil {
		return LetterBatch{}, fmt.Errorf("store: record letter batch %d PDF: %w", id, err)
	}
	return b, nil
}

// GetLetterBatch returns one batch of the incident with its subject ids;
// ErrNotFound when there is none.
func (s *SQL) GetLetterBatch(ctx context.Context, incidentID string, id int64) (LetterBatch, error) {
	var b LetterBatch
	err := s.db.QueryRowContext(ctx, s.q(`SELECT `+letterBatchColumns+` FROM letter_batches WHERE incident_id = ? AND id = ?`),
		incidentID, id).Scan(batchDest(&b)...)
	if err != nil {
		return LetterBatch{}, fmt.Errorf("store: get letter batch %d: %w", id, notFound(err))
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT subject_id FROM letter_batch_items WHERE batch_id = ? ORDER BY subject_id`), id)
	if err != nil {
		return LetterBatch{}, fmt.Errorf("store: get letter batch %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sid int64
		if err := rows.Scan(&sid); err != nil {
			return LetterBatch{}, fmt.Errorf("store: get letter batch %d: %w", id, err)
		}
		b.SubjectIDs = append(b.SubjectIDs, sid)
	}
	if err := rows.Err(); err != nil {
		return LetterBatch{}, fmt.Errorf("store: get letter batch %d: %w", id, err)
	}
	return b, nil
}

// ListLetterBatches returns the incident's batches, oldest first, without
// their subject ids.
func (s *SQL) ListLetterBatches(ctx context.Context, incidentID string) ([]LetterBatch, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+letterBatchColumns+` FROM letter_batches WHERE incident_id = ? ORDER BY id`), incidentID)
	if err != nil {
		return nil, fmt.Errorf("store: list letter batches: %w", err)
	}
	defer rows.Close()
	var out []LetterBatch
	for rows.Next() {
		var b LetterBatch
		if err := rows.Scan(batchDest(&b)...); err != nil {
			return nil, fmt.Errorf("store: list letter batches: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// MarkLetterBatchPrinted records that the batch was handed to the printer
// under reference, and moves its pending letter notices to sent. Recording
// the same reference again is a no-op; another reference once printed is
// ErrConflict; an unknown batch is ErrNotFound.
func (s *SQL) MarkLetterBatchPrinted(ctx context.Context, incidentID string, id int64, reference, by string, at time.Time) (LetterBatch, error) {
	if reference == "" || by == "" {
		return LetterBatch{}, fmt.Errorf("store: mark letter batch printed: %w: reference and by are required", ErrInvalid)
	}
	var b LetterBatch
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.q(`SELECT `+letterBatchColumns+` FROM letter_batches WHERE incident_id = ? AND id = ?`),
			incidentID, id).Scan(batchDest(&b)...); err != nil {
			return notFound(err)
		}
		if b.PrintedAt != nil {
			if b.Reference == reference {
				return nil
			}
			return fmt.Errorf("%w: batch %d was recorded printed with reference %q", ErrConflict, id, b.Reference)
		}
		stamp := s.timeArg(at)
		if err := tx.QueryRowContext(ctx, s.q(`UPDATE letter_batches SET printed_by = ?, printed_at = ?, printer_reference = ?
			WHERE id = ? RETURNING `+letterBatchColumns), by, stamp, reference, id).Scan(batchDest(&b)...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE notices SET status = ?, sent_at = ?, updated_at = ?
			WHERE incident_id = ? AND kind = ? AND status = ?
			AND subject_id IN (SELECT subject_id FROM letter_batch_items WHERE batch_id = ?)`),
			NoticeSent, stamp, stamp, incidentID, NoticeKindLetter, NoticePending, id)
		return err
	})
	if err != nil {
		return LetterBatch{}, fmt.Errorf("store: mark letter batch %d printed: %w", id, err)
	}
	return b, nil
}

// RecordLetterReturned records that a printed letter came back
// undeliverable: its notice moves from sent to failed with the reason.
// Returning it again is a no-op; a letter not yet printed is ErrConflict;
// a subject without a letter is ErrNotFound. reason holds no personal data.
func (s *SQL) RecordLetterReturned(ctx context.Context, incidentID string, subjectID int64, reason string, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var status, last string
		err := tx.QueryRowContext(ctx, s.q(`SELECT status, last_error FROM notices WHERE incident_id = ? AND subject_id = ? AND kind = ?`),
			incidentID, subjectID, NoticeKindLetter).Scan(&status, &last)
		if err != nil {
			return notFound(err)
		}
		switch {
		case status == NoticeFailed && strings.HasPrefix(last, LetterReturned):
			return nil
		case status != NoticeSent:
			return fmt.Errorf("%w: the letter to subject %d is %s, not printed", ErrConflict, subjectID, status)
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE notices SET status = ?, last_error = ?, updated_at = ?
			WHERE incident_id = ? AND subject_id = ? AND kind = ?`),
			NoticeFailed, LetterReturned+": "+reason, s.timeArg(at), incidentID, subjectID, NoticeKindLetter)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: record letter returned: %w", err)
	}
	if err != nil {
		return fmt.Errorf("store: record letter returned: subject %d has no letter: %w", subjectID, err)
	}
	return nil
}

// optTime scans a nullable time into a pointer that stays nil for NULL.
type optTime struct{ t **time.Time }

// Scan implements sql.Scanner.
func (o optTime) Scan(src any) error {
	if src == nil {
		*o.t = nil
		return nil
	}
	var t time.Time
	if err := (dbTime{&t}).Scan(src); err != nil {
		return err
	}
	*o.t = &t
	return nil
}

// NoticeReach counts, per jurisdiction, how the incident's customers were
// reached, one channel each (breach.Reach): an email sent comes first,
// then a letter handed to the printer, then a substitute notice (the
// email notice suppressed); a customer whose email notice failed is
// failed once their letter failed too or when they have no postal address
// (no letter will come), and pending otherwise. ErrNotFound when the
// incident does not exist.
func (s *SQL) NoticeReach(ctx context.Context, incidentID string) (map[string]breach.Reach, error) {
	if err := s.checkIncident(ctx, s.db, incidentID); err != nil {
		return nil, fmt.Errorf("store: notice reach for %q: %w", incidentID, err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT j, channel, COUNT(*) FROM (SELECT `+subjectJurisdictionSQL+` AS j,
		CASE WHEN e.status = ? THEN 'email'
			WHEN l.status = ? THEN 'letter'
			WHEN e.status = ? THEN 'substitute'
			WHEN e.status = ? AND (l.status = ? OR (l.id IS NULL AND length(s.address_sealed) = 0)) THEN 'failed'
			ELSE 'pending' END AS channel
		FROM subjects s
		LEFT JOIN notices e ON e.incident_id = s.incident_id AND e.subject_id = s.id AND e.kind = ?
		LEFT JOIN notices l ON l.incident_id = s.incident_id AND l.subject_id = s.id AND l.kind = ?
		WHERE s.incident_id = ?) reach GROUP BY j, channel`),
		NoticeSent, NoticeSent, NoticeSuppressed, NoticeFailed, NoticeFailed, breach.NoticeKindCustomer, NoticeKindLetter, incidentID)
	if err != nil {
		return nil, fmt.Errorf("store: notice reach for %q: %w", incidentID, err)
	}
	defer rows.Close()
	out := map[string]breach.Reach{}
	for rows.Next() {
		var (
			j, channel string
			n          int
		)
		if err := rows.Scan(&j, &channel, &n); err != nil {
			return nil, fmt.Errorf("store: notice reach for %q: %w", incidentID, err)
		}
		r := out[j]
		switch channel {
		case "email":
			r.Email += n
		case "letter":
			r.Letter += n
		case "substitute":
			r.Substitute += n
		case "failed":
			r.Failed += n
		default:
			r.Pending += n
		}
		out[j] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: notice reach for %q: %w", incidentID, err)
	}
	return out, nil
}
