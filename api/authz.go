package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// RouteScope is what a route does to the incident named in its path.
type RouteScope int

// Scopes, from the least to the most an incident is touched.
const (
	// ScopePublic routes have no caller to judge: health, metrics, sign-in,
	// static assets, and the dev codec (which has its own origin check).
	ScopePublic RouteScope = iota
	// ScopeSigned routes authenticate their caller themselves: Slack's are
	// signed by Slack, and each command and button they carry has its own
	// rule ("slack …" below); an alert source's carry its token.
	ScopeSigned
	// ScopeGlobal routes name no incident; the role decides. Those that list
	// incidents leave out what the caller may not see (Server.hidden).
	ScopeGlobal
	// ScopeRead routes read the incident in the path.
	ScopeRead
	// ScopeAct routes change the incident through an Update; the workflow's
	// validator judges the action again.
	ScopeAct
	// ScopeWrite routes write the store directly (subjects, notice retries,
	// outreach calls); besides the store's status, the workflow is asked
	// whether the incident is closed, so nothing lands on a closing one.
	ScopeWrite
	// ScopeKeep routes record something about the incident that must stay
	// possible after it closes (a legal hold, say): the role and
	// membership decide, a close does not.
	ScopeKeep
)

// RouteRule says who may use a route: any of Roles (ignored for ScopePublic and
// ScopeSigned), and what the route does to its incident.
type RouteRule struct {
	Roles []string
	Scope RouteScope
}

func ruleOf(s RouteScope, roles ...string) RouteRule { return RouteRule{Roles: roles, Scope: s} }

