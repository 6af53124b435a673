package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// triageView is the triage page: open alerts, oldest first, and the
// playbooks a responder may launch for one.
type triageView struct {
	Alerts    []AlertView
	Playbooks []string
}

// triage serves GET /triage.
func (d *dash) triage(c *gin.Context) {
	rows, err := d.store.ListAlerts(c.Request.Context(), store.AlertFilter{State: store.AlertOpen, Limit: 500})
	if err != nil {
		d.internalPage(c, "list alerts", err)
		return
	}
	v := triageView{}
	for _, a := range rows {
		v.Alerts = append(v.Alerts, alertView(a))
	}
	for _, p := range d.playbooks.List() {
		v.Playbooks = append(v.Playbooks, p.ID)
	}
	d.render(c, http.StatusOK, "triage", "Triage", "triage", v)
}

// triageAlert reads the alert of a triage form's path; false when the
// page has already answered.
func (d *dash) triageAlert(c *gin.Context) (store.AlertRecord, bool) {
	id, err := strconv.ParseInt(c.Param("aid"), 10, 64)
	if err == nil && id > 0 {
		a, err := d.store.GetAlert(c.Request.Context(), id)
		if err == nil {
			return a, true
		}
		if !errors.Is(err, store.ErrNotFound) {
			d.internalPage(c, "get alert", err)
			return a, false
		}
	}
	d.errorPage(c, http.StatusNotFound, "No such alert", "There is no alert "+strconv.Quote(c.Param("aid"))+".")
	return store.AlertRecord{}, false
}

// triageBack redirects to the triage page with a message.
func (d *dash) triageBack(c *gin.Context, kind, msg string, more ...string) {
	d.setFlash(c, kind, msg, more...)
	c.Redirect(http.StatusSeeOther, "/triage")
}

// triageLaunch serves POST /triage/{aid}/launch.
func (d *dash) triageLaunch(c *gin.Context) {
	a, ok := d.triageAlert(c)
	if !ok {
		return
	}
	req := launchRequest{Playbook: c.PostForm("playbook")}
	var js []string
	for _, j := range strings.Split(c.PostForm("jurisdictions"), ",") {
		if j = strings.TrimSpace(j); j != "" {
			js = append(js, j)
		}
	}
	if len(js) > 0 {
		req.setFact("jurisdictions", js)
	}
	st, _, _, lerr := d.acceptAlert(c.Request.Context(), a, req, actor(c))
	if lerr != nil {
		if lerr.Err != nil {
			d.log.Error("dashboard alert launch", "alert", a.ID, "op", lerr.Op, "error", lerr.Err)
			d.triageBack(c, "error", "An internal error occurred; it has been logged.")
			return
		}
		var more []string
		for _, f := range lerr.Fields {
			more = append(more, f.Field+": "+f.Message)
		}
		d.triageBack(c, "error", lerr.Detail+". Nothing was launched.", more...)
		return
	}
	d.setFlash(c, "ok", fmt.Sprintf("Alert #%d launched %s; aware_at is now, recorded as your acceptance.", a.ID, st.ID))
	c.Redirect(http.StatusSeeOther, "/incidents/"+st.ID)
}

// triageAttach serves POST /triage/{aid}/attach.
func (d *dash) triageAttach(c *gin.Context) {
	a, ok := d.triageAlert(c)
	if !ok {
		return
	}
	inc := strings.ToUpper(strings.TrimSpace(c.PostForm("incident")))
	if !incidentIDPattern.MatchString(inc) {
		d.triageBack(c, "error", "Give an incident id such as BR-7K3F9Q. Nothing was changed.")
		return
	}
	_, err := d.attachAlertTo(c.Request.Context(), a, inc, actor(c))
	if !d.triageDecided(c, err) {
		return
	}
	d.triageBack(c, "ok", fmt.Sprintf("Alert #%d attached to %s.", a.ID, inc))
}

// triageDismiss serves POST /triage/{aid}/dismiss.
func (d *dash) triageDismiss(c *gin.Context) {
	a, ok := d.triageAlert(c)
	if !ok {
		return
	}
	reason := strings.TrimSpace(c.PostForm("reason"))
	if reason == "" || len(reason) > 1000 {
		d.triageBack(c, "error", "A dismissal needs a reason (up to 1000 characters). Nothing was changed.")
		return
	}
	_, err := d.dismissAlertWith(c.Request.Context(), a, reason, caller(c).Name)
	if !d.triageDecided(c, err) {
		return
	}
	d.triageBack(c, "ok", fmt.Sprintf("Alert #%d dismissed.", a.ID))
}

// triageDecided answers a refused decision with a message on the page.
func (d *dash) triageDecided(c *gin.Context, err error) bool {
	var denied deniedError
	switch {
	case err == nil:
		return true
	case errors.As(err, &denied) && denied.Status != http.StatusNotFound:
		d.triageBack(c, "error", "Refused: "+denied.Detail+". Nothing was changed.")
	case errors.As(err, &denied), errors.Is(err, store.ErrNotFound):
		// A restricted incident the caller may not see reads as none.
		d.triageBack(c, "error", "There is no such incident. Nothing was changed.")
	case errors.Is(err, store.ErrAlertDecided):
		d.triageBack(c, "error", "That alert is no longer in triage; someone decided it already. Nothing was changed.")
	default:
		d.log.Error("dashboard alert decision", "error", err)
		d.triageBack(c, "error", "An internal error occurred; it has been logged.")
	}
	return false
}
