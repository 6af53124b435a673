package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// The account managers' call list. Names and emails are shown only to a
// caller with an active access grant (two-person control, api/grants.go),
// and each such read is in the audit chain; without one the list names
// tasks by account manager and jurisdiction, which is enough to tick
// calls off, and offers the grant request.

// outreachView is the call-list page.
type outreachView struct {
	St       *breach.Status
	Closed   bool
	Tasks    []outreachTask
	Open     int
	Done     int
	Contacts bool // the caller's grant is active: names and emails shown
	Grant    *grantView
	Pending  []grantView // the caller's grants waiting for a second person
	MaxGrant string
}

func (d *dash) outreachPage(c *gin.Context) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	id, who, at := st.ID, caller(c), d.now()
	tasks, err := d.store.ListOutreachTasks(ctx, id, "")
	if err != nil {
		d.internalPage(c, "list outreach", err)
		return
	}
	gs, err := d.store.ListGrants(ctx, id)
	if err != nil {
		d.internalPage(c, "list grants", err)
		return
	}
	v := outreachView{St: st, Closed: st.Status == breach.StatusClosed, MaxGrant: fmtHours(store.MaxGrantDuration)}
	g, active := activeGrant(gs, who, at)
	if active && len(tasks) > 0 {
		if err := d.auditContactsRead(ctx, id, who, g, "outreach call list (dashboard)", at); err != nil {
			d.internalPage(c, "audit contacts read", err)
			return
		}
		gv := viewGrant(g, at)
		v.Contacts, v.Grant = true, &gv
	}
	for _, g := range gs {
		if g.RequestedBy == who.Name && g.Status == store.GrantRequested && !g.Expired(at) {
			v.Pending = append(v.Pending, viewGrant(g, at))
		}
	}
	bySubject := map[int64]store.SubjectRecord{}
	ids := make([]int64, 0, len(tasks))
	for _, t := range tasks {
		ids = append(ids, t.SubjectID)
	}
	recs, err := d.store.GetSubjects(ctx, ids)
	if err != nil {
		d.internalPage(c, "load outreach subjects", err)
		return
	}
	for _, r := range recs {
		bySubject[r.ID] = r
	}
	for _, t := range tasks {
		tv := outreachTask{ID: t.ID, SubjectID: t.SubjectID, AccountManager: t.AccountManager, Status: t.Status,
			Note: t.Note, DoneBy: t.DoneBy, DoneAt: t.DoneAt}
		if r, ok := bySubject[t.SubjectID]; ok {
			tv.Locale, tv.Jurisdiction = r.Locale, r.Country
			if r.Subdivision != "" {
				tv.Jurisdiction = r.Subdivision
			}
			if v.Contacts && d.keys != nil {
				tv.ExternalID = r.ExternalID
				if name, email, err := subjects.Open(r, d.keys); err == nil {
					tv.Name, tv.Email = name, email
				}
			}
		}
		if !v.Contacts {
			tv.Note = "" // a note may name the customer
		}
		if t.Status == store.OutreachDone {
			v.Done++
		} else {
			v.Open++
		}
		v.Tasks = append(v.Tasks, tv)
	}
	d.render(c, http.StatusOK, "outreach", st.ID+" · outreach calls", "incidents", v)
}

// outreachDoneForm ticks one call off, with a note.
func (d *dash) outreachDoneForm(c *gin.Context) {
	id := c.Param("id")
	task, err := strconv.ParseInt(c.Param("task"), 10, 64)
	if err != nil || task < 1 {
		d.refuse(c, "There is no outreach task "+strconv.Quote(c.Param("task"))+".")
		return
	}
	note := strings.TrimSpace(c.PostForm("note"))
	if len(note) > 2000 {
		d.refuse(c, "The note is limited to 2000 characters.")
		return
	}
	res, err := d.callOutreach(c, id, task, note)
	var ue *updateFailure
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.refuse(c, fmt.Sprintf("Incident %s has no outreach task %d.", id, task))
		return
	case errors.As(err, &ue):
		r, known := refusal(id, ue.err)
		if !known {
			d.internalPage(c, "outreach call", err)
			return
		}
		d.refuse(c, r.Detail+".")
		return
	case err != nil:
		d.internalPage(c, "outreach call", err)
		return
	}
	msg := fmt.Sprintf("Call %d recorded: %d done, %d open.", task, res.Done, res.Open)
	switch {
	case res.StepCompleted:
		msg += " Every call is made: the outreach step is complete."
	case res.StepRefused != "":
		msg += " The outreach step was not completed: " + res.StepRefused
	}
	d.setFlash(c, "ok", msg)
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back"), "/incidents/"+id+"/outreach"))
}

// requestGrantForm asks for a time-boxed grant to read the customers'
// contacts; a second person approves it on the incident page.
func (d *dash) requestGrantForm(c *gin.Context) {
	id := c.Param("id")
	dur, reason, fields := checkGrantRequest(grantRequest{Reason: c.PostForm("reason"), Duration: c.PostForm("duration")})
	if len(fields) > 0 {
		var msgs []string
		for _, f := range fields {
			msgs = append(msgs, f.Field+": "+f.Message)
		}
		d.setFlash(c, "error", "The access grant was not requested. Nothing was changed.", msgs...)
		c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back"), "/incidents/"+id+"/outreach"))
		return
	}
	g, err := d.requestContactsGrant(c.Request.Context(), id, caller(c), reason, dur)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.notFound(c, id)
		return
	case err != nil:
		d.internalPage(c, "request grant", err)
		return
	}
	d.setFlash(c, "ok", fmt.Sprintf("Access grant %d requested for %s; it needs a second person's approval (legal, on the incident page).", g.ID, g.Duration.Round(time.Minute)))
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back"), "/incidents/"+id+"/outreach"))
}
