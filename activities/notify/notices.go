package notify

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"sync"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/jordan-wright/email"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/time/rate"
)

// Sender sends customer notices: it claims a batch of notices in the
// store, opens each subject's sealed name and email only in memory,
// renders the notice in the subject's locale and sends it through the
// pooled SMTP connections, within a global rate and concurrency limit.
type Sender struct {
	Store       Store
	Keys        store.Sealer
	Mailer      *activities.Mailer
	Org         templates.Organisation
	Limiter     *rate.Limiter // messages per second across the process; nil = unlimited
	Concurrency int           // parallel SMTP sends; 0 = 8
	// PageKey derives the token of each customer's notice-page link
	// (BREACHFLOW_HMAC_KEY); with PublicURL empty or no key, notices
	// carry no link.
	PageKey   []byte
	PublicURL string
}

// Store is what the batch sender reads and writes in the store: the
// subjects of a range and the delivery state of their notices.
type Store interface {
	ListSubjectIDsThrough(ctx context.Context, incidentID string, afterID, throughID int64, limit int) ([]int64, error)
	GetSubjects(ctx context.Context, ids []int64) ([]store.SubjectRecord, error)
	ClaimNoticesWithLease(ctx context.Context, incidentID, kind string, subjectIDs []int64, lease time.Duration) ([]store.Notice, error)
	MarkNoticesSent(ctx context.Context, ids []int64, at time.Time) (int, error)
	MarkNoticeFailed(ctx context.Context, id int64, reason string, permanent bool) error
	RemedyCodesFor(ctx context.Context, incidentID string, subjectIDs []int64) (map[int64]store.RemedyCode, error)
	EnsureNoticePages(ctx context.Context, incidentID string, pages []store.NoticePage) (map[int64]store.NoticePage, error)
}

// SendNoticeBatch is the activity. It claims the pending notices of the
// subjects in the batch's range; a notice already sent is never claimed
// again. On a retry — Temporal has declared the previous attempt dead,
// by heartbeat or timeout — it also takes back the range's notices that
// attempt left in sending and resends them with the same Message-ID: the
// only repeat a crash can cause, confined to the batch in flight.
// Temporary SMTP failures (4xx, network) put the notice back to pending
// and fail the activity so Temporal retries it with backoff; permanent
// ones (5xx) are recorded with the reply. What was sent is marked sent
// every markEvery notices and at the end; while a record has waited
// markStall (the store is slow or away) the senders wait for it, and when
// it fails the batch sends no more and fails, so its retry repeats at most
// the notices sent since the last record.
func (s *Sender) SendNoticeBatch(ctx context.Context, in breach.NoticeBatch) (*breach.BatchResult, error) {
	if in.Kind == "" {
		in.Kind = breach.NoticeKindCustomer
	}
	if in.Incident == nil {
		return nil, temporal.NewNonRetryableApplicationError("batch without the incident", breach.ErrInvalid, nil)
	}
	ids, err := s.rangeIDs(ctx, in)
	if err != nil {
		return nil, err
	}
	lease := breach.NoticeClaimLease
	if activity.GetInfo(ctx).Attempt > 1 {
		lease = 0
	}
	claimed, err := s.Store.ClaimNoticesWithLease(ctx, in.IncidentID, in.Kind, ids, lease)
	if err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	if len(claimed) == 0 {
		return &breach.BatchResult{}, nil
	}
	ids = ids[:0]
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
	// The codes are read here, at send time, never carried by the
	// workflow: its history holds no code.
	codes, err := s.Store.RemedyCodesFor(ctx, in.IncidentID, ids)
	if err != nil {
		return nil, fmt.Errorf("load remedy codes: %w", err)
	}
	links, err := s.pageURLs(ctx, in.IncidentID, ids)
	if err != nil {
		return nil, fmt.Errorf("notice page links: %w", err)
	}
	workers := s.Concurrency
	if workers <= 0 {
		workers = 8
	}
	var (
		mu      sync.Mutex
		res     breach.BatchResult
		wg      sync.WaitGroup
		wasSent []int64
		// markErr is set when recording sent notices failed (the store is
		// away): the batch sends no more, so what a retry sends twice
		// stays within the last markEvery and the sends in flight.
		markErr error
		// marking is when the record in flight began (zero when none);
		// once it has waited markStall the store is slow or away, and the
		// senders wait for it (marked) before they send more.
		marking time.Time
		marked  = sync.NewCond(&mu)
	)
	at := time.Now().UTC()
	cache := &templates.NoticeCache{}
	jobs := make(chan store.Notice)
	// Heartbeat every second whatever the sends are doing (a slow SMTP
	// reply must not look like a dead worker), until the batch ends; it is
	// the batch's only heartbeat.
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	beating := make(chan struct{})
	defer close(beating)
	go func() {
		for {
			select {
			case <-beat.C:
				mu.Lock()
				activity.RecordHeartbeat(ctx, res)
				mu.Unlock()
			case <-beating:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				mu.Lock()
				for markErr == nil && !marking.IsZero() && time.Since(marking) >= markStall {
					marked.Wait()
				}
				halted := markErr != nil
				mu.Unlock()
				if ctx.Err() != nil || halted {
					// Temporal took the attempt for lost (or the worker is
					// stopping), or what was sent cannot be recorded: the
					// retry owns the claim, so send no more; the notice
					// stays in sending for that retry.
					continue
				}
				code, hasCode := codes[n.SubjectID]
				var remedy *store.RemedyCode
				if hasCode {
					remedy = &code
				}
				outcome := s.sendOne(ctx, in, cache, n, bySubject[n.SubjectID], remedy, links)
				mu.Lock()
				switch outcome {
				case sent:
					res.Sent++
					wasSent = append(wasSent, n.ID)
					if len(wasSent) >= markEvery && marking.IsZero() {
						// Record as the batch goes, so a crash repeats
						// at most the last few dozen notices; one record
						// at a time, the next takes what came meanwhile.
						done := wasSent
						wasSent = nil
						marking = time.Now()
						mu.Unlock()
						err := s.mark(ctx, done, at)
						mu.Lock()
						marking = time.Time{}
						marked.Broadcast()
						if err != nil {
							wasSent = append(wasSent, done...)
							markErr = err
						}
					}
				case failedForGood:
					res.Failed++
				default:
					res.Retried++
				}
				// No heartbeat per notice: the ticker above sends the
				// counts every second, and encoding them for each notice
				// cost more than the store's share of a send.
				mu.Unlock()
			}
		}()
	}
	for _, n := range claimed {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	if err := s.mark(ctx, wasSent, at); err != nil {
		// Sent but not recorded: the notices stay in sending and the retry
		// resends them with the same Message-IDs, which receivers drop.
		return &res, err
	}
	if err := ctx.Err(); err != nil {
		return &res, fmt.Errorf("batch stopped: %w", err)
	}
	if markErr != nil {
		return &res, fmt.Errorf("batch stopped sending when it could not record what it sent: %w", markErr)
	}
	if res.Retried > 0 {
		return &res, fmt.Errorf("%d notices hit a temporary failure; retrying the batch", res.Retried)
	}
	return &res, nil
}

// markEvery is how many sent notices a batch records at a time.
const markEvery = 25

// markStall is how long a record of sent notices may wait before the
// batch's senders stop to wait for it: a store that is away (PostgreSQL
// restarting) holds the record, and whatever is sent meanwhile would be
// sent again by the retry if the record then fails.
const markStall = 200 * time.Millisecond

// heartbeatEvery is how often a batch heartbeats, well inside
// workflows.NoticeHeartbeatTimeout.
const heartbeatEvery = time.Second

func (s *Sender) mark(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	// What was sent is recorded even when the attempt was cancelled: a
	// notice left in sending is sent again by the retry.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := s.Store.MarkNoticesSent(ctx, ids, at); err != nil {
		return fmt.Errorf("record %d sent notices: %w", len(ids), err)
	}
	return nil
}

