package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/internal/actionrecorder"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/devserver"
	"github.com/breachflow/breachflow/internal/evidence"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/internal/telemetry"
	"github.com/breachflow/breachflow/internal/tracelog"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/dburl"
	"github.com/breachflow/breachflow/workflows"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

func devCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything in one process: embedded Temporal, Web UI, worker, API, SQLite and a mail catcher",
		Args:  cobra.NoArgs,
	}
	load := config.Flags(cmd.Flags(), os.Getenv)
	logLevel := cmd.Flags().String("temporal-log-level", "error", "log level of the embedded Temporal server")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		stack, err := startDev(ctx, cfg, devOptions{TemporalLogLevel: *logLevel, Out: cmd.OutOrStdout()})
		if err != nil {
			return err
		}
		<-ctx.Done()
		fmt.Fprintln(cmd.OutOrStdout(), "stopping…")
		return stack.Stop()
	}
	return cmd
}

type devOptions struct {
	TemporalLogLevel string
	Out              io.Writer
	Logger           *slog.Logger
	LogOut           io.Writer // where the default logger writes (nil: stderr)
	StrictCodec      bool      // refuse unencrypted payloads, as server and worker do (tests)
}

// devStack is every part `breachflow dev` runs, in start order.
type devStack struct {
	cfg      *config.Config
	lock     *os.File
	store    store.Store
	mail     *mailcatcher.Catcher
	actions  *actionrecorder.Recorder
	recorded []string // actions sent to the recorder
	temporal *devserver.Server
	client   client.Client
	workers  []worker.Worker
	mailer   *activities.Mailer
	http     *http.Server
	httpAddr string
	token    string
	log      *slog.Logger
}

