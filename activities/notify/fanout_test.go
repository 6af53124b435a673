package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/activities/notify"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/breachflow/breachflow/workflows"
	"github.com/emersion/go-smtp"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// TestFanOutSendsEachNoticeOnce runs the NotifyCustomers workflow with
// the real activities against a SQLite store and an SMTP peer on a socket:
// 1,000 customers in pages of 300 and batches of 50, four batches at a
// time, continuing as new along the way. Two addresses bounce for good
// (550), one is refused twice for now (451) and then accepted. Every other
// customer gets exactly one notice; the bounces are failed with the
// server's reply and no address; the temporary one is sent on a retry.
func TestFanOutSendsEachNoticeOnce(t *testing.T) {
	ctx := context.Background()
	const id, n = "BR-FANOUT", 1000
	f := newFixture(t, id)
	st, kr := f.st, f.kr
	var csv strings.Builder
	csv.WriteString("external_id,name,email,locale,country,subdivision\n")
	for i := range n {
		addr := fmt.Sprintf("c%d@example.com", i)
		switch i {
		case 10, 700:
			addr = fmt.Sprintf("bounce%d@example.com", i)
		case 333:
			addr = "busy@example.com"
		}
		fmt.Fprintf(&csv, "C%d,Customer %d,%s,%s,US,US-CA\n", i, i, addr, []string{"en", "zh-CN"}[i%2])
	}
	f.importCSV(t, csv.String())

	catcher, err := mailcatcher.Start("127.0.0.1:0", 2*n)
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close(ctx)
	var mu sync.Mutex
	busyTries := 0
	catcher.Refuse(func(rcpt string) error {
		switch {
		case strings.HasPrefix(rcpt, "bounce"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox " + rcpt + " unavailable"}
		case rcpt == "busy@example.com":
			mu.Lock()
			defer mu.Unlock()
			if busyTries++; busyTries <= 2 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
			}
		}
		return nil
	})
	sender := &notify.Sender{Store: st, Keys: kr, Concurrency: 4,
		Mailer: &activities.Mailer{Addr: catcher.Addr(), From: "security@example.org", TLS: "none", PoolSize: 4},
		Org:    templates.Organisation{Name: "Example Org", Email: "dpo@example.org"}}
	defer sender.Mailer.Close()
	acts := &activities.Activities{Store: st}

	in := &workflows.NotifyInput{IncidentID: id, Incident: &breach.Status{ID: id, Title: "CRM export on a public bucket",
		LaunchedAt:  time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		Facts:       breach.Facts{AwareAt: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), DataCategories: []string{"contact"}},
		NoticeTexts: noticeTexts()},
		Page: 300, Batch: 50, Window: 4, RunBatches: 7}
	var res workflows.NotifyResult
	runs := 0
	for {
		runs++
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.RegisterWorkflowWithOptions(workflows.NotifyCustomers, workflow.RegisterOptions{Name: "NotifyCustomers"})
		// As workflows.NewNoticesWorker registers them.
		env.RegisterActivity(acts.PrepareNotices)
		env.RegisterActivity(acts.CountNotices)
		env.RegisterActivity(sender)
		env.ExecuteWorkflow(workflows.NotifyCustomers, in)
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			in = &workflows.NotifyInput{}
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, in); err != nil {
				t.Fatal(err)
			}
			if runs > 50 {
				t.Fatal("no end to continue-as-new")
			}
			continue
		}
		if err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		break
	}
	if runs < 2 {
		t.Errorf("the send finished in %d run; seven batches a run should have made it continue as new", runs)
	}
	want := breach.NoticeTally{Sent: n - 2, Failed: 2, Total: n}
	if res.Tally != want {
		t.Fatalf("tally %+v, want %+v", res.Tally, want)
	}
	seen := map[string]int{}
	for _, m := range catcher.All() {
		seen[m.MessageID]++
	}
	if len(seen) != n-2 {
		t.Fatalf("the SMTP peer saw %d distinct Message-IDs, want %d", len(seen), n-2)
	}
	for mid, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", mid, c)
		}
	}
	failed, err := st.ListNotices(ctx, id, store.NoticeFailed, 0, 10)
	if err != nil || len(failed) != 2 {
		t.Fatalf("failed notices %+v, %v", failed, err)
	}
	for _, f := range failed {
		if !strings.Contains(f.LastError, "550") || strings.Contains(f.LastError, "@") {
			t.Errorf("failed notice keeps %q; want the 550 reply without the address", f.LastError)
		}
	}
	if busyTries != 3 {
		t.Errorf("the busy address was tried %d times, want 3 (two 451s, then accepted)", busyTries)
	}
}
