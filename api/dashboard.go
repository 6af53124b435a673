package api

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/api/web"
	"github.com/breachflow/breachflow/internal/actionrecorder"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
)

// dashboardPrefixes are the paths of the web dashboard: HTML pages and
// their assets, not API, so docs/openapi.yaml leaves them out
// (openapi_test.go skips them; "/" is the dashboard's root).
var dashboardPrefixes = []string{"/login", "/logout", "/board", "/incidents", "/outbox", "/tokens", "/assess", "/triage", "/static/", "/preferences", "/launch"}

// isDashboardPath reports whether a router path belongs to the dashboard.
func isDashboardPath(p string) bool {
	if p == "/" {
		return true
	}
	for _, pre := range dashboardPrefixes {
		if p == pre || strings.HasPrefix(p, strings.TrimSuffix(pre, "/")+"/") {
			return true
		}
	}
	return false
}

// dash serves the server-rendered dashboard. Every action goes through
// sendUpdate, so the workflow's validators judge it as they judge REST.
type dash struct {
	*Server
	pages *zonePages
}

// contentSecurityPolicy allows only our own scripts and styles: no inline
// script, no third-party origin, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// dashboard mounts the dashboard's pages on r.
func (s *Server) dashboard(r *gin.Engine) {
	d := &dash{Server: s, pages: &zonePages{byTZ: map[string]map[string]*template.Template{}, parse: parsePages}}
	static, _ := fs.Sub(web.Static, "static")
	handle(&r.RouterGroup, d.gate, "GET", "/static/*filepath", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.FileFromFS(c.Param("filepath"), http.FS(static))
	})
	pg := r.Group("/", d.headers, d.formLimit)
	handle(pg, d.gate, "GET", "/login", d.loginPage)
	handle(pg, d.gate, "POST", "/login", d.login)

	// Every page is mounted behind its rule in RouteRules (api/authz.go).
	in := pg.Group("/", d.dashSession)
	page := func(method, path string, h ...gin.HandlerFunc) { handle(in, d.gate, method, path, h...) }
	page("GET", "/", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/board") })
	page("POST", "/logout", d.checkCSRF, d.logout)
	page("GET", "/board", d.board)
	page("GET", "/incidents", d.incidents)
	page("GET", "/incidents/:id", d.incident)
	page("GET", "/incidents/:id/obligations/:ob/report", d.report)
	page("GET", "/assess", d.assessPage)
	page("POST", "/assess", d.checkCSRF, d.assess)
	page("POST", "/assess/launch", d.checkCSRF, d.assessLaunch)
	act := in.Group("/incidents/:id", d.checkCSRF)
	post := func(path string, h gin.HandlerFunc) { handle(act, d.gate, "POST", path, h) }
	post("/steps/:step/complete", d.completeStep)
	post("/steps/:step/decide", d.decide)
	post("/obligations/:ob/file", d.file)
	post("/obligations/:ob/waive", d.waive)
	post("/remediations", d.addRemediation)
	post("/remediations/:rid/done", d.remediationDone)
	post("/close", d.close)
	post("/grants/:gid/approve", d.approveGrant)
	page("GET", "/launch", d.launchPage)
	page("POST", "/launch", d.checkCSRF, d.launchPost)
	page("POST", "/incidents/:id/facts/preview", d.checkCSRF, d.factsPreview)
	post("/facts", d.factsSave)
	page("POST", "/incidents/:id/subjects", d.uploadSubjects) // multipart: its own CSRF check (dashboard_customers.go)
	if s.outbox != nil {
		page("GET", "/outbox", d.outboxPage)
	}
	page("GET", "/tokens", d.tokensPage)
	page("POST", "/tokens/:tid/revoke", d.checkCSRF, d.revokeTokenForm)
	page("POST", "/tokens/calendar/:tid/revoke", d.checkCSRF, d.revokeCalendarTokenForm)
	page("POST", "/tokens", d.checkCSRF, d.createTokenForm)
	page("POST", "/preferences/zone", d.checkCSRF, d.setZone)
	page("GET", "/incidents/:id/notices", d.noticesPage)
	page("GET", "/incidents/:id/notices/preview/:locale", d.noticePreviewDoc)
	post("/notices/texts/:locale", d.setNoticeTexts)
	post("/notices/send", d.sendNoticesForm)
	post("/notices/retry", d.retryNoticesForm)
	page("GET", "/incidents/:id/outreach", d.outreachPage)
	post("/outreach/:task/done", d.outreachDoneForm)
	post("/grants", d.requestGrantForm)
	page("POST", remedyUploadRoute, d.uploadRemedyCodes) // multipart: its own CSRF check (dashboard_customers.go)
	page("GET", "/incidents/:id/letters", d.lettersPage)
	post("/letters", d.generateLettersForm)
	page("GET", "/incidents/:id/letters/:batch/letters.pdf", d.letterPDFDownload)
	page("GET", "/incidents/:id/letters/:batch/manifest.csv", d.letterManifestDownload)
	post("/letters/:batch/printed", d.letterPrintedForm)
	post("/letters/returns", d.letterReturnedForm)
	post("/substitute-notice", d.substituteForm)
	page("GET", "/incidents/:id/substitute-notice", d.substitutePage)
	page("GET", "/incidents/:id/members", d.membersPage)
	post("/members", d.addMemberForm)
	post("/members/:principal/remove", d.removeMemberForm)
	if s.alerts != nil {
		page("GET", "/triage", d.triage)
		page("POST", "/triage/:aid/launch", d.checkCSRF, d.triageLaunch)
		page("POST", "/triage/:aid/attach", d.checkCSRF, d.triageAttach)
		page("POST", "/triage/:aid/dismiss", d.checkCSRF, d.triageDismiss)
	}
}

