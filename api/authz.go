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

// Scope is what a route does to the incident named in its path.
type Scope int

// Scopes, from the least to the most an incident is touched.
const (
	// Public routes have no caller to judge: health, metrics, sign-in,
	// static assets, and the dev codec (which has its own origin check).
	Public Scope = iota
	// Signed routes are Slack's: the request is signed by Slack, and each
	// command and button it carries has its own rule ("slack …" below).
	Signed
	// Global routes name no incident; the role decides. Those that list
	// incidents leave out what the caller may not see (Server.hidden).
	Global
	// Read routes read the incident in the path.
	Read
	// Act routes change the incident through an Update; the workflow's
	// validator judges the action again.
	Act
	// Write routes write the store directly (subjects, notice retries,
	// outreach calls); besides the store's status, the workflow is asked
	// whether the incident is closed, so nothing lands on a closing one.
	Write
	// Keep routes record something about the incident that must stay
	// possible after it closes (a legal hold, say): the role and
	// membership decide, a close does not.
	Keep
)

// Rule says who may use a route: any of Roles (ignored for Public and
// Signed), and what the route does to its incident.
type Rule struct {
	Roles []string
	Scope Scope
}

func rule(s Scope, roles ...string) Rule { return Rule{Roles: roles, Scope: s} }

