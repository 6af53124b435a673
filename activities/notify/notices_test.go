package notify_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/notify"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/store"
	"github.com/jordan-wright/email"
	"golang.org/x/time/rate"
)

// TestSendNoticeBatchOnceEach sends a batch through a real SMTP socket to
// the catcher: each subject gets one notice in their language with its
// deterministic Message-ID, a second run sends nothing, and a notice left
// "sending" by a crash is resent with the same Message-ID.
func TestSendNoticeBatchOnceEach(t *testing.T) {
	ctx := context.Background()
	const id = "BR-NOTICE"
	f := newFixture(t, id)
	st := f.st
	f.importCSV(t, "external_id,name,email,locale,country,subdivision,tier\n"+
		"A,Ann <b>Lee</b>,ann@example.com,en,US,US-CA,low\n"+
		"B,李雷,lilei@example.cn,zh-CN,CN,,high\n"+
		"C,Carl,carl@example.de,de,DE,,medium\n")
	ids, err := st.ListSubjectIDs(ctx, id, 0, 100)
	if err != nil || len(ids) != 3 {
		t.Fatalf("subject ids %v, %v", ids, err)
	}
	if _, err := st.EnsureNotices(ctx, id, breach.NoticeKindCustomer, ids, func(sid int64) string { return notify.MessageID(id, breach.NoticeKindCustomer, sid) }); err != nil {
		t.Fatal(err)
	}
	catcher, err := mailcatcher.Start("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close(ctx) }) // after the sender's connections close
	sender, env := f.sender(t, catcher, 2)
	batch := f.batch(ids[len(ids)-1])
	run := func() breach.BatchResult {
		t.Helper()
		v, err := env.ExecuteActivity(sender.SendNoticeBatch, batch)
		if err != nil {
			t.Fatalf("batch: %v", err)
		}
		var res breach.BatchResult
		_ = v.Get(&res)
		return res
	}
	if res := run(); res.Sent != 3 {
		t.Fatalf("first run = %+v, want 3 sent", res)
	}
	if res := run(); res.Sent != 0 || catcher.Total() != 3 {
		t.Fatalf("second run = %+v, catcher holds %d; a sent notice must never be sent again", res, catcher.Total())
	}
	byID := map[string]mailcatcher.Message{}
	for _, m := range catcher.All() {
		byID[m.MessageID] = m
	}
	for _, sid := range ids {
		if _, ok := byID[notify.MessageID(id, breach.NoticeKindCustomer, sid)]; !ok {
			t.Errorf("no message with the Message-ID of subject %d", sid)
		}
	}
	var zh, en mailcatcher.Message
	for _, m := range catcher.All() {
		switch m.To[0] {
		case "lilei@example.cn":
			zh = m
		case "ann@example.com":
			en = m
		}
	}
	if !strings.Contains(zh.Subject, "数据泄露通知") || !strings.Contains(en.Subject, "Notice of Data Breach") {
		t.Fatalf("subjects: zh %q, en %q", zh.Subject, en.Subject)
	}
	parsed, err := email.NewEmailFromReader(bytes.NewReader(en.Raw))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(parsed.HTML), "<b>Lee</b>") || !strings.Contains(string(parsed.HTML), "&lt;b&gt;Lee&lt;/b&gt;") {
		t.Fatal("a tag in a customer's name reached the HTML part unescaped")
	}
	if !strings.Contains(string(parsed.Text), "Ann <b>Lee</b>") {
		t.Fatal("the text part should carry the name as written")
	}

	// A crash mid-batch leaves a notice "sending": the next run resends it
	// with the same Message-ID, and nothing already sent goes again.
	f.importCSV(t, "external_id,email,locale,country\nD,dee@example.com,en,FR\n")
	all, _ := st.ListSubjectIDs(ctx, id, 0, 100)
	d := all[len(all)-1]
	if _, err := st.EnsureNotices(ctx, id, breach.NoticeKindCustomer, all, func(sid int64) string { return notify.MessageID(id, breach.NoticeKindCustomer, sid) }); err != nil {
		t.Fatal(err)
	}
	if claimed, err := st.ClaimNotices(ctx, id, breach.NoticeKindCustomer, []int64{d}); err != nil || len(claimed) != 1 {
		t.Fatalf("claim before the crash: %v %v", claimed, err)
	}
	// The crash happened longer ago than the claim lease.
	if _, err := st.DB().Exec(`UPDATE notices SET claimed_at = ? WHERE subject_id = ?`, time.Now().Add(-2*breach.NoticeClaimLease).UTC().Format(time.RFC3339Nano), d); err != nil {
		t.Fatal(err)
	}
	batch.Range.Through = all[len(all)-1]
	if res := run(); res.Sent != 1 {
		t.Fatalf("after the crash: %+v, want only the notice in flight resent", res)
	}
	if catcher.Total() != 4 {
		t.Fatalf("catcher saw %d messages, want 4", catcher.Total())
	}
	if _, err := catcher.Wait(ctx, func(m mailcatcher.Message) bool {
		return m.MessageID == notify.MessageID(id, breach.NoticeKindCustomer, d)
	}); err != nil {
		t.Fatal(err)
	}
	sent, err := st.ListNotices(ctx, id, store.NoticeSent, 0, 10)
	if err != nil || len(sent) != 4 {
		t.Fatalf("sent notices %d, %v", len(sent), err)
	}
}

