package api

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store/sqlite"
	"github.com/gin-gonic/gin"
)

// fullServer is the router with every optional part on (dev outbox and
// action log, the codec for the UI and its dev origin, Slack), so every
// route it can ever mount is mounted.
func fullServer(t *testing.T) *Server {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/app.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cat, err := playbooks.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := codec.NewKey("k1")
	keys, _ := codec.ParseKeys(key)
	return New(Deps{Store: st, Playbooks: cat, Keys: keys, Outbox: outboxStub{}, Actions: actionsStub{},
		Codec: http.NotFoundHandler(), DevCodecOrigin: "http://127.0.0.1:8233",
		Slack:  &Slack{SigningSecret: testSecret, Users: slack.Users{}},
		Alerts: &AlertDeps{Sources: &alerts.Sources{}, Rules: &alerts.Rules{}}})
}

// TestEveryRouteHasARule walks the router's route table (API, dashboard,
// Slack, dev): a route without a rule in RouteRules fails here, as does a rule
// for a route that no longer exists.
func TestEveryRouteHasARule(t *testing.T) {
	s := fullServer(t)
	mounted := map[string]bool{}
	for _, r := range s.Routes() {
		key := r.Method + " " + r.Path
		mounted[key] = true
		if _, ok := RouteRules[key]; !ok {
			t.Errorf("route %s has no authorization rule: add it to RouteRules in api/authz.go and mount it with handle", key)
		}
	}
	for key := range RouteRules {
		if strings.HasPrefix(key, "slack ") {
			continue
		}
		if !mounted[key] {
			t.Errorf("RouteRules has %q, which the router does not mount", key)
		}
	}
}

// TestEverySlackCommandHasARule: every /breach subcommand the help names
// and every button Slack cards carry has a rule.
func TestEverySlackCommandHasARule(t *testing.T) {
	for _, m := range regexp.MustCompile("`/breach ([a-z]+)").FindAllStringSubmatch(slackHelp, -1) {
		if _, ok := RouteRules["slack "+m[1]]; !ok {
			t.Errorf("/breach %s has no rule \"slack %s\"", m[1], m[1])
		}
	}
	for _, button := range []string{slack.ActionAcknowledge, slack.ActionComplete, slack.ActionApprove, slack.ActionReject,
		slack.ActionAlertLaunch, slack.ActionAlertAttach, slack.ActionAlertDismiss} {
		name := strings.TrimPrefix(button, "breachflow.")
		if _, ok := RouteRules["slack "+name]; !ok {
			t.Errorf("button %s has no rule \"slack %s\"", button, name)
		}
	}
}

// TestHandleRefusesARouteWithoutARule: mounting a route that is not in
// RouteRules stops the server from starting, naming the route.
func TestHandleRefusesARouteWithoutARule(t *testing.T) {
	s := fullServer(t)
	defer func() {
		v := recover()
		if msg, _ := v.(string); !strings.Contains(msg, "GET /v1/not-in-the-table") {
			t.Fatalf("panic %v, want one naming the route", v)
		}
	}()
	g := s.router.Group("/v1")
	handle(g, s.gate, "GET", "/not-in-the-table", func(*gin.Context) {})
}

// TestRuleScopesMatchPaths: a rule that reads or writes an incident is on
// a path that names one, and a path that names one has such a rule (or
// is Slack's, which names it in the payload), so no per-incident route
// can pass as global.
func TestRuleScopesMatchPaths(t *testing.T) {
	for key, r := range RouteRules {
		if strings.HasPrefix(key, "slack ") {
			continue
		}
		names := strings.Contains(key, "/:id") && !strings.HasPrefix(key, "GET /v1/playbooks/")
		perIncident := slices.Contains([]RouteScope{ScopeRead, ScopeAct, ScopeWrite, ScopeKeep}, r.Scope)
		if names != perIncident {
			t.Errorf("%s: scope %d, but the path names an incident: %v", key, r.Scope, names)
		}
		if r.Scope != ScopePublic && r.Scope != ScopeSigned && len(r.Roles) == 0 {
			t.Errorf("%s: no roles", key)
		}
	}
}
