package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// Notice is the delivery state of one notice of one kind to one subject of
// an incident. It holds no contact data: the address lives sealed in the
// subject row.
type Notice struct {
	ID         int64
	IncidentID string
	SubjectID  int64
	Kind       string // e.g. "customer"
	Status     string // NoticePending, NoticeSending, NoticeSent, NoticeFailed or NoticeSuppressed
	Attempts   int    // how many times the notice was claimed for sending
	MessageID  string // deterministic, set at creation, never changes
	// LastError is the SMTP reply or reason of the last failure or of a
	// suppression. Callers must never put personal data (addresses, names)
	// in it: it is shown to every viewer and kept with the evidence.
	LastError string
	// Jurisdiction is copied from the subject at creation: its subdivision
	// if any, else its country, else UnknownJurisdiction.
	Jurisdiction string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	SentAt       *time.Time // nil until sent
}

// Notice statuses. Sent is final; failed means failed for good (until
// RetryFailedNotices); a temporary failure goes back to pending.
const (
	NoticePending    = "pending"
	NoticeSending    = "sending"
	NoticeSent       = "sent"
	NoticeFailed     = "failed"
	NoticeSuppressed = "suppressed"
)

// Limits on notice paging and batches.
const (
	DefaultNoticePage = 1000
	MaxNoticePage     = 10000
	// MaxNoticeBatch bounds the subjects of one EnsureNotices or
	// ClaimNotices call, so one transaction stays short.
	MaxNoticeBatch = 5000
)

// noticeChunk keeps IN lists well under SQLite's bound-parameter limit.
const noticeChunk = 500

// subjectJurisdictionSQL is the jurisdiction of a subject row s, as
// SubjectCounts reports it.
const subjectJurisdictionSQL = `CASE WHEN s.subdivision <> '' THEN s.subdivision
	WHEN s.country <> '' THEN s.country ELSE '` + UnknownJurisdiction + `' END`

const noticeColumns = `id, incident_id, subject_id, kind, status, attempts, message_id, last_error,
	jurisdiction, created_at, updated_at, sent_at`

func validNoticeStatus(s string) bool {
	switch s {
	case NoticePending, NoticeSending, NoticeSent, NoticeFailed, NoticeSuppressed:
		return true
	}
	return false
}

// sortedIDs returns the distinct ids ascending, so concurrent writers touch
// rows in one order.
func sortedIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// timeParam is a placeholder for a time in a SELECT list, where
// PostgreSQL cannot infer the parameter's type from a column and would take
// it for text. SQLite stores times as text and needs no cast (its CAST to
// an unknown type would apply numeric affinity).
func (s *SQL) timeParam() string {
	if s.dialect == DialectPostgres {
		return "CAST(? AS TIMESTAMPTZ)"
	}
	return "?"
}

