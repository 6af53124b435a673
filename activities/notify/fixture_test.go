package notify_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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

// noticeTexts are legal's texts of the notice in both locales.
func noticeTexts() map[string]breach.NoticeText {
	return map[string]breach.NoticeText{
		"en":    {WhatHappened: "A storage bucket was public.", WhatWeAreDoing: "We closed it."},
		"zh-CN": {WhatHappened: "一个存储桶曾被公开。", WhatWeAreDoing: "我们已将其关闭。"},
	}
}