func startDev(ctx context.Context, cfg *config.Config, opts devOptions) (_ *devStack, err error) {
	start := time.Now()
	if opts.Logger == nil {
		if opts.LogOut == nil {
			opts.LogOut = os.Stderr
		}
		if opts.Logger, err = tracelog.New(opts.LogOut, cfg.LogFormatOr(tracelog.FormatText)); err != nil {
			return nil, err
		}
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	s := &devStack{cfg: cfg, log: opts.Logger}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("BREACHFLOW_DATA_DIR: %w", err)
	}
	if s.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	keys, err := devKeys(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.HMACKey == "" {
		if cfg.HMACKey, err = readOrCreate(filepath.Join(cfg.DataDir, "hmac-key"), randomKey); err != nil {
			return nil, err
		}
	}
	if cfg.ActorKey == "" {
		if cfg.ActorKey, err = readOrCreate(filepath.Join(cfg.DataDir, "actor-key"), randomKey); err != nil {
			return nil, err
		}
	}
	if cfg.AuditKeys == "" {
		if cfg.AuditKeys, err = readOrCreate(filepath.Join(cfg.DataDir, devAuditKeysFile), func() (string, error) { return store.NewAuditKey("dev1") }); err != nil {
			return nil, err
		}
		if _, err := store.ParseAuditKeys(cfg.AuditKeys); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(cfg.DataDir, devAuditKeysFile), err)
		}
	}
	if cfg.EvidenceKey == "" {
		// 32 random bytes are an Ed25519 seed.
		if cfg.EvidenceKey, err = readOrCreate(filepath.Join(cfg.DataDir, "evidence-key"), randomKey); err != nil {
			return nil, err
		}
	}
	catalog, err := playbooks.Load(cfg.PlaybookDir)
	if err != nil {
		return nil, fmt.Errorf("playbooks: %w", err)
	}
	if s.store, err = dburl.Open(ctx, cfg.DevDatabaseURL()); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s.store.SetAuditKeys(cfg.AuditKeyring())
	if err := s.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	if s.token, err = devAdminToken(ctx, cfg, s.store); err != nil {
		return nil, err
	}
	if cfg.SMTPAddr == "" {
		// The caught mail is kept, sealed with the dev keys, next to the
		// incidents it belongs to, so the outbox survives a restart.
		journal := mailcatcher.Journal{Path: filepath.Join(cfg.DataDir, "outbox.jsonl"), Sealer: keys}
		if s.mail, err = mailcatcher.StartWithJournal(cfg.DevSMTPAddr, 10000, journal); err != nil {
			return nil, err
		}
		cfg.SMTPAddr = s.mail.Addr()
		cfg.SMTPInsecure = true // our own catcher, on loopback
	}
	if err := s.recordActions(cfg, catalog); err != nil {
		return nil, err
	}
	if cfg.Notify == "" {
		cfg.Notify = "legal=legal@localhost,responder=responder@localhost,admin=admin@localhost"
	}

	// The embedded Temporal UI decodes payloads in the browser through the
	// dev codec route (CORS for the UI's origin, no token: dev only).
	uiOrigin := ""
	if cfg.DevUIPort != 0 {
		uiOrigin = "http://127.0.0.1:" + strconv.Itoa(cfg.DevUIPort)
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_HTTP_ADDR: %w", err)
	}
	s.httpAddr = ln.Addr().String()
	s.temporal, err = devserver.Start(ctx, devserver.Options{
		DatabaseFile:     filepath.Join(cfg.DataDir, "temporal.db"),
		Namespace:        cfg.TemporalNamespace,
		SearchAttributes: workflows.SearchAttributes(),
		FrontendPort:     cfg.DevTemporalPort,
		UIPort:           cfg.DevUIPort,
		LogLevel:         opts.TemporalLogLevel,
		CodecEndpoint:    "http://" + s.httpAddr + "/dev/codec",
	})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	// dev's codec accepts unencrypted payloads (the Temporal UI, the
	// temporal CLI poking a local stack), unless a test asks for the
	// production codec.
	reg := prometheus.NewRegistry() // /metrics: the API's and the Temporal SDK's
	metrics, err := telemetry.TemporalMetrics(reg)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	if s.client, err = workflows.DialWith(ctx, workflows.DialOptions{HostPort: s.temporal.FrontendHostPort(),
		Namespace: cfg.TemporalNamespace, Keys: keys, Logger: opts.Logger, AcceptPlaintext: !opts.StrictCodec, Metrics: metrics}); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if err := workflows.EnsureSearchAttributes(ctx, s.client, cfg.TemporalNamespace); err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.mailer = cfg.Mailer()
	s.workers = newWorkers(cfg, s.client, s.store, keys, s.mailer, slackRoom(cfg, s.store))
	if err := startWorkers(s.workers); err != nil {
		s.workers = nil
		_ = ln.Close()
		return nil, err
	}
	var actionLog api.ActionLog
	if s.actions != nil {
		actionLog = s.actions
	}
	alertDeps, err := apiAlerts(cfg, catalog)
	if err != nil {
		return nil, err
	}
	srv := api.New(api.Deps{
		Alerts: alertDeps,
		Store:  s.store, Temporal: s.client, Converter: codec.DataConverter(keys), Playbooks: catalog,
		Logger: opts.Logger, Outbox: s.mail, Actions: actionLog, Codec: codec.HTTPHandler(keys), DevCodecOrigin: uiOrigin,
		Org:  cfg.Org(),
		Keys: keys, SubjectKey: cfg.SubjectKey(), ActorKey: cfg.ActorSigningKey(), EvidenceKey: cfg.EvidenceSigningKey(), AllowLocalDomains: cfg.AllowLocalDomains, Slack: apiSlack(cfg),
		Registry: reg, LetterFonts: cfg.LetterFonts(),
	})
	s.http = api.NewHTTPServer(s.httpAddr, srv.Handler(), api.DefaultHTTPTimeouts())
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.Logger.Error("http server", "error", err)
		}
	}()

	fmt.Fprintf(opts.Out, "breachflow dev is ready in %s\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(opts.Out, "  API          http://%s\n", s.httpAddr)
	if u := s.temporal.UIURL(); u != "" {
		fmt.Fprintf(opts.Out, "  Temporal UI  %s\n", u)
	}
	fmt.Fprintf(opts.Out, "  Temporal     %s (namespace %s)\n", s.temporal.FrontendHostPort(), cfg.TemporalNamespace)
	if s.mail != nil {
		fmt.Fprintf(opts.Out, "  SMTP catcher %s (GET /dev/outbox)\n", s.mail.Addr())
	}
	if s.actions != nil {
		fmt.Fprintf(opts.Out, "  Actions      recorder at http://%s for %s (GET /dev/actions, dashboard /outbox)\n",
			s.actions.Addr(), strings.Join(s.recorded, ", "))
	}
	if cfg.SlackOn() {
		fmt.Fprintf(opts.Out, "  Slack        %s (POST /slack/commands, /slack/interactions)\n", cfg.SlackAPIURL)
	} else {
		fmt.Fprintf(opts.Out, "  Slack        off (set BREACHFLOW_SLACK_TOKEN and _SIGNING_SECRET; see docs/slack.md)\n")
	}
	if k := cfg.EvidenceSigningKey(); k != nil {
		fmt.Fprintf(opts.Out, "  evidence key %s (GET /v1/evidence-key)\n", evidence.Fingerprint(k.Public().(ed25519.PublicKey)))
	}
	fmt.Fprintf(opts.Out, "  data         %s\n", cfg.DataDir)
	fmt.Fprintf(opts.Out, "  admin token  %s\n", s.token)
	fmt.Fprintf(opts.Out, "\n  export BREACHFLOW_TOKEN=%s\n  curl -H \"Authorization: Bearer $BREACHFLOW_TOKEN\" http://%s/v1/incidents\n", s.token, s.httpAddr)
	return s, nil
}

