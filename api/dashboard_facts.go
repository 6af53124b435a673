package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// The incident page's facts form. Saving is two steps: the form posts to
// a preview that shows what the change does to the regulatory clocks
// (the what-if of POST /v1/incidents/{id}/assessments) and changes
// nothing; its confirm button posts the same change, as PATCH
// /v1/incidents/{id} takes it, through the same code (Server.patchOf).

// factsSection is the incident page's facts card.
type factsSection struct {
	// Inputs are the facts the viewer may set (nil for a viewer or a
	// closed incident); Fixed the others, shown with their value.
	Inputs []factField
	Fixed  []factField
	TZ     string
}

// factsSectionOf builds the facts card of st for role, times in loc.
func factsSectionOf(st *breach.Status, role string, loc *time.Location) factsSection {
	sec := factsSection{TZ: loc.String()}
	editable := map[string]bool{}
	if st.Status != breach.StatusClosed && (breach.RoleSatisfies(role, breach.RoleResponder) || breach.RoleSatisfies(role, breach.RoleLegal)) {
		facts := formFacts(role)
		sec.Inputs = factFields(facts, knownFacts(st.Facts, facts, loc), nil, loc)
		for _, f := range facts {
			editable[f.Name] = true
		}
	}
	var fixed []breach.Fact
	for _, f := range breach.FactTable() {
		if !f.System && !editable[f.Name] {
			fixed = append(fixed, f)
		}
	}
	sec.Fixed = factFields(fixed, knownFacts(st.Facts, fixed, loc), nil, loc)
	return sec
}

// factsView is the preview page of a facts change.
type factsView struct {
	St     *breach.Status
	Facts  factsSection
	Errors []FieldError
	// Changes says what the change does, one line each; Patch is the
	// change as a PATCH body, carried by the confirm form.
	Changes []clockChange
	// Quiet is set when no duty changes.
	Quiet bool
	Patch string
	Idem  string
}

// clockChange is one line of the preview: a changed fact or duty.
type clockChange struct {
	Kind string // fact | added | removed | moved
	ID   string
	Text string
}

// factsPreview handles POST /incidents/{id}/facts/preview: the form's
// change judged as PATCH judges it and, when it is valid, what it does to
// the clocks. Nothing is changed.
func (d *dash) factsPreview(c *gin.Context) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	loc := viewerZone(c)
	who := actor(c)
	facts := formFacts(who.Role)
	posted := postedFacts(c, facts)
	known := knownFacts(st.Facts, facts, loc)
	body, errs := patchFactsBody(facts, posted, known, loc)
	if len(errs) == 0 && len(body) == 0 {
		errs = append(errs, FieldError{Field: "form", Message: "nothing changed: edit a fact first"})
	}
	if len(errs) == 0 {
		if _, status, detail, ferrs := d.patchOf(patchRequest{Facts: body}, who); status != 0 {
			errs = ferrs
			if len(errs) == 0 {
				errs = []FieldError{{Field: "form", Message: detail}}
			}
		}
	}
	v := factsView{St: st, Errors: errs, Idem: randomToken()}
	v.Facts = factsSection{TZ: loc.String(), Inputs: factFields(facts, posted, errs, loc)}
	if len(errs) > 0 {
		d.render(c, http.StatusUnprocessableEntity, "facts", st.ID+" · change facts", "incidents", v)
		return
	}
	w, err := d.whatIfOf(c.Request.Context(), st, body, d.now())
	if err != nil {
		d.internalPage(c, "facts preview", err)
		return
	}
	for _, f := range facts {
		if _, ok := body[f.Name]; ok {
			from, to := known[f.Name], posted[f.Name]
			v.Changes = append(v.Changes, clockChange{Kind: "fact", ID: f.Name,
				Text: fmt.Sprintf("%s: %s → %s", f.Name, orNone(from), orNone(to))})
		}
	}
	duties := dutyChanges(w, loc)
	v.Changes, v.Quiet = append(v.Changes, duties...), len(duties) == 0
	raw, _ := json.Marshal(body)
	v.Patch = string(raw)
	d.render(c, http.StatusOK, "facts", st.ID+" · change facts", "incidents", v)
}

func orNone(s string) string {
	if s == "" {
		return "not known"
	}
	return s
}

// dutyChanges says in words what a what-if does to each duty.
func dutyChanges(w WhatIf, loc *time.Location) []clockChange {
	at := func(t *time.Time) string { return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST") }
	var out []clockChange
	for _, d := range w.Added {
		text := fmt.Sprintf("%s (%s, to %s) ", d.Regime, d.Jurisdiction, d.RecipientName)
		switch {
		case d.Exempt:
			text += "applies, but is exempt"
		case d.DueAt != nil:
			text += "becomes due " + at(d.DueAt)
		case len(d.MissingFacts) > 0:
			text += "becomes owed, waiting for " + strings.Join(d.MissingFacts, ", ")
		default:
			text += "becomes owed: " + d.Deadline
			if d.Standard != "" {
				text += ", " + d.Standard
			}
		}
		out = append(out, clockChange{Kind: "added", ID: d.ID, Text: text})
	}
	for _, d := range w.Removed {
		text := fmt.Sprintf("%s (%s) no longer owed", d.Regime, d.Jurisdiction)
		if d.Note != "" {
			text += " — " + d.Note
		}
		out = append(out, clockChange{Kind: "removed", ID: d.ID, Text: text})
	}
	next := map[string]breach.Duty{}
	for _, d := range w.Obligations {
		next[d.ID] = d
	}
	for _, d := range w.Moved {
		nd := next[d.ID]
		text := fmt.Sprintf("%s (%s) ", d.Regime, d.Jurisdiction)
		switch {
		case d.DueAt != nil && nd.DueAt != nil:
			text += "moves from " + at(d.DueAt) + " to " + at(nd.DueAt)
		case nd.DueAt != nil:
			text += "becomes due " + at(nd.DueAt)
		case len(nd.MissingFacts) > 0:
			text += "now waits for " + strings.Join(nd.MissingFacts, ", ")
		default:
			text += "is owed now: " + nd.Deadline
			if nd.Standard != "" {
				text += ", " + nd.Standard
			}
		}
		out = append(out, clockChange{Kind: "moved", ID: d.ID, Text: text})
	}
	return out
}

// factsSave handles POST /incidents/{id}/facts: the change the preview
// showed, sent as PATCH sends it; a double submit is applied once.
func (d *dash) factsSave(c *gin.Context) {
	var req patchRequest
	if err := json.Unmarshal([]byte(c.PostForm("patch")), &req); err != nil {
		d.refuse(c, "The change could not be read ("+err.Error()+"); edit the facts again.")
		return
	}
	out, status, detail, errs := d.patchOf(req, actor(c))
	if status != 0 {
		for _, e := range errs {
			detail += "; " + e.Field + ": " + e.Message
		}
		d.refuse(c, "The change was refused: "+detail+".")
		return
	}
	d.act(c, workflows.UpdatePatchFacts, out, "Facts changed: "+strings.Join(out.Set, ", ")+".")
}
