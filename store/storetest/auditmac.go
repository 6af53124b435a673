package storetest

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/store"
)

// testAuditKeys returns a keyring of fresh random keys, the first current.
func testAuditKeys(t *testing.T, ids ...string) *store.AuditKeys {
	t.Helper()
	var specs []string
	for _, id := range ids {
		specs = append(specs, keySpec(t, id))
	}
	return parseKeys(t, specs...)
}

func keySpec(t *testing.T, id string) string {
	t.Helper()
	spec, err := store.NewAuditKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func parseKeys(t *testing.T, specs ...string) *store.AuditKeys {
	t.Helper()
	k, err := store.ParseAuditKeys(strings.Join(specs, ","))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func appendOne(t *testing.T, s store.Store, id string) {
	t.Helper()
	if _, err := s.AppendAudit(ctx(t), store.AuditEvent{IncidentID: id, Actor: "bob", Action: "remediation.added"}); err != nil {
		t.Fatal(err)
	}
}

// recomputeChain rewrites the incident's hash chain consistently after
// its rows were edited, as someone who can write the database but does
// not hold the audit key would: every hash and link matches again, the
// MACs are whatever the rows hold.
func recomputeChain(t *testing.T, s store.Store, id string) {
	t.Helper()
	c := ctx(t)
	events, err := s.ListAudit(c, id)
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for _, e := range events {
		e.PrevHash = prev
		e.Hash = store.HashEvent(e)
		if _, err := withDB(t, s).ExecContext(c, rebind(s, `UPDATE audit_events SET prev_hash = ?, hash = ?
			WHERE incident_id = ? AND seq = ?`), e.PrevHash, e.Hash, id, e.Seq); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
	}
	if rep := store.VerifyChain(mustList(t, s, id)); !rep.OK {
		t.Fatalf("the recomputed plain chain does not verify: %+v", rep)
	}
}

func mustList(t *testing.T, s store.Store, id string) []store.AuditEvent {
	t.Helper()
	events, err := s.ListAudit(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func exec(t *testing.T, s store.Store, q string, args ...any) {
	t.Helper()
	if _, err := withDB(t, s).ExecContext(ctx(t), rebind(s, q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func wantBroken(t *testing.T, rep store.ChainReport, seq int64, reason string) {
	t.Helper()
	if rep.OK || rep.BrokenAt != seq || !strings.Contains(rep.Reason, reason) {
		t.Errorf("report = %+v, want broken at event %d with a reason containing %q", rep, seq, reason)
	}
}

func testAuditRecomputedWithoutKey(t *testing.T, s store.Store) {
	id := seedChain(t, s, 4)
	head := store.HeadOf(mustList(t, s, id)[3])
	disableAppendOnly(t, s)
	exec(t, s, `UPDATE audit_events SET actor = 'mallory' WHERE incident_id = ? AND seq = 2`, id)
	recomputeChain(t, s, id)
	rep, err := s.VerifyAudit(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	wantBroken(t, rep, 2, "fails its MAC")

	// Stripping every MAC turns the forged chain into a legacy one the
	// keys cannot fault; the workflow's checkpoint still can.
	exec(t, s, `UPDATE audit_events SET mac = '', mac_key = '' WHERE incident_id = ?`, id)
	recomputeChain(t, s, id)
	events := mustList(t, s, id)
	if rep := store.VerifyAuditChain(events, testAuditKeys(t, "k1"), nil); !rep.OK || rep.Legacy != 4 {
		t.Fatalf("a chain without MACs = %+v, want OK with 4 legacy events", rep)
	}
	wantBroken(t, store.VerifyAuditChain(events, nil, &head), 4, "checkpoint")
}

func testAuditMACStripped(t *testing.T, s store.Store) {
	id := seedChain(t, s, 4)
	disableAppendOnly(t, s)
	exec(t, s, `UPDATE audit_events SET mac = '', mac_key = '' WHERE incident_id = ? AND seq = 3`, id)
	rep, err := s.VerifyAudit(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	wantBroken(t, rep, 3, "has no MAC")
}

func testAuditWrongKey(t *testing.T, s store.Store) {
	id := seedChain(t, s, 2)
	events := mustList(t, s, id)
	wantBroken(t, store.VerifyAuditChain(events, testAuditKeys(t, "k1"), nil), 1, "fails its MAC")
	wantBroken(t, store.VerifyAuditChain(events, testAuditKeys(t, "k9"), nil), 1, `key "k1"`)
	if rep := store.VerifyAuditChain(events, nil, nil); !rep.OK || rep.Unchecked != 2 || rep.Authenticated != 0 {
		t.Errorf("without keys = %+v, want OK with 2 unchecked MACs", rep)
	}
}

func testAuditKeyRotation(t *testing.T, s store.Store) {
	k1, k2 := keySpec(t, "k1"), keySpec(t, "k2")
	s.SetAuditKeys(parseKeys(t, k1))
	id := seedChain(t, s, 2)
	// The rotated ring: a new current key k2, the old k1 kept to verify.
	s.SetAuditKeys(parseKeys(t, k2, k1))
	for range 2 {
		appendOne(t, s, id)
	}
	events := mustList(t, s, id)
	var ids []string
	for _, e := range events {
		ids = append(ids, e.MACKey)
	}
	if strings.Join(ids, ",") != "k1,k1,k2,k2" {
		t.Errorf("events signed with %v, want k1,k1,k2,k2", ids)
	}
	rep, err := s.VerifyAudit(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Authenticated != 4 {
		t.Errorf("after rotation = %+v, want all 4 authenticated", rep)
	}
	wantBroken(t, store.VerifyAuditChain(events, parseKeys(t, k2), nil), 1, `key "k1", which is not among`)
}

func testAuditTruncatedTail(t *testing.T, s store.Store) {
	keys := testAuditKeys(t, "k1")
	s.SetAuditKeys(keys)
	id := seedChain(t, s, 4)
	head := store.HeadOf(mustList(t, s, id)[3])
	disableAppendOnly(t, s)
	exec(t, s, `DELETE FROM audit_events WHERE incident_id = ? AND seq >= 3`, id)
	rep, err := s.VerifyAudit(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Events != 2 {
		t.Fatalf("without a checkpoint the shortened chain = %+v; the test assumes it looks whole", rep)
	}
	wantBroken(t, store.VerifyAuditChain(mustList(t, s, id), keys, &head), 3, "removed from the end")
}

func testAuditLegacy(t *testing.T, s store.Store) {
	keys := testAuditKeys(t, "k1")
	s.SetAuditKeys(nil)
	id := seedChain(t, s, 2)
	s.SetAuditKeys(keys)
	appendOne(t, s, id)
	rep, err := s.VerifyAudit(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (store.ChainReport{OK: true, Events: 3, Legacy: 2, Authenticated: 1}) {
		t.Errorf("legacy then authenticated = %+v, want OK with 2 legacy and 1 authenticated", rep)
	}
}
