package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// The dashboard's Assess page: the facts form, the duties they give rise
// to as a timeline, and a button that launches an incident with exactly
// those facts. The form is read into the launch request type and judged
// by the same code as POST /v1/assessments and POST /v1/incidents.

// assessForm is the form's values as typed, echoed back on the page.
type assessForm struct {
	AwareAt, OccurredAt, DiscoveredAt, DeterminedAt string
	Jurisdictions, Affected, Risk                   string
	Categories, Flags                               []string
	Playbook, Title, Severity                       string
}

// assessView is the Assess page.
type assessView struct {
	Form       assessForm
	Errors     []FieldError
	Categories []string
	Flags      []string
	Risks      []string
	Playbooks  []string
	Severities []string
	Result     *Assessment
	Timeline   []timelineDuty
	// LaunchFacts is the JSON launch body of the result, carried by the
	// launch form so the incident gets exactly the assessed facts.
	LaunchFacts string
}

// timelineDuty is one duty on the page's timeline.
type timelineDuty struct {
	breach.Duty
	After string // "+3d" after awareness, or what the clock waits for
}

// readAssessForm turns the form into the JSON body a launch takes.
func readAssessForm(c *gin.Context) (assessForm, map[string]json.RawMessage, []FieldError) {
	f := assessForm{
		AwareAt: strings.TrimSpace(c.PostForm("aware_at")), OccurredAt: strings.TrimSpace(c.PostForm("occurred_at")),
		DiscoveredAt: strings.TrimSpace(c.PostForm("discovered_at")), DeterminedAt: strings.TrimSpace(c.PostForm("determined_at")),
		Jurisdictions: strings.TrimSpace(c.PostForm("jurisdictions")), Affected: strings.TrimSpace(c.PostForm("affected")),
		Risk: c.PostForm("risk"), Categories: c.PostFormArray("data_categories"), Flags: c.PostFormArray("flags"),
		Playbook: c.PostForm("playbook"), Title: strings.TrimSpace(c.PostForm("title")), Severity: c.PostForm("severity"),
	}
	body := map[string]json.RawMessage{}
	set := func(name string, v any) { body[name], _ = json.Marshal(v) }
	for name, v := range map[string]string{"aware_at": f.AwareAt, "occurred_at": f.OccurredAt, "discovered_at": f.DiscoveredAt, "determined_at": f.DeterminedAt} {
		if v != "" {
			set(name, v)
		}
	}
	if codes := strings.FieldsFunc(f.Jurisdictions, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }); len(codes) > 0 {
		set("jurisdictions", codes)
	}
	var errs []FieldError
	if f.Affected != "" {
		counts := map[string]int{}
		for _, pair := range strings.FieldsFunc(f.Affected, func(r rune) bool { return r == ',' || r == '\n' }) {
			code, n, ok := strings.Cut(strings.TrimSpace(pair), "=")
			num, err := strconv.Atoi(strings.TrimSpace(n))
			if !ok || err != nil {
				errs = append(errs, FieldError{Field: "affected", Message: fmt.Sprintf("%q: write CODE=count pairs such as US-CA=600, US-TX=40", strings.TrimSpace(pair))})
				continue
			}
			counts[strings.TrimSpace(code)] = num
		}
		set("affected", counts)
	}
	if len(f.Categories) > 0 {
		set("data_categories", f.Categories)
	}
	if len(f.Flags) > 0 {
		set("flags", f.Flags)
	}
	if f.Risk != "" {
		set("risk", f.Risk)
	}
	return f, body, errs
}

// requestOf reads a JSON launch body as POST /v1/incidents does.
func requestOf(body map[string]json.RawMessage) (launchRequest, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return launchRequest{}, err
	}
	var req launchRequest
	err = json.Unmarshal(raw, &req)
	return req, err
}

func (d *dash) assessView(f assessForm) assessView {
	v := assessView{Form: f, Categories: breach.DataCategories(), Flags: breach.FlagNames(), Risks: breach.RiskLevels(),
		Severities: breach.Severities}
	for _, p := range d.playbooks.List() {
		v.Playbooks = append(v.Playbooks, p.ID)
	}
	if v.Form.AwareAt == "" {
		v.Form.AwareAt = d.now().UTC().Truncate(time.Minute).Format(time.RFC3339)
	}
	return v
}

// assessPage handles GET /assess.
func (d *dash) assessPage(c *gin.Context) {
	d.render(c, http.StatusOK, "assess", "Assess", "assess", d.assessView(assessForm{}))
}