// Rules is the one authorization table: every route of the router, keyed
// "METHOD /path" as Gin writes the path, and every Slack command and
// button, keyed "slack …". Routes are registered through Server.handle,
// which refuses (panics at start) a route missing here, and
// TestEveryRouteHasARule walks the router for any route registered
// around it. Adding a route is one line here plus s.handle(…) where it is
// mounted.
var Rules = map[string]Rule{
	// Outside /v1.
	"GET /healthz":           rule(Public),
	"GET /readyz":            rule(Public),
	"GET /metrics":           rule(Public),
	"GET /static/*filepath":  rule(Public),
	"POST /dev/codec/:op":    rule(Public), // dev only, CORS-bound to the embedded UI
	"OPTIONS /dev/codec/:op": rule(Public),
	"POST /codec/encode":     rule(Global, breach.RoleAdmin),
	"POST /codec/decode":     rule(Global, breach.RoleAdmin),
	"GET /dev/outbox":        rule(Global, breach.RoleResponder, breach.RoleLegal),
	"GET /dev/actions":       rule(Global, breach.RoleResponder, breach.RoleLegal),

	// REST API.
	"POST /v1/incidents":                            rule(Global, breach.RoleResponder),
	"GET /v1/incidents":                             rule(Global, breach.RoleViewer),
	"GET /v1/incidents/:id":                         rule(Read, breach.RoleViewer),
	"PATCH /v1/incidents/:id":                       rule(Act, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/steps/:step/complete":   rule(Act, breach.RoleResponder, breach.RoleLegal), // the step's owner: the workflow knows the playbook
	"POST /v1/incidents/:id/steps/:step/decide":     rule(Act, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/remediations":           rule(Act, breach.RoleResponder),
	"POST /v1/incidents/:id/remediations/:rid/done": rule(Act, breach.RoleResponder),
	"POST /v1/incidents/:id/obligations/:ob/file":   rule(Act, breach.RoleLegal),
	"POST /v1/incidents/:id/obligations/:ob/waive":  rule(Act, breach.RoleLegal),
	"POST /v1/incidents/:id/close":                  rule(Act, breach.RoleResponder),
	"GET /v1/incidents/:id/audit":                   rule(Read, breach.RoleViewer),
	"GET /v1/deadlines":                             rule(Global, breach.RoleViewer),
	"GET /v1/deadlines.ics":                         rule(Global, breach.RoleViewer), // as the calendar token's owner
	"POST /v1/calendar-tokens":                      rule(Global, breach.RoleViewer),
	"GET /v1/incidents/:id/obligations/:ob/report":  rule(Read, breach.RoleLegal),
	"POST /v1/incidents/:id/subjects":               rule(Write, breach.RoleResponder),
	"GET /v1/incidents/:id/notices/preview":         rule(Read, breach.RoleResponder, breach.RoleLegal),
	"PUT /v1/incidents/:id/notices/texts/:locale":   rule(Act, breach.RoleLegal),
	"GET /v1/incidents/:id/notices":                 rule(Read, breach.RoleViewer),
	"GET /v1/incidents/:id/notices/report":          rule(Read, breach.RoleViewer),
	"POST /v1/incidents/:id/notices/send":           rule(Act, breach.RoleResponder),
	"POST /v1/incidents/:id/notices/retry":          rule(Write, breach.RoleResponder),
	"GET /v1/incidents/:id/outreach":                rule(Read, breach.RoleResponder, breach.RoleLegal),
	"POST /v1/incidents/:id/outreach/:task/done":    rule(Write, breach.RoleResponder),
	"GET /v1/incidents/:id/members":                 rule(Read, breach.RoleViewer),
	"PUT /v1/incidents/:id/members/:principal":      rule(Act, breach.RoleAdmin),
	"DELETE /v1/incidents/:id/members/:principal":   rule(Act, breach.RoleAdmin),
	"GET /v1/playbooks":                             rule(Global, breach.RoleViewer),
	"GET /v1/playbooks/:id":                         rule(Global, breach.RoleViewer),

	// Dashboard pages (a session is a token: its name is the principal).
	"GET /login":         rule(Public),
	"POST /login":        rule(Public),
	"GET /":              rule(Global, breach.RoleViewer),
	"POST /logout":       rule(Global, breach.RoleViewer),
	"GET /board":         rule(Global, breach.RoleViewer),
	"GET /incidents":     rule(Global, breach.RoleViewer),
	"GET /incidents/:id": rule(Read, breach.RoleViewer),
	"GET /incidents/:id/obligations/:ob/report":  rule(Read, breach.RoleLegal),
	"POST /incidents/:id/steps/:step/complete":   rule(Act, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/steps/:step/decide":     rule(Act, breach.RoleResponder, breach.RoleLegal),
	"POST /incidents/:id/obligations/:ob/file":   rule(Act, breach.RoleLegal),
	"POST /incidents/:id/obligations/:ob/waive":  rule(Act, breach.RoleLegal),
	"POST /incidents/:id/remediations":           rule(Act, breach.RoleResponder),
	"POST /incidents/:id/remediations/:rid/done": rule(Act, breach.RoleResponder),
	"POST /incidents/:id/close":                  rule(Act, breach.RoleResponder),
	"GET /outbox":                                rule(Global, breach.RoleResponder, breach.RoleLegal),

	// Slack: the routes, then each command and button they carry.
	"POST /slack/commands":     rule(Signed),
	"POST /slack/interactions": rule(Signed),
	"slack help":               rule(Global, breach.RoleViewer),
	"slack declare":            rule(Global, breach.RoleResponder),
	"slack status":             rule(Read, breach.RoleViewer),
	"slack deadlines":          rule(Global, breach.RoleViewer),
	"slack ack":                rule(Act, breach.RoleResponder, breach.RoleLegal), // the step's owner: the workflow judges
	"slack complete":           rule(Act, breach.RoleResponder, breach.RoleLegal),
	"slack approve":            rule(Act, breach.RoleResponder, breach.RoleLegal),
	"slack reject":             rule(Act, breach.RoleResponder, breach.RoleLegal),
}

// ruleFor is the rule of key; a missing rule is a programming error.
func ruleFor(key string) Rule {
	r, ok := Rules[key]
	if !ok {
		panic("api: no authorization rule for " + key + ": add one to Rules in api/authz.go")
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
// (and, for Write routes, the workflow's status), so it runs before the
// route reads or writes anything. A nil Denial allows.
func (s *Server) may(ctx context.Context, who breach.Actor, r Rule, id string) (*Denial, error) {
	if r.Scope == Public || r.Scope == Signed {
		return nil, nil
	}
	if !allowed(who.Role, r.Roles) {
		return &Denial{Status: http.StatusForbidden,
			Detail: "role " + who.Role + " may not do this; it needs " + strings.Join(r.Roles, " or ")}, nil
	}
	if r.Scope == Global {
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
	if r.Scope == Read || r.Scope == Keep {
		return nil, nil
	}
	closed := inc.Status == store.StatusClosed
	if !closed && r.Scope == Write && s.temporal != nil {
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

// hidden is the set of incidents who may not see: what lists, boards and
// feeds leave out. Admins see everything.
func (s *Server) hidden(ctx context.Context, who breach.Actor) (map[string]bool, error) {
	if who.Role == breach.RoleAdmin {
		return map[string]bool{}, nil
	}
	return s.store.HiddenIncidents(ctx, who.Name)
}

// handle mounts a route behind its rule in Rules and the surface's gate
// (gate turns a rule into the check that answers a refusal the way the
// surface answers: problem+json, a page, a flash).
func handle(g *gin.RouterGroup, gate func(Rule) gin.HandlerFunc, method, relative string, h ...gin.HandlerFunc) {
	full := path.Join(g.BasePath(), relative)
	if strings.HasSuffix(relative, "/") && !strings.HasSuffix(full, "/") {
		full += "/"
	}
	r := ruleFor(method + " " + full)
	if r.Scope != Public && r.Scope != Signed {
		h = append([]gin.HandlerFunc{gate(r)}, h...)
	}
	g.Handle(method, relative, h...)
}

// gate is the REST API's check: a refusal is a problem document.
func (s *Server) gate(r Rule) gin.HandlerFunc {
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