// RouteRules is the one authorization table: every route of the router, keyed
// "METHOD /path" as Gin writes the path, and every Slack command and
// button, keyed "slack …". Routes are registered through Server.handle,
// which refuses (panics at start) a route missing here, and
// TestEveryRouteHasARule walks the router for any route registered
// around it. Adding a route is one line here plus s.handle(…) where it is
// mounted.
var RouteRules = map[string]RouteRule{
	// Outside /v1.
	"GET /healthz":           ruleOf(ScopePublic),
	"GET /readyz":            ruleOf(ScopePublic),
	"GET /metrics":           ruleOf(ScopePublic),
	"GET /static/*filepath":  ruleOf(ScopePublic),
	"POST /dev/codec/:op":    ruleOf(ScopePublic), // dev only, CORS-bound to the embedded UI
	"OPTIONS /dev/codec/:op": ruleOf(ScopePublic),
	"POST /codec/encode":     ruleOf(ScopeGlobal, breach.RoleAdmin),
	"POST /codec/decode":     ruleOf(ScopeGlobal, breach.RoleAdmin),
	"GET /dev/outbox":        ruleOf(ScopeGlobal, breach.RoleResponder, breach.RoleLegal),
	"GET /dev/actions":       ruleOf(ScopeGlobal, breach.RoleResponder, breach.RoleLegal),

	// REST API.
	"POST /v1/incidents":                            ruleOf(ScopeGlobal, breach.RoleResponder),
	"GET /v1/incidents":                             ruleOf(ScopeGlobal, breach.RoleViewer),
	"GET /v1/incidents/:id":                         ruleOf(ScopeRead, breach.RoleViewer),
	"PATCH /v1/incidents/:id":                       ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/steps/:step/complete":   ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal), // the step's owner: the workflow knows the playbook
	"POST /v1/incidents/:id/steps/:step/decide":     ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/remediations":           ruleOf(ScopeAct, breach.RoleResponder),
	"POST /v1/incidents/:id/remediations/:rid/done": ruleOf(ScopeAct, breach.RoleResponder),
	"POST /v1/incidents/:id/obligations/:ob/file":   ruleOf(ScopeAct, breach.RoleLegal),
	"POST /v1/incidents/:id/obligations/:ob/waive":  ruleOf(ScopeAct, breach.RoleLegal),
	"POST /v1/incidents/:id/close":                  ruleOf(ScopeAct, breach.RoleResponder),
	"GET /v1/incidents/:id/audit":                   ruleOf(ScopeRead, breach.RoleViewer),
	"GET /v1/deadlines":                             ruleOf(ScopeGlobal, breach.RoleViewer),
	"GET /v1/deadlines.ics":                         ruleOf(ScopeGlobal, breach.RoleViewer), // as the calendar token's owner
	"POST /v1/calendar-tokens":                      ruleOf(ScopeGlobal, breach.RoleViewer),
	"GET /v1/calendar-tokens":                       ruleOf(ScopeGlobal, breach.RoleViewer), // the caller's own; an admin's, all
	"POST /v1/calendar-tokens/:cid/revoke":          ruleOf(ScopeGlobal, breach.RoleViewer), // the caller's own; an admin, any
	"GET /v1/tokens":                                ruleOf(ScopeGlobal, breach.RoleAdmin),
	"POST /v1/tokens":                               ruleOf(ScopeGlobal, breach.RoleAdmin),
	"POST /v1/tokens/:tid/revoke":                   ruleOf(ScopeGlobal, breach.RoleAdmin),
	"GET /v1/incidents/:id/obligations/:ob/report":  ruleOf(ScopeRead, breach.RoleLegal),
	"POST /v1/incidents/:id/subjects":               ruleOf(ScopeWrite, breach.RoleResponder),
	"GET /v1/incidents/:id/notices/preview":         ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"PUT /v1/incidents/:id/notices/texts/:locale":   ruleOf(ScopeAct, breach.RoleLegal),
	"GET /v1/incidents/:id/notices":                 ruleOf(ScopeRead, breach.RoleViewer),
	"GET /v1/incidents/:id/notices/report":          ruleOf(ScopeRead, breach.RoleViewer),
	"POST /v1/incidents/:id/notices/send":           ruleOf(ScopeAct, breach.RoleResponder),
	"POST /v1/incidents/:id/notices/retry":          ruleOf(ScopeWrite, breach.RoleResponder),
	"GET /v1/incidents/:id/outreach":                ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/outreach/:task/done":    ruleOf(ScopeWrite, breach.RoleResponder),
	"POST /v1/incidents/:id/grants":                 ruleOf(ScopeWrite, breach.RoleResponder, breach.RoleLegal),
	"GET /v1/incidents/:id/grants":                  ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/grants/:gid/approve":    ruleOf(ScopeWrite, breach.RoleLegal), // not the requester: the store refuses
	"GET /v1/incidents/:id/members":                 ruleOf(ScopeRead, breach.RoleViewer),
	"PUT /v1/incidents/:id/members/:principal":      ruleOf(ScopeAct, breach.RoleAdmin),
	"DELETE /v1/incidents/:id/members/:principal":   ruleOf(ScopeAct, breach.RoleAdmin),
	"POST /v1/assessments":                          ruleOf(ScopeGlobal, breach.RoleViewer), // nothing is stored
	"POST /v1/incidents/:id/assessments":            ruleOf(ScopeRead, breach.RoleViewer),   // a what-if: the incident is read, not changed
	"GET /v1/incidents/:id/evidence":                ruleOf(ScopeRead, breach.RoleLegal),
	"GET /v1/evidence-key":                          ruleOf(ScopeGlobal, breach.RoleViewer),
	"GET /v1/incidents/:id/hold":                    ruleOf(ScopeRead, breach.RoleViewer),
	"POST /v1/incidents/:id/hold":                   ruleOf(ScopeKeep, breach.RoleLegal),
	"DELETE /v1/incidents/:id/hold":                 ruleOf(ScopeKeep, breach.RoleLegal),
	"POST /v1/incidents/:id/hold/lift":              ruleOf(ScopeKeep, breach.RoleLegal),
	"DELETE /v1/incidents/:id/subjects":             ruleOf(ScopeKeep, breach.RoleAdmin), // the purge: only once closed, never under hold
	"POST /v1/alerts":                               ruleOf(ScopeSigned),                 // an alert source's own token (and signature): api/alerts.go
	"POST /v1/detect/:format":                       ruleOf(ScopeSigned),
	"GET /v1/alerts":                                ruleOf(ScopeGlobal, breach.RoleResponder, breach.RoleLegal),
	"GET /v1/alerts/:aid":                           ruleOf(ScopeGlobal, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/alerts/:aid/launch":                   ruleOf(ScopeGlobal, breach.RoleResponder),
	"POST /v1/alerts/:aid/attach":                   ruleOf(ScopeGlobal, breach.RoleResponder), // and may act on the incident in the body
	"POST /v1/alerts/:aid/dismiss":                  ruleOf(ScopeGlobal, breach.RoleResponder),
	"POST /v1/incidents/:id/remedy-codes":           ruleOf(ScopeWrite, breach.RoleLegal),
	"GET /v1/incidents/:id/remedy-codes":            ruleOf(ScopeRead, breach.RoleViewer), // counts only, never a code
	"GET /v1/playbooks":                             ruleOf(ScopeGlobal, breach.RoleViewer),
	"GET /v1/playbooks/:id":                         ruleOf(ScopeGlobal, breach.RoleViewer),

	// The customer's notice page has no principal: the unguessable token in
	// its path is the authority and opens that one customer's page only
	// (api/noticepage.go); a wrong or expired one gets the same empty 404.
	"GET /n/:token":      ruleOf(ScopePublic),
	"POST /n/:token/ack": ruleOf(ScopePublic),

	// Letters (docs/letters.md): the PDF and manifest hold names and
	// addresses, so they also need an access grant (contactsGrant).
	"GET /v1/incidents/:id/letters":                     ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/letters":                    ruleOf(ScopeWrite, breach.RoleResponder, breach.RoleLegal),
	"GET /v1/incidents/:id/letters/:batch/letters.pdf":  ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"GET /v1/incidents/:id/letters/:batch/manifest.csv": ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/letters/:batch/printed":     ruleOf(ScopeWrite, breach.RoleLegal),
	"POST /v1/incidents/:id/letters/returns":            ruleOf(ScopeWrite, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/substitute-notice":          ruleOf(ScopeWrite, breach.RoleLegal),
	"GET /v1/incidents/:id/substitute-notice":           ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),

	// Dashboard pages (a session is a token: its name is the principal).
	"GET /login":         ruleOf(ScopePublic),
	"POST /login":        ruleOf(ScopePublic),
	"GET /":              ruleOf(ScopeGlobal, breach.RoleViewer),
	"POST /logout":       ruleOf(ScopeGlobal, breach.RoleViewer),
	"GET /board":         ruleOf(ScopeGlobal, breach.RoleViewer),
	"GET /incidents":     ruleOf(ScopeGlobal, breach.RoleViewer),
	"GET /incidents/:id": ruleOf(ScopeRead, breach.RoleViewer),
	"GET /incidents/:id/obligations/:ob/report":  ruleOf(ScopeRead, breach.RoleLegal),
	"POST /incidents/:id/steps/:step/complete":   ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/steps/:step/decide":     ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/obligations/:ob/file":   ruleOf(ScopeAct, breach.RoleLegal),
	"POST /incidents/:id/obligations/:ob/waive":  ruleOf(ScopeAct, breach.RoleLegal),
	"POST /incidents/:id/remediations":           ruleOf(ScopeAct, breach.RoleResponder),
	"POST /incidents/:id/remediations/:rid/done": ruleOf(ScopeAct, breach.RoleResponder),
	"POST /incidents/:id/close":                  ruleOf(ScopeAct, breach.RoleResponder),
	"POST /incidents/:id/grants/:gid/approve":    ruleOf(ScopeWrite, breach.RoleLegal),
	"GET /outbox":                       ruleOf(ScopeGlobal, breach.RoleResponder, breach.RoleLegal),
	"GET /assess":                       ruleOf(ScopeGlobal, breach.RoleViewer),
	"POST /assess":                      ruleOf(ScopeGlobal, breach.RoleViewer),
	"POST /assess/launch":               ruleOf(ScopeGlobal, breach.RoleResponder),
	"GET /triage":                       ruleOf(ScopeGlobal, breach.RoleResponder, breach.RoleLegal),
	"POST /triage/:aid/launch":          ruleOf(ScopeGlobal, breach.RoleResponder),
	"POST /triage/:aid/attach":          ruleOf(ScopeGlobal, breach.RoleResponder), // and may act on the incident named
	"POST /triage/:aid/dismiss":         ruleOf(ScopeGlobal, breach.RoleResponder),
	"GET /tokens":                       ruleOf(ScopeGlobal, breach.RoleAdmin),
	"POST /tokens/:tid/revoke":          ruleOf(ScopeGlobal, breach.RoleAdmin),
	"POST /tokens/calendar/:tid/revoke": ruleOf(ScopeGlobal, breach.RoleAdmin),
	"GET /launch":                       ruleOf(ScopeGlobal, breach.RoleResponder),
	"POST /launch":                      ruleOf(ScopeGlobal, breach.RoleResponder),
	"POST /incidents/:id/facts/preview": ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal), // a what-if: nothing is changed
	"POST /incidents/:id/facts":         ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal),  // risk: legal (as PATCH)
	"POST /incidents/:id/subjects":      ruleOf(ScopeWrite, breach.RoleResponder),

	// Dashboard: token creation, the viewer's zone, the notice, outreach and members pages.
	"POST /tokens":                                  ruleOf(ScopeGlobal, breach.RoleAdmin),
	"POST /preferences/zone":                        ruleOf(ScopeGlobal, breach.RoleViewer), // the viewer's own display zone: a cookie, nothing stored
	"GET /incidents/:id/notices":                    ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"GET /incidents/:id/notices/preview/:locale":    ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/notices/texts/:locale":     ruleOf(ScopeAct, breach.RoleLegal),
	"POST /incidents/:id/notices/send":              ruleOf(ScopeAct, breach.RoleResponder),
	"POST /incidents/:id/notices/retry":             ruleOf(ScopeWrite, breach.RoleResponder),
	"GET /incidents/:id/outreach":                   ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/outreach/:task/done":       ruleOf(ScopeWrite, breach.RoleResponder),
	"POST /incidents/:id/grants":                    ruleOf(ScopeWrite, breach.RoleResponder, breach.RoleLegal),
	"GET /incidents/:id/members":                    ruleOf(ScopeRead, breach.RoleViewer),
	"POST /incidents/:id/members":                   ruleOf(ScopeAct, breach.RoleAdmin),
	"POST /incidents/:id/members/:principal/remove": ruleOf(ScopeAct, breach.RoleAdmin),

	// Dashboard: the remedy-code pool (on the notice page), the letters
	// page and the substitute notice, with the API's roles; the downloads
	// also need an access grant (checkContactsGrant).
	"POST /incidents/:id/remedy-codes":               ruleOf(ScopeWrite, breach.RoleLegal), // multipart: its own CSRF check
	"GET /incidents/:id/letters":                     ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/letters":                    ruleOf(ScopeWrite, breach.RoleResponder, breach.RoleLegal),
	"GET /incidents/:id/letters/:batch/letters.pdf":  ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"GET /incidents/:id/letters/:batch/manifest.csv": ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/letters/:batch/printed":     ruleOf(ScopeWrite, breach.RoleLegal),
	"POST /incidents/:id/letters/returns":            ruleOf(ScopeWrite, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/substitute-notice":          ruleOf(ScopeWrite, breach.RoleLegal),
	"GET /incidents/:id/substitute-notice":           ruleOf(ScopeRead, breach.RoleResponder, breach.RoleLegal),

	// Slack: the routes, then each command and button they carry.
	"POST /slack/commands":     ruleOf(ScopeSigned),
	"POST /slack/interactions": ruleOf(ScopeSigned),
	"slack help":               ruleOf(ScopeGlobal, breach.RoleViewer),
	"slack declare":            ruleOf(ScopeGlobal, breach.RoleResponder),
	"slack status":             ruleOf(ScopeRead, breach.RoleViewer),
	"slack deadlines":          ruleOf(ScopeGlobal, breach.RoleViewer),
	"slack ack":                ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal), // the step's owner: the workflow judges
	"slack complete":           ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal),
	"slack approve":            ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal),
	"slack alert.launch":       ruleOf(ScopeGlobal, breach.RoleResponder), // the triage card's buttons and forms
	"slack alert.attach":       ruleOf(ScopeGlobal, breach.RoleResponder), // and may act on the incident named
	"slack alert.dismiss":      ruleOf(ScopeGlobal, breach.RoleResponder),
	"slack reject":             ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal),
	"slack facts":              ruleOf(ScopeAct, breach.RoleResponder, breach.RoleLegal), // the facts modal; risk: legal (as PATCH)
}