func parsePages(loc *time.Location) map[string]*template.Template {
	funcs := template.FuncMap{
		"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"idem":      randomToken,
		"join":      strings.Join,
		"remaining": fmtRemaining,
		"pct":       func(a, b int) int { return percent(a, b) },
		"has":       func(list []string, v string) bool { return slices.Contains(list, v) },
		"label":     func(name string) string { return strings.ReplaceAll(name, "_", " ") },
		"orNone":    orNone,
		"upload":    func(id, csrf string) map[string]string { return map[string]string{"ID": id, "CSRF": csrf} },
	}
	maps.Copy(funcs, zoneFuncs(loc))
	out := map[string]*template.Template{}
	for _, name := range []string{"login", "board", "incidents", "incident", "outbox", "tokens", "assess", "triage", "error", "notices", "outreach", "members", "launch", "facts", "subjects",
		"remedy", "letters", "substitute"} {
		out[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(web.Templates,
			"templates/layout.html", "templates/factinputs.html", "templates/pool.html", "templates/"+name+".html"))
	}
	return out
}

// headers marks pages as uncacheable HTML under a strict CSP.
func (d *dash) headers(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// pageData is what every page's layout reads.
type pageData struct {
	Title  string
	Nav    string
	User   *store.Token
	CSRF   string
	Flash  *flash
	Outbox bool
	Triage bool // alert intake is on: the nav links the triage queue
	Now    time.Time
	Page   any
	// Zone is the viewer's time zone and the header form's choices.
	Zone zoneView
	// Path is the page's own path, where the zone form comes back to.
	Path string
}

// Can reports whether the signed-in role satisfies role.
func (p pageData) Can(role string) bool {
	return p.User != nil && breach.RoleSatisfies(p.User.Role, role)
}

// Owns reports whether the signed-in role may act on a step owned by owner.
func (p pageData) Owns(owner string) bool {
	return p.User != nil && p.User.Role != breach.RoleViewer && breach.RoleSatisfies(p.User.Role, owner)
}

func (d *dash) render(c *gin.Context, status int, name, title, nav string, page any) {
	loc := ViewerZone(c)
	data := pageData{Title: title, Nav: nav, Outbox: d.outbox != nil, Triage: d.alerts != nil, Now: d.now().UTC(), Page: page, Flash: d.takeFlash(c),
		Zone: newZoneView(loc), Path: localPath(c.Request.URL.RequestURI(), "/board")}
	if v, ok := c.Get(tokenKey); ok {
		tok := v.(store.Token)
		data.User = &tok
		data.CSRF = c.GetString(csrfKey)
	}
	var buf bytes.Buffer
	if err := d.pages.get(loc)[name].Execute(&buf, data); err != nil {
		d.log.Error("render page", "page", name, "error", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error; it has been logged"))
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

type errorView struct {
	Status  int
	Heading string
	Message string
}

// errorPage answers with a page that says what went wrong; nothing changed.
func (d *dash) errorPage(c *gin.Context, status int, heading, msg string) {
	c.Abort()
	d.render(c, status, "error", heading, "", errorView{Status: status, Heading: heading, Message: msg})
}

func (d *dash) internalPage(c *gin.Context, op string, err error) {
	d.log.Error(op, "route", c.FullPath(), "error", err)
	d.errorPage(c, http.StatusInternalServerError, "Something went wrong", "An internal error occurred; it has been logged. Nothing was changed.")
}

// --- sign in / out ---

type loginView struct {
	Next    string
	Error   string
	NoKeys  bool
	LoginID string
}

func (d *dash) loginPage(c *gin.Context) {
	if _, _, err := d.readSession(c); err == nil {
		c.Redirect(http.StatusSeeOther, localPath(c.Query("next"), "/board"))
		return
	}
	d.showLogin(c, http.StatusOK, "")
}

func (d *dash) showLogin(c *gin.Context, status int, msg string) {
	nonce := randomToken()
	setCookie(c, loginCookie, nonce, 3600)
	d.render(c, status, "login", "Sign in", "", loginView{
		Next: localPath(c.Query("next"), localPath(c.PostForm("next"), "/board")), Error: msg,
		NoKeys: d.keys == nil, LoginID: nonce,
	})
}

func (d *dash) login(c *gin.Context) {
	nonce, _ := c.Cookie(loginCookie)
	if nonce == "" || c.PostForm(csrfField) != nonce {
		d.showLogin(c, http.StatusForbidden, "The sign-in form had expired. Please try again.")
		return
	}
	if d.keys == nil {
		d.showLogin(c, http.StatusServiceUnavailable, "Sign-in is off: the server has no BREACHFLOW_ENCRYPTION_KEYS to seal sessions with.")
		return
	}
	secret := strings.TrimSpace(c.PostForm("token"))
	if secret == "" || len(secret) > 200 {
		d.showLogin(c, http.StatusUnauthorized, "Enter your API token.")
		return
	}
	tok, err := d.store.AuthenticateToken(c.Request.Context(), secret)
	if errors.Is(err, store.ErrNotFound) {
		d.showLogin(c, http.StatusUnauthorized, "That token is unknown, revoked, expired or mistyped.")
		return
	} else if err != nil {
		d.internalPage(c, "dashboard login", err)
		return
	}
	if err := d.startSession(c, tok); err != nil {
		d.internalPage(c, "dashboard session", err)
		return
	}
	setCookie(c, loginCookie, "", -1)
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("next"), "/board"))
}

// logout ends the session on the server, so a copy of the cookie is
// worthless from now on, then clears it in the browser.
func (d *dash) logout(c *gin.Context) {
	if id := c.GetString(sessionIDKey); id != "" {
		if err := d.store.EndSession(c.Request.Context(), id); err != nil {
			d.internalPage(c, "dashboard logout", err)
			return
		}
	}
	setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}

// --- pages ---

type boardView struct {
	Rows   []deadlineView
	Counts map[string]int
	// Jurisdiction filters the board (?jurisdiction=US-CA; a country
	// shows its states too); Jurisdictions are the choices.
	Jurisdiction  string
	Jurisdictions []string
	Error         *FieldError
}

func (d *dash) board(c *gin.Context) {
	rows, err := d.visibleDeadlines(c.Request.Context(), actor(c), store.DeadlineFilter{ActiveOnly: true})
	if err != nil {
		d.internalPage(c, "list deadlines", err)
		return
	}
	now := d.now()
	v := boardView{Counts: map[string]int{}}
	filter, bad := boardJurisdiction(c.Query("jurisdiction"))
	v.Jurisdiction, v.Error = filter, bad
	var all []deadlineView
	for _, r := range rows {
		dv := deadlineView{IncidentID: r.IncidentID, Severity: r.Severity, Obligation: r.ObligationID, Regime: r.Regime,
			Jurisdiction: r.Jurisdiction, Recipient: r.Recipient, RecipientName: r.RecipientName, Deadline: r.Deadline,
			Standard: r.Standard, DueAt: r.DueAt, Status: r.Status, MissingFacts: r.MissingFacts,
			Urgency: urgency(r.DueAt, r.Status, now)}
		all = append(all, dv)
		if !onBoard(filter, dv.Jurisdiction) {
			continue
		}
		v.Counts[dv.Urgency]++
		v.Rows = append(v.Rows, dv)
	}
	v.Jurisdictions = boardOptions(all)
	if filter != "" && !slices.Contains(v.Jurisdictions, filter) {
		v.Jurisdictions = append(v.Jurisdictions, filter)
	}
	status := http.StatusOK
	if bad != nil {
		status = http.StatusBadRequest
	}
	d.render(c, status, "board", "Deadline board", "board", v)
}

type incidentsView struct {
	Rows      []incidentRow
	Filter    incidentQuery
	Errors    []FieldError
	Playbooks []string
	Statuses  []string
	Severity  []string
	Next      string
}

type incidentRow struct {
	IncidentSummary
	Urgency string
}

func (d *dash) incidents(c *gin.Context) {
	q, errs := d.parseIncidentQuery(c.Query)
	v := incidentsView{Filter: q, Errors: errs, Statuses: []string{breach.StatusActive, breach.StatusClosed},
		Severity: breach.Severities}
	for _, p := range d.playbooks.List() {
		v.Playbooks = append(v.Playbooks, p.ID)
	}
	if len(errs) > 0 {
		d.render(c, http.StatusBadRequest, "incidents", "Incidents", "incidents", v)
		return
	}
	items, next, err := d.findIncidents(c.Request.Context(), actor(c), q)
	if err != nil {
		d.internalPage(c, "list incidents", err)
		return
	}
	if len(next) > 0 {
		v.Next = encodePageToken(next)
	}
	now := d.now()
	v.Rows = withUrgency(items, now)
	d.render(c, http.StatusOK, "incidents", "Incidents", "incidents", v)
}

func (d *dash) incident(c *gin.Context) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	id := st.ID
	counts, err := d.store.NoticeCounts(c.Request.Context(), id, "customer")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		d.internalPage(c, "notice counts", err)
		return
	}
	al, err := d.incidentAlerts(c.Request.Context(), id)
	if err != nil {
		d.internalPage(c, "incident alerts", err)
		return
	}
	withAlertTimeline(st, al)
	v := d.incidentView(st, counts, d.now(), viewerZone(c))
	v.Facts = factsSectionOf(st, caller(c).Role, viewerZone(c))
	if who := caller(c); allowed(who.Role, []string{breach.RoleResponder, breach.RoleLegal}) {
		gs, err := d.store.ListGrants(c.Request.Context(), id)
		if err != nil {
			d.internalPage(c, "list grants", err)
			return
		}
		v.ShowGrants = true
		for _, g := range gs {
			v.Grants = append(v.Grants, viewGrant(g, d.now()))
		}
	}
	d.render(c, http.StatusOK, "incident", id+" · "+st.Title, "incidents", v)
}

