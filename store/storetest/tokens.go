package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
)

// tokenLifeTests are the token life-cycle cases (migration 00010).
var tokenLifeTests = []testCase{
	{"Expiry", testTokenExpiry},
	{"ExpiryMustBeFuture", testTokenExpiryPast},
	{"BootstrapRotation", testBootstrapRotation},
	{"CalendarRevokeOneByOne", testCalendarRevoke},
	{"Sessions", testSessions},
	{"SessionsEndWithToken", testSessionsEndWithToken},
}

func testTokenExpiry(t *testing.T, s store.Store) {
	c := ctx(t)
	expires := time.Now().Add(1200 * time.Millisecond)
	secret, tok, err := s.IssueToken(c, store.TokenSpec{Name: "contractor", Role: breach.RoleViewer, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.Equal(expires.UTC().Truncate(time.Microsecond)) {
		t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, expires)
	}
	cal, err := s.CreateCalendarToken(c, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateToken(c, secret); err != nil {
		t.Fatalf("token before its expiry: %v", err)
	}
	time.Sleep(time.Until(expires) + 50*time.Millisecond)
	if _, err := s.AuthenticateToken(c, secret); !errors.Is(err, store.ErrTokenExpired) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired token: err = %v, want ErrTokenExpired (an ErrNotFound)", err)
	}
	if _, err := s.AuthenticateCalendarToken(c, cal); !errors.Is(err, store.ErrTokenExpired) {
		t.Errorf("calendar token of an expired owner: err = %v, want ErrTokenExpired", err)
	}
	if _, err := s.CreateSession(c, tok.ID, time.Now().Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSession(expired token) err = %v, want ErrNotFound", err)
	}
	list, err := s.ListTokens(c)
	if err != nil || len(list) != 1 || list[0].ExpiresAt.IsZero() {
		t.Errorf("ListTokens = %+v, %v; want the token with its expiry", list, err)
	}
}

func testTokenExpiryPast(t *testing.T, s store.Store) {
	c := ctx(t)
	if _, _, err := s.IssueToken(c, store.TokenSpec{Name: "x", Role: breach.RoleViewer, ExpiresAt: time.Now().Add(-time.Minute)}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("IssueToken(expiry in the past) err = %v, want ErrInvalid", err)
	}
	if list, _ := s.ListTokens(c); len(list) != 0 {
		t.Errorf("a refused token was stored: %+v", list)
	}
}

func testBootstrapRotation(t *testing.T, s store.Store) {
	c := ctx(t)
	const old, next = "bootstrap-admin-secret-old-0123456789", "bootstrap-admin-secret-new-0123456789"
	_, other, err := s.CreateToken(c, "ops", breach.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.BootstrapToken(c, "admin", breach.RoleAdmin, old)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.BootstrapToken(c, "admin", breach.RoleAdmin, old); err != nil || again.ID != first.ID {
		t.Fatalf("BootstrapToken(same secret) = %+v, %v; want the same token", again, err)
	}
	if _, err := s.AuthenticateToken(c, old); err != nil {
		t.Fatalf("restart with the same secret revoked it: %v", err)
	}
	second, err := s.BootstrapToken(c, "admin", breach.RoleAdmin, next)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID || !second.Bootstrap {
		t.Errorf("rotated bootstrap token = %+v", second)
	}
	if _, err := s.AuthenticateToken(c, old); !errors.Is(err, store.ErrTokenRevoked) {
		t.Errorf("previous admin token after rotation: err = %v, want ErrTokenRevoked", err)
	}
	if _, err := s.AuthenticateToken(c, next); err != nil {
		t.Errorf("new admin token: %v", err)
	}
	list, err := s.ListTokens(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list {
		if tok.ID == other.ID && !tok.RevokedAt.IsZero() {
			t.Errorf("rotation revoked a token made by hand: %+v", tok)
		}
	}
	if _, err := s.BootstrapToken(c, "admin", breach.RoleAdmin, old); !errors.Is(err, store.ErrTokenRevoked) {
		t.Errorf("rotating back to a revoked secret: err = %v, want ErrTokenRevoked", err)
	}
	if _, err := s.AuthenticateToken(c, next); err != nil {
		t.Errorf("a refused rotation revoked the current admin token: %v", err)
	}
}

func testCalendarRevoke(t *testing.T, s store.Store) {
	c := ctx(t)
	_, ann, err := s.CreateToken(c, "ann", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	_, bob, err := s.CreateToken(c, "bob", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	phone, err := s.CreateCalendarToken(c, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	laptop, err := s.CreateCalendarToken(c, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := s.CreateCalendarToken(c, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := s.ListCalendarTokens(c, ann.ID)
	if err != nil || len(mine) != 2 || mine[0].OwnerName != "ann" || mine[1].OwnerID != ann.ID {
		t.Fatalf("ListCalendarTokens(ann) = %+v, %v", mine, err)
	}
	all, err := s.ListCalendarTokens(c, 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("ListCalendarTokens(all) = %+v, %v", all, err)
	}
	if err := s.RevokeCalendarToken(c, all[2].ID, ann.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ann revoking bob's calendar token: err = %v, want ErrNotFound", err)
	}
	if _, err := s.AuthenticateCalendarToken(c, bobs); err != nil {
		t.Errorf("a refused revoke still revoked: %v", err)
	}
	if err := s.RevokeCalendarToken(c, mine[0].ID, ann.ID); err != nil {
		t.Fatalf("RevokeCalendarToken(own): %v", err)
	}
	if _, err := s.AuthenticateCalendarToken(c, phone); !errors.Is(err, store.ErrTokenRevoked) {
		t.Errorf("revoked calendar token: err = %v, want ErrNotFound", err)
	}
	if _, err := s.AuthenticateCalendarToken(c, laptop); err != nil {
		t.Errorf("revoking one calendar token stopped another: %v", err)
	}
	if err := s.RevokeCalendarToken(c, all[2].ID, 0); err != nil {
		t.Errorf("admin revoking bob's calendar token: %v", err)
	}
	if _, err := s.AuthenticateCalendarToken(c, bobs); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("calendar token revoked by an admin: err = %v", err)
	}
	if err := s.RevokeCalendarToken(c, all[2].ID+100, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeCalendarToken(unknown) err = %v, want ErrNotFound", err)
	}
	mine, _ = s.ListCalendarTokens(c, ann.ID)
	if len(mine) != 2 || mine[0].RevokedAt.IsZero() || !mine[1].RevokedAt.IsZero() {
		t.Errorf("ListCalendarTokens after revoke = %+v", mine)
	}
}

func testSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	_, tok, err := s.CreateToken(c, "ann", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateSession(c, tok.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateSession(c, tok.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.AuthenticateSession(c, a); err != nil || got.ID != tok.ID || got.Role != breach.RoleResponder {
		t.Fatalf("AuthenticateSession = %+v, %v", got, err)
	}
	if err := s.EndSession(c, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateSession(c, a); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ended session: err = %v, want ErrNotFound", err)
	}
	if _, err := s.AuthenticateSession(c, b); err != nil {
		t.Errorf("ending one session ended another: %v", err)
	}
	if err := s.EndSession(c, "bfs_unknown"); err != nil {
		t.Errorf("EndSession(unknown): %v", err)
	}
	if _, err := s.AuthenticateSession(c, "bfs_unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown session: err = %v", err)
	}
	short, err := s.CreateSession(c, tok.ID, time.Now().Add(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(350 * time.Millisecond)
	if _, err := s.AuthenticateSession(c, short); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session past its expiry: err = %v, want ErrNotFound", err)
	}

	// Signing in again sweeps the token's ended (a) and expired (short)
	// sessions; the live one (b) stays.
	if _, err := s.CreateSession(c, tok.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	db, ok := s.(dbStore)
	if !ok {
		return
	}
	var rows int
	if err := db.DB().QueryRowContext(c, "SELECT COUNT(*) FROM dashboard_sessions").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("dashboard_sessions holds %d rows after a sign-in, want 2 (the live ones)", rows)
	}
	if _, err := s.AuthenticateSession(c, b); err != nil {
		t.Errorf("the sweep ended a live session: %v", err)
	}
}

func testSessionsEndWithToken(t *testing.T, s store.Store) {
	c := ctx(t)
	_, tok, err := s.CreateToken(c, "leaver", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.CreateSession(c, tok.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(c, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateSession(c, sess); !errors.Is(err, store.ErrTokenRevoked) {
		t.Errorf("session of a revoked token: err = %v, want ErrTokenRevoked", err)
	}
	if _, err := s.CreateSession(c, tok.ID, time.Now().Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSession(revoked token) err = %v, want ErrNotFound", err)
	}
}
