// Package config reads breachflow's configuration from the environment
// (BREACHFLOW_*) and command-line flags. A flag wins over its variable; a
// bad value fails start-up with one line that names the variable.
package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"github.com/breachflow/breachflow/internal/letters"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/detect"
	"github.com/breachflow/breachflow/internal/evidence"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/spf13/pflag"
)

// Config is the whole configuration of one breachflow process.
type Config struct {
	HTTPAddr          string
	DataDir           string
	TemporalAddress   string
	TemporalNamespace string
	TemporalTLS       string // "", true or false: see TemporalTLSConfig
	TemporalTLSCA     string
	TemporalTLSCert   string
	TemporalTLSKey    string
	TemporalTLSServer string
	TemporalAPIKey    string
	DatabaseURL       string
	AdminToken        string
	EncryptionKeys    string
	HMACKey           string
	ActorKey          string
	AuditKeys         string
	EvidenceKey       string
	SMTPAddr          string
	SMTPUser          string
	SMTPPassword      string
	SMTPTLS           string
	SMTPInsecure      bool
	MailFrom          string
	SlackToken        string
	SlackSigningKey   string
	SlackAPIURL       string
	SlackUsers        string
	PublicURL         string
	PlaybookDir       string
	Notify            string
	OrgName           string
	OrgContact        string
	Webhooks          string
	WebhookSecret     string
	NoticeRate        int
	NoticeConcurrency int
	NoticeBatches     int
	SMTPPool          int
	WorkerQueues      string
	WorkerStopTimeout string
	MetricsAddr       string
	LogFormat         string
	DevTemporalPort   int
	DevUIPort         int
	DevSMTPAddr       string
	AllowLocalDomains bool
	AlertSources      string
	AlertRulesDir     string
	AlertRate         int
	AlertBurst        int
	DetectConfig      string
	SlackTriage       string
	LetterFont        string
	LetterFontCJK     string
}

// setting describes one variable: its flag, default and where it lands.
type setting struct {
	env, flag, def, usage string
	str                   *string
	num                   *int
	count                 bool  // num is a count (0–1,000,000), not a port
	on                    *bool // a switch: true or false (also 1/0, yes/no)
	// need names the processes that refuse to start without it (see
	// Required): "server", and "incidents" and "notices" for a worker
	// serving that queue.
	need []string
}

// The processes of a deployment, as Required names them: the API server,
// and a worker by the task queue it serves.
const (
	NeedServer    = "server"
	NeedIncidents = "incidents"
	NeedNotices   = "notices"
)

var (
	allProcesses = []string{NeedServer, NeedIncidents, NeedNotices}
	workers      = []string{NeedIncidents, NeedNotices}
)