// ruleFor is the rule of key; a missing rule is a programming error.
func ruleFor(key string) RouteRule {
	r, ok := RouteRules[key]
	if !ok {
		panic("api: no authorization rule for " + key + ": add one to RouteRules in api/authz.go")
	}
	return r
}

// Denial is why may refused: the HTTP status and a message for the caller.
type Denial struct {
	Status int
	Detail string
	// Hidden is set when the incident exists but is restricted and the
	// caller is no member: the refusal looks like "no such incident" so
	// it does not confirm the incident exists. A surface where the caller
	// already knows it exists (a button in the incident's Slack room) may
	// say why instead: NotMember.
	Hidden bool
}

// NotMember is the refusal a caller who already knows of a restricted
// incident is given.
func NotMember(id string) string {
	return "restricted incident " + id + "; you are not a member"
}

func noIncident(id string) *Denial {
	return &Denial{Status: http.StatusNotFound, Detail: "no incident " + id}
}

// may decides whether who may use a route with rule r on incident id ("" for
// a route that names none): the role first (it does not depend on the
// incident, so it tells nothing about it), then, for a restricted
// incident, membership (admins see everything), then that a closed
// incident takes no writes. It reads only the store's incident index
// (and, for ScopeWrite routes, the workflow's status), so it runs before the
// route reads or writes anything. A nil Denial allows.
func (s *Server) may(ctx context.Context, who breach.Actor, r RouteRule, id string) (*Denial, error) {
	if r.Scope == ScopePublic || r.Scope == ScopeSigned {
		return nil, nil
	}
	if !allowed(who.Role, r.Roles) {
		return &Denial{Status: http.StatusForbidden,
			Detail: "role " + who.Role + " may not do this; it needs " + strings.Join(r.Roles, " or ")}, nil
	}
	if r.Scope == ScopeGlobal {
		return nil, nil
	}
	if !incidentIDPattern.MatchString(id) {
		return noIncident(id), nil
	}
	inc, err := s.store.GetIncident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return noIncident(id), nil
	}
	if err != nil {
		return nil, err
	}
	if inc.Restricted && who.Role != breach.RoleAdmin {
		member, err := s.store.IsIncidentMember(ctx, id, who.Name)
		if err != nil {
			return nil, err
		}
		if !member {
			d := noIncident(id)
			d.Hidden = true
			return d, nil
		}
	}
	if r.Scope == ScopeRead || r.Scope == ScopeKeep {
		return nil, nil
	}
	closed := inc.Status == store.StatusClosed
	if !closed && r.Scope == ScopeWrite && s.temporal != nil {
		// The store learns of a close when the workflow ends, which may be
		// minutes after the close was accepted; the workflow knows at once.
		st, err := s.queryStatus(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", id, err)
		}
		closed = st.Status == breach.StatusClosed
	}
	if closed {
		return &Denial{Status: http.StatusConflict, Detail: "incident " + id + " is closed; nothing can change"}, nil
	}
	return nil, nil
}

