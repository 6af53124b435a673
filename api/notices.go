package api

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// noticeView is one notice as the API shows it: delivery state only. The
// recipient is named by subject id; the address stays sealed in the store.
type noticeView struct {
	ID           int64      `json:"id"`
	SubjectID    int64      `json:"subject_id"`
	Kind         string     `json:"kind"`
	Status       string     `json:"status"`
	Attempts     int        `json:"attempts"`
	MessageID    string     `json:"message_id"`
	Jurisdiction string     `json:"jurisdiction"`
	LastError    string     `json:"last_error,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
}

// listNotices handles GET /v1/incidents/{id}/notices: per-recipient
// delivery state, paged by id (?after=, ?limit=), filtered by ?status=.
func (s *Server) listNotices(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	var bad []FieldError
	status := c.Query("status")
	switch status {
	case "", store.NoticePending, store.NoticeSending, store.NoticeSent, store.NoticeFailed, store.NoticeSuppressed:
	default:
		bad = append(bad, FieldError{Field: "status", Message: "one of pending, sending, sent, failed, suppressed"})
	}
	after, err := strconv.ParseInt(c.DefaultQuery("after", "0"), 10, 64)
	if err != nil || after < 0 {
		bad = append(bad, FieldError{Field: "after", Message: "a notice id (a whole number ≥ 0)"})
	}
	limit, err := strconv.Atoi(c.DefaultQuery("limit", strconv.Itoa(store.DefaultNoticePage)))
	if err != nil || limit < 1 || limit > store.MaxNoticePage {
		bad = append(bad, FieldError{Field: "limit", Message: "a whole number from 1 to " + strconv.Itoa(store.MaxNoticePage)})
	}
	if len(bad) > 0 {
		problem(c, http.StatusBadRequest, "bad query", bad...)
		return
	}
	ns, err := s.store.ListNotices(c.Request.Context(), id, status, after, limit)
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no incident "+id)
		return
	}
	if err != nil {
		s.internal(c, "list notices", err)
		return
	}
	out := gin.H{"notices": views(ns)}
	if len(ns) == limit {
		out["next_after"] = ns[len(ns)-1].ID
	}
	c.JSON(http.StatusOK, out)
}

// views shows notices to members; a delivery error or a reason someone
// typed before reasons were checked may quote an email address, which
// maskReason hides as the dashboard does.
func views(ns []store.Notice) []noticeView {
	out := make([]noticeView, 0, len(ns))
	for _, n := range ns {
		reason := n.LastError
		if reason != "" {
			reason = maskReason(reason)
		}
		out = append(out, noticeView{ID: n.ID, SubjectID: n.SubjectID, Kind: n.Kind, Status: n.Status, Attempts: n.Attempts,
			MessageID: n.MessageID, Jurisdiction: n.Jurisdiction, LastError: reason,
			CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, SentAt: n.SentAt})
	}
	return out
}

// deliveryRow is one jurisdiction of the delivery report.
type deliveryRow struct {
	Jurisdiction string `json:"jurisdiction"`
	Sent         int    `json:"sent"`
	Failed       int    `json:"failed"`
	Suppressed   int    `json:"suppressed"`
	Pending      int    `json:"pending"` // pending and sending: not yet out
	Total        int    `json:"total"`
	// Codes counts the remedy codes given; Read and Acknowledged the
	// customers who opened their notice page and who pressed "I have read
	// this notice". Counts only: never who.
	Codes        int `json:"codes_assigned"`
	Read         int `json:"read"`
	Acknowledged int `json:"acknowledged"`
}

// Delivery is the customer-notice delivery report: per jurisdiction, for
// regulators, and in total.
type Delivery struct {
	Jurisdictions []deliveryRow `json:"jurisdictions"`
	Total         deliveryRow   `json:"total"`
}

func (s *Server) delivery(c *gin.Context, id string) (*Delivery, error) {
	return s.deliveryOf(c, id, breach.NoticeKindCustomer)
}

// deliveryOf is the delivery report of one kind of notice: "customer"
// (email) or "letter" (sent = handed to the printer; failed = cannot be
// printed or returned undeliverable).
func (s *Server) deliveryOf(c *gin.Context, id, kind string) (*Delivery, error) {
	counts, err := s.store.NoticeCounts(c.Request.Context(), id, kind)
	if err != nil {
		return nil, err
	}
	codes, err := s.store.RemedyAssignedByJurisdiction(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	pages, err := s.store.NoticePageCounts(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	d := &Delivery{Jurisdictions: []deliveryRow{}, Total: deliveryRow{Jurisdiction: "all"}}
	for j, by := range counts {
		r := deliveryRow{Jurisdiction: j, Sent: by[store.NoticeSent], Failed: by[store.NoticeFailed],
			Suppressed: by[store.NoticeSuppressed], Pending: by[store.NoticePending] + by[store.NoticeSending],
			Codes: codes[j], Read: pages[j].Read, Acknowledged: pages[j].Acked}
		r.Total = r.Sent + r.Failed + r.Suppressed + r.Pending
		d.Jurisdictions = append(d.Jurisdictions, r)
		d.Total.Sent, d.Total.Failed, d.Total.Suppressed = d.Total.Sent+r.Sent, d.Total.Failed+r.Failed, d.Total.Suppressed+r.Suppressed
		d.Total.Pending, d.Total.Total = d.Total.Pending+r.Pending, d.Total.Total+r.Total
		d.Total.Codes, d.Total.Read, d.Total.Acknowledged = d.Total.Codes+r.Codes, d.Total.Read+r.Read, d.Total.Acknowledged+r.Acknowledged
	}
	sort.Slice(d.Jurisdictions, func(i, j int) bool { return d.Jurisdictions[i].Jurisdiction < d.Jurisdictions[j].Jurisdiction })
	return d, nil
}

// deliveryReport handles GET /v1/incidents/{id}/notices/report.
func (s *Server) deliveryReport(c *gin.Context) {
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	d, err := s.delivery(c, st.ID)
	if err != nil {
		s.internal(c, "delivery report", err)
		return
	}
	letters, err := s.deliveryOf(c, st.ID, store.NoticeKindLetter)
	if err != nil {
		s.internal(c, "letter delivery report", err)
		return
	}
	bs, err := s.store.ListLetterBatches(c.Request.Context(), st.ID)
	if err != nil {
		s.internal(c, "letter batches", err)
		return
	}
	batches := make([]letterBatchView, 0, len(bs))
	for _, b := range bs {
		batches = append(batches, viewBatch(b))
	}
	c.JSON(http.StatusOK, gin.H{"incident": st.ID, "generated_at": s.now().UTC(), "delivery": d, "letters": letters,
		"letter_batches": batches, "runs": st.Notices})
}

// sendNotices handles POST /v1/incidents/{id}/notices/send: another send
// run, for customers imported after the first one. What is sent already
// is never sent again.
// The workflow refuses the send while a locale with customers lacks
// legal's texts; the customers' locales come from the store.
func (s *Server) sendNotices(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	customers, err := s.store.SubjectLocales(c.Request.Context(), id)
	if err != nil {
		s.internal(c, "count customers by locale", err)
		return
	}
	s.update(c, workflows.UpdateSendNotices, breach.SendNotices{Actor: actor(c), Customers: customers}, http.StatusAccepted)
}

// noticeTextRequest is the body of PUT /v1/incidents/{id}/notices/texts/{locale}.
type noticeTextRequest struct {
	WhatHappened   string `json:"what_happened"`
	WhatWeAreDoing string `json:"what_we_are_doing"`
	// FAQ and Contact are shown on the customers' notice page (optional).
	FAQ     string `json:"faq"`
	Contact string `json:"contact"`
}

// setNoticeText handles PUT /v1/incidents/{id}/notices/texts/{locale}:
// legal writes the "what happened" and "what we are doing" texts of the
// customer notice in one locale. The workflow validates them.
func (s *Server) setNoticeText(c *gin.Context) {
	var req noticeTextRequest
	if !decodeStrict(c, &req) {
		return
	}
	s.update(c, workflows.UpdateSetNoticeText, breach.SetNoticeText{Actor: actor(c), Locale: c.Param("locale"),
		WhatHappened: req.WhatHappened, WhatWeAreDoing: req.WhatWeAreDoing, FAQ: req.FAQ, Contact: req.Contact}, http.StatusOK)
}

// retryNotices handles POST /v1/incidents/{id}/notices/retry: failed
// notices go back to pending and a send run takes them.
func (s *Server) retryNotices(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	moved, err := s.store.RetryFailedNotices(c.Request.Context(), id, breach.NoticeKindCustomer)
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no incident "+id)
		return
	}
	if err != nil {
		s.internal(c, "retry notices", err)
		return
	}
	if moved == 0 {
		problem(c, http.StatusConflict, "incident "+id+" has no failed notices to retry")
		return
	}
	customers, err := s.store.SubjectLocales(c.Request.Context(), id)
	if err != nil {
		s.internal(c, "count customers by locale", err)
		return
	}
	// The notices are pending now whatever the workflow answers: a run in
	// progress sweeps them up at its end, so that is no failure.
	st, err := s.sendUpdate(c.Request.Context(), id, workflows.UpdateSendNotices, "retry-"+uuid.NewString(),
		breach.SendNotices{Actor: actor(c), Customers: customers})
	if err != nil {
		if r, ok := refusal(id, err); ok && r.Status == http.StatusConflict && r.Detail == breach.NoticeRunInProgress {
			c.JSON(http.StatusAccepted, gin.H{"moved": moved, "detail": "a notice run is in progress; it sends these before it ends"})
			return
		}
		s.updateError(c, id, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"moved": moved, "incident": st})
}
