package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// The letters page: the postal channel and the substitute notice for the
// customers email cannot reach. Customers are named by subject id only;
// the batch PDF and manifest (names and addresses) are downloaded under
// the caller's approved access grant, exactly as through the API. Every
// action runs the API's code (api/letters.go, api/letters_substitute.go).

// maxShownWaiting bounds the subject ids the page lists as waiting.
const maxShownWaiting = 200

// formError is a refused form's message and its messages per field, shown
// beside the form that was sent, with what was typed kept.
type formError struct {
	Message string
	Fields  map[string]string
}

// For is the message of one field, or "".
func (f formError) For(field string) string { return f.Fields[field] }

// formErrorOf is the inline form of an action's refusal.
func formErrorOf(e *actionError) formError {
	f := formError{Message: e.Detail + ". Nothing was changed.", Fields: map[string]string{}}
	for _, fe := range e.Fields {
		if prev := f.Fields[fe.Field]; prev != "" {
			f.Fields[fe.Field] = prev + "; " + fe.Message
		} else {
			f.Fields[fe.Field] = fe.Message
		}
	}
	return f
}

// failedLetter is a letter that failed: it cannot be printed, or it came
// back. The reason quotes no personal data (store.Notice.LastError).
type failedLetter struct {
	SubjectID    int64
	Jurisdiction string
	Reason       string
	Returned     bool
}

// substituteRow is one substitute-notice decision, as the audit chain
// keeps it.
type substituteRow struct {
	By, Role      string
	At            time.Time
	Basis         string
	BasisText     string
	Reason        string
	Jurisdictions []string
	Covered       int
}

// substituteBasis is one choice of the decision form.
type substituteBasis struct{ Key, Text string }

// lettersView is the letters page.
type lettersView struct {
	St     *breach.Status
	Closed bool
	// Off says why no letter can be made (the fonts are missing), or "".
	Off         string
	Waiting     []int64 // the first maxShownWaiting of them
	WaitingMore int
	WaitingAll  int
	Failed      []failedLetter
	FailedCut   bool
	Batches     []store.LetterBatch
	Delivery    *Delivery
	Contacts    bool // the caller's grant is active: the downloads are offered
	Grant       *grantView
	Pending     []grantView // the caller's grants waiting for a second person
	MaxGrant    string
	Decisions   []substituteRow
	Bases       []substituteBasis
	// The refused form, if the page answers one: its error and what was
	// typed.
	Generate   formError
	Printed    printedForm
	Return     returnForm
	Substitute substituteForm
}

type printedForm struct {
	Batch     int64
	Reference string
	Err       formError
}

type returnForm struct {
	SubjectID, Reason string
	Err               formError
}

type substituteForm struct {
	Basis, Reason, Jurisdictions string
	Err                          formError
}

func (d *dash) lettersPage(c *gin.Context) {
	d.showLetters(c, http.StatusOK, nil)
}

// showLetters answers the letters page; with, when set, fills in the
// refused form.
func (d *dash) showLetters(c *gin.Context, status int, with func(*lettersView)) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	v, err := d.lettersView(c, st)
	if err != nil {
		d.internalPage(c, "letters page", err)
		return
	}
	if with != nil {
		with(v)
	}
	d.render(c, status, "letters", st.ID+" · letters", "incidents", v)
}