// principalName is how a member is written: an email lower-cased, as a
// Slack user mapped by email acts (slack.Users.Lookup); token names and
// "slack:<user id>" as given.
func principalName(p string) string {
	if strings.Contains(p, "@") {
		return strings.ToLower(p)
	}
	return p
}

// hidden is the set of incidents who may not see: what lists, boards and
// feeds leave out. Admins see everything.
func (s *Server) hidden(ctx context.Context, who breach.Actor) (map[string]bool, error) {
	if who.Role == breach.RoleAdmin {
		return map[string]bool{}, nil
	}
	return s.store.HiddenIncidents(ctx, who.Name)
}

// handle mounts a route behind its rule in RouteRules and the surface's gate
// (gate turns a rule into the check that answers a refusal the way the
// surface answers: problem+json, a page, a flash).
func handle(g *gin.RouterGroup, gate func(RouteRule) gin.HandlerFunc, method, relative string, h ...gin.HandlerFunc) {
	full := path.Join(g.BasePath(), relative)
	if strings.HasSuffix(relative, "/") && !strings.HasSuffix(full, "/") {
		full += "/"
	}
	r := ruleFor(method + " " + full)
	if r.Scope != ScopePublic && r.Scope != ScopeSigned {
		h = append([]gin.HandlerFunc{gate(r)}, h...)
	}
	g.Handle(method, relative, h...)
}

// gate is the REST API's check: a refusal is a problem document.
func (s *Server) gate(r RouteRule) gin.HandlerFunc {
	return func(c *gin.Context) {
		d, err := s.may(c.Request.Context(), actor(c), r, c.Param("id"))
		if err != nil {
			s.internal(c, "authorize", err)
			return
		}
		if d != nil {
			problem(c, d.Status, d.Detail)
			return
		}
		c.Next()
	}
}