// checkIncident returns ErrNotFound unless the incident exists.
func (s *SQL) checkIncident(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, incidentID string) error {
	var one int
	return notFound(q.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`), incidentID).Scan(&one))
}

// EnsureNotices creates the missing notices of kind for these subjects of
// the incident, in status pending, each with the Message-ID messageID gives
// its subject and the subject's jurisdiction. Existing notices are left as
// they are, Message-ID included, so calling it again is harmless; it
// returns how many it created. Every id must be a subject of the incident
// (ErrInvalid otherwise, and nothing is created); ErrNotFound when the
// incident does not exist.
func (s *SQL) EnsureNotices(ctx context.Context, incidentID, kind string, subjectIDs []int64, messageID func(subjectID int64) string) (int, error) {
	switch {
	case kind == "":
		return 0, fmt.Errorf("store: ensure notices: %w: kind is empty", ErrInvalid)
	case messageID == nil:
		return 0, fmt.Errorf("store: ensure notices: %w: no message id function", ErrInvalid)
	case len(subjectIDs) > MaxNoticeBatch:
		return 0, fmt.Errorf("store: ensure notices: %w: batch of %d is over %d", ErrInvalid, len(subjectIDs), MaxNoticeBatch)
	}
	ids := sortedIDs(subjectIDs)
	mids := make([]string, len(ids))
	for i, id := range ids {
		if mids[i] = messageID(id); mids[i] == "" {
			return 0, fmt.Errorf("store: ensure notices: %w: empty message id for subject %d", ErrInvalid, id)
		}
	}
	created := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		created = 0
		if err := s.checkIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		if s.dialect == DialectPostgres {
			n, err := s.ensureNoticesPostgres(ctx, tx, incidentID, kind, ids, mids)
			created = n
			return err
		}
		// No conflict target: a concurrent EnsureNotices for the same
		// notice must be skipped whichever unique index it hits first;
		// the look-ups below tell the harmless case from a caller's error.
		ins, err := tx.PrepareContext(ctx, s.q(`INSERT INTO notices (incident_id, subject_id, kind, status,
			attempts, message_id, last_error, jurisdiction, created_at, updated_at)
			SELECT s.incident_id, s.id, ?, ?, 0, ?, '', `+subjectJurisdictionSQL+`, `+s.timeParam()+`, `+s.timeParam()+`
			FROM subjects s WHERE s.id = ? AND s.incident_id = ?
			ON CONFLICT DO NOTHING`))
		if err != nil {
			return err
		}
		defer ins.Close()
		exists, err := tx.PrepareContext(ctx, s.q(`SELECT 1 FROM notices WHERE incident_id = ? AND subject_id = ? AND kind = ?`))
		if err != nil {
			return err
		}
		defer exists.Close()
		stamp := s.timeArg(now())
		for i, id := range ids {
			res, err := ins.ExecContext(ctx, kind, NoticePending, mids[i], stamp, stamp, id, incidentID)
			if err != nil {
				return fmt.Errorf("subject %d: %w", id, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 1 {
				created++
				continue
			}
			var one int
			err = exists.QueryRowContext(ctx, incidentID, id, kind).Scan(&one)
			switch {
			case err == nil:
				continue // created before: keep its Message-ID
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			err = tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM subjects WHERE id = ? AND incident_id = ?`), id, incidentID).Scan(&one)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("%w: subject %d is not a subject of the incident", ErrInvalid, id)
			case err != nil:
				return err
			}
			return fmt.Errorf("%w: message id for subject %d is already used by another notice", ErrInvalid, id)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: ensure notices for %q: %w", incidentID, err)
	}
	return created, nil
}

