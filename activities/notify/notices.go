package notify

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"sync"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/breachflow/breachflow/workflows"
	"github.com/jordan-wright/email"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/time/rate"
)

// NoticeKindCustomer is the kind of the customer notice.
const NoticeKindCustomer = "customer"

// Sender sends customer notices: it claims a batch of notices in the
// store, opens each subject's sealed name and email only in memory,
// renders the notice in the subject's locale and sends it through the
// pooled SMTP connections, within a global rate and concurrency limit.
type Sender struct {
	Store       store.Store
	Keys        store.Sealer
	Mailer      *activities.Mailer
	Org         templates.Organisation
	Limiter     *rate.Limiter // messages per second across the process; nil = unlimited
	Concurrency int           // parallel SMTP sends; 0 = 8
}

// NoticeBatch is one batch of recipients, by subject id (never by address).
type NoticeBatch struct {
	IncidentID string            `json:"incident_id"`
	Kind       string            `json:"kind"`
	SubjectIDs []int64           `json:"subject_ids"`
	Incident   *workflows.Status `json:"incident"` // what the notice says; holds no customer data
}

// BatchResult counts what happened to a batch.
type BatchResult struct {
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`  // permanently (5xx, no address)
	Retried int `json:"retried"` // left pending after a temporary failure
}

// SendNoticeBatch is the activity. A notice already sent is never claimed
// again; one left "sending" by a crash is claimed again and resent with
// the same Message-ID. Temporary SMTP failures (4xx, network) put the
// notice back to pending and fail the activity so Temporal retries it
// with backoff; permanent ones (5xx) are recorded with the reply.
func (s *Sender) SendNoticeBatch(ctx context.Context, in NoticeBatch) (*BatchResult, error) {
	if in.Kind == "" {
		in.Kind = NoticeKindCustomer
	}
	claimed, err := s.Store.ClaimNotices(ctx, in.IncidentID, in.Kind, in.SubjectIDs)
	if err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	if len(claimed) == 0 {
		return &BatchResult{}, nil
	}
	ids := make([]int64, 0, len(claimed))
	for _, n := range claimed {
		ids = append(ids, n.SubjectID)
	}
	recs, err := s.Store.GetSubjects(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load subjects: %w", err)
	}
	bySubject := make(map[int64]store.SubjectRecord, len(recs))
	for _, r := range recs {
		bySubject[r.ID] = r
	}
	workers := s.Concurrency
	if workers <= 0 {
		workers = 8
	}
	var (
		mu  sync.Mutex
		res BatchResult
		wg  sync.WaitGroup
	)
	jobs := make(chan store.Notice)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				outcome := s.sendOne(ctx, in, n, bySubject[n.SubjectID])
				mu.Lock()
				switch outcome {
				case sent:
					res.Sent++
				case failedForGood:
					res.Failed++
				default:
					res.Retried++
				}
				activity.RecordHeartbeat(ctx, res)
				mu.Unlock()
			}
		}()
	}
	for _, n := range claimed {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	if res.Retried > 0 {
		return &res, fmt.Errorf("%d notices hit a temporary failure; retrying the batch", res.Retried)
	}
	return &res, nil
}

type outcome int

const (
	sent outcome = iota
	failedForGood
	retryLater
)

func (s *Sender) sendOne(ctx context.Context, in NoticeBatch, n store.Notice, rec store.SubjectRecord) outcome {
	fail := func(reason string, permanent bool) outcome {
		if err := s.Store.MarkNoticeFailed(ctx, n.ID, reason, permanent); err != nil {
			activity.GetLogger(ctx).Error("mark notice failed", "notice", n.ID, "error", err)
		}
		if permanent {
			return failedForGood
		}
		return retryLater
	}
	if rec.ID == 0 {
		return fail("subject no longer exists", true)
	}
	name, addr, err := subjects.Open(rec, s.Keys)
	if err != nil {
		return fail("cannot open the subject's sealed contact data (key missing?)", true)
	}
	if addr == "" {
		return fail("subject has no email address", true)
	}
	notice, err := templates.RenderNotice(templates.NoticeInput{Incident: in.Incident, Org: s.Org, Locale: rec.Locale,
		Name: name, DataElements: rec.DataElements, GeneratedAt: in.Incident.LaunchedAt})
	if err != nil {
		return fail("render: "+err.Error(), true)
	}
	if s.Limiter != nil {
		if err := s.Limiter.Wait(ctx); err != nil {
			return fail("cancelled before sending", false)
		}
	}
	e := email.NewEmail()
	e.From = s.Mailer.From
	e.To = []string{addr}
	e.Subject = notice.Subject
	e.Text = []byte(notice.Text)
	e.HTML = []byte(notice.HTML)
	e.Headers = textproto.MIMEHeader{}
	e.Headers.Set("Message-Id", n.MessageID)
	e.Headers.Set("Content-Language", notice.Locale)
	if err := s.Mailer.SendEmail(ctx, e); err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.NonRetryable() {
			return fail(activities.RedactAddresses(app.Message()), true) // the server's 5xx reply
		}
		return fail("temporary: "+activities.RedactAddresses(err.Error()), false)
	}
	if err := s.Store.MarkNoticeSent(ctx, n.ID, activity.GetInfo(ctx).StartedTime); err != nil {
		// Sent but not recorded: the notice stays "sending" and a retry
		// resends it with the same Message-ID, which receivers de-duplicate.
		activity.GetLogger(ctx).Error("mark notice sent", "notice", n.ID, "error", err)
		return retryLater
	}
	return sent
}

// MessageID is the deterministic Message-ID of one notice.
func MessageID(incidentID, kind string, subjectID int64) string {
	return fmt.Sprintf("<%s.%s.%d@breachflow>", incidentID, kind, subjectID)
}