// recordActions sends every containment action a playbook names that
// BREACHFLOW_WEBHOOKS does not map to the built-in recorder, signed with
// BREACHFLOW_WEBHOOK_SECRET (or a dev secret kept in the data dir), so
// action steps run in dev as they would in production. Outside dev an
// unmapped action fails for a human to complete, as before.
func (s *devStack) recordActions(cfg *config.Config, catalog *playbooks.Catalog) error {
	hooks, _ := activities.ParseWebhooks(cfg.Webhooks) // validated at load
	var missing []string
	for _, pb := range catalog.List() {
		for _, st := range pb.Steps {
			if st.Kind == playbooks.KindAction && st.Action != "" && hooks[st.Action] == "" && !slices.Contains(missing, st.Action) {
				missing = append(missing, st.Action)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	if cfg.WebhookSecret == "" {
		secret, err := readOrCreate(filepath.Join(cfg.DataDir, "webhook-secret"), randomKey)
		if err != nil {
			return err
		}
		cfg.WebhookSecret = secret
	}
	var err error
	if s.actions, err = actionrecorder.Start("127.0.0.1:0", []byte(cfg.WebhookSecret), 1000); err != nil {
		return err
	}
	entries := []string{}
	if strings.TrimSpace(cfg.Webhooks) != "" {
		entries = append(entries, cfg.Webhooks)
	}
	for _, name := range missing {
		entries = append(entries, name+"="+s.actions.URL(name))
	}
	cfg.Webhooks, s.recorded = strings.Join(entries, ","), missing
	return nil
}

// Stop shuts every part down in reverse order.
func (s *devStack) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
	}
	stopWorkers(s.workers)
	if s.mailer != nil {
		s.mailer.Close()
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.temporal != nil {
		errs = append(errs, s.temporal.Stop())
	}
	if s.mail != nil {
		errs = append(errs, s.mail.Close(ctx))
	}
	if s.actions != nil {
		errs = append(errs, s.actions.Close(ctx))
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	if s.lock != nil {
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// lockDataDir takes an exclusive lock so a second dev on the same data
// dir fails instead of two Temporal servers writing one SQLite file.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "breachflow.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_DATA_DIR: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := io.ReadAll(io.LimitReader(f, 32))
		_ = f.Close()
		who := strings.TrimSpace(string(pid))
		if who == "" {
			who = "another process"
		} else {
			who = "process " + who
		}
		return nil, fmt.Errorf("BREACHFLOW_DATA_DIR: %s is in use by %s (another breachflow dev?); stop it or choose another data dir", dir, who)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0)
	return f, nil
}

// The dev data dir's key files, read also by `audit verify`.
const (
	devEncryptionKeysFile = "encryption-keys"
	devAuditKeysFile      = "audit-keys"
)

// devKeys returns the configured keys, or the dev key kept in the data
// dir (generated on first start).
func devKeys(cfg *config.Config) (*codec.Keyring, error) {
	if cfg.EncryptionKeys != "" {
		kr, err := codec.ParseKeys(cfg.EncryptionKeys)
		if err != nil {
			return nil, fmt.Errorf("BREACHFLOW_ENCRYPTION_KEYS: %w", err)
		}
		return kr, nil
	}
	spec, err := readOrCreate(filepath.Join(cfg.DataDir, devEncryptionKeysFile), func() (string, error) { return codec.NewKey("dev1") })
	if err != nil {
		return nil, err
	}
	kr, err := codec.ParseKeys(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(cfg.DataDir, devEncryptionKeysFile), err)
	}
	return kr, nil
}

// devAdminToken registers the admin token: the configured one, or the one
// kept in the data dir (generated on first start).
func devAdminToken(ctx context.Context, cfg *config.Config, st store.Store) (string, error) {
	if cfg.AdminToken != "" {
		return cfg.AdminToken, bootstrapAdmin(ctx, st, cfg.AdminToken, "BREACHFLOW_ADMIN_TOKEN", "set a new one")
	}
	file := filepath.Join(cfg.DataDir, "admin-token")
	secret, err := readOrCreate(file, store.NewTokenSecret)
	if err != nil {
		return "", err
	}
	return secret, bootstrapAdmin(ctx, st, secret, "admin token in "+file, "delete the file and dev makes a new one")
}

// bootstrapAdmin registers the configured admin secret as the bootstrap
// admin token, revoking the previous one when the secret was rotated.
// where names the secret's source for the one-line error, and remedy
// says how to replace a revoked one.
func bootstrapAdmin(ctx context.Context, st store.Store, secret, where, remedy string) error {
	_, err := st.BootstrapToken(ctx, "admin", breach.RoleAdmin, secret)
	switch {
	case errors.Is(err, store.ErrTokenRevoked):
		return fmt.Errorf("%s: this token has been revoked (rotated away, or by an admin); %s", where, remedy)
	case err != nil:
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

func readOrCreate(path string, gen func() (string, error)) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	v, err := gen()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
		return "", err
	}
	return v, nil
}

// randomKey is 32 random bytes in standard base64.
func randomKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
