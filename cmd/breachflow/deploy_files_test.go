package main

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/config"
	"gopkg.in/yaml.v3"
)

// TestDeployFilesNameRequiredVariables: every variable server or a worker
// refuses to start without (internal/config's own table, config.Required)
// is set for the compose file's server and worker services (each worker
// for its queue), named in
// deploy/env.example (set or as a commented line) and in docs/deploy.md.
func TestDeployFilesNameRequiredVariables(t *testing.T) {
	root := filepath.Join("..", "..")
	required := map[string][]string{
		"server":           config.Required(config.NeedServer),
		"worker-incidents": config.Required(config.NeedIncidents),
		"worker-notices":   config.Required(config.NeedNotices),
	}
	if len(required["server"]) < 5 || len(required["worker-incidents"]) < 5 || len(required["worker-notices"]) < 5 {
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
	for _, v := range append(append(required["server"], required["worker-incidents"]...), required["worker-notices"]...) {
		if !regexp.MustCompile(`(?m)^#?` + v + `=`).Match(example) {
			t.Errorf("deploy/env.example does not name %s (a line %s=… or #%s=…)", v, v, v)
		}
		if !strings.Contains(string(deploy), "`"+v+"`") {
			t.Errorf("docs/deploy.md does not name `%s`", v)
		}
	}
}

// TestComposeMatchesCluster: docker-compose.yml runs the breachflow
// processes deploy/cluster.sh runs (the topology TestCluster tests): the
// same commands, workers on the same queues, as many notices workers.
func TestComposeMatchesCluster(t *testing.T) {
	root := filepath.Join("..", "..")
	out, err := exec.Command("bash", filepath.Join(root, "deploy", "cluster.sh"), "describe").Output()
	if err != nil {
		t.Fatalf("cluster.sh describe: %v", err)
	}
	// What the script runs: "server", "worker incidents", "worker notices" …
	want := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		_, command, _ := strings.Cut(line, "\t")
		f := strings.Fields(command)
		var sub, queue string
		for i, w := range f {
			if strings.HasSuffix(w, "/breachflow") && i+1 < len(f) {
				sub = f[i+1]
			}
			if q, ok := strings.CutPrefix(w, "BREACHFLOW_WORKER_QUEUES="); ok {
				queue = q
			}
		}
		if sub == "server" || sub == "worker" {
			want[strings.TrimSpace(sub+" "+queue)]++
		}
	}
	if want["server"] != 1 || want["worker incidents"] != 1 || want["worker notices"] < 2 {
		t.Fatalf("cluster.sh describe = %q: want a server, an incidents worker and at least two notices workers", out)
	}

	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Deploy      struct {
				Replicas int `yaml:"replicas"`
			} `yaml:"deploy"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	got := map[string]int{}
	for _, svc := range compose.Services {
		if len(svc.Command) != 1 || (svc.Command[0] != "server" && svc.Command[0] != "worker") {
			continue
		}
		replicas := max(svc.Deploy.Replicas, 1)
		got[strings.TrimSpace(svc.Command[0]+" "+svc.Environment["BREACHFLOW_WORKER_QUEUES"])] += replicas
	}
	if !maps.Equal(got, want) {
		t.Errorf("docker-compose.yml runs %v; deploy/cluster.sh runs %v", got, want)
	}
}