func (c *Config) settings() []setting {
	return []setting{
		{env: "BREACHFLOW_HTTP_ADDR", flag: "http-addr", def: "127.0.0.1:8080", usage: "API and dashboard listen address", str: &c.HTTPAddr},
		{env: "BREACHFLOW_DATA_DIR", flag: "data-dir", def: "./data", usage: "dev-mode data directory (Temporal db, app db, keys, admin token)", str: &c.DataDir},
		{env: "BREACHFLOW_TEMPORAL_ADDRESS", flag: "temporal-address", usage: "Temporal frontend host:port (empty in dev = embedded server)", str: &c.TemporalAddress, need: allProcesses},
		{env: "BREACHFLOW_TEMPORAL_NAMESPACE", flag: "temporal-namespace", def: "default", usage: "Temporal namespace", str: &c.TemporalNamespace},
		{env: "BREACHFLOW_TEMPORAL_TLS", flag: "temporal-tls", usage: "TLS to the Temporal frontend: true or false (default: on when a CA, client certificate, server name or API key is set)", str: &c.TemporalTLS},
		{env: "BREACHFLOW_TEMPORAL_TLS_CA", flag: "temporal-tls-ca", usage: "PEM file of the CA(s) that sign the Temporal frontend's certificate (default: the system's roots)", str: &c.TemporalTLSCA},
		{env: "BREACHFLOW_TEMPORAL_TLS_CERT", flag: "temporal-tls-cert", usage: "PEM client certificate for mTLS to Temporal (with BREACHFLOW_TEMPORAL_TLS_KEY)", str: &c.TemporalTLSCert},
		{env: "BREACHFLOW_TEMPORAL_TLS_KEY", flag: "temporal-tls-key", usage: "PEM private key of BREACHFLOW_TEMPORAL_TLS_CERT", str: &c.TemporalTLSKey},
		{env: "BREACHFLOW_TEMPORAL_TLS_SERVER_NAME", flag: "temporal-tls-server-name", usage: "name to verify in the Temporal frontend's certificate (default: the host of BREACHFLOW_TEMPORAL_ADDRESS)", str: &c.TemporalTLSServer},
		{env: "BREACHFLOW_TEMPORAL_API_KEY", flag: "temporal-api-key", usage: "API key sent to Temporal (Temporal Cloud, or a proxy that checks keys); needs TLS", str: &c.TemporalAPIKey},
		{env: "BREACHFLOW_DATABASE_URL", flag: "database-url", usage: "sqlite:///path or postgres://… (dev default: sqlite in the data dir)", str: &c.DatabaseURL, need: allProcesses},
		{env: "BREACHFLOW_ADMIN_TOKEN", flag: "admin-token", usage: "bootstrap admin token (dev generates one if unset)", str: &c.AdminToken},
		{env: "BREACHFLOW_ENCRYPTION_KEYS", flag: "encryption-keys", usage: "keyid:base64key,… AES-256 keys, first is current (dev generates one)", str: &c.EncryptionKeys, need: allProcesses},
		{env: "BREACHFLOW_HMAC_KEY", flag: "hmac-key", usage: "base64 key (32+ bytes) for the keyed hash that de-duplicates customers by email and derives their notice-page links; never rotate it (dev generates one)", str: &c.HMACKey, need: []string{NeedServer, NeedNotices}},
		{env: "BREACHFLOW_ACTOR_KEY", flag: "actor-key", usage: "base64 key (32+ bytes) with which the API signs the actor of every Update and the worker checks it; the same on every server and worker (dev generates one)", str: &c.ActorKey, need: allProcesses},
		{env: "BREACHFLOW_AUDIT_KEYS", flag: "audit-keys", usage: "keyid:base64key,… HMAC-SHA256 keys (32+ bytes) that authenticate audit events, first is current; keep old ones to verify old events; never stored in the database (dev generates one)", str: &c.AuditKeys, need: allProcesses},
		{env: "BREACHFLOW_EVIDENCE_KEY", flag: "evidence-key", usage: "base64 of the 32-byte Ed25519 seed that signs evidence packs; its public key is at GET /v1/evidence-key (dev generates one; empty elsewhere = evidence packs off)", str: &c.EvidenceKey},
		{env: "BREACHFLOW_SMTP_ADDR", flag: "smtp-addr", usage: "SMTP relay host:port (dev: the embedded catcher)", str: &c.SMTPAddr, need: workers},
		{env: "BREACHFLOW_SMTP_USER", flag: "smtp-user", usage: "SMTP AUTH user", str: &c.SMTPUser},
		{env: "BREACHFLOW_SMTP_PASSWORD", flag: "smtp-password", usage: "SMTP AUTH password", str: &c.SMTPPassword},
		{env: "BREACHFLOW_SMTP_TLS", flag: "smtp-tls", def: "none", usage: "SMTP transport security: none, starttls or tls", str: &c.SMTPTLS},
		{env: "BREACHFLOW_SMTP_INSECURE", flag: "smtp-insecure", def: "false", usage: "allow mail in clear text outside dev: BREACHFLOW_SMTP_TLS=none, and starttls going on when the relay does not offer it (only for a relay on a private network)", on: &c.SMTPInsecure},
		{env: "BREACHFLOW_MAIL_FROM", flag: "mail-from", def: "security@localhost", usage: "sender of notices and reminders", str: &c.MailFrom},
		{env: "BREACHFLOW_SLACK_TOKEN", flag: "slack-token", usage: "Slack bot token (empty = Slack off)", str: &c.SlackToken},
		{env: "BREACHFLOW_SLACK_SIGNING_SECRET", flag: "slack-signing-secret", usage: "Slack signing secret", str: &c.SlackSigningKey},
		{env: "BREACHFLOW_SLACK_API_URL", flag: "slack-api-url", def: "https://slack.com/api/", usage: "Slack Web API base URL", str: &c.SlackAPIURL},
		{env: "BREACHFLOW_SLACK_USERS", flag: "slack-users", usage: "who may act from Slack: U024BE7LH=legal,ann@example.com=responder", str: &c.SlackUsers},
		{env: "BREACHFLOW_SLACK_TRIAGE_CHANNEL", flag: "slack-triage-channel", usage: "Slack channel id that gets a card with Launch / Attach / Dismiss for every alert waiting in triage (empty = no cards)", str: &c.SlackTriage},
		{env: "BREACHFLOW_PUBLIC_URL", flag: "public-url", def: "http://127.0.0.1:8080", usage: "base URL used in links inside emails and Slack", str: &c.PublicURL},
		{env: "BREACHFLOW_PLAYBOOK_DIR", flag: "playbook-dir", usage: "directory of playbook YAML files that add to or override the shipped ones", str: &c.PlaybookDir},
		{env: "BREACHFLOW_ORG_NAME", flag: "org-name", def: "Example Org", usage: "the organisation named in regulator reports", str: &c.OrgName},
		{env: "BREACHFLOW_ORG_CONTACT", flag: "org-contact", usage: "DPO or contact point named in regulator reports and notices", str: &c.OrgContact},
		{env: "BREACHFLOW_NOTIFY", flag: "notify", usage: "who gets reminders and escalations: legal=a@x;b@x,responder=…,admin=… (dev: role@localhost)", str: &c.Notify, need: []string{NeedIncidents}},
		{env: "BREACHFLOW_ALLOW_LOCAL_DOMAINS", flag: "allow-local-domains", def: "false", usage: "accept customer emails the public internet cannot deliver to (no dot in the domain, localhost, .test, .internal, IP addresses)", on: &c.AllowLocalDomains},
		{env: "BREACHFLOW_WEBHOOKS", flag: "webhooks", usage: "containment webhooks: disable-account=https://…,block-ip=https://…", str: &c.Webhooks},
		{env: "BREACHFLOW_WEBHOOK_SECRET", flag: "webhook-secret", usage: "HMAC-SHA256 key that signs containment webhook calls", str: &c.WebhookSecret},
		{env: "BREACHFLOW_NOTICE_RATE", flag: "notice-rate", def: "0", usage: "customer notices per second one worker process sends at most (0 = no limit)", num: &c.NoticeRate, count: true},
		{env: "BREACHFLOW_NOTICE_CONCURRENCY", flag: "notice-concurrency", def: "8", usage: "SMTP sends one notice batch runs at once", num: &c.NoticeConcurrency, count: true},
		{env: "BREACHFLOW_NOTICE_BATCHES", flag: "notice-batches", def: "4", usage: "notice batches one worker process runs at once", num: &c.NoticeBatches, count: true},
		{env: "BREACHFLOW_SMTP_POOL", flag: "smtp-pool", def: "4", usage: "SMTP connections one process keeps open", num: &c.SMTPPool, count: true},
		{env: "BREACHFLOW_ALERT_SOURCES", flag: "alert-sources", usage: "alert sources allowed to POST /v1/alerts and /v1/detect: name:token[:signing-secret],… (empty = alert intake off)", str: &c.AlertSources},
		{env: "BREACHFLOW_ALERT_RULES_DIR", flag: "alert-rules-dir", usage: "directory of alert routing rule files that add to or replace the shipped ones", str: &c.AlertRulesDir},
		{env: "BREACHFLOW_ALERT_RATE", flag: "alert-rate", def: "50", usage: "alert calls per second one source may make (per API process); more answer 429", num: &c.AlertRate, count: true},
		{env: "BREACHFLOW_ALERT_BURST", flag: "alert-burst", def: "500", usage: "alert calls one source may make at once above its rate", num: &c.AlertBurst, count: true},
		{env: "BREACHFLOW_DETECT_CONFIG", flag: "detect-config", usage: "YAML file configuring the CRM log detector (time zone, calendar, rules, high-tier objects); empty = the shipped default", str: &c.DetectConfig},
		{env: "BREACHFLOW_WORKER_STOP_TIMEOUT", flag: "worker-stop-timeout", def: "30s", usage: "on SIGTERM, how long running activities may take to finish before they are cancelled (and HTTP requests before the server closes)", str: &c.WorkerStopTimeout},
		{env: "BREACHFLOW_METRICS_ADDR", flag: "metrics-addr", usage: "worker: address to serve GET /metrics on (the Temporal SDK's metrics of its workers); empty = not served", str: &c.MetricsAddr},
		{env: "BREACHFLOW_LOG_FORMAT", flag: "log-format", usage: "log lines as json or text (default: json for server and worker, text for dev)", str: &c.LogFormat},
		{env: "BREACHFLOW_WORKER_QUEUES", flag: "worker-queues", def: "all", usage: "task queues this worker serves: all, incidents or notices", str: &c.WorkerQueues},
		{env: "BREACHFLOW_DEV_TEMPORAL_PORT", flag: "dev-temporal-port", def: "7233", usage: "dev: embedded Temporal frontend port", num: &c.DevTemporalPort},
		{env: "BREACHFLOW_DEV_UI_PORT", flag: "dev-ui-port", def: "8233", usage: "dev: Temporal Web UI port (0 = off)", num: &c.DevUIPort},
		{env: "BREACHFLOW_DEV_SMTP_ADDR", flag: "dev-smtp-addr", def: "127.0.0.1:1025", usage: "dev: embedded SMTP catcher address", str: &c.DevSMTPAddr},
		{env: "BREACHFLOW_LETTER_FONT", flag: "letter-font", def: letters.DefaultFonts.Latin, usage: "TrueType font letters are set in (Debian fonts-dejavu-core)", str: &c.LetterFont},
		{env: "BREACHFLOW_LETTER_FONT_CJK", flag: "letter-font-cjk", def: letters.DefaultFonts.CJK, usage: "TrueType font for what the letter font lacks, Chinese above all (Debian fonts-droid-fallback)", str: &c.LetterFontCJK},
	}
}

