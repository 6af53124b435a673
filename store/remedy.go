package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RemedyCode is one enrollment code of an incident's remedy pool. The code
// is sealed by the caller (internal/remedy); the store keeps the
// ciphertext and a keyed hash that makes duplicates visible.
type RemedyCode struct {
	ID            int64
	IncidentID    string
	CodeHMAC      string // lower-case hex HMAC-SHA256 of the code; unique per incident
	CodeSealed    []byte
	KeyID         string
	Product       string
	EnrollmentURL string
	EnrollBy      time.Time
	SubjectID     int64     // 0 while free
	AssignedAt    time.Time // zero while free
	CreatedAt     time.Time
}

// RemedyCounts counts an incident's pool: never which customer has which code.
type RemedyCounts struct {
	Total     int                           `json:"total"`
	Assigned  int                           `json:"assigned"`
	Free      int                           `json:"free"`
	ByProduct map[string]RemedyProductCount `json:"by_product"`
}

// RemedyProductCount is the pool of one product.
type RemedyProductCount struct {
	Total    int `json:"total"`
	Assigned int `json:"assigned"`
	Free     int `json:"free"`
}

// RemedyScope says which of an incident's customers are offered a code of
// Product: those whose subdivision or country is one of Jurisdictions
// (every one when empty) and whose tier is one of Tiers (every one when
// empty).
type RemedyScope struct {
	Product       string
	Jurisdictions []string
	Tiers         []string
}

// RemedyCoverage is how far the pool covers a scope: InScope customers, of
// whom Assigned have a code, and Free codes of the product left.
type RemedyCoverage struct {
	InScope  int `json:"in_scope"`
	Assigned int `json:"assigned"`
	Free     int `json:"free"`
}

// Missing is how many codes the pool lacks for everyone in scope.
func (c RemedyCoverage) Missing() int { return max(0, c.InScope-c.Assigned-c.Free) }

// DuplicateCodesError refuses a pool import whose codes are already in the
// incident's pool; Indexes are the batch positions of those codes.
type DuplicateCodesError struct{ Indexes []int }

func (e *DuplicateCodesError) Error() string {
	return fmt.Sprintf("%d codes are already in the pool", len(e.Indexes))
}

// Is makes a DuplicateCodesError an ErrConflict.
func (e *DuplicateCodesError) Is(target error) bool { return target == ErrConflict }

// MaxRemedyBatch bounds one AddRemedyCodes call.
const MaxRemedyBatch = 100000

