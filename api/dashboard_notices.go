package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// The customer-notice page: the notice as each locale will receive it
// (rendered for a sample customer, never a real one), legal's texts, the
// approvals of the current wording, and delivery with retry.

// sampleCustomers are the synthetic people the preview greets; no real
// customer's data is read for a preview.
var sampleCustomers = map[string]string{breach.LocaleEN: "Alex Sample", breach.LocaleZhCN: "张示例"}

// noticesView is the customer-notice page.
type noticesView struct {
	St       *breach.Status
	Closed   bool
	Version  string
	Locales  []noticeLocaleView
	Approval *noticeApprovalView
	Delivery *Delivery
	// Pool is the remedy-code pool's counts and coverage.
	Pool     *remedyPoolStatus
	Failures []failureRow
	// FailuresCut is set when there were more failed notices than the
	// page reads; the counts are of the first ones.
	FailuresCut bool
}

type noticeLocaleView struct {
	Locale    string
	Sample    string
	Customers int
	Texts     breach.NoticeText
	Missing   []string
	Error     string // the refusal of the last post of this locale's texts
}

type noticeApprovalView struct {
	Step            breach.StepState
	Needs           string
	ApprovedVersion string
	Approvals       []breach.Approval
}

// failureRow counts the failed notices of one reason (addresses masked).
type failureRow struct {
	Reason string
	Count  int
}

// maxFailuresRead bounds how many failed notices the page groups.
const maxFailuresRead = 10 * store.MaxNoticePage

// addressPattern finds what looks like an email address in an SMTP
// server's error text, so the page never shows one.
var addressPattern = regexp.MustCompile(`[^\s<>()\[\]"',;:]+@[^\s<>()\[\]"',;:]+`)

// maskReason hides addresses in a delivery error.
func maskReason(s string) string {
	s = strings.TrimSpace(addressPattern.ReplaceAllString(s, "‹address›"))
	if s == "" {
		return "no reason recorded"
	}
	return s
}

// noticeApprovalStep is the approval a customer_notices step waits for,
// as the workflow finds it.
func noticeApprovalStep(st *breach.Status) *breach.StepState {
	for _, s := range st.Steps {
		if s.Kind != playbooks.KindCustomerNotices {
			continue
		}
		for _, a := range s.After {
			for i := range st.Steps {
				if st.Steps[i].ID == a && st.Steps[i].Kind == playbooks.KindApproval {
					return &st.Steps[i]
				}
			}
		}
	}
	return nil
}

func (d *dash) noticesPage(c *gin.Context) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	v, err := d.noticesView(c, st)
	if err != nil {
		d.internalPage(c, "notices page", err)
		return
	}
	d.render(c, http.StatusOK, "notices", st.ID+" · customer notice", "incidents", v)
}