// Required lists the variables the given processes refuse to start
// without, in the order of the settings table: server and worker check
// them at start-up (CheckRequired), and the deployment files must name
// them all.
func Required(processes ...string) []string {
	var out []string
	for _, s := range (&Config{}).settings() {
		for _, p := range processes {
			if slices.Contains(s.need, p) {
				out = append(out, s.env)
				break
			}
		}
	}
	return out
}

// CheckRequired fails, naming the first variable missing, when a variable
// one of the processes needs is unset: a process refuses to start rather
// than fail later on the first request or timer that needs it.
func (c *Config) CheckRequired(processes ...string) error {
	for _, s := range c.settings() {
		if s.str == nil || *s.str != "" || !slices.ContainsFunc(processes, func(p string) bool { return slices.Contains(s.need, p) }) {
			continue
		}
		return fmt.Errorf("%s: required by %s (%s)", s.env, strings.Join(slices.DeleteFunc(slices.Clone(processes), func(p string) bool { return !slices.Contains(s.need, p) }), " and "), s.usage)
	}
	return nil
}

// WorkerProcesses are the processes this configuration's `worker` is: one per
// task queue it serves (BREACHFLOW_WORKER_QUEUES).
func (c *Config) WorkerProcesses() []string {
	if c.WorkerQueues == "all" {
		return workers
	}
	return []string{c.WorkerQueues}
}

