// Package store keeps breachflow's relational state — API tokens, incidents,
// their hash-chained audit trail and the deadline index — in SQLite (the
// embedded default, via the pure-Go modernc.org/sqlite driver) or PostgreSQL
// (via pgx), behind one Store interface. Temporal holds each incident's
// live workflow state; the store holds what must outlive or sit beside it
// and what other replicas and tools query directly.
//
// This package holds the SQL both databases share and links no driver, so
// the activities and workflows that use its types do not either. Each
// driver lives in its own subpackage: store/sqlite and store/postgres open
// their database and hand the handle to New.
//
// # Opening and migrating
//
// store/dburl.Open takes BREACHFLOW_DATABASE_URL: "sqlite:///abs/path.db",
// "sqlite://relative.db", "sqlite::memory:", or "postgres://…". It never
// changes the schema; call Migrate, which applies the embedded goose
// migrations (migrations/sqlite and migrations/postgres, numbered 00001_…)
// and is a no-op when nothing is pending. On PostgreSQL, Migrate takes a
// session advisory lock so replicas starting together migrate one at a
// time, and tables are created in the first schema of the search_path.
//
// SQLite connections run in WAL mode with a 10 s busy timeout, foreign keys
// on and BEGIN IMMEDIATE transactions; writes from one process are queued
// in-process rather than contending for SQLite's single write lock.
//
// # Tokens
//
// A token secret is "bf_" plus 32 random bytes in lower-case base32, shown
// once. Only its SHA-256 is stored (a slow KDF buys nothing against
// 256-bit secrets) and authentication looks the hash up by unique index.
// EnsureToken installs a caller-chosen secret such as the bootstrap admin
// token and is idempotent.
//
// # Incidents
//
// CreateIncident de-duplicates on ExternalRef and IdempotencyKey with
// partial unique indexes and INSERT … ON CONFLICT DO NOTHING, so concurrent
// launches of the same breach create it exactly once.
//
// # Deadline board
//
// The obligations table indexes every incident's current regulatory duties
// so GET /v1/deadlines and the calendar feed need not query each workflow.
// The Incident workflow owns the truth and, after every change, writes the
// whole set with PutObligations, which replaces the incident's rows in one
// transaction (on PostgreSQL under a row lock on the incident, so
// concurrent replacements serialise; the last to commit wins).
// ListDeadlines joins each row with its incident's severity and status and
// orders by due time, undated duties last.
//
// # Calendar tokens
//
// A calendar app cannot send a bearer header, so the feed takes a
// "bfcal_…" secret in its URL instead. Each calendar token acts for one API
// token, is stored as a SHA-256 hash like API tokens, and stops working
// when its owner is revoked.
//
// # Subjects
//
// The subjects table holds each incident's affected customers, imported by
// internal/subjects. The store never sees an email or name in the clear:
// callers seal them with a Sealer (internal/codec.Keyring) and pass a
// keyed HMAC of the lower-cased email, which UpsertSubjects uses to merge a
// re-uploaded row that has no external id; rows with an external id merge
// on it. Partial unique indexes enforce both rules. Batches are written in
// one transaction, serialised per incident like PutObligations, and the
// notice fan-out pages through ids with ListSubjectIDs and GetSubjects.
//
// # Notices
//
// The notices table holds one row per (incident, subject, kind) with its
// delivery state: pending → sending (ClaimNotices) → sent (final), failed
// (permanent; back to pending only through RetryFailedNotices), back to
// pending (temporary failure), or suppressed. The Message-ID is fixed at
// EnsureNotices, so a repeated send carries the same one. A claim is a
// lease of breach.NoticeClaimLease: concurrent claimers never get the same notice,
// and a notice still in sending after the lease belongs to a crashed batch
// and is claimed again — the only way a notice is sent twice, and then with
// the same Message-ID. The jurisdiction is copied from the subject, and
// subject_id has no foreign key, so removing subjects keeps the delivery
// record.
//
// # Audit trail
//
// Every incident has an append-only chain of AuditEvents. Each event's Hash
// is a SHA-256 over a canonical encoding of its fields, the digest of its
// details and the previous event's hash (see HashEvent), so altering,
// reordering or removing an event breaks verification from that event on
// (VerifyAudit, or VerifyChain on an export). Appends for one incident are
// serialised — by SQLite's write lock, or by a PostgreSQL transaction-level
// advisory lock on the incident — and each carries an idempotency Key, so a
// retried activity appends nothing new. Triggers reject UPDATE and DELETE on
// the audit table, but a database owner can drop or disable them; the
// chain is what detects that. Removing events from the end of a chain is
// not detectable from the chain alone: keep the count or the last hash
// elsewhere (an evidence pack, a Slack message) to anchor it.
package store