// rangeIDs lists the subject ids of the batch's range.
func (s *Sender) rangeIDs(ctx context.Context, in breach.NoticeBatch) ([]int64, error) {
	var out []int64
	after := in.Range.After
	limit := min(store.MaxNoticeBatch, store.MaxSubjectPage)
	if in.Range.Count > 0 {
		limit = min(limit, in.Range.Count) // usually one query: ids are only ever added after Through
	}
	for after < in.Range.Through {
		page, err := s.Store.ListSubjectIDsThrough(ctx, in.IncidentID, after, in.Range.Through, limit)
		if err != nil {
			return nil, fmt.Errorf("list subjects: %w", err)
		}
		for _, id := range page {
			if id > in.Range.Through {
				return out, nil
			}
			out = append(out, id)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1]
	}
	return out, nil
}

type outcome int

const (
	sent outcome = iota
	failedForGood
	retryLater
)

func (s *Sender) sendOne(ctx context.Context, in breach.NoticeBatch, cache *templates.NoticeCache, n store.Notice, rec store.SubjectRecord, code *store.RemedyCode, links map[int64]string) outcome {
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
	var remedyView *templates.NoticeRemedy
	if code != nil {
		plain, err := remedy.Open(*code, s.Keys)
		if err != nil {
			return fail("cannot open the customer's remedy code (key missing?)", true)
		}
		remedyView = &templates.NoticeRemedy{Product: code.Product, Code: plain, EnrollmentURL: code.EnrollmentURL, EnrollBy: code.EnrollBy}
	}
	pageURL, ok := links[rec.ID]
	if links != nil && !ok {
		return fail("temporary: notice page link: no page for the subject", false)
	}
	notice, err := cache.Render(templates.NoticeInput{Incident: in.Incident, Org: s.Org, Locale: rec.Locale,
		Name: name, DataElements: rec.DataElements, GeneratedAt: in.Incident.LaunchedAt, Remedy: remedyView, PageURL: pageURL})
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
	return sent
}

// pageURLs are the customers' notice-page links by subject id (nil when
// pages are off): a page is made on the first send and kept, and its
// token derived again from the stored salt, so a resend after a crash
// carries the same link. The batch's pages are made in one transaction.
func (s *Sender) pageURLs(ctx context.Context, incidentID string, subjectIDs []int64) (map[int64]string, error) {
	if len(s.PageKey) == 0 || s.PublicURL == "" {
		return nil, nil
	}
	pages := make([]store.NoticePage, 0, len(subjectIDs))
	expires := time.Now().Add(breach.NoticePageTTL)
	for _, id := range subjectIDs {
		salt, err := remedy.NewSalt()
		if err != nil {
			return nil, err
		}
		pages = append(pages, store.NoticePage{IncidentID: incidentID, SubjectID: id, Salt: salt,
			TokenHash: remedy.TokenHash(remedy.PageToken(s.PageKey, incidentID, id, salt)), ExpiresAt: expires})
	}
	got, err := s.Store.EnsureNoticePages(ctx, incidentID, pages)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(got))
	for id, p := range got {
		out[id] = remedy.PageURL(s.PublicURL, remedy.PageToken(s.PageKey, incidentID, id, p.Salt))
	}
	return out, nil
}

// MessageID is the deterministic Message-ID of one notice.
func MessageID(incidentID, kind string, subjectID int64) string {
	return activities.MessageID(incidentID, kind, subjectID)
}