// AddRemedyCodes adds codes to the incident's pool in one transaction:
// every one or none. A code whose CodeHMAC is already in the pool (or
// twice in the batch) refuses the whole batch with a *DuplicateCodesError
// (an ErrConflict) naming the positions. ErrNotFound for an unknown
// incident.
func (s *SQL) AddRemedyCodes(ctx context.Context, incidentID string, codes []RemedyCode) (int, error) {
	if len(codes) > MaxRemedyBatch {
		return 0, fmt.Errorf("store: add remedy codes: %w: batch of %d is over %d", ErrInvalid, len(codes), MaxRemedyBatch)
	}
	seen := map[string]int{}
	var dups []int
	for i, c := range codes {
		switch {
		case !isLowerHex(c.CodeHMAC, 64):
			return 0, fmt.Errorf("store: add remedy codes: %w: code %d: hash is not 64 lower-case hex digits", ErrInvalid, i)
		case len(c.CodeSealed) == 0 || c.KeyID == "":
			return 0, fmt.Errorf("store: add remedy codes: %w: code %d is not sealed", ErrInvalid, i)
		case c.Product == "" || c.EnrollmentURL == "" || c.EnrollBy.IsZero():
			return 0, fmt.Errorf("store: add remedy codes: %w: code %d lacks product, enrollment URL or enroll-by", ErrInvalid, i)
		}
		if _, ok := seen[c.CodeHMAC]; ok {
			dups = append(dups, i)
		}
		seen[c.CodeHMAC] = i
	}
	if len(dups) > 0 {
		return 0, fmt.Errorf("store: add remedy codes: %w", &DuplicateCodesError{Indexes: dups})
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.checkIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		if err := s.lockIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		exists, err := tx.PrepareContext(ctx, s.q(`SELECT 1 FROM remedy_codes WHERE incident_id = ? AND code_hmac = ?`))
		if err != nil {
			return err
		}
		defer exists.Close()
		for i, c := range codes {
			var one int
			err := exists.QueryRowContext(ctx, incidentID, c.CodeHMAC).Scan(&one)
			switch {
			case err == nil:
				dups = append(dups, i)
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		if len(dups) > 0 {
			return &DuplicateCodesError{Indexes: dups}
		}
		ins, err := tx.PrepareContext(ctx, s.q(`INSERT INTO remedy_codes (incident_id, code_hmac, code_sealed, key_id,
			product, enrollment_url, enroll_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return err
		}
		defer ins.Close()
		stamp := s.timeArg(now())
		for i, c := range codes {
			if _, err := ins.ExecContext(ctx, incidentID, c.CodeHMAC, c.CodeSealed, c.KeyID, c.Product, c.EnrollmentURL,
				s.timeArg(c.EnrollBy), stamp); err != nil {
				return fmt.Errorf("code %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: add remedy codes for %q: %w", incidentID, err)
	}
	return len(codes), nil
}

// RemedyCounts counts the incident's pool per product.
func (s *SQL) RemedyCounts(ctx context.Context, incidentID string) (RemedyCounts, error) {
	out := RemedyCounts{ByProduct: map[string]RemedyProductCount{}}
	if err := s.checkIncident(ctx, s.db, incidentID); err != nil {
		return out, fmt.Errorf("store: remedy counts for %q: %w", incidentID, err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT product, COUNT(*), COUNT(subject_id) FROM remedy_codes
		WHERE incident_id = ? GROUP BY product`), incidentID)
	if err != nil {
		return out, fmt.Errorf("store: remedy counts for %q: %w", incidentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			p       string
			n, used int
		)
		if err := rows.Scan(&p, &n, &used); err != nil {
			return out, fmt.Errorf("store: remedy counts for %q: %w", incidentID, err)
		}
		out.ByProduct[p] = RemedyProductCount{Total: n, Assigned: used, Free: n - used}
		out.Total, out.Assigned, out.Free = out.Total+n, out.Assigned+used, out.Free+n-used
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("store: remedy counts for %q: %w", incidentID, err)
	}
	return out, nil
}

// scopeSQL is the condition that a subject row s is in scope, with its
// arguments; the lists are bound, never written into the query.
func scopeSQL(sc RemedyScope) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if len(sc.Jurisdictions) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(sc.Jurisdictions)), ", ")
		conds = append(conds, `(s.subdivision IN (`+marks+`) OR s.country IN (`+marks+`))`)
		for range 2 {
			for _, j := range sc.Jurisdictions {
				args = append(args, j)
			}
		}
	}
	if len(sc.Tiers) > 0 {
		conds = append(conds, `s.tier IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(sc.Tiers)), ", ")+`)`)
		for _, t := range sc.Tiers {
			args = append(args, t)
		}
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), args
}

// RemedyCoverage counts the incident's customers in scope, how many of
// them hold a code, and the free codes of the scope's product.
func (s *SQL) RemedyCoverage(ctx context.Context, incidentID string, sc RemedyScope) (RemedyCoverage, error) {
	var out RemedyCoverage
	if sc.Product == "" {
		return out, fmt.Errorf("store: remedy coverage: %w: no product", ErrInvalid)
	}
	cond, args := scopeSQL(sc)
	q := `SELECT COUNT(*), COUNT(r.id) FROM subjects s
		LEFT JOIN remedy_codes r ON r.incident_id = s.incident_id AND r.subject_id = s.id
		WHERE s.incident_id = ? AND ` + cond
	if err := s.db.QueryRowContext(ctx, s.q(q), append([]any{incidentID}, args...)...).Scan(&out.InScope, &out.Assigned); err != nil {
		return out, fmt.Errorf("store: remedy coverage for %q: %w", incidentID, err)
	}
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM remedy_codes WHERE incident_id = ? AND product = ? AND subject_id IS NULL`),
		incidentID, sc.Product).Scan(&out.Free); err != nil {
		return out, fmt.Errorf("store: remedy coverage for %q: %w", incidentID, err)
	}
	return out, nil
}

