package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/telemetry"
	"github.com/breachflow/breachflow/internal/tracelog"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/dburl"
	"github.com/breachflow/breachflow/workflows"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"
)

// logger is a production process's logger on stderr: JSON lines unless
// BREACHFLOW_LOG_FORMAT says text (validated at load), with the ids of
// the request or activity each line is about.
func logger(cfg *config.Config) *slog.Logger {
	log, err := tracelog.New(os.Stderr, cfg.LogFormatOr(tracelog.FormatJSON))
	if err != nil {
		panic(err) // the configuration's validation lets only json and text through
	}
	return log
}

// clusterParts checks what server and worker need from a real
// deployment: every variable the processes need (config.Required) is set,
// and the keys parse.
func clusterParts(cfg *config.Config, processes ...string) (*codec.Keyring, error) {
	if err := cfg.CheckRequired(processes...); err != nil {
		return nil, err
	}
	if cfg.SMTPAddr != "" && cfg.SMTPTLS == "none" && !cfg.SMTPInsecure {
		return nil, errors.New("BREACHFLOW_SMTP_TLS: none would send mail in clear text; use starttls or tls (BREACHFLOW_SMTP_INSECURE=true allows clear text, for a relay on a private network)")
	}
	kr, err := codec.ParseKeys(cfg.EncryptionKeys)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_ENCRYPTION_KEYS: %w", err)
	}
	return kr, nil
}

// dialTimeout bounds the first connection to Temporal at start-up: a
// wrong BREACHFLOW_TEMPORAL_ADDRESS is refused in seconds, not a hang.
const dialTimeout = 5 * time.Second

// startCluster opens the store, refuses one whose migrations are behind
// this binary, and connects to Temporal; server and worker start this way.
// On error nothing is left open.
func startCluster(ctx context.Context, cfg *config.Config, keys *codec.Keyring, log *slog.Logger, reg *prometheus.Registry) (store.Store, client.Client, error) {
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSchema(ctx, st); err != nil {
		st.Close()
		return nil, nil, err
	}
	st.SetAuditKeys(cfg.AuditKeyring())
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := dialCluster(dctx, cfg, keys, log, reg)
	if err != nil {
		st.Close()
		if dctx.Err() != nil && ctx.Err() == nil {
			return nil, nil, fmt.Errorf("BREACHFLOW_TEMPORAL_ADDRESS: no Temporal frontend answered at %s within %s", cfg.TemporalAddress, dialTimeout)
		}
		return nil, nil, fmt.Errorf("BREACHFLOW_TEMPORAL_ADDRESS: no Temporal frontend answers at %s (%s)", cfg.TemporalAddress, oneLine(err))
	}
	return st, c, nil
}

// checkSchema refuses a store whose migrations are behind this binary:
// server and worker never migrate on their own (two versions of the
// binary would race to), and a missing table would otherwise fail the
// first request that needs it.
func checkSchema(ctx context.Context, st store.Store) error {
	current, latest, err := st.SchemaVersions(ctx)
	if err != nil {
		return fmt.Errorf("BREACHFLOW_DATABASE_URL: the store is not migrated (%s); run breachflow migrate", oneLine(err))
	}
	if current < latest {
		return fmt.Errorf("BREACHFLOW_DATABASE_URL: the store is at migration %d, this binary needs %d; run breachflow migrate", current, latest)
	}
	return nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// dialCluster connects server and worker to the external Temporal
// cluster: TLS, mTLS and an API key as configured, and a codec that
// refuses unencrypted payloads. The SDK's metrics go to reg (nil: none).
func dialCluster(ctx context.Context, cfg *config.Config, keys *codec.Keyring, log *slog.Logger, reg *prometheus.Registry) (client.Client, error) {
	tlsCfg, err := cfg.TemporalTLSConfig() // validated at load; the files are read again here
	if err != nil {
		return nil, err
	}
	var metrics client.MetricsHandler // nil records none
	if reg != nil {
		if metrics, err = telemetry.TemporalMetrics(reg); err != nil {
			return nil, err
		}
	}
	return workflows.DialWith(ctx, workflows.DialOptions{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Keys: keys, Logger: log, TLS: tlsCfg, APIKey: cfg.TemporalAPIKey, Metrics: metrics})
}

func openStore(ctx context.Context, url string) (store.Store, error) {
	st, err := dburl.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_DATABASE_URL: %w", err)
	}
	return st, nil
}

func serverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "server", Short: "Run the HTTP API against an external Temporal cluster and database", Args: cobra.NoArgs}
	load := config.Flags(cmd.Flags(), os.Getenv)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		keys, err := clusterParts(cfg, config.NeedServer)
		if err != nil {
			return err
		}
		catalog, err := playbooks.Load(cfg.PlaybookDir)
		if err != nil {
			return fmt.Errorf("playbooks: %w", err)
		}
		ctx, log := cmd.Context(), logger(cfg)
		reg := prometheus.NewRegistry() // /metrics: the API's and the Temporal SDK's
		st, c, err := startCluster(ctx, cfg, keys, log, reg)
		if err != nil {
			return err
		}
		defer st.Close()
		defer c.Close()
		if cfg.AdminToken != "" {
			if err := bootstrapAdmin(ctx, st, cfg.AdminToken, "BREACHFLOW_ADMIN_TOKEN", "set a new one"); err != nil {
				return err
			}
		}
		// The server registers breachflow's search attributes on a
		// namespace that lacks them; workers only check (ensureSearchAttributes).
		if err := workflows.EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
			return fmt.Errorf("BREACHFLOW_TEMPORAL_NAMESPACE: %s: %s", cfg.TemporalNamespace, oneLine(err))
		}
		alertDeps, err := apiAlerts(cfg, catalog)
		if err != nil {
			return err
		}
		srv := api.NewHTTPServer(cfg.HTTPAddr, api.New(api.Deps{Alerts: alertDeps, Store: st, Temporal: c, Converter: codec.DataConverter(keys),
			Playbooks: catalog, Logger: log, Codec: codec.HTTPHandler(keys),
			Org:  cfg.Org(),
			Keys: keys, SubjectKey: cfg.SubjectKey(), ActorKey: cfg.ActorSigningKey(), EvidenceKey: cfg.EvidenceSigningKey(), AllowLocalDomains: cfg.AllowLocalDomains, Slack: apiSlack(cfg),
			LetterFonts: cfg.LetterFonts(), Registry: reg}).Handler(),
			api.DefaultHTTPTimeouts())
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error {
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("BREACHFLOW_HTTP_ADDR: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			// Requests in flight get BREACHFLOW_WORKER_STOP_TIMEOUT to finish.
			sctx, cancel := context.WithTimeout(context.Background(), cfg.StopTimeout())
			defer cancel()
			return srv.Shutdown(sctx)
		})
		log.Info("breachflow server listening", "addr", cfg.HTTPAddr)
		return g.Wait()
	}
	return cmd
}

func workerCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "worker", Short: "Run workflows and activities against an external Temporal cluster and database", Args: cobra.NoArgs}
	load := config.Flags(cmd.Flags(), os.Getenv)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		keys, err := clusterParts(cfg, cfg.WorkerProcesses()...)
		if err != nil {
			return err
		}
		ctx, log := cmd.Context(), logger(cfg)
		var reg *prometheus.Registry // nil: the SDK's metrics are not recorded
		if cfg.MetricsAddr != "" {
			reg = prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		}
		st, c, err := startCluster(ctx, cfg, keys, log, reg)
		if err != nil {
			return err
		}
		defer st.Close()
		defer c.Close()
		if reg != nil {
			stop, err := serveMetrics(cfg.MetricsAddr, reg)
			if err != nil {
				return err
			}
			defer stop()
		}
		if err := workflows.CheckSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
			return fmt.Errorf("BREACHFLOW_TEMPORAL_NAMESPACE: %s", oneLine(err))
		}
		mailer := cfg.Mailer()
		defer mailer.Close()
		ws := newWorkers(cfg, c, st, keys, mailer, slackRoom(cfg, st))
		if err := startWorkers(ws); err != nil {
			return err
		}
		log.Info("breachflow worker running", "queues", cfg.WorkerQueues)
		<-ctx.Done()
		stopWorkers(ws)
		return nil
	}
	return cmd
}

