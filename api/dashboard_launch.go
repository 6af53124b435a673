package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/gin-gonic/gin"
)

// The dashboard's Launch page: a form with every field POST /v1/incidents
// takes, read into the same launch request and launched through the same
// launchIncident, so the same rules and messages apply; each message is
// shown beside its input and what was typed is kept.

// launchForm is the incident's own fields as typed.
type launchForm struct {
	Playbook, Title, Summary, Severity, ExternalRef string
	Restricted                                      bool
	Members                                         string
	// TZ is the zone the times are typed in; Idem the form's
	// idempotency key, the same on every re-send of this form.
	TZ, Idem string
}

// launchView is the Launch page.
type launchView struct {
	Form       launchForm
	Playbooks  []*playbooks.Playbook
	Severities []string
	Facts      []factField
	// Errors are the incident's own fields' messages by field; Other
	// those that belong to no input.
	Errors map[string][]string
	Other  []FieldError
	Failed bool
}

// ErrorOf is a field's messages, joined.
func (v launchView) ErrorOf(field string) string { return strings.Join(v.Errors[field], "; ") }

// ownLaunchFields are the launch form's inputs that are not facts.
var ownLaunchFields = []string{"playbook", "title", "summary", "severity", "external_ref", "restricted", "members"}

func (d *dash) launchView(c *gin.Context, form launchForm, values map[string]string, errs []FieldError) launchView {
	loc := viewerZone(c)
	v := launchView{Form: form, Playbooks: d.playbooks.List(), Severities: breach.Severities, Errors: map[string][]string{},
		Facts: factFields(formFacts(caller(c).Role), values, errs, loc), Failed: len(errs) > 0}
	if v.Form.Severity == "" {
		v.Form.Severity = "medium"
	}
	if v.Form.Idem == "" {
		v.Form.Idem = randomToken()
	}
	v.Form.TZ = loc.String()
	facts := map[string]bool{}
	for _, f := range v.Facts {
		facts[f.Name] = true
	}
	for _, e := range errs {
		switch name := errField(e.Field); {
		case slices.Contains(ownLaunchFields, name):
			v.Errors[name] = append(v.Errors[name], e.Message)
		case !facts[name]:
			v.Other = append(v.Other, e)
		}
	}
	return v
}

// launchPage handles GET /launch.
func (d *dash) launchPage(c *gin.Context) {
	form := launchForm{Playbook: c.Query("playbook")}
	d.render(c, http.StatusOK, "launch", "Launch an incident", "launch", d.launchView(c, form, nil, nil))
}

// launchPost handles POST /launch: on success a redirect to the new
// incident; otherwise the form again, as typed, with each problem beside
// its input. The form's key makes a double submit one incident.
func (d *dash) launchPost(c *gin.Context) {
	loc := viewerZone(c)
	form := launchForm{
		Playbook: c.PostForm("playbook"), Title: c.PostForm("title"), Summary: strings.TrimSpace(c.PostForm("summary")),
		Severity: c.PostForm("severity"), ExternalRef: strings.TrimSpace(c.PostForm("external_ref")),
		Restricted: c.PostForm("restricted") == "true", Members: strings.TrimSpace(c.PostForm("members")),
		Idem: c.PostForm("idem"),
	}
	facts := formFacts(caller(c).Role)
	posted := postedFacts(c, facts)
	body, errs := launchFactsBody(facts, posted, loc)
	own := map[string]any{"playbook": form.Playbook, "title": form.Title, "summary": form.Summary,
		"severity": form.Severity, "external_ref": form.ExternalRef}
	for k, v := range own {
		if v != "" {
			body[k], _ = json.Marshal(v)
		}
	}
	if form.Restricted {
		body["restricted"] = json.RawMessage("true")
	}
	if m := splitList(form.Members); len(m) > 0 {
		body["members"], _ = json.Marshal(m)
	}
	if len(form.Idem) > 100 {
		form.Idem = ""
	}
	fail := func(status int, errs []FieldError) {
		d.render(c, status, "launch", "Launch an incident", "launch", d.launchView(c, form, posted, errs))
	}
	req, err := requestOf(body)
	if err != nil {
		fail(http.StatusUnprocessableEntity, append(errs, FieldError{Field: "form", Message: err.Error()}))
		return
	}
	if len(errs) > 0 {
		// The typed values that could not be read; the rest are judged
		// too, so every problem shows at once.
		_, _, more := req.validate(d.now(), d.playbooks)
		fail(http.StatusUnprocessableEntity, append(errs, more...))
		return
	}
	key := form.Idem
	if key == "" {
		key = randomToken()
	}
	st, _, lerr := d.launchIncident(c.Request.Context(), req, "dash-launch:"+key, actor(c))
	if lerr != nil {
		if lerr.Err != nil {
			d.internalPage(c, lerr.Op, lerr.Err)
			return
		}
		errs := lerr.Fields
		if len(errs) == 0 {
			errs = []FieldError{{Field: "form", Message: lerr.Detail}}
		}
		fail(lerr.Status, errs)
		return
	}
	d.setFlash(c, "ok", "Launched "+st.ID+".")
	c.Redirect(http.StatusSeeOther, "/incidents/"+st.ID)
}
