package api

import (
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/actionrecorder"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRouter keeps docs/openapi.yaml and the router in step:
// every route is documented and every documented route exists.
func TestOpenAPIMatchesRouter(t *testing.T) {
	raw, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range spec.Paths {
		for method := range ops {
			switch strings.ToUpper(method) {
			case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	// Every optional part switched on, so every route is registered.
	s := New(Deps{Outbox: outboxStub{}, Actions: actionsStub{}, Codec: http.NotFoundHandler(), DevCodecOrigin: "http://127.0.0.1:8233",
		Alerts: &AlertDeps{Sources: &alerts.Sources{}, Rules: &alerts.Rules{}}})
	param := regexp.MustCompile(`:([A-Za-z]+)`)
	routed := map[string]bool{}
	for _, r := range s.Routes() {
		if r.Method == http.MethodOptions {
			continue // CORS preflight of the dev codec; not part of the API
		}
		if isDashboardPath(r.Path) {
			continue // the web dashboard's HTML pages and assets (dashboardPrefixes); not API
		}
		routed[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var missing, extra []string
	for k := range routed {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !routed[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from docs/openapi.yaml: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("docs/openapi.yaml documents routes the router lacks: %v", extra)
	}
	if len(routed) < 15 {
		t.Fatalf("only %d routes registered; the router did not build", len(routed))
	}
}

type outboxStub struct{}

func (outboxStub) Messages() []mailcatcher.Message { return nil }

type actionsStub struct{}

func (actionsStub) Calls() []actionrecorder.Call { return nil }