// serveMetrics serves GET /metrics of reg on addr (a worker's own
// endpoint: it has no API); stop closes it.
func serveMetrics(addr string, reg *prometheus.Registry) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

func migrateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply the store's database migrations", Args: cobra.NoArgs}
	load := config.Flags(cmd.Flags(), os.Getenv)
	backfill := cmd.Flags().Bool("backfill-restricted", false,
		"after migrating, ask Temporal which incidents are restricted and record them and their members in the store's index (once, when upgrading from a store before migration 00008)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		st, err := openStore(ctx, cfg.DevDatabaseURL())
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "migrated %s store\n", st.Dialect())
		if !*backfill {
			return nil
		}
		if cfg.TemporalAddress == "" {
			return fmt.Errorf("--backfill-restricted: BREACHFLOW_TEMPORAL_ADDRESS is required to read the incidents' workflows")
		}
		keys, err := codec.ParseKeys(cfg.EncryptionKeys)
		if err != nil {
			return fmt.Errorf("--backfill-restricted: BREACHFLOW_ENCRYPTION_KEYS: %w", err)
		}
		c, err := dialCluster(ctx, cfg, keys, logger(cfg), nil)
		if err != nil {
			return err
		}
		defer c.Close()
		return backfillRestricted(ctx, st, c, cmd.OutOrStdout())
	}
	return cmd
}

// backfillRestricted brings the store's index in line with the workflows:
// an incident the index holds as unrestricted whose workflow says it is
// restricted (launched before the index recorded restriction) is marked
// restricted with the workflow's members and its launcher, so the API's
// authorization hides it from everyone else. An incident whose workflow
// does not answer is named and left as it is; the count of those is the
// error, so a partial backfill is not mistaken for a done one.
func backfillRestricted(ctx context.Context, st store.Store, c client.Client, out io.Writer) error {
	ids, err := st.UnrestrictedIncidents(ctx)
	if err != nil {
		return err
	}
	restricted, unanswered := 0, 0
	for _, id := range ids {
		v, err := c.QueryWorkflow(ctx, workflows.IncidentWorkflowID(id), "", workflows.QueryStatus)
		var s breach.Status
		if err == nil {
			err = v.Get(&s)
		}
		if err != nil {
			unanswered++
			fmt.Fprintf(out, "%s: the workflow did not answer (%v); left as it is\n", id, err)
			continue
		}
		if !s.Restricted {
			continue
		}
		members := slices.Compact(slices.Sorted(slices.Values(append([]string{s.LaunchedBy}, s.Members...))))
		changed, err := st.RestrictIncident(ctx, id, members, "backfill")
		if err != nil {
			return err
		}
		if changed {
			restricted++
			fmt.Fprintf(out, "%s: restricted to %s\n", id, strings.Join(members, ", "))
		}
	}
	fmt.Fprintf(out, "backfill: %d incidents checked, %d marked restricted\n", len(ids), restricted)
	if unanswered > 0 {
		return fmt.Errorf("backfill: %d incidents' workflows did not answer; run it again when they do", unanswered)
	}
	return nil
}

// tokenCommand manages tokens straight in the store (the database of
// BREACHFLOW_DATABASE_URL, or the dev data directory), so the first
// tokens can be made before any API is up; /v1/tokens does the same over
// HTTP for admins.
func tokenCommand() *cobra.Command {
	tok := &cobra.Command{Use: "token", Short: "Manage API tokens: create, list, revoke"}
	tok.AddCommand(tokenCreateCommand(), tokenListCommand(), tokenRevokeCommand())
	return tok
}

// tokenStore opens and migrates the store the token commands work on.
func tokenStore(ctx context.Context, load func() (*config.Config, error)) (store.Store, error) {
	cfg, err := load()
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.DevDatabaseURL())
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return st, nil
}