// approveGrant approves another person's access grant to the customers'
// contacts (two-person control); the requester's own click is refused.
func (d *dash) approveGrant(c *gin.Context) {
	id := c.Param("id")
	gid, err := strconv.ParseInt(c.Param("gid"), 10, 64)
	if !incidentIDPattern.MatchString(id) || err != nil || gid < 1 {
		d.notFound(c, id)
		return
	}
	who := caller(c)
	g, err := d.store.ApproveGrant(c.Request.Context(), id, gid, who.Name, who.Role, d.now())
	switch {
	case err == nil:
		d.announceGrant(c.Request.Context(), id, grantApprovedText(g))
		d.setFlash(c, "ok", fmt.Sprintf("Access grant %d approved.", gid))
	case errors.Is(err, store.ErrSelfApproval):
		d.refuse(c, fmt.Sprintf("You requested access grant %d; it needs a second person's approval.", gid))
		return
	case errors.Is(err, store.ErrConflict):
		d.refuse(c, fmt.Sprintf("Access grant %d is already approved.", gid))
		return
	case errors.Is(err, store.ErrNotFound):
		d.refuse(c, fmt.Sprintf("Incident %s has no access grant %d.", id, gid))
		return
	default:
		d.log.Error("dashboard approve grant", "incident", id, "grant", gid, "error", err)
		d.setFlash(c, "error", "An internal error occurred; it has been logged.")
	}
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back"), "/incidents/"+id))
}