// Flags registers every setting on fs and returns a loader that, once the
// flags are parsed, fills and validates the Config. Variables come from
// getenv (os.Getenv in production, a map in tests).
func Flags(fs *pflag.FlagSet, getenv func(string) string) func() (*Config, error) {
	c := &Config{}
	raw := map[string]*string{}
	for _, s := range c.settings() {
		v := new(string)
		raw[s.env] = v
		fs.StringVar(v, s.flag, "", fmt.Sprintf("%s [$%s, default %q]", s.usage, s.env, s.def))
		if s.on != nil {
			fs.Lookup(s.flag).NoOptDefVal = "true" // a bare --flag switches it on
		}
	}
	return func() (*Config, error) {
		for _, s := range c.settings() {
			val := *raw[s.env]
			if !fs.Changed(s.flag) {
				val = getenv(s.env)
			}
			if val == "" {
				val = s.def
			}
			if s.str != nil {
				*s.str = val
				continue
			}
			if s.on != nil {
				b, err := parseSwitch(val)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", s.env, err)
				}
				*s.on = b
				continue
			}
			n, err := strconv.Atoi(val)
			if s.count {
				if err != nil || n < 0 || n > 1_000_000 {
					return nil, fmt.Errorf("%s: %q is not a whole number from 0 to 1000000", s.env, val)
				}
				*s.num = n
				continue
			}
			if err != nil || n < 0 || n > 65535 {
				return nil, fmt.Errorf("%s: %q is not a port number (0–65535)", s.env, val)
			}
			*s.num = n
		}
		if err := c.validate(); err != nil {
			return nil, err
		}
		return c, nil
	}
}