// AssignRemedyCodes gives each subject among subjectIDs that is in scope
// and holds no code yet the oldest free code of the scope's product, in
// one transaction. It is idempotent per (incident, subject): a subject
// with a code keeps it, whichever product, so retries, crashes and
// re-runs never hand out a second one; the unique index on (incident,
// subject) and the conditional update (subject_id IS NULL) hold it to
// that even against another writer. It returns how many codes it gave
// and how many in-scope subjects still lack one because the pool ran
// out.
func (s *SQL) AssignRemedyCodes(ctx context.Context, incidentID string, sc RemedyScope, subjectIDs []int64) (assigned, missing int, err error) {
	if sc.Product == "" {
		return 0, 0, fmt.Errorf("store: assign remedy codes: %w: no product", ErrInvalid)
	}
	if len(subjectIDs) > MaxNoticeBatch {
		return 0, 0, fmt.Errorf("store: assign remedy codes: %w: batch of %d is over %d", ErrInvalid, len(subjectIDs), MaxNoticeBatch)
	}
	ids := sortedIDs(subjectIDs)
	err = s.write(ctx, func(tx *sql.Tx) error {
		assigned, missing = 0, 0
		if err := s.checkIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		// One assigner per incident at a time: two would pick the same
		// free code, and one of them would fail on the conditional update.
		if err := s.lockIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		if s.dialect == DialectPostgres {
			assigned, missing, err = s.assignRemedyCodesPostgres(ctx, tx, incidentID, sc, ids)
			return err
		}
		cond, scArgs := scopeSQL(sc)
		var want []int64
		for start := 0; start < len(ids); start += noticeChunk {
			chunk := ids[start:min(start+noticeChunk, len(ids))]
			args := []any{incidentID}
			for _, id := range chunk {
				args = append(args, id)
			}
			args = append(args, scArgs...)
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
			got, err := queryTx(ctx, tx, s.q(`SELECT s.id FROM subjects s WHERE s.incident_id = ? AND s.id IN (`+marks+`)
				AND `+cond+` AND NOT EXISTS (SELECT 1 FROM remedy_codes r WHERE r.incident_id = s.incident_id AND r.subject_id = s.id)
				ORDER BY s.id`), args...)
			if err != nil {
				return err
			}
			want = append(want, got...)
		}
		if len(want) == 0 {
			return nil
		}
		free, err := queryTx(ctx, tx, s.q(`SELECT id FROM remedy_codes WHERE incident_id = ? AND product = ? AND subject_id IS NULL
			ORDER BY id LIMIT ?`), incidentID, sc.Product, len(want))
		if err != nil {
			return err
		}
		upd, err := tx.PrepareContext(ctx, s.q(`UPDATE remedy_codes SET subject_id = ?, assigned_at = ? WHERE id = ? AND subject_id IS NULL`))
		if err != nil {
			return err
		}
		defer upd.Close()
		stamp := s.timeArg(now())
		for i, codeID := range free {
			res, err := upd.ExecContext(ctx, want[i], stamp, codeID)
			if err != nil {
				return fmt.Errorf("subject %d: %w", want[i], err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n != 1 {
				return fmt.Errorf("%w: code %d was taken meanwhile", ErrConflict, codeID)
			}
			assigned++
		}
		missing = len(want) - len(free)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: assign remedy codes for %q: %w", incidentID, err)
	}
	return assigned, missing, nil
}

// assignRemedyCodesPostgresSQL pairs, in one statement, the subjects
// among the batch ($2) that are in scope and hold no code (want, in id
// order) with as many of the product's oldest free codes (free), and gives
// the n-th code to the n-th subject: unnest zips the two arrays, so each
// pair is found by the code's primary key whatever the planner guesses of
// the rows (a join on row numbers went quadratic on fresh tables without
// statistics). The scope's condition and its arguments follow $2; the
// update keeps the conditional "subject_id IS NULL", so a code taken
// meanwhile is not given again, and the counts then disagree.
const assignRemedyCodesPostgresSQL = `WITH want AS (
	SELECT coalesce(array_agg(s.id ORDER BY s.id), '{}') AS ids FROM subjects s
	WHERE s.incident_id = ? AND s.id = ANY(CAST(? AS BIGINT[])) AND %s
		AND NOT EXISTS (SELECT 1 FROM remedy_codes r WHERE r.incident_id = s.incident_id AND r.subject_id = s.id)
), free AS (
	SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}') AS ids FROM (SELECT id FROM remedy_codes
		WHERE incident_id = ? AND product = ? AND subject_id IS NULL
		ORDER BY id LIMIT (SELECT cardinality(ids) FROM want)) c
), given AS (
	UPDATE remedy_codes r SET subject_id = p.subject_id, assigned_at = ?
	FROM want, free, unnest(free.ids, want.ids) AS p (code_id, subject_id)
	WHERE r.id = p.code_id AND p.subject_id IS NOT NULL AND r.subject_id IS NULL
	RETURNING r.id
)
SELECT cardinality(want.ids), cardinality(free.ids), (SELECT count(*) FROM given) FROM want, free`

// assignRemedyCodesPostgres is AssignRemedyCodes' pairing in one round
// trip for the batch instead of one UPDATE per code, inside the caller's
// transaction and incident lock. The pgx driver sends ids as an array.
func (s *SQL) assignRemedyCodesPostgres(ctx context.Context, tx *sql.Tx, incidentID string, sc RemedyScope, ids []int64) (assigned, missing int, err error) {
	cond, scArgs := scopeSQL(sc)
	args := append([]any{incidentID, ids}, scArgs...)
	args = append(args, incidentID, sc.Product, s.timeArg(now()))
	var want, free int
	if err := tx.QueryRowContext(ctx, s.q(fmt.Sprintf(assignRemedyCodesPostgresSQL, cond)), args...).Scan(&want, &free, &assigned); err != nil {
		return 0, 0, err
	}
	if assigned != free {
		return 0, 0, fmt.Errorf("%w: %d of %d free codes were taken meanwhile", ErrConflict, free-assigned, free)
	}
	return assigned, want - free, nil
}

// queryTx reads one int64 column.
func queryTx(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

const remedyColumns = `id, incident_id, code_hmac, code_sealed, key_id, product, enrollment_url, enroll_by,
	subject_id, assigned_at, created_at`

func scanRemedy(r interface{ Scan(...any) error }) (RemedyCode, error) {
	var (
		c   RemedyCode
		sub sql.NullInt64
	)
	err := r.Scan(&c.ID, &c.IncidentID, &c.CodeHMAC, &c.CodeSealed, &c.KeyID, &c.Product, &c.EnrollmentURL,
		dbTime{&c.EnrollBy}, &sub, dbTime{&c.AssignedAt}, dbTime{&c.CreatedAt})
	c.SubjectID = sub.Int64
	return c, err
}

// RemedyCodesFor returns the codes of these subjects of the incident, by
// subject id; a subject without a code is absent.
func (s *SQL) RemedyCodesFor(ctx context.Context, incidentID string, subjectIDs []int64) (map[int64]RemedyCode, error) {
	out := map[int64]RemedyCode{}
	ids := sortedIDs(subjectIDs)
	for start := 0; start < len(ids); start += noticeChunk {
		chunk := ids[start:min(start+noticeChunk, len(ids))]
		args := []any{incidentID}
		for _, id := range chunk {
			args = append(args, id)
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
		got, err := queryAll(ctx, s.db, scanRemedy, s.q(`SELECT `+remedyColumns+` FROM remedy_codes
			WHERE incident_id = ? AND subject_id IN (`+marks+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("store: remedy codes for %q: %w", incidentID, err)
		}
		for _, c := range got {
			out[c.SubjectID] = c
		}
	}
	return out, nil
}

// NoticePage is a customer's link to their notice page: only the hash of
// its token is kept.
type NoticePage struct {
	ID           int64
	IncidentID   string
	SubjectID    int64
	Salt         string
	TokenHash    string
	Jurisdiction string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	ReadAt       time.Time // zero until first read
	AckedAt      time.Time // zero until acknowledged
}

// NoticePageCount is how many pages of one jurisdiction were made, read
// and acknowledged.
type NoticePageCount struct {
	Links int `json:"links"`
	Read  int `json:"read"`
	Acked int `json:"acknowledged"`
}

const noticePageColumns = `id, incident_id, subject_id, salt, token_hash, jurisdiction, created_at, expires_at, read_at, acked_at`

func scanNoticePage(r interface{ Scan(...any) error }) (NoticePage, error) {
	var p NoticePage
	err := r.Scan(&p.ID, &p.IncidentID, &p.SubjectID, &p.Salt, &p.TokenHash, &p.Jurisdiction,
		dbTime{&p.CreatedAt}, dbTime{&p.ExpiresAt}, dbTime{&p.ReadAt}, dbTime{&p.AckedAt})
	return p, err
}

// EnsureNoticePage keeps the subject's notice page, creating it from p
// (salt, token hash, expiry) when there is none; an existing page is
// returned unchanged, so a resent notice derives the same token from its
// salt. The subject must belong to the incident (ErrInvalid otherwise).
func (s *SQL) EnsureNoticePage(ctx context.Context, p NoticePage) (NoticePage, error) {
	got, err := s.EnsureNoticePages(ctx, p.IncidentID, []NoticePage{p})
	if err != nil {
		return p, err
	}
	out, ok := got[p.SubjectID]
	if !ok {
		return p, fmt.Errorf("store: ensure notice page: %w: subject %d is not a subject of the incident", ErrInvalid, p.SubjectID)
	}
	return out, nil
}

// EnsureNoticePages is EnsureNoticePage for many subjects of one incident
// in one transaction (a batch of notices costs one commit, not one per
// notice), answering the pages by subject id; a subject that is not the
// incident's gets none.
func (s *SQL) EnsureNoticePages(ctx context.Context, incidentID string, pages []NoticePage) (map[int64]NoticePage, error) {
	if len(pages) > MaxNoticeBatch {
		return nil, fmt.Errorf("store: ensure notice pages: %w: batch of %d is over %d", ErrInvalid, len(pages), MaxNoticeBatch)
	}
	ids := make([]int64, 0, len(pages))
	for _, p := range pages {
		switch {
		case p.IncidentID != incidentID:
			return nil, fmt.Errorf("store: ensure notice pages: %w: page of incident %q among %q's", ErrInvalid, p.IncidentID, incidentID)
		case p.Salt == "" || !isLowerHex(p.TokenHash, 64):
			return nil, fmt.Errorf("store: ensure notice page: %w: salt and a 64-digit hex token hash are required", ErrInvalid)
		case p.ExpiresAt.IsZero():
			return nil, fmt.Errorf("store: ensure notice page: %w: no expiry", ErrInvalid)
		}
		ids = append(ids, p.SubjectID)
	}
	out := make(map[int64]NoticePage, len(pages))
	if s.dialect == DialectPostgres {
		err := s.write(ctx, func(tx *sql.Tx) error { return s.ensureNoticePagesPostgres(ctx, tx, incidentID, pages, out) })
		if err != nil {
			return nil, fmt.Errorf("store: ensure notice pages: %w", err)
		}
		return out, nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		// One INSERT per chunk of pages: the chunk's rows as VALUES
		// (column1 … column4), joined to the incident's subjects. The
		// WHERE lets SQLite tell the upsert's ON from a join's.
		stamp := s.timeArg(now())
		for start := 0; start < len(pages); start += noticeChunk {
			chunk := pages[start:min(start+noticeChunk, len(pages))]
			args := make([]any, 0, 2+4*len(chunk))
			args = append(args, stamp)
			for _, p := range chunk {
				args = append(args, p.SubjectID, p.Salt, p.TokenHash, s.timeArg(p.ExpiresAt))
			}
			args = append(args, incidentID)
			rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(chunk)), ", ")
			if _, err := tx.ExecContext(ctx, `INSERT INTO notice_pages (incident_id, subject_id, salt, token_hash, jurisdiction, created_at, expires_at)
				SELECT s.incident_id, s.id, v.column2, v.column3, `+subjectJurisdictionSQL+`, ?, v.column4
				FROM (VALUES `+rows+`) AS v JOIN subjects s ON s.id = v.column1 AND s.incident_id = ?
				WHERE true
				ON CONFLICT (incident_id, subject_id) DO NOTHING`, args...); err != nil {
				return err
			}
		}
		ids = sortedIDs(ids)
		for start := 0; start < len(ids); start += noticeChunk {
			chunk := ids[start:min(start+noticeChunk, len(ids))]
			args := []any{incidentID}
			for _, id := range chunk {
				args = append(args, id)
			}
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
			got, err := queryAll(ctx, tx, scanNoticePage, s.q(`SELECT `+noticePageColumns+` FROM notice_pages
				WHERE incident_id = ? AND subject_id IN (`+marks+`)`), args...)
			if err != nil {
				return err
			}
			for _, p := range got {
				out[p.SubjectID] = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: ensure notice pages: %w", err)
	}
	return out, nil
}

// ensureNoticePagesPostgresSQL makes the missing pages of a batch in one
// statement: the batch arrives as one array per column ($2..$5), each
// subject is looked up by its key among the incident's (a subject that is
// not the incident's gets no page), and a subject that has a page keeps
// it. The LIMIT keeps the lateral subquery from being flattened into a
// join: on a new incident, without statistics, a batch of 500 made the
// planner hash every subject of the incident for each batch (20,000 rows
// read per batch at 20,000 customers, quadratic in all).
const ensureNoticePagesPostgresSQL = `INSERT INTO notice_pages (incident_id, subject_id, salt, token_hash, jurisdiction, created_at, expires_at)
	SELECT s.incident_id, s.id, b.salt, b.token_hash, ` + subjectJurisdictionSQL + `, $6, b.expires_at
	FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[]) AS b (subject_id, salt, token_hash, expires_at)
	CROSS JOIN LATERAL (SELECT * FROM subjects WHERE id = b.subject_id AND incident_id = $1 LIMIT 1) s
	ORDER BY s.id
	ON CONFLICT (incident_id, subject_id) DO NOTHING`

// ensureNoticePagesPostgres is EnsureNoticePages in two round trips for
// the batch — the insert, then reading the batch's pages back in a
// statement of its own, which sees a page another transaction made
// meanwhile — instead of one INSERT per page. The pages are read back one
// key lookup per subject (the LIMIT keeps the lateral subquery from being
// flattened into a join the planner may turn inside out on a new incident
// it has no statistics for). The pgx driver sends Go slices as PostgreSQL
// arrays.
func (s *SQL) ensureNoticePagesPostgres(ctx context.Context, tx *sql.Tx, incidentID string, pages []NoticePage, out map[int64]NoticePage) error {
	n := len(pages)
	ids, salts, hashes, expires := make([]int64, n), make([]string, n), make([]string, n), make([]time.Time, n)
	for i, p := range pages {
		ids[i], salts[i], hashes[i] = p.SubjectID, p.Salt, p.TokenHash
		expires[i] = p.ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	if _, err := tx.ExecContext(ctx, ensureNoticePagesPostgresSQL, incidentID, ids, salts, hashes, expires, now()); err != nil {
		return err
	}
	got, err := queryAll(ctx, tx, scanNoticePage, `SELECT p.* FROM unnest($2::bigint[]) AS u (subject_id)
		CROSS JOIN LATERAL (SELECT `+noticePageColumns+` FROM notice_pages
			WHERE incident_id = $1 AND subject_id = u.subject_id LIMIT 1) p`, incidentID, ids)
	if err != nil {
		return err
	}
	for _, p := range got {
		out[p.SubjectID] = p
	}
	return nil
}

// NoticePageByHash returns the live page whose token hashes to hash and
// records its first read; ErrNotFound for an unknown or expired token,
// alike.
func (s *SQL) NoticePageByHash(ctx context.Context, hash string, at time.Time) (NoticePage, error) {
	return s.touchNoticePage(ctx, hash, at, "read_at")
}

// AckNoticePage records the acknowledgement (the first one counts; again
// is a no-op) of the live page whose token hashes to hash; ErrNotFound as
// NoticePageByHash.
func (s *SQL) AckNoticePage(ctx context.Context, hash string, at time.Time) (NoticePage, error) {
	return s.touchNoticePage(ctx, hash, at, "acked_at")
}

// touchNoticePage sets column (a fixed name) to at when it is still NULL,
// and the read too: an acknowledgement is a read.
func (s *SQL) touchNoticePage(ctx context.Context, hash string, at time.Time, column string) (NoticePage, error) {
	var out NoticePage
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanNoticePage(tx.QueryRowContext(ctx, s.q(`SELECT `+noticePageColumns+` FROM notice_pages WHERE token_hash = ?`), hash))
		if err != nil {
			return notFound(err)
		}
		if !at.Before(out.ExpiresAt) {
			return ErrNotFound
		}
		set := `read_at = COALESCE(read_at, ?)`
		args := []any{s.timeArg(at)}
		if column == "acked_at" {
			set += `, acked_at = COALESCE(acked_at, ?)`
			args = append(args, s.timeArg(at))
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE notice_pages SET `+set+` WHERE id = ?`), append(args, out.ID)...)
		if err != nil {
			return err
		}
		out, err = scanNoticePage(tx.QueryRowContext(ctx, s.q(`SELECT `+noticePageColumns+` FROM notice_pages WHERE id = ?`), out.ID))
		return err
	})
	if err != nil {
		return NoticePage{}, fmt.Errorf("store: notice page: %w", err)
	}
	return out, nil
}

// NoticePageCounts counts the incident's pages per jurisdiction: links
// made, read, acknowledged. Never who.
func (s *SQL) NoticePageCounts(ctx context.Context, incidentID string) (map[string]NoticePageCount, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT jurisdiction, COUNT(*), COUNT(read_at), COUNT(acked_at) FROM notice_pages
		WHERE incident_id = ? GROUP BY jurisdiction`), incidentID)
	if err != nil {
		return nil, fmt.Errorf("store: notice page counts for %q: %w", incidentID, err)
	}
	defer rows.Close()
	out := map[string]NoticePageCount{}
	for rows.Next() {
		var (
			j string
			c NoticePageCount
		)
		if err := rows.Scan(&j, &c.Links, &c.Read, &c.Acked); err != nil {
			return nil, fmt.Errorf("store: notice page counts for %q: %w", incidentID, err)
		}
		out[j] = c
	}
	return out, rows.Err()
}

// RemedyAssignedByJurisdiction counts the codes given per jurisdiction of
// their subjects (for the delivery report).
func (s *SQL) RemedyAssignedByJurisdiction(ctx context.Context, incidentID string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+subjectJurisdictionSQL+` AS j, COUNT(*) FROM remedy_codes r
		JOIN subjects s ON s.id = r.subject_id AND s.incident_id = r.incident_id
		WHERE r.incident_id = ? GROUP BY j`), incidentID)
	if err != nil {
		return nil, fmt.Errorf("store: remedy codes by jurisdiction for %q: %w", incidentID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			j string
			n int
		)
		if err := rows.Scan(&j, &n); err != nil {
			return nil, err
		}
		out[j] = n
	}
	return out, rows.Err()
}