// loadIncident queries the status of the incident in the path, answering
// a page itself when there is none or the query fails.
func (d *dash) loadIncident(c *gin.Context) (*breach.Status, bool) {
	id := c.Param("id")
	if !incidentIDPattern.MatchString(id) {
		d.notFound(c, id)
		return nil, false
	}
	st, err := d.queryStatus(c.Request.Context(), id)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		d.notFound(c, id)
		return nil, false
	}
	if err != nil {
		d.internalPage(c, "query incident", err)
		return nil, false
	}
	return st, true
}

func (d *dash) notFound(c *gin.Context, id string) {
	d.errorPage(c, http.StatusNotFound, "No such incident",
		"There is no incident "+id+". Check the id, or pick one from the incident list.")
}

// report shows the draft regulator report for one obligation.
func (d *dash) report(c *gin.Context) {
	ob := c.Param("ob")
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	id := st.ID
	for _, o := range st.Obligations {
		if o.ID != ob {
			continue
		}
		in, err := d.reportInput(c.Request.Context(), st, o, d.now().UTC())
		if err != nil {
			d.internalPage(c, "count the customers' channels", err)
			return
		}
		rep, err := templates.RenderReport(in)
		if err != nil {
			d.internalPage(c, "render report", err)
			return
		}
		// The report is a standalone document with its own inline style
		// sheet and no script.
		c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'")
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(rep.HTML))
		return
	}
	d.errorPage(c, http.StatusNotFound, "No such obligation", "Incident "+id+" has no obligation "+ob+".")
}

