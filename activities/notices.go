package activities

import (
	"context"
	"fmt"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// The store side of the customer-notice fan-out. The batch activity that
// renders and sends lives in activities/notify (it needs the templates);
// these two need only the store.

// MessageID is the deterministic Message-ID of one notice: the same for
// every attempt, so a receiver can drop a repeat.
func MessageID(incidentID, kind string, subjectID int64) string {
	return fmt.Sprintf("<%s.%s.%d@breachflow>", incidentID, kind, subjectID)
}

// PrepareNotices takes the next page of the incident's subjects after
// the cursor, makes sure each has a pending notice of the kind (existing
// ones, sent or not, are left alone), and cuts the page into ranges of
// in.Batch subjects. Only ids cross into the workflow.
func (a *Activities) PrepareNotices(ctx context.Context, in breach.NoticePage) (*breach.PreparedPage, error) {
	limit := min(max(in.Limit, 1), store.MaxNoticeBatch, store.MaxSubjectPage)
	// A heartbeat after each step: the fan-out gives a page a heartbeat
	// timeout, so a page lost with its worker is retried within seconds
	// instead of holding up the send until its start-to-close timeout.
	heartbeat := func() {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx)
		}
	}
	ids, err := a.Store.ListSubjectIDs(ctx, in.IncidentID, in.After, limit)
	if err != nil {
		return nil, fmt.Errorf("list subjects: %w", err)
	}
	heartbeat()
	out := &breach.PreparedPage{Next: in.After, Done: len(ids) < limit}
	if len(ids) == 0 {
		return out, nil
	}
	created, err := a.Store.EnsureNotices(ctx, in.IncidentID, in.Kind, ids, func(sid int64) string {
		return MessageID(in.IncidentID, in.Kind, sid)
	})
	if err != nil {
		return nil, fmt.Errorf("ensure notices: %w", err)
	}
	heartbeat()
	out.Created = created
	if in.Remedy != nil {
		// Codes are given before any notice of the page can be sent, in one
		// transaction per page, once per customer: a retry, a crash or a
		// re-run finds them given and gives none again.
		assigned, missing, err := a.Store.AssignRemedyCodes(ctx, in.IncidentID, storeScope(*in.Remedy), ids)
		if err != nil {
			return nil, fmt.Errorf("assign remedy codes: %w", err)
		}
		if missing > 0 {
			// Imported after the run checked the pool: no notice goes
			// out without its code.
			return nil, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("%d codes missing: customers were added after the pool was checked; top up the pool and send again", missing),
				breach.ErrConflict, nil)
		}
		out.Codes = assigned
	}
	batch := max(in.Batch, 1)
	after := in.After
	for start := 0; start < len(ids); start += batch {
		end := min(start+batch, len(ids))
		through := ids[end-1]
		out.Ranges = append(out.Ranges, breach.NoticeRange{After: after, Through: through, Count: end - start})
		after = through
	}
	out.Next = after
	return out, nil
}

func storeScope(sc breach.RemedyScope) store.RemedyScope {
	return store.RemedyScope{Product: sc.Product, Jurisdictions: sc.Jurisdictions, Tiers: sc.Tiers}
}

// RemedyCoverage counts how far the incident's code pool covers the
// customers in the remedy's scope, before a send starts. Counts only.
func (a *Activities) RemedyCoverage(ctx context.Context, incidentID string, sc breach.RemedyScope) (*breach.RemedyCoverage, error) {
	c, err := a.Store.RemedyCoverage(ctx, incidentID, storeScope(sc))
	if err != nil {
		return nil, fmt.Errorf("remedy coverage: %w", err)
	}
	return &breach.RemedyCoverage{InScope: c.InScope, Assigned: c.Assigned, Free: c.Free}, nil
}

// CountNotices counts the incident's notices of kind by status, in all
// and per jurisdiction.
func (a *Activities) CountNotices(ctx context.Context, incidentID, kind string) (*breach.NoticeCount, error) {
	counts, err := a.Store.NoticeCounts(ctx, incidentID, kind)
	if err != nil {
		return nil, fmt.Errorf("count notices: %w", err)
	}
	out := &breach.NoticeCount{Jurisdictions: make(map[string]breach.NoticeTally, len(counts))}
	t := &out.NoticeTally
	for j, byStatus := range counts {
		jt := breach.NoticeTally{Pending: byStatus[store.NoticePending], Sending: byStatus[store.NoticeSending],
			Sent: byStatus[store.NoticeSent], Failed: byStatus[store.NoticeFailed], Suppressed: byStatus[store.NoticeSuppressed]}
		jt.Total = jt.Pending + jt.Sending + jt.Sent + jt.Failed + jt.Suppressed
		out.Jurisdictions[j] = jt
		t.Pending += jt.Pending
		t.Sending += jt.Sending
		t.Sent += jt.Sent
		t.Failed += jt.Failed
		t.Suppressed += jt.Suppressed
	}
	t.Total = t.Pending + t.Sending + t.Sent + t.Failed + t.Suppressed
	return out, nil
}

// CustomerLocales counts the incident's customers by the locale their
// notice is written in, so the workflow can refuse to send a locale whose
// texts legal has not written. Only counts cross into the workflow.
func (a *Activities) CustomerLocales(ctx context.Context, incidentID string) (map[string]int, error) {
	n, err := a.Store.SubjectLocales(ctx, incidentID)
	if err != nil {
		return nil, fmt.Errorf("count customers by locale: %w", err)
	}
	return n, nil
}

// CreateOutreachTasks opens one task per high-tier customer without one,
// for their account manager; it answers counts only.
func (a *Activities) CreateOutreachTasks(ctx context.Context, incidentID string) (*breach.OutreachTally, error) {
	created, open, done, err := a.Store.CreateOutreachTasks(ctx, incidentID)
	if err != nil {
		return nil, fmt.Errorf("create outreach tasks: %w", err)
	}
	return &breach.OutreachTally{Created: created, Open: open, Done: done}, nil
}

// CountOutreach counts an incident's open and done outreach tasks.
func (a *Activities) CountOutreach(ctx context.Context, incidentID string) (*breach.OutreachTally, error) {
	open, done, err := a.Store.OutreachCounts(ctx, incidentID)
	if err != nil {
		return nil, fmt.Errorf("count outreach tasks: %w", err)
	}
	return &breach.OutreachTally{Open: open, Done: done}, nil
}
