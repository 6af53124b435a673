package config

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	loader := Flags(fs, func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loader()
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.DevTemporalPort != 7233 || c.DevUIPort != 8233 ||
		c.TemporalNamespace != "default" || c.SMTPTLS != "none" || c.DataDir != "./data" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestWorkerStopTimeout(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want time.Duration
	}{
		{nil, 30 * time.Second},
		{map[string]string{"BREACHFLOW_WORKER_STOP_TIMEOUT": "2m"}, 2 * time.Minute},
		{map[string]string{"BREACHFLOW_WORKER_STOP_TIMEOUT": "0s"}, 0},
	} {
		c, err := load(t, tc.env)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.StopTimeout(); got != tc.want {
			t.Errorf("%v: StopTimeout() = %s, want %s", tc.env, got, tc.want)
		}
	}
}

func TestFlagBeatsEnv(t *testing.T) {
	c, err := load(t, map[string]string{"BREACHFLOW_HTTP_ADDR": "127.0.0.1:9000"}, "--http-addr", "127.0.0.1:9001")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9001" {
		t.Fatalf("HTTPAddr = %q, want the flag's value", c.HTTPAddr)
	}
	c, err = load(t, map[string]string{"BREACHFLOW_HTTP_ADDR": "127.0.0.1:9000"})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9000" {
		t.Fatalf("HTTPAddr = %q, want the variable's value", c.HTTPAddr)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	for _, tc := range []struct{ env, val string }{
		{"BREACHFLOW_HTTP_ADDR", "8080"},
		{"BREACHFLOW_DEV_TEMPORAL_PORT", "seventy"},
		{"BREACHFLOW_DEV_UI_PORT", "70000"},
		{"BREACHFLOW_SMTP_TLS", "ssl"},
		{"BREACHFLOW_MAIL_FROM", "not an address"},
		{"BREACHFLOW_DATABASE_URL", "mysql://x"},
		{"BREACHFLOW_PUBLIC_URL", "ftp://x"},
		{"BREACHFLOW_ADMIN_TOKEN", "short"},
		{"BREACHFLOW_PLAYBOOK_DIR", "/does/not/exist"},
		{"BREACHFLOW_TEMPORAL_ADDRESS", "nohost"},
		{"BREACHFLOW_NOTICE_RATE", "-1"},
		{"BREACHFLOW_NOTICE_CONCURRENCY", "0"},
		{"BREACHFLOW_NOTICE_BATCHES", "0"},
		{"BREACHFLOW_SMTP_POOL", "lots"},
		{"BREACHFLOW_WORKER_QUEUES", "mail"},
		{"BREACHFLOW_WORKER_STOP_TIMEOUT", "30"},
		{"BREACHFLOW_METRICS_ADDR", "9090"},
		{"BREACHFLOW_WORKER_STOP_TIMEOUT", "-5s"},
		{"BREACHFLOW_ALLOW_LOCAL_DOMAINS", "maybe"},
		{"BREACHFLOW_ACTOR_KEY", "c2hvcnQ="},
		{"BREACHFLOW_ACTOR_KEY", "not base64!"},
		{"BREACHFLOW_AUDIT_KEYS", "a1:c2hvcnQ="},
		{"BREACHFLOW_AUDIT_KEYS", "no-colon"},
		{"BREACHFLOW_AUDIT_KEYS", "a1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,a1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{"BREACHFLOW_EVIDENCE_KEY", "c2hvcnQ="},
		{"BREACHFLOW_EVIDENCE_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ=="},
	} {
		t.Run(tc.env, func(t *testing.T) {
			_, err := load(t, map[string]string{tc.env: tc.val})
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.env, tc.val)
			}
			if !strings.HasPrefix(err.Error(), tc.env+":") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not name %s on one line", err, tc.env)
			}
		})
	}
}

func TestSlackNeedsSigningSecret(t *testing.T) {
	_, err := load(t, map[string]string{"BREACHFLOW_SLACK_TOKEN": "xoxb-1"})
	if err == nil || !strings.HasPrefix(err.Error(), "BREACHFLOW_SLACK_SIGNING_SECRET:") {
		t.Fatalf("err = %v", err)
	}
}

