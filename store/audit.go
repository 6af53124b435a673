package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"
	"unicode/utf8"
)

// hashDomain starts every hashed encoding, so an audit hash can never be
// confused with a hash of anything else, and the encoding can be versioned.
const hashDomain = "breachflow/audit/v1"

// HashEvent returns the hex SHA-256 of the canonical encoding of e: the
// fields IncidentID, Seq (decimal), Key, At (UTC, "2006-01-02T15:04:05.000000Z"),
// Actor, Action, Target, hex SHA-256 of Details, and PrevHash, each written
// as a netstring ("<len>:<bytes>,") after the domain string
// "breachflow/audit/v1". Netstrings make the encoding unambiguous whatever
// the fields contain. Details must already be in stored (compacted) form;
// nil stands for "{}". Anyone holding an export of the events can recompute
// the chain with this function.
func HashEvent(e AuditEvent) string {
	details := e.Details
	if details == nil {
		details = json.RawMessage("{}")
	}
	ds := sha256.Sum256(details)
	h := sha256.New()
	for _, f := range []string{
		hashDomain,
		e.IncidentID,
		strconv.FormatInt(e.Seq, 10),
		e.Key,
		e.At.UTC().Truncate(time.Microsecond).Format(timeLayout),
		e.Actor,
		e.Action,
		e.Target,
		hex.EncodeToString(ds[:]),
		e.PrevHash,
	} {
		writeNetstring(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeNetstring(h hash.Hash, s string) {
	h.Write(strconv.AppendInt(nil, int64(len(s)), 10))
	h.Write([]byte{':'})
	h.Write([]byte(s))
	h.Write([]byte{','})
}

// VerifyChain checks events, ordered by Seq, as one incident's complete
// chain: seqs run 1,2,3… without gaps, each PrevHash is the previous Hash,
// and each Hash matches HashEvent. It cannot notice events removed from the
// end of the chain; compare Events with a count recorded elsewhere for that.
func VerifyChain(events []AuditEvent) ChainReport {
	prev := ""
	for i, e := range events {
		want := int64(i + 1)
		switch {
		case e.Seq != want:
			return ChainReport{Events: len(events), BrokenAt: e.Seq,
				Reason: fmt.Sprintf("event %d found where event %d was expected (events missing or reordered)", e.Seq, want)}
		case i > 0 && e.IncidentID != events[0].IncidentID:
			return ChainReport{Events: len(events), BrokenAt: e.Seq,
				Reason: fmt.Sprintf("event %d belongs to incident %q, not %q", e.Seq, e.IncidentID, events[0].IncidentID)}
		case e.PrevHash != prev:
			return ChainReport{Events: len(events), BrokenAt: e.Seq,
				Reason: fmt.Sprintf("event %d does not link to event %d: prev_hash differs from that event's hash", e.Seq, e.Seq-1)}
		case HashEvent(e) != e.Hash:
			return ChainReport{Events: len(events), BrokenAt: e.Seq,
				Reason: fmt.Sprintf("event %d was altered: its content no longer matches its hash", e.Seq)}
		}
		prev = e.Hash
	}
	return ChainReport{OK: true, Events: len(events)}
}

// NormalizeDetails returns details in the form the store keeps and hashes:
// compact JSON of an object, "{}" for nil or empty input. Anything else is
// ErrInvalid.
func NormalizeDetails(details json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(details)) == 0 {
		return json.RawMessage("{}"), nil
	}
	// PostgreSQL's json type rejects invalid UTF-8 that json.Compact would
	// copy through; refuse it here so both dialects agree.
	if !utf8.Valid(details) {
		return nil, fmt.Errorf("%w: details are not valid UTF-8", ErrInvalid)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, details); err != nil {
		return nil, fmt.Errorf("%w: details are not JSON: %v", ErrInvalid, err)
	}
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, fmt.Errorf("%w: details must be a JSON object", ErrInvalid)
	}
	return json.RawMessage(buf.Bytes()), nil
}

const auditColumns = "incident_id, seq, key, at, actor, action, target, details, prev_hash, hash, mac, mac_key"

func scanAudit(row interface{ Scan(...any) error }) (AuditEvent, error) {
	var e AuditEvent
	var details []byte
	err := row.Scan(&e.IncidentID, &e.Seq, &e.Key, dbTime{&e.At}, &e.Actor, &e.Action, &e.Target,
		&details, &e.PrevHash, &e.Hash, &e.MAC, &e.MACKey)
	e.Details = json.RawMessage(details)
	return e, err
}

// AppendAudit appends e to its incident's chain inside one write
// transaction that first takes the incident's lock, so concurrent appenders
// see each other's events and the chain stays gap-free. Seq, PrevHash and
// Hash are assigned here, and MAC with the store's current audit key
// when it has keys; Key defaults to a random "auto:" key, At to now.
// A Key the incident already has returns the stored event unchanged, which
// makes retried activities harmless. The incident must exist (ErrNotFound).
func (s *SQL) AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error) {
	out, err := s.AppendAuditEvents(ctx, []AuditEvent{e})
	if err != nil {
		return AuditEvent{}, err
	}
	return out[0], nil
}