// assess handles POST /assess: the duties, nothing stored.
func (d *dash) assess(c *gin.Context) {
	form, body, errs := readAssessForm(c)
	v := d.assessView(form)
	req, err := requestOf(body)
	if err != nil {
		errs = append(errs, FieldError{Field: "form", Message: err.Error()})
	}
	if len(errs) == 0 {
		var f breach.Facts
		f, errs = d.assessFacts(&req, d.now())
		if len(errs) == 0 {
			a, err := d.assessment(c.Request.Context(), req, f)
			if err != nil {
				d.internalPage(c, "assess", err)
				return
			}
			v.Result = a
			v.Timeline = timelineOf(a)
			raw, _ := json.Marshal(a.Launch)
			v.LaunchFacts = string(raw)
		}
	}
	v.Errors = errs
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	d.render(c, status, "assess", "Assess", "assess", v)
}

// timelineOf orders the duties by due time and says how long after
// awareness each falls due.
func timelineOf(a *Assessment) []timelineDuty {
	var out []timelineDuty
	for _, d := range a.Obligations {
		t := timelineDuty{Duty: d}
		switch {
		case d.Exempt:
			t.After = "exempt"
		case d.DueAt != nil:
			t.After = "+" + fmtSpan(d.DueAt.Sub(a.Facts.AwareAt)) + " after awareness"
		case len(d.MissingFacts) > 0:
			t.After = "waiting for " + strings.Join(d.MissingFacts, ", ")
		default:
			t.After = d.Deadline
		}
		out = append(out, t)
	}
	return out
}

// fmtSpan prints a duration in days and hours ("3d", "29d 23h", "72h"
// reads as "3d").
func fmtSpan(d time.Duration) string {
	if d < 0 {
		return "-" + fmtSpan(-d)
	}
	h := int(d.Round(time.Hour) / time.Hour)
	switch {
	case h < 48:
		return strconv.Itoa(h) + "h"
	case h%24 == 0:
		return strconv.Itoa(h/24) + "d"
	}
	return fmt.Sprintf("%dd %dh", h/24, h%24)
}

// assessLaunch handles POST /assess/launch: an incident with exactly the
// assessed facts (carried in the form as the launch body), through the
// launch path every surface uses.
func (d *dash) assessLaunch(c *gin.Context) {
	body := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(c.PostForm("facts")), &body); err != nil || len(body) == 0 {
		d.errorPage(c, http.StatusBadRequest, "Launch refused", "The form lost the assessed facts. Assess again, then launch. Nothing was launched.")
		return
	}
	for name, v := range map[string]string{"playbook": c.PostForm("playbook"), "title": strings.TrimSpace(c.PostForm("title")), "severity": c.PostForm("severity")} {
		if v != "" {
			body[name], _ = json.Marshal(v)
		}
	}
	req, err := requestOf(body)
	if err != nil {
		d.errorPage(c, http.StatusBadRequest, "Launch refused", "The launch carried an unknown field: "+err.Error()+". Nothing was launched.")
		return
	}
	key := c.PostForm("idem")
	if key == "" || len(key) > 100 {
		key = uuid.NewString()
	}
	st, _, lerr := d.launchIncident(c.Request.Context(), req, "dash-assess:"+key, actor(c))
	if lerr != nil {
		if lerr.Err != nil {
			d.internalPage(c, lerr.Op, lerr.Err)
			return
		}
		var msgs []string
		for _, f := range lerr.Fields {
			msgs = append(msgs, f.Field+": "+f.Message)
		}
		d.errorPage(c, lerr.Status, "Launch refused", lerr.Detail+". "+strings.Join(msgs, "; ")+" Nothing was launched; go back to change the facts.")
		return
	}
	d.setFlash(c, "ok", "Launched "+st.ID+" with the assessed facts.")
	c.Redirect(http.StatusSeeOther, "/incidents/"+st.ID)
}

// boardJurisdiction reads the board's jurisdiction filter: a country
// shows its subdivisions' duties too, EU the GDPR's.
func boardJurisdiction(v string) (string, *FieldError) {
	if v == "" || v == "EU" || breach.ValidJurisdiction(v) {
		return v, nil
	}
	return "", &FieldError{Field: "jurisdiction", Message: fmt.Sprintf("%q is not an ISO 3166 code such as US-CA or DE, or EU", v)}
}

// onBoard reports whether a duty of jurisdiction j passes the filter.
func onBoard(filter, j string) bool {
	return filter == "" || j == filter || (!strings.Contains(filter, "-") && breach.Country(j) == filter)
}

// boardOptions are the jurisdictions of the open duties, sorted.
func boardOptions(rows []deadlineView) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Jurisdiction)
		if c := breach.Country(r.Jurisdiction); c != r.Jurisdiction {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