func (d *dash) noticesView(c *gin.Context, st *breach.Status) (*noticesView, error) {
	ctx := c.Request.Context()
	customers, err := d.store.SubjectLocales(ctx, st.ID)
	if err != nil {
		return nil, fmt.Errorf("count customers by locale: %w", err)
	}
	v := &noticesView{St: st, Closed: st.Status == breach.StatusClosed, Version: st.NoticeVersion}
	for _, l := range breach.NoticeLocales() {
		t := st.NoticeTexts[l]
		v.Locales = append(v.Locales, noticeLocaleView{Locale: l, Sample: sampleCustomers[l], Customers: customers[l], Texts: t, Missing: t.Missing()})
	}
	if a := noticeApprovalStep(st); a != nil {
		av := &noticeApprovalView{Step: *a, ApprovedVersion: a.ApprovedVersion, Approvals: a.Approvals}
		if a.Needs != nil {
			av.Needs = breach.DescribeNeeds(*a.Needs)
		}
		v.Approval = av
	}
	switch pool, e := d.poolStatus(ctx, st.ID); {
	case e == nil:
		v.Pool = pool
	case e.Err != nil:
		return nil, fmt.Errorf("%s: %w", e.Op, e.Err)
	}
	if v.Delivery, err = d.delivery(c, st.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	if v.Delivery != nil && v.Delivery.Total.Failed > 0 {
		v.Failures, v.FailuresCut, err = d.failureReasons(c, st.ID)
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

// failureReasons groups the failed customer notices by their masked
// reason, most frequent first.
func (d *dash) failureReasons(c *gin.Context, id string) ([]failureRow, bool, error) {
	by := map[string]int{}
	var after int64
	read := 0
	for read < maxFailuresRead {
		ns, err := d.store.ListNotices(c.Request.Context(), id, store.NoticeFailed, after, store.MaxNoticePage)
		if err != nil {
			return nil, false, fmt.Errorf("list failed notices: %w", err)
		}
		for _, n := range ns {
			if n.Kind == breach.NoticeKindCustomer {
				by[maskReason(n.LastError)]++
			}
		}
		read += len(ns)
		if len(ns) < store.MaxNoticePage {
			break
		}
		after = ns[len(ns)-1].ID
	}
	rows := make([]failureRow, 0, len(by))
	for r, n := range by {
		rows = append(rows, failureRow{Reason: r, Count: n})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Reason < rows[j].Reason
	})
	return rows, read >= maxFailuresRead, nil
}

// noticePreviewDoc serves the notice of one locale as a customer would
// receive it, greeting a sample customer: a standalone document with the
// mail's inline styles, framed by the notice page only.
func (d *dash) noticePreviewDoc(c *gin.Context) {
	locale := c.Param("locale")
	if !slices.Contains(breach.NoticeLocales(), locale) {
		d.errorPage(c, http.StatusNotFound, "No such locale", "Notices are written in "+strings.Join(breach.NoticeLocales(), ", ")+".")
		return
	}
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	n, err := templates.RenderNotice(templates.NoticeInput{Incident: st, Org: d.org, Locale: locale, Name: sampleCustomers[locale],
		GeneratedAt: d.now().UTC(), Draft: true})
	if err != nil {
		d.errorPage(c, http.StatusUnprocessableEntity, "The notice cannot be rendered", err.Error())
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'")
	c.Header("Content-Language", n.Locale)
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(n.HTML))
}

// setNoticeTexts writes legal's texts of one locale. A refusal shows the
// page again with what was typed and the reason beside it, so nothing
// typed is lost.
func (d *dash) setNoticeTexts(c *gin.Context) {
	id, locale := c.Param("id"), c.Param("locale")
	in := breach.SetNoticeText{Actor: actor(c), Locale: locale,
		WhatHappened: c.PostForm("what_happened"), WhatWeAreDoing: c.PostForm("what_we_are_doing")}
	back := "/incidents/" + id + "/notices"
	fail := func(status int, msg string) {
		st, ok := d.loadIncident(c)
		if !ok {
			return
		}
		v, err := d.noticesView(c, st)
		if err != nil {
			d.internalPage(c, "notices page", err)
			return
		}
		for i := range v.Locales {
			if v.Locales[i].Locale == locale {
				v.Locales[i].Texts.WhatHappened, v.Locales[i].Texts.WhatWeAreDoing = in.WhatHappened, in.WhatWeAreDoing
				v.Locales[i].Error = msg + " Nothing was saved."
			}
		}
		d.render(c, status, "notices", st.ID+" · customer notice", "incidents", v)
	}
	if err := in.Check(); err != nil {
		if !slices.Contains(breach.NoticeLocales(), locale) {
			d.errorPage(c, http.StatusNotFound, "No such locale", err.Error())
			return
		}
		fail(http.StatusUnprocessableEntity, err.Error()+".")
		return
	}
	key := c.PostForm("idem")
	if key == "" || len(key) > 100 {
		key = uuid.NewString()
	}
	_, err := d.sendUpdate(c.Request.Context(), id, workflows.UpdateSetNoticeText, "dash:"+key, in)
	if err != nil {
		r, known := refusal(id, err)
		if !known {
			d.internalPage(c, "set notice text", err)
			return
		}
		if r.Status == http.StatusNotFound {
			d.notFound(c, id)
			return
		}
		fail(r.Status, r.Detail+".")
		return
	}
	d.setFlash(c, "ok", "The "+locale+" notice texts are saved; the wording needs approval.")
	c.Redirect(http.StatusSeeOther, back)
}

// sendNoticesForm asks for another send run (customers imported after
// the first).
func (d *dash) sendNoticesForm(c *gin.Context) {
	customers, err := d.store.SubjectLocales(c.Request.Context(), c.Param("id"))
	if err != nil {
		d.internalPage(c, "count customers by locale", err)
		return
	}
	d.act(c, workflows.UpdateSendNotices, breach.SendNotices{Actor: actor(c), Customers: customers}, "A notice run was requested.")
}

// retryNoticesForm moves the failed notices back to pending and asks for
// a run, as POST /v1/incidents/{id}/notices/retry does.
func (d *dash) retryNoticesForm(c *gin.Context) {
	id := c.Param("id")
	ctx := c.Request.Context()
	moved, err := d.store.RetryFailedNotices(ctx, id, breach.NoticeKindCustomer)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.notFound(c, id)
		return
	case err != nil:
		d.internalPage(c, "retry notices", err)
		return
	case moved == 0:
		d.refuse(c, "There are no failed notices to retry.")
		return
	}
	customers, err := d.store.SubjectLocales(ctx, id)
	if err != nil {
		d.internalPage(c, "count customers by locale", err)
		return
	}
	msg := counted(moved, "failed notice", "failed notices") + " will be sent again."
	_, err = d.sendUpdate(ctx, id, workflows.UpdateSendNotices, "retry-"+uuid.NewString(), breach.SendNotices{Actor: actor(c), Customers: customers})
	if err != nil {
		r, known := refusal(id, err)
		switch {
		case known && r.Status == http.StatusConflict && r.Detail == breach.NoticeRunInProgress:
			msg += " A notice run is in progress; it sends them before it ends."
		case known:
			d.setFlash(c, "error", fmt.Sprintf("%s pending again, but no run started: %s", counted(moved, "failed notice is", "failed notices are"), r.Detail))
			c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back"), "/incidents/"+id+"/notices"))
			return
		default:
			d.internalPage(c, "retry notices", err)
			return
		}
	}
	d.setFlash(c, "ok", msg)
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back"), "/incidents/"+id+"/notices"))
}