func (d *dash) lettersView(c *gin.Context, st *breach.Status) (*lettersView, error) {
	ctx, id, who, at := c.Request.Context(), st.ID, caller(c), d.now()
	v := &lettersView{St: st, Closed: st.Status == breach.StatusClosed, MaxGrant: fmtHours(store.MaxGrantDuration)}
	if _, err := d.letters.get(); err != nil {
		v.Off = lettersOff
	}
	bs, waiting, e := d.letterBatches(ctx, id)
	if e != nil {
		return nil, fmt.Errorf("%s: %w", e.Op, e.Err)
	}
	v.Batches = bs
	v.Waiting, v.WaitingAll = waiting, len(waiting)
	if n := len(waiting); n > maxShownWaiting {
		v.Waiting, v.WaitingMore = waiting[:maxShownWaiting], n-maxShownWaiting
	}
	var err error
	if v.Failed, v.FailedCut, err = d.failedLetters(ctx, id); err != nil {
		return nil, err
	}
	if v.Delivery, err = d.deliveryOf(c, id, store.NoticeKindLetter); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("letter delivery: %w", err)
	}
	gs, err := d.store.ListGrants(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	if g, active := activeGrant(gs, who, at); active {
		gv := viewGrant(g, at)
		v.Contacts, v.Grant = true, &gv
	}
	for _, g := range gs {
		if g.RequestedBy == who.Name && g.Status == store.GrantRequested && !g.Expired(at) {
			v.Pending = append(v.Pending, viewGrant(g, at))
		}
	}
	if v.Decisions, err = d.substituteDecisions(ctx, id); err != nil {
		return nil, err
	}
	v.Bases = substituteChoices()
	return v, nil
}

// substituteChoices are the bases of a substitute notice, in the law's
// order.
func substituteChoices() []substituteBasis {
	var out []substituteBasis
	for _, k := range []string{"contact_info", "cost", "count"} {
		out = append(out, substituteBasis{Key: k, Text: substituteBases[k]})
	}
	return out
}

// failedLetters lists the letters that cannot be printed or came back, by
// subject id, over at most maxFailuresRead failed notices.
func (d *dash) failedLetters(ctx context.Context, id string) ([]failedLetter, bool, error) {
	var out []failedLetter
	var after int64
	read := 0
	for read < maxFailuresRead {
		ns, err := d.store.ListNotices(ctx, id, store.NoticeFailed, after, store.MaxNoticePage)
		if err != nil {
			return nil, false, fmt.Errorf("list failed notices: %w", err)
		}
		for _, n := range ns {
			if n.Kind == store.NoticeKindLetter {
				out = append(out, failedLetter{SubjectID: n.SubjectID, Jurisdiction: n.Jurisdiction, Reason: n.LastError,
					Returned: strings.HasPrefix(n.LastError, store.LetterReturned)})
			}
		}
		read += len(ns)
		if len(ns) < store.MaxNoticePage {
			break
		}
		after = ns[len(ns)-1].ID
	}
	slices.SortFunc(out, func(a, b failedLetter) int { return int(a.SubjectID - b.SubjectID) })
	return out, read >= maxFailuresRead, nil
}

// substituteDecisions reads the substitute-notice decisions from the
// audit chain, where they are kept.
func (d *dash) substituteDecisions(ctx context.Context, id string) ([]substituteRow, error) {
	evs, err := d.store.ListAudit(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	var out []substituteRow
	for _, ev := range evs {
		if ev.Action != SubstituteDecided {
			continue
		}
		var det struct {
			Basis         string   `json:"basis"`
			Reason        string   `json:"reason"`
			Jurisdictions []string `json:"jurisdictions"`
			Covered       int      `json:"covered"`
			Role          string   `json:"role"`
		}
		if err := json.Unmarshal(ev.Details, &det); err != nil {
			return nil, fmt.Errorf("audit event %d: %w", ev.Seq, err)
		}
		out = append(out, substituteRow{By: ev.Actor, Role: det.Role, At: ev.At, Basis: det.Basis, BasisText: substituteBases[det.Basis],
			Reason: det.Reason, Jurisdictions: det.Jurisdictions, Covered: det.Covered})
	}
	return out, nil
}

// lettersBack is where the letters page's forms come back to.
func lettersBack(id string) string { return "/incidents/" + id + "/letters" }

// generateLettersForm makes a batch of everyone waiting, as POST
// /v1/incidents/{id}/letters.
func (d *dash) generateLettersForm(c *gin.Context) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	res, e := d.generateLetterBatch(c.Request.Context(), st, caller(c))
	if e != nil {
		d.refusedForm(c, e, func(v *lettersView) { v.Generate = formErrorOf(e) })
		return
	}
	b := res.Batch
	msg := fmt.Sprintf("Batch %d generated: %s", b.ID, counted(b.Letters, "letter", "letters"))
	if b.Unprintable > 0 {
		msg += ", " + counted(b.Unprintable, "customer whose letter cannot be printed (recorded as a failed letter)", "customers whose letter cannot be printed (recorded as failed letters)")
	}
	msg += "."
	if res.Remaining > 0 {
		msg += fmt.Sprintf(" %d more wait for the next batch.", res.Remaining)
	}
	var lines []string
	for _, u := range res.Unprintable {
		lines = append(lines, fmt.Sprintf("customer %d: %s", u.SubjectID, u.Reason))
		if len(lines) == 20 {
			lines = append(lines, "… and the others listed under Failed letters")
			break
		}
	}
	d.setFlash(c, "ok", msg, lines...)
	c.Redirect(http.StatusSeeOther, lettersBack(st.ID))
}