// parseExpiry reads --expires: a duration from now ("720h") or an
// RFC 3339 instant; empty means never.
func parseExpiry(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if _, err := time.ParseDuration(v); err == nil {
		return api.TokenExpiry(nil, v, now)
	}
	if at, err := time.Parse(time.RFC3339, v); err == nil {
		return api.TokenExpiry(&at, "", now)
	}
	return time.Time{}, errors.New(`want a duration such as "720h" or an RFC 3339 time such as 2027-01-31T00:00:00Z`)
}

func tokenCreateCommand() *cobra.Command {
	create := &cobra.Command{Use: "create", Short: "Create an API token and print it once", Args: cobra.NoArgs}
	load := config.Flags(create.Flags(), os.Getenv)
	role := create.Flags().String("role", "", "admin, responder, legal or viewer")
	name := create.Flags().String("name", "", "who the token is for (shown in the audit trail)")
	expires := create.Flags().String("expires", "", `when the token stops working: a duration ("720h") or an RFC 3339 time; default never`)
	create.RunE = func(cmd *cobra.Command, _ []string) error {
		if !breach.ValidRole(*role) {
			return fmt.Errorf("--role: %q is not one of admin, responder, legal, viewer", *role)
		}
		if *name == "" || len(*name) > 100 {
			return errors.New("--name: required, at most 100 characters")
		}
		exp, err := parseExpiry(*expires, time.Now())
		if err != nil {
			return fmt.Errorf("--expires: %w", err)
		}
		st, err := tokenStore(cmd.Context(), load)
		if err != nil {
			return err
		}
		defer st.Close()
		secret, _, err := st.IssueToken(cmd.Context(), store.TokenSpec{Name: *name, Role: *role, ExpiresAt: exp})
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), secret)
		return nil
	}
	return create
}

func tokenListCommand() *cobra.Command {
	list := &cobra.Command{Use: "list", Short: "List API tokens (or, with --calendar, calendar tokens); never their secrets", Args: cobra.NoArgs}
	load := config.Flags(list.Flags(), os.Getenv)
	calendar := list.Flags().Bool("calendar", false, "list calendar tokens instead")
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		st, err := tokenStore(cmd.Context(), load)
		if err != nil {
			return err
		}
		defer st.Close()
		w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		defer w.Flush()
		now := time.Now()
		if *calendar {
			cts, err := st.ListCalendarTokens(cmd.Context(), 0)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "ID\tOWNER\tSTATUS\tCREATED")
			for _, ct := range cts {
				status := "active"
				if !ct.RevokedAt.IsZero() {
					status = "revoked " + ct.RevokedAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", ct.ID, ct.OwnerName, status, ct.CreatedAt.UTC().Format(time.RFC3339))
			}
			return nil
		}
		toks, err := st.ListTokens(cmd.Context())
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "ID\tNAME\tROLE\tSTATUS\tEXPIRES\tCREATED")
		for _, t := range toks {
			status := api.TokenStatus(t, now)
			if t.Bootstrap {
				status += " (bootstrap)"
			}
			exp := "never"
			if !t.ExpiresAt.IsZero() {
				exp = t.ExpiresAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, status, exp, t.CreatedAt.UTC().Format(time.RFC3339))
		}
		return nil
	}
	return list
}

func tokenRevokeCommand() *cobra.Command {
	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke an API token (its calendar feeds and dashboard sessions end too), or with --calendar one calendar token", Args: cobra.ExactArgs(1)}
	load := config.Flags(revoke.Flags(), os.Getenv)
	calendar := revoke.Flags().Bool("calendar", false, "ID is a calendar token's (see token list --calendar)")
	revoke.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("ID: %q is not a token id (see breachflow token list)", args[0])
		}
		st, err := tokenStore(cmd.Context(), load)
		if err != nil {
			return err
		}
		defer st.Close()
		what := "token"
		if *calendar {
			what = "calendar token"
			err = st.RevokeCalendarToken(cmd.Context(), id, 0)
		} else {
			err = st.RevokeToken(cmd.Context(), id)
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no %s %d", what, id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "revoked %s %d\n", what, id)
		return nil
	}
	return revoke
}