// FromEnv loads the configuration from the environment alone.
func FromEnv() (*Config, error) {
	fs := pflag.NewFlagSet("env", pflag.ContinueOnError)
	return Flags(fs, os.Getenv)()
}

func (c *Config) validate() error {
	if err := checkHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("BREACHFLOW_HTTP_ADDR: %w", err)
	}
	if c.TemporalAddress != "" {
		if err := checkHostPort(c.TemporalAddress); err != nil {
			return fmt.Errorf("BREACHFLOW_TEMPORAL_ADDRESS: %w", err)
		}
	}
	if strings.TrimSpace(c.TemporalNamespace) == "" {
		return fmt.Errorf("BREACHFLOW_TEMPORAL_NAMESPACE: must not be empty")
	}
	if _, err := c.TemporalTLSConfig(); err != nil {
		return err
	}
	if c.DatabaseURL != "" {
		if err := checkDatabaseURL(c.DatabaseURL); err != nil {
			return fmt.Errorf("BREACHFLOW_DATABASE_URL: %w", err)
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 20 {
		return fmt.Errorf("BREACHFLOW_ADMIN_TOKEN: too short (%d characters; use at least 20 random characters)", len(c.AdminToken))
	}
	if c.HMACKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.HMACKey); err != nil || len(k) < 32 {
			return fmt.Errorf("BREACHFLOW_HMAC_KEY: want standard base64 of at least 32 bytes")
		}
	}
	if c.ActorKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.ActorKey); err != nil || len(k) < 32 {
			return fmt.Errorf("BREACHFLOW_ACTOR_KEY: want standard base64 of at least 32 bytes")
		}
	}
	if c.AuditKeys != "" {
		if _, err := store.ParseAuditKeys(c.AuditKeys); err != nil {
			return fmt.Errorf("BREACHFLOW_AUDIT_KEYS: %w", err)
		}
	}
	if c.EvidenceKey != "" {
		if _, err := evidence.KeyFromSeed(c.EvidenceKey); err != nil {
			return fmt.Errorf("BREACHFLOW_EVIDENCE_KEY: %w", err)
		}
	}
	if c.SMTPAddr != "" {
		if err := checkHostPort(c.SMTPAddr); err != nil {
			return fmt.Errorf("BREACHFLOW_SMTP_ADDR: %w", err)
		}
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		return fmt.Errorf("BREACHFLOW_LOG_FORMAT: %q is not one of json, text", c.LogFormat)
	}
	switch c.SMTPTLS {
	case "none", "starttls", "tls":
	default:
		return fmt.Errorf("BREACHFLOW_SMTP_TLS: %q is not one of none, starttls, tls", c.SMTPTLS)
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		return fmt.Errorf("BREACHFLOW_MAIL_FROM: %q is not an email address", c.MailFrom)
	}
	if c.SlackToken != "" && c.SlackSigningKey == "" {
		return fmt.Errorf("BREACHFLOW_SLACK_SIGNING_SECRET: required when BREACHFLOW_SLACK_TOKEN is set")
	}
	if err := c.validateSlack(); err != nil {
		return err
	}
	for name, v := range map[string]string{"BREACHFLOW_SLACK_API_URL": c.SlackAPIURL, "BREACHFLOW_PUBLIC_URL": c.PublicURL} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", name, v)
		}
	}
	if c.PlaybookDir != "" {
		if st, err := os.Stat(c.PlaybookDir); err != nil || !st.IsDir() {
			return fmt.Errorf("BREACHFLOW_PLAYBOOK_DIR: %q is not a directory", c.PlaybookDir)
		}
	}
	if _, err := activities.ParseNotify(c.Notify); err != nil {
		return fmt.Errorf("BREACHFLOW_NOTIFY: %w", err)
	}
	if c.Webhooks != "" {
		if _, err := activities.ParseWebhooks(c.Webhooks); err != nil {
			return fmt.Errorf("BREACHFLOW_WEBHOOKS: %w", err)
		}
		if len(c.WebhookSecret) < 16 {
			return fmt.Errorf("BREACHFLOW_WEBHOOK_SECRET: required with BREACHFLOW_WEBHOOKS, at least 16 characters")
		}
	}
	if _, err := alerts.ParseSources(c.AlertSources); err != nil {
		return fmt.Errorf("BREACHFLOW_ALERT_SOURCES: %w", err)
	}
	if c.AlertRulesDir != "" {
		if st, err := os.Stat(c.AlertRulesDir); err != nil || !st.IsDir() {
			return fmt.Errorf("BREACHFLOW_ALERT_RULES_DIR: %q is not a directory", c.AlertRulesDir)
		}
	}
	if c.AlertSources != "" && (c.AlertRate == 0 || c.AlertBurst == 0) {
		return fmt.Errorf("BREACHFLOW_ALERT_RATE and BREACHFLOW_ALERT_BURST: must be at least 1")
	}
	if _, err := detect.LoadConfig(c.DetectConfig); err != nil {
		return fmt.Errorf("BREACHFLOW_DETECT_CONFIG: %w", err)
	}
	if c.MetricsAddr != "" {
		if err := checkHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("BREACHFLOW_METRICS_ADDR: %w", err)
		}
	}
	if d, err := time.ParseDuration(c.WorkerStopTimeout); err != nil || d < 0 {
		return fmt.Errorf("BREACHFLOW_WORKER_STOP_TIMEOUT: %q is not a duration like 30s or 2m", c.WorkerStopTimeout)
	}
	switch c.WorkerQueues {
	case "all", "incidents", "notices":
	default:
		return fmt.Errorf("BREACHFLOW_WORKER_QUEUES: %q is not one of all, incidents, notices", c.WorkerQueues)
	}
	for _, v := range []struct {
		env string
		n   int
	}{{"BREACHFLOW_NOTICE_CONCURRENCY", c.NoticeConcurrency}, {"BREACHFLOW_NOTICE_BATCHES", c.NoticeBatches}, {"BREACHFLOW_SMTP_POOL", c.SMTPPool}} {
		if v.n == 0 {
			return fmt.Errorf("%s: must be at least 1", v.env)
		}
	}
	if err := checkHostPort(c.DevSMTPAddr); err != nil {
		return fmt.Errorf("BREACHFLOW_DEV_SMTP_ADDR: %w", err)
	}
	return nil
}

