package notify_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/activities/notify"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"go.temporal.io/sdk/testsuite"
)

// TestRestrictedClockMailReachesOnlyMembers: a restricted incident's
// reminder goes, over real SMTP, only to the role addresses that are its
// members; when none is, to the admins, and never to the rest of the role.
func TestRestrictedClockMailReachesOnlyMembers(t *testing.T) {
	ctx := context.Background()
	catcher, err := mailcatcher.Start("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close(ctx)
	n := &notify.Notifier{PublicURL: "http://bf.example", Mailer: &activities.Mailer{Addr: catcher.Addr(), From: "security@example.org", TLS: "none", PoolSize: 1,
		Notify: map[string][]string{"legal": {"lena@example.org", "lee@example.org"}, "admin": {"ciso@example.org"}}}}
	defer n.Mailer.Close()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(n)
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	send := func(key string, restricted bool, members ...string) []string {
		t.Helper()
		if _, err := env.ExecuteActivity(n.SendClockMail, activities.ClockMail{IncidentID: "BR-TEST01", Key: key, Kind: "reminder",
			Title: "Payroll export copied", Subject: "GDPR Art. 33", DueAt: now.Add(12 * time.Hour), Now: now,
			Roles: []string{"legal"}, Restricted: restricted, Members: members}); err != nil {
			t.Fatal(err)
		}
		for _, m := range catcher.Messages() {
			if m.MessageID == "<"+key+"@breachflow>" {
				to := slices.Clone(m.To)
				slices.Sort(to)
				return to
			}
		}
		t.Fatalf("mail %s not received", key)
		return nil
	}
	if to := send("open", false); !slices.Equal(to, []string{"lee@example.org", "lena@example.org"}) {
		t.Errorf("unrestricted: to %v, want all of legal", to)
	}
	if to := send("member", true, "rita-responder", "Lena@Example.org"); !slices.Equal(to, []string{"lena@example.org"}) {
		t.Errorf("restricted with lena a member: to %v, want only lena", to)
	}
	if to := send("nobody", true, "rita-responder"); !slices.Equal(to, []string{"ciso@example.org"}) {
		t.Errorf("restricted without a legal member: to %v, want the admins", to)
	}
}
