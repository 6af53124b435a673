package notify_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/activities/notify"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/templates"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
)

// fixture is a migrated SQLite store holding one incident, and the keys
// its customers' contact data is sealed with.
type fixture struct {
	st *store.SQL
	kr *codec.Keyring
	id string
}

func newFixture(t *testing.T, incidentID string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := codec.NewKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	kr, err := codec.ParseKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateIncident(ctx, store.Incident{ID: incidentID, PlaybookID: "customer-data-breach", PlaybookVersion: 1, Severity: "high", CreatedBy: "rita"}); err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, kr: kr, id: incidentID}
}

// importCSV imports, seals and stores the customers of a CSV file.
func (f *fixture) importCSV(t *testing.T, csv string) {
	t.Helper()
	var recs []store.SubjectRecord
	if _, err := subjects.Import(strings.NewReader(csv), subjects.Options{}, func(s subjects.Subject) error {
		r, err := subjects.Seal(f.id, s, f.kr, []byte("0123456789abcdef0123456789abcdef"))
		recs = append(recs, r)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.st.UpsertSubjects(context.Background(), f.id, recs); err != nil {
		t.Fatal(err)
	}
}

// pendingNotices imports n customers in France with an email each and
// makes their pending customer notices; it returns their subject ids.
func (f *fixture) pendingNotices(t *testing.T, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var csv strings.Builder
	csv.WriteString("external_id,email,locale,country\n")
	for i := range n {
		fmt.Fprintf(&csv, "C%d,c%d@example.com,en,FR\n", i, i)
	}
	f.importCSV(t, csv.String())
	ids, err := f.st.ListSubjectIDs(ctx, f.id, 0, n)
	if err != nil || len(ids) != n {
		t.Fatalf("subject ids: %d, %v", len(ids), err)
	}
	if _, err := f.st.EnsureNotices(ctx, f.id, breach.NoticeKindCustomer, ids, func(sid int64) string {
		return notify.MessageID(f.id, breach.NoticeKindCustomer, sid)
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// noticeTexts are legal's texts of the notice in both locales.
func noticeTexts() map[string]breach.NoticeText {
	return map[string]breach.NoticeText{
		"en":    {WhatHappened: "A storage bucket was public.", WhatWeAreDoing: "We closed it."},
		"zh-CN": {WhatHappened: "一个存储桶曾被公开。", WhatWeAreDoing: "我们已将其关闭。"},
	}
}

// sender is a Sender of the fixture's notices through catcher, with
// concurrency sends at once, and an activity environment that runs it;
// its SMTP connections close with the test, before a catcher whose close
// the test registered earlier (the catcher waits for open sessions).
func (f *fixture) sender(t *testing.T, catcher *mailcatcher.Catcher, concurrency int) (*notify.Sender, *testsuite.TestActivityEnvironment) {
	t.Helper()
	sender := &notify.Sender{Store: f.st, Keys: f.kr, Concurrency: concurrency,
		Mailer: &activities.Mailer{Addr: catcher.Addr(), From: "security@example.org", TLS: "none", PoolSize: 2},
		Org:    templates.Organisation{Name: "Example Org", Email: "dpo@example.org"}}
	t.Cleanup(sender.Mailer.Close)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(sender)
	return sender, env
}

// batch is the customer-notice batch of the fixture's subjects up to and
// including subject through.
func (f *fixture) batch(through int64) breach.NoticeBatch {
	return breach.NoticeBatch{IncidentID: f.id, Kind: breach.NoticeKindCustomer, Range: breach.NoticeRange{Through: through}, Incident: &breach.Status{
		ID: f.id, Title: "CRM export on a public bucket", Summary: "A storage bucket was public.",
		LaunchedAt:  time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		Facts:       breach.Facts{AwareAt: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), DataCategories: []string{"contact"}},
		NoticeTexts: noticeTexts(),
	}}
}