// refusedForm answers a refused letters-page form: the page again, with
// the refusal beside the form and what was typed; an internal failure is
// logged.
func (d *dash) refusedForm(c *gin.Context, e *actionError, with func(*lettersView)) {
	switch {
	case e.Err != nil:
		d.internalPage(c, e.Op, e.Err)
	case e.Status == http.StatusNotFound && strings.HasPrefix(e.Detail, "no incident"):
		d.notFound(c, c.Param("id"))
	default:
		d.showLetters(c, e.Status, with)
	}
}

// letterPDFDownload serves a batch's PDF under the caller's access grant.
func (d *dash) letterPDFDownload(c *gin.Context) { d.letterDownload(c, "PDF") }

// letterManifestDownload serves a batch's manifest under the caller's
// access grant.
func (d *dash) letterManifestDownload(c *gin.Context) { d.letterDownload(c, "manifest") }

// letterDownload renders a batch as GET /v1/incidents/{id}/letters/{batch}/…
// does, through the same grant check and audit.
func (d *dash) letterDownload(c *gin.Context, what string) {
	batch, err := strconv.ParseInt(c.Param("batch"), 10, 64)
	if err != nil || batch < 1 {
		d.errorPage(c, http.StatusNotFound, "No such letter batch", "There is no letter batch "+strconv.Quote(c.Param("batch"))+".")
		return
	}
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	pdf, placed, e := d.batchDocuments(c.Request.Context(), st, batch, caller(c), what+" (dashboard)")
	var body []byte
	if e == nil {
		body = pdf
		if what == "manifest" {
			body, e = batchManifest(placed)
		}
	}
	switch {
	case e == nil:
	case e.Err != nil:
		d.internalPage(c, e.Op, e.Err)
		return
	case e.Status == http.StatusForbidden:
		d.errorPage(c, http.StatusForbidden, "Names and addresses need an access grant",
			"A batch's letters and manifest hold customers' names and addresses: downloading them needs your own access grant, approved by a second person. "+
				"Request one on the incident's letters page (Letters › Request access); legal approves it on the incident page. Nothing was downloaded.")
		return
	default:
		d.errorPage(c, e.Status, "The letters cannot be downloaded", e.Detail+".")
		return
	}
	name, ct := fmt.Sprintf("%s-letters-%d.pdf", st.ID, batch), "application/pdf"
	if what == "manifest" {
		name, ct = fmt.Sprintf("%s-letters-%d.csv", st.ID, batch), "text/csv; charset=utf-8"
	}
	c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, ct, body)
}