// --- actions: post, then redirect to a page that shows the outcome ---

// act sends one Update and redirects back with a flash message. The form's
// idempotency key is the Update id, so a double submit is applied once.
func (d *dash) act(c *gin.Context, name string, arg any, done string) {
	id := c.Param("id")
	if !incidentIDPattern.MatchString(id) {
		d.notFound(c, id)
		return
	}
	back := localPath(c.PostForm("back"), "/incidents/"+id)
	key := c.PostForm("idem")
	if key == "" || len(key) > 100 {
		key = uuid.NewString()
	}
	_, err := d.sendUpdate(c.Request.Context(), id, name, "dash:"+key, arg)
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		d.setFlash(c, "ok", done)
	case errors.As(err, &nf):
		d.notFound(c, id)
		return
	default:
		r, known := refusal(id, err)
		if !known {
			d.log.Error("dashboard update", "update", name, "incident", id, "error", err)
			d.setFlash(c, "error", "An internal error occurred; it has been logged.")
		} else {
			d.setFlash(c, "error", r.Detail, r.Blockers...)
		}
	}
	c.Redirect(http.StatusSeeOther, back)
}

// refuse redirects back with a message for input the page itself rejects.
func (d *dash) refuse(c *gin.Context, msg string) {
	d.setFlash(c, "error", msg+" Nothing was changed.")
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back"), "/incidents/"+c.Param("id")))
}

func (d *dash) completeStep(c *gin.Context) {
	note := strings.TrimSpace(c.PostForm("note"))
	if len(note) > 4000 {
		d.refuse(c, "The note is limited to 4000 characters.")
		return
	}
	var evidence []string
	for _, e := range strings.FieldsFunc(c.PostForm("evidence"), func(r rune) bool { return r == ',' || r == '\n' }) {
		if e = strings.TrimSpace(e); e != "" {
			evidence = append(evidence, e)
		}
	}
	step := c.Param("step")
	d.act(c, workflows.UpdateCompleteStep, breach.CompleteStep{Actor: actor(c), Step: step, Note: note, Evidence: evidence},
		"Step "+step+" completed.")
}

