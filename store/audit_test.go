package store

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// TestHashEventPinned pins the canonical encoding: outside verifiers of an
// exported audit trail depend on it, so any change must be deliberate (and
// come with a new hashDomain version).
func TestHashEventPinned(t *testing.T) {
	e := AuditEvent{
		IncidentID: "BR-7K3F9Q",
		Seq:        2,
		Key:        "step:contain:complete",
		At:         time.Date(2026, 11, 23, 8, 0, 0, 123456789, time.UTC),
		Actor:      "alice",
		Action:     "step.completed",
		Target:     "step:contain",
		Details:    json.RawMessage(`{"note":"bucket closed"}`),
		PrevHash:   strings.Repeat("ab", 32),
	}
	const want = "b2bbd837d2254b1cd2b6ed4e7a45e0915f796fe879c62b96fb9acf73963e41b1" // recomputed independently in Python
	if got := HashEvent(e); got != want {
		t.Errorf("HashEvent = %s, want %s", got, want)
	}
}

func TestHashEventCoversEveryField(t *testing.T) {
	base := AuditEvent{IncidentID: "BR-1", Seq: 1, Key: "k", At: time.Unix(0, 0), Actor: "a",
		Action: "x", Target: "t", Details: json.RawMessage(`{}`), PrevHash: ""}
	h := HashEvent(base)
	for name, change := range map[string]func(*AuditEvent){
		"IncidentID": func(e *AuditEvent) { e.IncidentID = "BR-2" },
		"Seq":        func(e *AuditEvent) { e.Seq = 2 },
		"Key":        func(e *AuditEvent) { e.Key = "k2" },
		"At":         func(e *AuditEvent) { e.At = e.At.Add(time.Microsecond) },
		"Actor":      func(e *AuditEvent) { e.Actor = "b" },
		"Action":     func(e *AuditEvent) { e.Action = "y" },
		"Target":     func(e *AuditEvent) { e.Target = "u" },
		"Details":    func(e *AuditEvent) { e.Details = json.RawMessage(`{"a":1}`) },
		"PrevHash":   func(e *AuditEvent) { e.PrevHash = "00" },
		// Netstrings keep a byte moving between fields from colliding.
		"boundary": func(e *AuditEvent) { e.Actor, e.Action = "ax", "" },
	} {
		e := base
		change(&e)
		if HashEvent(e) == h {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
	// Representations of the same stored values hash the same.
	same := base
	same.At = base.At.In(time.FixedZone("X", 3600)).Add(999 * time.Nanosecond)
	if HashEvent(same) != h {
		t.Error("hash depends on time zone or sub-microsecond digits, which are not stored")
	}
	same = base
	same.Details = nil
	if HashEvent(same) != h {
		t.Error("nil details do not hash as {}")
	}
}

func chain(n int) []AuditEvent {
	var out []AuditEvent
	prev := ""
	for i := 1; i <= n; i++ {
		e := AuditEvent{IncidentID: "BR-1", Seq: int64(i), Key: "k", At: time.Unix(int64(i), 0).UTC(),
			Actor: "a", Action: "x", Details: json.RawMessage(`{}`), PrevHash: prev}
		e.Hash = HashEvent(e)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestVerifyChain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func([]AuditEvent) []AuditEvent
		brokenAt int64
	}{
		{"intact", func(c []AuditEvent) []AuditEvent { return c }, 0},
		{"empty", func([]AuditEvent) []AuditEvent { return nil }, 0},
		{"altered", func(c []AuditEvent) []AuditEvent { c[2].Target = "forged"; return c }, 3},
		{"rehashed but unlinked", func(c []AuditEvent) []AuditEvent {
			c[1].Action = "forged"
			c[1].Hash = HashEvent(c[1])
			return c
		}, 3},
		{"gap", func(c []AuditEvent) []AuditEvent { return append(c[:1], c[2:]...) }, 3},
		{"reordered", func(c []AuditEvent) []AuditEvent { c[1], c[2] = c[2], c[1]; return c }, 3},
		{"missing first", func(c []AuditEvent) []AuditEvent { return c[1:] }, 2},
		{"other incident", func(c []AuditEvent) []AuditEvent { c[3].IncidentID = "BR-2"; return c }, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := tc.mutate(chain(4))
			rep := VerifyChain(events)
			if rep.Events != len(events) {
				t.Errorf("Events = %d, want %d", rep.Events, len(events))
			}
			if tc.brokenAt == 0 {
				if !rep.OK || rep.BrokenAt != 0 || rep.Reason != "" {
					t.Errorf("VerifyChain = %+v, want OK", rep)
				}
				return
			}
			if rep.OK || rep.BrokenAt != tc.brokenAt || rep.Reason == "" {
				t.Errorf("VerifyChain = %+v, want broken at %d", rep, tc.brokenAt)
			}
		})
	}
}

func TestNormalizeDetails(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		wantErr  bool
	}{
		{"", "{}", false},
		{"  \n", "{}", false},
		{`{ "a" : [1, 2],  "b": {"c": null} }`, `{"a":[1,2],"b":{"c":null}}`, false},
		{`{"s":"a b"}`, `{"s":"a b"}`, false},
		{`[]`, "", true},
		{`"x"`, "", true},
		{`null`, "", true},
		{`{"a":1`, "", true},
		{`{"a":1}{"b":2}`, "", true},
		{"{\"a\":\"\xff\"}", "", true},
	} {
		got, err := NormalizeDetails(json.RawMessage(tc.in))
		if tc.wantErr {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeDetails(%q) err = %v, want ErrInvalid", tc.in, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("NormalizeDetails(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// FuzzNormalizeDetails checks that accepted details are a compact JSON
// object and a fixed point, since the hash is computed over this form.
func FuzzNormalizeDetails(f *testing.F) {
	for _, s := range []string{`{}`, `{"a": [1, {"b": "c"}]}`, `[1]`, `{"a":`, " {\"x\" :\t1 } ", "{\"\\u00e9\":\"é\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := NormalizeDetails(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(got, &obj); err != nil || obj == nil {
			t.Fatalf("accepted %q as %q, not a JSON object: %v", in, got, err)
		}
		again, err := NormalizeDetails(got)
		if err != nil || string(again) != string(got) {
			t.Fatalf("not a fixed point: %q -> %q -> %q, %v", in, got, again, err)
		}
	})
}

func TestRoleSatisfies(t *testing.T) {
	for _, tc := range []struct {
		have, need string
		want       bool
	}{
		{breach.RoleAdmin, breach.RoleAdmin, true},
		{breach.RoleAdmin, breach.RoleLegal, true},
		{breach.RoleAdmin, breach.RoleViewer, true},
		{breach.RoleResponder, breach.RoleResponder, true},
		{breach.RoleResponder, breach.RoleLegal, false},
		{breach.RoleLegal, breach.RoleResponder, false},
		{breach.RoleLegal, breach.RoleViewer, true},
		{breach.RoleResponder, breach.RoleAdmin, false},
		{breach.RoleViewer, breach.RoleViewer, true},
		{breach.RoleViewer, breach.RoleResponder, false},
		{"root", breach.RoleViewer, false},
		{breach.RoleAdmin, "root", false},
	} {
		if got := breach.RoleSatisfies(tc.have, tc.need); got != tc.want {
			t.Errorf("RoleSatisfies(%q, %q) = %v, want %v", tc.have, tc.need, got, tc.want)
		}
	}
}

func TestGeneratedIdentifiers(t *testing.T) {
	secretRe := regexp.MustCompile(`^bf_[a-z2-7]{52}$`)
	idRe := regexp.MustCompile(`^BR-[0-9A-HJKMNP-TV-Z]{6}$`)
	secrets, ids := map[string]bool{}, map[string]bool{}
	for range 200 {
		s, err := NewTokenSecret()
		if err != nil || !secretRe.MatchString(s) {
			t.Fatalf("NewTokenSecret = %q, %v", s, err)
		}
		id, err := NewIncidentID()
		if err != nil || !idRe.MatchString(id) {
			t.Fatalf("NewIncidentID = %q, %v", id, err)
		}
		secrets[s], ids[id] = true, true
	}
	if len(secrets) != 200 || len(ids) < 199 {
		t.Errorf("generated %d distinct secrets and %d distinct ids of 200", len(secrets), len(ids))
	}
	if hashSecret("bf_x") == "bf_x" || len(hashSecret("bf_x")) != 64 {
		t.Error("hashSecret is not a hex SHA-256")
	}
}