// letterPrintedForm records a batch handed to the printer, as POST
// /v1/incidents/{id}/letters/{batch}/printed.
func (d *dash) letterPrintedForm(c *gin.Context) {
	id := c.Param("id")
	batch, err := strconv.ParseInt(c.Param("batch"), 10, 64)
	if err != nil || batch < 1 {
		d.refuse(c, "There is no letter batch "+strconv.Quote(c.Param("batch"))+".")
		return
	}
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	ref := c.PostForm("reference")
	b, e := d.markLettersPrinted(c.Request.Context(), st, batch, ref, caller(c))
	if e != nil {
		d.refusedForm(c, e, func(v *lettersView) { v.Printed = printedForm{Batch: batch, Reference: ref, Err: formErrorOf(e)} })
		return
	}
	d.setFlash(c, "ok", fmt.Sprintf("Batch %d recorded as handed to the printer under %s: its %s as sent.", b.ID, b.Reference, counted(b.Letters, "letter counts", "letters count")))
	c.Redirect(http.StatusSeeOther, lettersBack(id))
}

// letterReturnedForm records a letter that came back, as POST
// /v1/incidents/{id}/letters/returns.
func (d *dash) letterReturnedForm(c *gin.Context) {
	id := c.Param("id")
	typed := returnForm{SubjectID: strings.TrimSpace(c.PostForm("subject_id")), Reason: c.PostForm("reason")}
	sid, _ := strconv.ParseInt(typed.SubjectID, 10, 64) // not a number: 0, which the check refuses
	reason, e := d.recordLetterReturn(c.Request.Context(), id, letterReturnRequest{SubjectID: sid, Reason: typed.Reason}, caller(c))
	if e != nil {
		typed.Err = formErrorOf(e)
		d.refusedForm(c, e, func(v *lettersView) { v.Return = typed })
		return
	}
	d.setFlash(c, "ok", fmt.Sprintf("The letter to customer %d is recorded as %s.", sid, reason))
	c.Redirect(http.StatusSeeOther, lettersBack(id))
}

// substituteForm records legal's substitute-notice decision, as POST
// /v1/incidents/{id}/substitute-notice.
func (d *dash) substituteForm(c *gin.Context) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	typed := substituteForm{Basis: c.PostForm("basis"), Reason: c.PostForm("reason"), Jurisdictions: c.PostForm("jurisdictions")}
	req := substituteRequest{Basis: typed.Basis, Reason: typed.Reason}
	for _, j := range strings.FieldsFunc(typed.Jurisdictions, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		req.Jurisdictions = append(req.Jurisdictions, strings.TrimSpace(j))
	}
	dec, e := d.decideSubstituteNotice(c.Request.Context(), st, req, caller(c))
	if e != nil {
		typed.Err = formErrorOf(e)
		d.refusedForm(c, e, func(v *lettersView) { v.Substitute = typed })
		return
	}
	d.setFlash(c, "ok", fmt.Sprintf("Substitute notice recorded (%s): %s covered by it. Post the website notice and send the media draft (linked under Substitute notice).",
		substituteBases[dec.Basis], counted(dec.Covered, "customer's notice is", "customers' notices are")))
	c.Redirect(http.StatusSeeOther, lettersBack(st.ID)+"#substitute")
}

// substituteView is the substitute-notice page: the texts per locale.
type substituteView struct {
	St        *breach.Status
	Texts     []substituteTexts
	Error     string
	Decisions []substituteRow
}

// substitutePage shows the website notice and the media draft of every
// locale, as GET /v1/incidents/{id}/substitute-notice answers them.
func (d *dash) substitutePage(c *gin.Context) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	v := substituteView{St: st}
	status := http.StatusOK
	texts, err := d.substituteTexts(st, breach.NoticeLocales())
	if err != nil {
		status, v.Error = http.StatusConflict, "The substitute notice cannot be written yet: "+err.Error()+". Legal writes the notice texts of every locale on the customer-notice page."
	} else {
		v.Texts = texts
	}
	if v.Decisions, err = d.substituteDecisions(c.Request.Context(), st.ID); err != nil {
		d.internalPage(c, "substitute decisions", err)
		return
	}
	d.render(c, status, "substitute", st.ID+" · substitute notice", "incidents", v)
}