// parseSwitch reads a true/false setting.
func parseSwitch(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port", s)
	}
	return nil
}

func checkDatabaseURL(s string) error {
	switch {
	case strings.HasPrefix(s, "sqlite://"), strings.HasPrefix(s, "sqlite:"):
		return nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return fmt.Errorf("not a URL: %v", err)
		}
		return nil
	}
	return fmt.Errorf("want sqlite:///path or postgres://…")
}

// DevDatabaseURL is the app store used by dev when none is configured.
func (c *Config) DevDatabaseURL() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	abs, err := filepath.Abs(filepath.Join(c.DataDir, "breachflow.db"))
	if err != nil {
		abs = filepath.Join(c.DataDir, "breachflow.db")
	}
	return "sqlite://" + abs
}

// LogFormatOr is BREACHFLOW_LOG_FORMAT, or def when it is unset.
func (c *Config) LogFormatOr(def string) string {
	if c.LogFormat == "" {
		return def
	}
	return c.LogFormat
}

// StopTimeout is BREACHFLOW_WORKER_STOP_TIMEOUT (validated at load).
func (c *Config) StopTimeout() time.Duration {
	d, _ := time.ParseDuration(c.WorkerStopTimeout)
	return d
}

// Containment builds the containment webhook activities from the configuration.
func (c *Config) Containment() *activities.Containment {
	urls, _ := activities.ParseWebhooks(c.Webhooks) // validated at load
	return &activities.Containment{Hooks: activities.Webhooks{URLs: urls, Secret: []byte(c.WebhookSecret)}}
}