func (d *dash) decide(c *gin.Context) {
	dec := c.PostForm("decision")
	if dec != "approve" && dec != "reject" {
		d.refuse(c, "Choose approve or reject.")
		return
	}
	step := c.Param("step")
	d.act(c, workflows.UpdateDecide, breach.Decide{Actor: actor(c), Step: step, Decision: dec,
		Reason: strings.TrimSpace(c.PostForm("reason")), Version: c.PostForm("version")}, "Step "+step+": "+dec+"d.")
}

func (d *dash) file(c *gin.Context) {
	ref, note, delay := strings.TrimSpace(c.PostForm("reference")), strings.TrimSpace(c.PostForm("note")), strings.TrimSpace(c.PostForm("delay_reason"))
	if len(ref) > 200 || len(note) > 4000 || len(delay) > 4000 {
		d.refuse(c, "The reference is limited to 200 characters, note and delay reason to 4000.")
		return
	}
	ob := c.Param("ob")
	d.act(c, workflows.UpdateFileObligation, breach.FileObligation{Actor: actor(c), Obligation: ob, FiledAt: d.now().UTC(),
		Reference: ref, Note: note, DelayReason: delay}, "Filing of "+ob+" recorded.")
}

func (d *dash) waive(c *gin.Context) {
	reason := strings.TrimSpace(c.PostForm("reason"))
	if reason == "" || len(reason) > 4000 {
		d.refuse(c, "A waiver needs a reason (up to 4000 characters).")
		return
	}
	ob := c.Param("ob")
	d.act(c, workflows.UpdateWaiveObligation, breach.WaiveObligation{Actor: actor(c), Obligation: ob, Reason: reason},
		"Obligation "+ob+" waived.")
}

func (d *dash) addRemediation(c *gin.Context) {
	title, owner := strings.TrimSpace(c.PostForm("title")), strings.TrimSpace(c.PostForm("owner"))
	if title == "" || len(title) > 200 || len(owner) > 100 {
		d.refuse(c, "A remediation item needs a title (up to 200 characters); the owner is limited to 100.")
		return
	}
	in := breach.AddRemediation{Actor: actor(c), Title: title, Owner: owner}
	if v := c.PostForm("due"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			d.refuse(c, "The due date must be a date such as 2026-12-01.")
			return
		}
		t = t.Add(24*time.Hour - time.Second).UTC() // the end of that day
		in.DueAt = &t
	}
	d.act(c, workflows.UpdateAddRemediation, in, "Remediation item added.")
}

func (d *dash) remediationDone(c *gin.Context) {
	ev := strings.TrimSpace(c.PostForm("evidence"))
	if len(ev) > 4000 {
		d.refuse(c, "The evidence is limited to 4000 characters.")
		return
	}
	d.act(c, workflows.UpdateCompleteRemediation, breach.CompleteRemediation{Actor: actor(c), ID: c.Param("rid"), Evidence: ev},
		"Remediation item done.")
}

func (d *dash) close(c *gin.Context) {
	note := strings.TrimSpace(c.PostForm("note"))
	if len(note) > 4000 {
		d.refuse(c, "The note is limited to 4000 characters.")
		return
	}
	d.act(c, workflows.UpdateClose, breach.CloseIncident{Actor: actor(c), Note: note}, "Incident closed.")
}

// outboxView is the outbox page: the caught mail and, when the dev
// action recorder runs, the containment calls it received.
type outboxView struct {
	Mail      []outboxMessage
	Recording bool
	Actions   []actionrecorder.Call
}

func (d *dash) outboxPage(c *gin.Context) {
	v := outboxView{Mail: outboxMessages(d.outbox.Messages())}
	if d.actions != nil {
		v.Recording, v.Actions = true, d.actions.Calls()
	}
	d.render(c, http.StatusOK, "outbox", "Outbox", "outbox", v)
}