func TestAllowLocalDomains(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want bool
	}{
		{nil, nil, false},
		{map[string]string{"BREACHFLOW_ALLOW_LOCAL_DOMAINS": "true"}, nil, true},
		{map[string]string{"BREACHFLOW_ALLOW_LOCAL_DOMAINS": "1"}, nil, true},
		{map[string]string{"BREACHFLOW_ALLOW_LOCAL_DOMAINS": "true"}, []string{"--allow-local-domains=false"}, false},
		{nil, []string{"--allow-local-domains"}, true},
		{map[string]string{"BREACHFLOW_ALLOW_LOCAL_DOMAINS": "false"}, []string{"--allow-local-domains=yes"}, true},
	} {
		c, err := load(t, tc.env, tc.args...)
		if err != nil {
			t.Fatalf("%v %v: %v", tc.env, tc.args, err)
		}
		if c.AllowLocalDomains != tc.want {
			t.Errorf("%v %v: AllowLocalDomains = %v, want %v", tc.env, tc.args, c.AllowLocalDomains, tc.want)
		}
	}
}

func TestEvidenceKey(t *testing.T) {
	seed := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	cfg, err := load(t, map[string]string{"BREACHFLOW_EVIDENCE_KEY": seed})
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.EvidenceSigningKey()
	if k == nil || base64.StdEncoding.EncodeToString(k.Seed()) != seed {
		t.Fatalf("EvidenceSigningKey = %v, want the key of the seed", k)
	}
	if cfg, _ := load(t, nil); cfg.EvidenceSigningKey() != nil {
		t.Error("an unset BREACHFLOW_EVIDENCE_KEY gave a key")
	}
}

// TestRequiredByProcess: each process needs what it uses later, and
// CheckRequired names the one unset in one line.
func TestRequiredByProcess(t *testing.T) {
	key := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	valid := map[string]string{
		"BREACHFLOW_TEMPORAL_ADDRESS": "temporal:7233", "BREACHFLOW_DATABASE_URL": "sqlite:///tmp/x.db",
		"BREACHFLOW_ENCRYPTION_KEYS": "k1:" + key, "BREACHFLOW_HMAC_KEY": key, "BREACHFLOW_ACTOR_KEY": key,
		"BREACHFLOW_AUDIT_KEYS": "a1:" + key, "BREACHFLOW_SMTP_ADDR": "smtp.example.com:587", "BREACHFLOW_NOTIFY": "legal=counsel@example.com",
	}
	for _, tc := range []struct {
		process string
		want    []string
	}{
		{NeedServer, []string{"BREACHFLOW_TEMPORAL_ADDRESS", "BREACHFLOW_DATABASE_URL", "BREACHFLOW_ENCRYPTION_KEYS", "BREACHFLOW_HMAC_KEY", "BREACHFLOW_ACTOR_KEY", "BREACHFLOW_AUDIT_KEYS"}},
		{NeedIncidents, []string{"BREACHFLOW_TEMPORAL_ADDRESS", "BREACHFLOW_DATABASE_URL", "BREACHFLOW_ENCRYPTION_KEYS", "BREACHFLOW_ACTOR_KEY", "BREACHFLOW_AUDIT_KEYS", "BREACHFLOW_SMTP_ADDR", "BREACHFLOW_NOTIFY"}},
		{NeedNotices, []string{"BREACHFLOW_TEMPORAL_ADDRESS", "BREACHFLOW_DATABASE_URL", "BREACHFLOW_ENCRYPTION_KEYS", "BREACHFLOW_HMAC_KEY", "BREACHFLOW_ACTOR_KEY", "BREACHFLOW_AUDIT_KEYS", "BREACHFLOW_SMTP_ADDR"}},
	} {
		if got := Required(tc.process); !slices.Equal(got, tc.want) {
			t.Errorf("Required(%s) = %v, want %v", tc.process, got, tc.want)
		}
		for _, missing := range tc.want {
			env := maps.Clone(valid)
			delete(env, missing)
			c, err := load(t, env)
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckRequired(tc.process)
			if err == nil || !strings.HasPrefix(err.Error(), missing+": required by "+tc.process) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s without %s: err = %v", tc.process, missing, err)
			}
		}
		c, err := load(t, valid)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckRequired(tc.process); err != nil {
			t.Errorf("%s with everything set: %v", tc.process, err)
		}
	}
}
