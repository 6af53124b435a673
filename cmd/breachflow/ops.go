package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/dburl"
	"github.com/breachflow/breachflow/workflows"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

func logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// clusterParts checks what server and worker need from a real deployment.
func clusterParts(cfg *config.Config) (*codec.Keyring, error) {
	if cfg.TemporalAddress == "" {
		return nil, errors.New("BREACHFLOW_TEMPORAL_ADDRESS: required (host:port of the Temporal frontend); use `breachflow dev` for the embedded one")
	}
	if cfg.DatabaseURL == "" {
		return nil, errors.New("BREACHFLOW_DATABASE_URL: required (postgres://… or sqlite:///path)")
	}
	if cfg.EncryptionKeys == "" {
		return nil, errors.New("BREACHFLOW_ENCRYPTION_KEYS: required (keyid:base64key,…; the same on every server and worker)")
	}
	if cfg.ActorKey == "" {
		return nil, errors.New("BREACHFLOW_ACTOR_KEY: required (base64 of 32+ random bytes; the same on every server and worker)")
	}
	kr, err := codec.ParseKeys(cfg.EncryptionKeys)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_ENCRYPTION_KEYS: %w", err)
	}
	return kr, nil
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
		keys, err := clusterParts(cfg)
		if err != nil {
			return err
		}
		catalog, err := playbooks.Load(cfg.PlaybookDir)
		if err != nil {
			return fmt.Errorf("playbooks: %w", err)
		}
		ctx, log := cmd.Context(), logger()
		st, err := openStore(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer st.Close()
		if cfg.AdminToken != "" {
			if _, err := st.EnsureToken(ctx, "admin", breach.RoleAdmin, cfg.AdminToken); err != nil {
				return fmt.Errorf("BREACHFLOW_ADMIN_TOKEN: %w", err)
			}
		}
		c, err := workflows.Dial(ctx, cfg.TemporalAddress, cfg.TemporalNamespace, keys, log)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := workflows.EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
			return err
		}
		alertDeps, err := apiAlerts(cfg, catalog)
		if err != nil {
			return err
		}
		srv := &http.Server{
			Addr: cfg.HTTPAddr,
			Handler: api.New(api.Deps{Alerts: alertDeps, Store: st, Temporal: c, Converter: codec.DataConverter(keys),
				Playbooks: catalog, Logger: log, Codec: codec.HTTPHandler(keys),
				Org:  cfg.Org(),
				Keys: keys, SubjectKey: cfg.SubjectKey(), ActorKey: cfg.ActorSigningKey(), AllowLocalDomains: cfg.AllowLocalDomains, Slack: apiSlack(cfg)}).Handler(),
			ReadHeaderTimeout: 10 * time.Second,
		}
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error {
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("BREACHFLOW_HTTP_ADDR: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
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
		keys, err := clusterParts(cfg)
		if err != nil {
			return err
		}
		ctx, log := cmd.Context(), logger()
		st, err := openStore(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer st.Close()
		c, err := workflows.Dial(ctx, cfg.TemporalAddress, cfg.TemporalNamespace, keys, log)
		if err != nil {
			return err
		}
		defer c.Close()
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

func migrateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply the store's database migrations", Args: cobra.NoArgs}
	load := config.Flags(cmd.Flags(), os.Getenv)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		st, err := openStore(cmd.Context(), cfg.DevDatabaseURL())
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Migrate(cmd.Context()); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "migrated %s store\n", st.Dialect())
		return nil
	}
	return cmd
}

func tokenCommand() *cobra.Command {
	tok := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	create := &cobra.Command{Use: "create", Short: "Create an API token and print it once", Args: cobra.NoArgs}
	load := config.Flags(create.Flags(), os.Getenv)
	role := create.Flags().String("role", "", "admin, responder, legal or viewer")
	name := create.Flags().String("name", "", "who the token is for (shown in the audit trail)")
	create.RunE = func(cmd *cobra.Command, _ []string) error {
		if !breach.ValidRole(*role) {
			return fmt.Errorf("--role: %q is not one of admin, responder, legal, viewer", *role)
		}
		if *name == "" || len(*name) > 100 {
			return errors.New("--name: required, at most 100 characters")
		}
		cfg, err := load()
		if err != nil {
			return err
		}
		st, err := openStore(cmd.Context(), cfg.DevDatabaseURL())
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Migrate(cmd.Context()); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		secret, _, err := st.CreateToken(cmd.Context(), *name, *role)
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), secret)
		return nil
	}
	tok.AddCommand(create)
	return tok
}