// AppendAuditEvents appends events, all of one incident, in order, each as
// AppendAudit would, in one transaction: all are stored or none. The
// incident's lock, its existence and the chain's last link are read once
// for the lot, which is what makes a workflow pass's events one write.
func (s *SQL) AppendAuditEvents(ctx context.Context, events []AuditEvent) ([]AuditEvent, error) {
	if len(events) == 0 {
		return nil, nil
	}
	var out []AuditEvent
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.appendAuditTx(ctx, tx, events...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: append audit to %q: %w", events[0].IncidentID, err)
	}
	return out, nil
}

// appendAuditTx appends events (at least one, all of one incident) inside
// tx, as AppendAuditEvents describes, so a change and its audit event
// commit together or not at all.
func (s *SQL) appendAuditTx(ctx context.Context, tx *sql.Tx, events ...AuditEvent) ([]AuditEvent, error) {
	out := make([]AuditEvent, len(events))
	for i, e := range events {
		switch {
		case e.IncidentID == "":
			return nil, fmt.Errorf("%w: incident id is empty", ErrInvalid)
		case e.IncidentID != events[0].IncidentID:
			return nil, fmt.Errorf("%w: events of incidents %q and %q in one append", ErrInvalid, events[0].IncidentID, e.IncidentID)
		case e.Actor == "":
			return nil, fmt.Errorf("%w: actor is empty", ErrInvalid)
		case e.Action == "":
			return nil, fmt.Errorf("%w: action is empty", ErrInvalid)
		}
		details, err := NormalizeDetails(e.Details)
		if err != nil {
			return nil, err
		}
		e.Details = details
		if e.Key == "" {
			var b [16]byte
			if _, err := rand.Read(b[:]); err != nil {
				return nil, err
			}
			e.Key = "auto:" + hex.EncodeToString(b[:])
		}
		if e.At.IsZero() {
			e.At = now()
		}
		// Hash what will be stored and read back: UTC, whole microseconds.
		e.At = e.At.UTC().Truncate(time.Microsecond)
		out[i] = e
	}
	id := events[0].IncidentID
	if err := s.lockIncident(ctx, tx, id); err != nil {
		return nil, err
	}
	var one int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`), id).Scan(&one); err != nil {
		return nil, notFound(err)
	}
	var last int64
	var prev string
	err := tx.QueryRowContext(ctx, s.q(`SELECT seq, hash FROM audit_events
		WHERE incident_id = ? ORDER BY seq DESC LIMIT 1`), id).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	for i, e := range out {
		got, err := scanAudit(tx.QueryRowContext(ctx, s.q(`SELECT `+auditColumns+` FROM audit_events
			WHERE incident_id = ? AND key = ?`), id, e.Key))
		if err == nil {
			out[i] = got // stored before: a retry
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		e.Seq = last + 1
		e.PrevHash = prev
		e.Hash = HashEvent(e)
		if s.auditKeys != nil {
			s.auditKeys.seal(&e)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit_events (`+auditColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.IncidentID, e.Seq, e.Key, s.timeArg(e.At), e.Actor, e.Action, e.Target,
			string(e.Details), e.PrevHash, e.Hash, e.MAC, e.MACKey); err != nil {
			return nil, err
		}
		last, prev = e.Seq, e.Hash
		out[i] = e
	}
	return out, nil
}

// ListAudit returns the incident's events ordered by Seq; an incident
// without events, or an unknown one, yields an empty list.
func (s *SQL) ListAudit(ctx context.Context, incidentID string) ([]AuditEvent, error) {
	out, err := queryAll(ctx, s.db, scanAudit, s.q(`SELECT `+auditColumns+` FROM audit_events
		WHERE incident_id = ? ORDER BY seq`), incidentID)
	if err != nil {
		return nil, fmt.Errorf("store: list audit of %q: %w", incidentID, err)
	}
	return out, nil
}

// VerifyAudit loads the incident's chain and checks it with
// VerifyAuditChain and the store's audit keys (no checkpoint).
func (s *SQL) VerifyAudit(ctx context.Context, incidentID string) (ChainReport, error) {
	events, err := s.ListAudit(ctx, incidentID)
	if err != nil {
		return ChainReport{}, fmt.Errorf("store: verify audit: %w", err)
	}
	return VerifyAuditChain(events, s.auditKeys, nil), nil
}

// VerifiedAudit reads the incident's chain once and returns its events
// with the VerifyAuditChain report over exactly those events, checked with
// the store's audit keys and, when head is not nil, against that
// checkpoint.
func (s *SQL) VerifiedAudit(ctx context.Context, incidentID string, head *ChainHead) ([]AuditEvent, ChainReport, error) {
	events, err := s.ListAudit(ctx, incidentID)
	if err != nil {
		return nil, ChainReport{}, fmt.Errorf("store: verify audit: %w", err)
	}
	return events, VerifyAuditChain(events, s.auditKeys, head), nil
}

// SetAuditKeys sets the keys that authenticate audit events.
func (s *SQL) SetAuditKeys(keys *AuditKeys) { s.auditKeys = keys }
