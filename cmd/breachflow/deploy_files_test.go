package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/config"
	"gopkg.in/yaml.v3"
)

// TestDeployFilesNameRequiredVariables: every variable server or a worker
// refuses to start without (internal/config's own table, config.Required)
// is set for the compose file's server and worker services, named in
// deploy/env.example (set or as a commented line) and in docs/deploy.md.
func TestDeployFilesNameRequiredVariables(t *testing.T) {
	root := filepath.Join("..", "..")
	required := map[string][]string{
		"server": config.Required(config.NeedServer),
		"worker": config.Required(config.NeedIncidents, config.NeedNotices), // compose's worker serves all queues
	}
	if len(required["server"]) < 5 || len(required["worker"]) < 5 {
		t.Fatalf("config.Required = %v: the table lost its requirements", required)
	}

	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for service, vars := range required {
		env := compose.Services[service].Environment
		for _, v := range vars {
			val, ok := env[v]
			if !ok || val == "" {
				t.Errorf("docker-compose.yml: service %s does not set %s (%s refuses to start without it)", service, v, service)
			}
			// A value from .env must be required there too, not default to empty.
			if strings.Contains(val, "${") && !strings.Contains(val, ":?") {
				t.Errorf("docker-compose.yml: %s of %s is %q; use ${%s:?…} so compose refuses to start without it", v, service, val, v)
			}
		}
	}

	example, err := os.ReadFile(filepath.Join(root, "deploy", "env.example"))
	if err != nil {
		t.Fatal(err)
	}
	deploy, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range append(required["server"], required["worker"]...) {
		if !regexp.MustCompile(`(?m)^#?` + v + `=`).Match(example) {
			t.Errorf("deploy/env.example does not name %s (a line %s=… or #%s=…)", v, v, v)
		}
		if !strings.Contains(string(deploy), "`"+v+"`") {
			t.Errorf("docs/deploy.md does not name `%s`", v)
		}
	}
}