// TestBatchStopsWhenItCannotRecordSends: when the store refuses to record
// sent notices (here a trigger fails every update to sent, as a store
// that went away would), the batch sends no more and fails, leaving its
// notices in sending; its retry, with the store back, sends the rest and
// repeats only the notices sent since the last record, with the same
// Message-IDs.
func TestBatchStopsWhenItCannotRecordSends(t *testing.T) {
	ctx := context.Background()
	const id, customers = "BR-MARKFAIL", 500
	f := newFixture(t, id)
	st := f.st
	ids := f.pendingNotices(t, customers)
	if _, err := st.DB().Exec(`CREATE TRIGGER store_away BEFORE UPDATE OF status ON notices WHEN NEW.status = 'sent'
		BEGIN SELECT RAISE(ABORT, 'the store is away'); END`); err != nil {
		t.Fatal(err)
	}
	catcher, err := mailcatcher.Start("127.0.0.1:0", 3*customers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close(ctx) }) // after the sender's connections close
	sender, env := f.sender(t, catcher, 4)
	batch := f.batch(ids[len(ids)-1])
	if _, err := env.ExecuteActivity(sender.SendNoticeBatch, batch); err == nil || !strings.Contains(err.Error(), "the store is away") {
		t.Fatalf("batch with the store refusing: err = %v, want it failed with the store's error", err)
	}
	// A record is attempted after every 25 sends; the sends made while it
	// failed still count (on a busy machine another 25 have been sent and
	// their record tried meanwhile), but the batch stops well short of
	// its end.
	first := catcher.Total()
	if first < 25 || first > customers/2 {
		t.Fatalf("the batch sent %d notices before it stopped, want 25 to %d", first, customers/2)
	}
	t.Logf("the batch stopped after %d of %d notices", first, customers)
	counts, err := st.NoticeCounts(ctx, id, breach.NoticeKindCustomer)
	if err != nil || counts["FR"]["sending"] != customers {
		t.Fatalf("notice counts %v (%v), want all %d still in sending", counts, err, customers)
	}

	// The store is back; the retry (its claim lease run out) sends the rest.
	if _, err := st.DB().Exec(`DROP TRIGGER store_away`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`UPDATE notices SET claimed_at = ?`, time.Now().Add(-2*breach.NoticeClaimLease).UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ExecuteActivity(sender.SendNoticeBatch, batch); err != nil {
		t.Fatalf("retry: %v", err)
	}
	seen := map[string]int{}
	for _, m := range catcher.All() {
		seen[m.MessageID]++
	}
	if len(seen) != customers || catcher.Total() != customers+first {
		t.Fatalf("%d Message-IDs in %d messages, want %d, repeating only the %d sent before the stop", len(seen), catcher.Total(), customers, first)
	}
	counts, err = st.NoticeCounts(ctx, id, breach.NoticeKindCustomer)
	if err != nil || counts["FR"]["sent"] != customers {
		t.Fatalf("notice counts %v (%v), want all %d sent", counts, err, customers)
	}
}

// TestBatchWaitsForAStalledRecord: while a record of sent notices waits on
// a store that holds it (here another connection holds SQLite's write
// lock for 1.5 s, as a restarting PostgreSQL would), the batch's senders
// stop sending after markStall, so a record that then failed would leave
// only a few sends unrecorded; when the store takes the record, sending
// goes on and every notice is sent once.
func TestBatchWaitsForAStalledRecord(t *testing.T) {
	ctx := context.Background()
	const id, customers = "BR-MARKSLOW", 500
	f := newFixture(t, id)
	st := f.st
	ids := f.pendingNotices(t, customers)
	catcher, err := mailcatcher.Start("127.0.0.1:0", 2*customers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close(ctx) })
	sender, env := f.sender(t, catcher, 4)
	sender.Limiter = rate.NewLimiter(200, 1) // 500 notices take 2.5 s
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(sender.SendNoticeBatch, f.batch(ids[len(ids)-1]))
		done <- err
	}()
	for catcher.Total() < 30 {
		time.Sleep(5 * time.Millisecond)
	}
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hold, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: SQLite's write lock
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // a record is due within 25 sends and stalls
	from := catcher.Total()
	time.Sleep(900 * time.Millisecond)
	during := catcher.Total() - from
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("batch: %v", err)
	}
	if during > 4 {
		t.Errorf("%d notices were sent while a record had waited more than %s, want at most the 4 in flight", during, 600*time.Millisecond)
	}
	seen := map[string]int{}
	for _, m := range catcher.All() {
		seen[m.MessageID]++
	}
	if len(seen) != customers || catcher.Total() != customers {
		t.Fatalf("%d Message-IDs in %d messages, want %d once each", len(seen), catcher.Total(), customers)
	}
	counts, err := st.NoticeCounts(ctx, id, breach.NoticeKindCustomer)
	if err != nil || counts["FR"]["sent"] != customers {
		t.Fatalf("notice counts %v (%v), want all %d sent", counts, err, customers)
	}
}