// Mailer builds the staff mailer (reminders, escalations) from the configuration.
func (c *Config) Mailer() *activities.Mailer {
	notify, _ := activities.ParseNotify(c.Notify) // validated at load
	return &activities.Mailer{Addr: c.SMTPAddr, User: c.SMTPUser, Password: c.SMTPPassword, TLS: c.SMTPTLS, From: c.MailFrom,
		Notify: notify, PoolSize: c.SMTPPool, Insecure: c.SMTPInsecure}
}

// Org is the organisation named in regulator reports and customer notices.
func (c *Config) Org() templates.Organisation {
	return templates.Organisation{Name: c.OrgName, Contact: c.OrgContact, Email: c.MailFrom}
}

// SubjectKey is the decoded BREACHFLOW_HMAC_KEY (nil when unset).
func (c *Config) SubjectKey() []byte {
	k, _ := base64.StdEncoding.DecodeString(c.HMACKey) // validated at load
	return k
}

// AuditKeyring is the parsed BREACHFLOW_AUDIT_KEYS (nil when unset).
func (c *Config) AuditKeyring() *store.AuditKeys {
	if c.AuditKeys == "" {
		return nil
	}
	k, _ := store.ParseAuditKeys(c.AuditKeys) // validated at load
	return k
}

// ActorSigningKey is the decoded BREACHFLOW_ACTOR_KEY (nil when unset).
func (c *Config) ActorSigningKey() []byte {
	k, _ := base64.StdEncoding.DecodeString(c.ActorKey) // validated at load
	return k
}

// EvidenceSigningKey is the key of BREACHFLOW_EVIDENCE_KEY (nil when unset).
func (c *Config) EvidenceSigningKey() ed25519.PrivateKey {
	if c.EvidenceKey == "" {
		return nil
	}
	k, _ := evidence.KeyFromSeed(c.EvidenceKey) // validated at load
	return k
}

// LetterFonts are the fonts letters are set in.
func (c *Config) LetterFonts() letters.Fonts {
	return letters.Fonts{Latin: c.LetterFont, CJK: c.LetterFontCJK}
}
