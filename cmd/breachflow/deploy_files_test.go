package main

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"
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

// TestComposeRunsThePinnedTemporal: docker-compose.yml's Temporal is the
// release go.mod pins (go.temporal.io/server, which deploy/cluster.sh
// builds), its schemas are set up by that release's SQL tool in their own
// databases, it starts with deploy/temporal/config.yaml as cluster.sh
// starts it, and the namespace is registered by `breachflow namespace`.
// The config is rendered here with compose's variables the way
// temporal-server renders it (text/template and sprig).
func TestComposeRunsThePinnedTemporal(t *testing.T) {
	root := filepath.Join("..", "..")
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*go\.temporal\.io/server (v\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod does not require go.temporal.io/server")
	}
	release := strings.TrimPrefix(string(m[1]), "v")

	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	type service struct {
		Image       string            `yaml:"image"`
		Entrypoint  []string          `yaml:"entrypoint"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
	}
	var compose struct {
		Services map[string]service `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	server, schema := compose.Services["temporal"], compose.Services["temporal-schema"]
	if want := "temporalio/server:" + release; server.Image != want {
		t.Errorf("docker-compose.yml: temporal runs %q; go.mod pins go.temporal.io/server %s, so want %q", server.Image, m[1], want)
	}
	if want := "temporalio/admin-tools:" + release; schema.Image != want {
		t.Errorf("docker-compose.yml: temporal-schema runs %q, want %q (the SQL tool of the pinned release)", schema.Image, want)
	}
	script := strings.Join(schema.Command, "\n")
	for _, s := range []string{"temporal-sql-tool", "--plugin postgres12", "setup-schema -v 0.0", "update-schema", "temporal_visibility", "/etc/temporal/schema/postgresql/v12/$$kind/versioned"} {
		if !strings.Contains(script, s) {
			t.Errorf("docker-compose.yml: temporal-schema's script lacks %q", s)
		}
	}

	// The server starts the way cluster.sh starts it, with the same file.
	out, err := exec.Command("bash", filepath.Join(root, "deploy", "cluster.sh"), "describe").Output()
	if err != nil {
		t.Fatalf("cluster.sh describe: %v", err)
	}
	var clusterCmd string
	for _, line := range strings.Split(string(out), "\n") {
		if c, ok := strings.CutPrefix(line, "temporal\t"); ok {
			clusterCmd = c
		}
	}
	if !strings.Contains(clusterCmd, "/deploy/temporal/config.yaml --allow-no-auth start") {
		t.Fatalf("cluster.sh describe: temporal runs %q", clusterCmd)
	}
	mounted := ""
	for _, v := range server.Volumes {
		if path, ok := strings.CutPrefix(v, "./deploy/temporal/config.yaml:"); ok {
			mounted = strings.TrimSuffix(path, ":ro")
		}
	}
	if got := strings.Join(append(slices.Clone(server.Entrypoint), server.Command...), " "); mounted == "" ||
		got != "temporal-server --config-file "+mounted+" --allow-no-auth start" {
		t.Errorf("docker-compose.yml: temporal runs %q with deploy/temporal/config.yaml at %q; want temporal-server --config-file <it> --allow-no-auth start, as cluster.sh", got, mounted)
	}

	// Every variable the config reads is set for the server, and with
	// them it listens where the other containers connect.
	tmpl, err := os.ReadFile(filepath.Join(root, "deploy", "temporal", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range regexp.MustCompile(`env "([A-Z_]+)"`).FindAllStringSubmatch(string(tmpl), -1) {
		if _, ok := server.Environment[v[1]]; !ok {
			t.Errorf("docker-compose.yml: temporal does not set %s, which deploy/temporal/config.yaml reads", v[1])
		}
	}
	for k, v := range server.Environment {
		if strings.Contains(v, "${") {
			v = "from-dot-env"
		}
		t.Setenv(k, v)
	}
	tpl, err := template.New("config.yaml").Funcs(sprig.FuncMap()).Parse(string(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	var rendered strings.Builder
	if err := tpl.Execute(&rendered, nil); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Services map[string]struct {
			RPC struct {
				GRPCPort        int    `yaml:"grpcPort"`
				BindOnIP        string `yaml:"bindOnIP"`
				BindOnLocalHost bool   `yaml:"bindOnLocalHost"`
			} `yaml:"rpc"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(rendered.String()), &cfg); err != nil {
		t.Fatalf("deploy/temporal/config.yaml rendered with compose's variables: %v\n%s", err, rendered.String())
	}
	fe := cfg.Services["frontend"].RPC
	if fe.BindOnIP != "0.0.0.0" || fe.BindOnLocalHost {
		t.Errorf("with compose's variables the frontend binds %+v; the other containers need it on 0.0.0.0", fe)
	}
	addr := compose.Services["server"].Environment["BREACHFLOW_TEMPORAL_ADDRESS"]
	if want := fmt.Sprintf("temporal:%d", fe.GRPCPort); addr != want {
		t.Errorf("breachflow connects to %q; the frontend listens on %s", addr, want)
	}
	if ns := compose.Services["temporal-namespace"].Command; len(ns) == 0 || ns[0] != "namespace" {
		t.Errorf("docker-compose.yml: temporal-namespace runs %q; want `breachflow namespace`, as cluster.sh", ns)
	}
}