// ensureNoticesPostgres is EnsureNotices' writing in two round trips for
// the batch instead of one INSERT per notice: the notices are inserted
// from arrays of subject ids ($2) and Message-IDs ($6), each subject looked
// up by its key (the LIMIT keeps the lateral subquery from being flattened
// into a join the planner may turn inside out on a new incident); then the
// batch's subjects that still have no notice of the kind are looked for,
// and the first of them tells the caller's error apart as the loop does.
// ids are sorted and distinct.
func (s *SQL) ensureNoticesPostgres(ctx context.Context, tx *sql.Tx, incidentID, kind string, ids []int64, mids []string) (int, error) {
	stamp := now()
	res, err := tx.ExecContext(ctx, `INSERT INTO notices (incident_id, subject_id, kind, status,
		attempts, message_id, last_error, jurisdiction, created_at, updated_at)
		SELECT s.incident_id, s.id, $3, $4, 0, b.message_id, '', `+subjectJurisdictionSQL+`, $5, $5
		FROM unnest($2::bigint[], $6::text[]) AS b (subject_id, message_id)
		CROSS JOIN LATERAL (SELECT * FROM subjects WHERE id = b.subject_id AND incident_id = $1 LIMIT 1) s
		ORDER BY s.id
		ON CONFLICT DO NOTHING`, incidentID, ids, kind, NoticePending, stamp, mids)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil || int(n) == len(ids) {
		return int(n), err
	}
	var missing int64
	err = tx.QueryRowContext(ctx, `SELECT b.subject_id FROM unnest($2::bigint[]) AS b (subject_id)
		WHERE NOT EXISTS (SELECT 1 FROM notices WHERE incident_id = $1 AND subject_id = b.subject_id AND kind = $3)
		ORDER BY b.subject_id LIMIT 1`, incidentID, ids, kind).Scan(&missing)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return int(n), nil // the others were created before: they keep their Message-IDs
	case err != nil:
		return 0, err
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM subjects WHERE id = $1 AND incident_id = $2`, missing, incidentID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("%w: subject %d is not a subject of the incident", ErrInvalid, missing)
	case err != nil:
		return 0, err
	}
	return 0, fmt.Errorf("%w: message id for subject %d is already used by another notice", ErrInvalid, missing)
}

// ClaimNotices moves the incident's notices of kind for these subjects that
// are pending, or in sending with a claim older than breach.NoticeClaimLease (a
// crashed batch), to sending; it increments their attempts and returns
// them by id. A notice is handed to at most one of several concurrent
// claimers; it is handed out again only after its claim's lease runs out
// without MarkNoticeSent or MarkNoticeFailed, which is how a crashed batch
// is repeated with the same Message-IDs. Notices that are sent, failed or
// suppressed, fresh claims, and subjects without a notice are left out.
// ErrNotFound when the incident does not exist.
func (s *SQL) ClaimNotices(ctx context.Context, incidentID, kind string, subjectIDs []int64) ([]Notice, error) {
	return s.ClaimNoticesWithLease(ctx, incidentID, kind, subjectIDs, breach.NoticeClaimLease)
}

// ClaimNoticesWithLease is ClaimNotices with another lease: notices in
// sending whose claim is older than lease are handed out again. A lease of
// 0 takes back every claim on these subjects; a batch activity uses it on
// a retry, once Temporal has declared the attempt that held them dead.
func (s *SQL) ClaimNoticesWithLease(ctx context.Context, incidentID, kind string, subjectIDs []int64, lease time.Duration) ([]Notice, error) {
	switch {
	case lease < 0:
		return nil, fmt.Errorf("store: claim notices: %w: negative lease", ErrInvalid)
	case kind == "":
		return nil, fmt.Errorf("store: claim notices: %w: kind is empty", ErrInvalid)
	case len(subjectIDs) > MaxNoticeBatch:
		return nil, fmt.Errorf("store: claim notices: %w: batch of %d is over %d", ErrInvalid, len(subjectIDs), MaxNoticeBatch)
	}
	ids := sortedIDs(subjectIDs)
	stamp := now()
	cutoff := stamp.Add(-lease)
	var out []Notice
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		if err := s.checkIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		for start := 0; start < len(ids); start += noticeChunk {
			chunk := ids[start:min(start+noticeChunk, len(ids))]
			got, err := s.claimChunk(ctx, tx, incidentID, kind, chunk, stamp, cutoff)
			if err != nil {
				return err
			}
			out = append(out, got...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim notices for %q: %w", incidentID, err)
	}
	slices.SortFunc(out, func(a, b Notice) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// claimChunk claims one chunk in one UPDATE … RETURNING. On PostgreSQL the
// rows are picked FOR UPDATE SKIP LOCKED: a row another claimer is busy
// with is skipped rather than waited for (that claimer gets it), so
// concurrent claims never deadlock; rows it already committed are in
// sending with a fresh claim and fail the status test. On SQLite the write
// transaction serialises claimers outright.
func (s *SQL) claimChunk(ctx context.Context, tx *sql.Tx, incidentID, kind string, ids []int64, stamp, cutoff time.Time) ([]Notice, error) {
	args := []any{NoticeSending, s.timeArg(stamp), s.timeArg(stamp), incidentID, kind}
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, NoticePending, NoticeSending, s.timeArg(cutoff))
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	pick := `SELECT id FROM notices WHERE incident_id = ? AND kind = ? AND subject_id IN (` + marks + `)
		AND (status = ? OR (status = ? AND claimed_at <= ?))`
	if s.dialect == DialectPostgres {
		// Each subject's notice is looked up by the (incident, subject,
		// kind) key, whatever the planner guesses of the rows: with IN (…)
		// on a new incident, which it has no statistics for, it read all
		// the incident's notices and filtered the subjects, for every
		// batch; a plain join to the ids fared worse. The LIMIT keeps the
		// lateral subquery from being flattened into such a join.
		args = []any{NoticeSending, s.timeArg(stamp), s.timeArg(stamp), ids, incidentID, kind,
			NoticePending, NoticeSending, s.timeArg(cutoff)}
		pick = `SELECT c.id FROM unnest(CAST(? AS BIGINT[])) AS u (subject_id)
		CROSS JOIN LATERAL (SELECT n.id FROM notices n
			WHERE n.incident_id = ? AND n.kind = ? AND n.subject_id = u.subject_id
				AND (n.status = ? OR (n.status = ? AND n.claimed_at <= ?))
			LIMIT 1 FOR UPDATE SKIP LOCKED) c`
	}
	query := `UPDATE notices SET status = ?, attempts = attempts + 1, claimed_at = ?, updated_at = ?
		WHERE id IN (` + pick + `) RETURNING ` + noticeColumns
	return scanNotices(tx.QueryContext(ctx, s.q(query), args...))
}

// scanNotices reads rows of noticeColumns and closes them.
func scanNotices(rows *sql.Rows, err error) ([]Notice, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		var (
			n    Notice
			sent time.Time
		)
		if err := rows.Scan(&n.ID, &n.IncidentID, &n.SubjectID, &n.Kind, &n.Status, &n.Attempts, &n.MessageID,
			&n.LastError, &n.Jurisdiction, dbTime{&n.CreatedAt}, dbTime{&n.UpdatedAt}, dbTime{&sent}); err != nil {
			return nil, err
		}
		if !sent.IsZero() {
			n.SentAt = &sent
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// transition moves notice id to status to with the given extra SET clause
// when its current status satisfies allowed (a fixed SQL condition). When no
// row moves it tells why: ErrNotFound for an unknown id, nil when the
// notice is already in a status idempotent accepts, ErrConflict otherwise.
func (s *SQL) transition(ctx context.Context, op string, id int64, set string, setArgs []any, allowed string, allowedArgs []any, idempotent string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		args := append(append(slices.Clone(setArgs), id), allowedArgs...)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE notices SET `+set+` WHERE id = ? AND (`+allowed+`)`), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		var status string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM notices WHERE id = ?`), id).Scan(&status); err != nil {
			return notFound(err)
		}
		if status == idempotent {
			return nil
		}
		return fmt.Errorf("%w: notice is %s", ErrConflict, status)
	})
	if err != nil {
		return fmt.Errorf("store: %s notice %d: %w", op, id, err)
	}
	return nil
}

// MarkNoticeSent records that the notice went out at at (now when zero).
// Only a notice in sending can become sent; marking a sent notice again
// is a no-op, any other status is ErrConflict, an unknown id ErrNotFound.
// Sent is final: nothing moves a notice out of it.
func (s *SQL) MarkNoticeSent(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		at = now()
	}
	stamp := s.timeArg(now())
	return s.transition(ctx, "mark sent", id,
		`status = ?, sent_at = ?, claimed_at = NULL, last_error = '', updated_at = ?`,
		[]any{NoticeSent, s.timeArg(at), stamp},
		`status = ?`, []any{NoticeSending}, NoticeSent)
}

// MarkNoticesSent records that the notices went out at at (now when
// zero), in one statement: a batch marks what it sent together. Only
// notices in sending move; the others (already sent, or taken back and
// failed meanwhile) are left as they are. It returns how many moved.
func (s *SQL) MarkNoticesSent(ctx context.Context, ids []int64, at time.Time) (int, error) {
	if at.IsZero() {
		at = now()
	}
	ids = sortedIDs(ids)
	moved := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		moved = 0
		for start := 0; start < len(ids); start += noticeChunk {
			chunk := ids[start:min(start+noticeChunk, len(ids))]
			args := []any{NoticeSent, s.timeArg(at), s.timeArg(now())}
			for _, id := range chunk {
				args = append(args, id)
			}
			args = append(args, NoticeSending)
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
			res, err := tx.ExecContext(ctx, s.q(`UPDATE notices SET status = ?, sent_at = ?, claimed_at = NULL,
				last_error = '', updated_at = ? WHERE id IN (`+marks+`) AND status = ?`), args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			moved += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: mark notices sent: %w", err)
	}
	return moved, nil
}

// MarkNoticeFailed records a failed send of a notice in sending: a
// permanent failure moves it to failed (until RetryFailedNotices), a
// temporary one back to pending, where the next claim picks it up. reason
// is kept as LastError and must hold no personal data. Any status but
// sending is ErrConflict (in particular a sent notice stays sent); an
// unknown id is ErrNotFound.
func (s *SQL) MarkNoticeFailed(ctx context.Context, id int64, reason string, permanent bool) error {
	to := NoticePending
	if permanent {
		to = NoticeFailed
	}
	return s.transition(ctx, "mark failed", id,
		`status = ?, last_error = ?, claimed_at = NULL, updated_at = ?`,
		[]any{to, reason, s.timeArg(now())},
		`status = ?`, []any{NoticeSending}, "")
}

// SuppressNotice stops a notice for good (the subject was reached another
// way, opted out, or must not be contacted), keeping reason as LastError;
// reason must hold no personal data. Pending and failed notices can be
// suppressed, and sending ones whose claim lease ran out; a fresh claim
// may be on the wire, and a sent notice is final, so both are ErrConflict.
// Suppressing twice is a no-op; an unknown id is ErrNotFound.
func (s *SQL) SuppressNotice(ctx context.Context, id int64, reason string) error {
	return s.transition(ctx, "suppress", id,
		`status = ?, last_error = ?, claimed_at = NULL, updated_at = ?`,
		[]any{NoticeSuppressed, reason, s.timeArg(now())},
		`status IN (?, ?) OR (status = ? AND claimed_at <= ?)`,
		[]any{NoticePending, NoticeFailed, NoticeSending, s.timeArg(now().Add(-breach.NoticeClaimLease))},
		NoticeSuppressed)
}

// RetryFailedNotices moves the incident's failed notices of kind ("" for
// every kind) back to pending, on a human's demand, and returns how many
// moved. Their attempts and last error are kept. ErrNotFound when the
// incident does not exist.
func (s *SQL) RetryFailedNotices(ctx context.Context, incidentID, kind string) (int, error) {
	moved := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.checkIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		args := []any{NoticePending, s.timeArg(now()), incidentID, NoticeFailed}
		query := `UPDATE notices SET status = ?, updated_at = ? WHERE incident_id = ? AND status = ?`
		if kind != "" {
			query += ` AND kind = ?`
			args = append(args, kind)
		}
		res, err := tx.ExecContext(ctx, s.q(query), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		moved = int(n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: retry failed notices for %q: %w", incidentID, err)
	}
	return moved, nil
}

// ListNotices pages through the incident's notices of every kind in
// ascending id order, starting after afterID (0 for the first page);
// status "" means any status. limit 0 means DefaultNoticePage; larger than
// MaxNoticePage is cut to it. ErrNotFound when the incident does not exist.
func (s *SQL) ListNotices(ctx context.Context, incidentID, status string, afterID int64, limit int) ([]Notice, error) {
	switch {
	case status != "" && !validNoticeStatus(status):
		return nil, fmt.Errorf("store: list notices: %w: unknown status %q", ErrInvalid, status)
	case limit < 0:
		return nil, fmt.Errorf("store: list notices: %w: negative limit %d", ErrInvalid, limit)
	case limit == 0:
		limit = DefaultNoticePage
	case limit > MaxNoticePage:
		limit = MaxNoticePage
	}
	if err := s.checkIncident(ctx, s.db, incidentID); err != nil {
		return nil, fmt.Errorf("store: list notices for %q: %w", incidentID, err)
	}
	query := `SELECT ` + noticeColumns + ` FROM notices WHERE incident_id = ? AND id > ?`
	args := []any{incidentID, afterID}
	if status != "" {
		query += ` AND status = ?`
		args = append(args, status)
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	out, err := scanNotices(s.db.QueryContext(ctx, s.q(query), args...))
	if err != nil {
		return nil, fmt.Errorf("store: list notices for %q: %w", incidentID, err)
	}
	return out, nil
}

// NoticeCounts counts the incident's notices of kind ("" for every kind)
// per jurisdiction and status; statuses without notices are absent.
// ErrNotFound when the incident does not exist.
func (s *SQL) NoticeCounts(ctx context.Context, incidentID, kind string) (map[string]map[string]int, error) {
	if err := s.checkIncident(ctx, s.db, incidentID); err != nil {
		return nil, fmt.Errorf("store: notice counts for %q: %w", incidentID, err)
	}
	query := `SELECT jurisdiction, status, COUNT(*) FROM notices WHERE incident_id = ?`
	args := []any{incidentID}
	if kind != "" {
		query += ` AND kind = ?`
		args = append(args, kind)
	}
	query += ` GROUP BY jurisdiction, status`
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: notice counts for %q: %w", incidentID, err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var (
			j, st string
			n     int
		)
		if err := rows.Scan(&j, &st, &n); err != nil {
			return nil, fmt.Errorf("store: notice counts for %q: %w", incidentID, err)
		}
		if out[j] == nil {
			out[j] = map[string]int{}
		}
		out[j][st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: notice counts for %q: %w", incidentID, err)
	}
	return out, nil
}
