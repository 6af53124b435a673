// Package devserver runs a complete Temporal server inside the breachflow
// process for `breachflow dev` and the integration tests: frontend,
// history, matching and worker services on SQLite, persisted in a file so
// incidents and their timers survive a restart, plus the Temporal Web UI.
//
// It is built the way the Temporal CLI's `server start-dev` builds its
// server, and it is the only package that imports go.temporal.io/server:
// that module is large, so the rest of breachflow links without it.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

const clusterName = "active"

// Options configure the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file holding Temporal's state; it is
	// created with the schema when missing.
	DatabaseFile string
	// Namespace is registered at start (with SearchAttributes) if missing.
	Namespace string
	// SearchAttributes are the custom search attributes registered with the namespace.
	SearchAttributes map[string]enumspb.IndexedValueType
	// IP the services bind to; default 127.0.0.1.
	IP string
	// FrontendPort is the gRPC frontend port; 0 picks a free one.
	FrontendPort int
	// UIPort serves the Temporal Web UI; 0 disables it.
	UIPort int
	// CodecEndpoint is the payload codec URL the Web UI's browser calls to
	// decrypt payloads (breachflow serves it on its own HTTP port).
	CodecEndpoint string
	// LogLevel of the server's own log on stderr: debug, info, warn,
	// error (default warn).
	LogLevel string
}

// Server is a running embedded Temporal server.
type Server struct {
	temporal temporal.Server
	ui       *uiserver.Server
	frontend string
	uiURL    string
}

// Start prepares the database, registers the namespace and starts every
// service. It returns once the frontend accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "warn"
	}
	if opts.DatabaseFile == "" {
		return nil, errors.New("devserver: DatabaseFile is required")
	}
	ports, err := freePorts(opts.IP, opts.FrontendPort)
	if err != nil {
		return nil, err
	}
	sqlCfg := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: opts.DatabaseFile,
		ConnectAttributes: map[string]string{
			"mode":          "rwc",
			"_journal_mode": "wal",
			"_synchronous":  "2",
		},
	}
	if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o700); err != nil {
		return nil, fmt.Errorf("devserver: data dir: %w", err)
	}
	if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(sqlCfg); err != nil {
			return nil, fmt.Errorf("devserver: create schema: %w", err)
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("devserver: namespace: %w", err)
	}
	// Retention covers closed incidents' histories in dev; the evidence
	// record of a closed incident lives in breachflow's own store.
	ns.Detail.Config.Retention = durationpbHours(24 * 30)
	if err := sqliteschema.CreateNamespaces(sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("devserver: register namespace: %w", err)
	}

	cfg := serverConfig(opts.IP, ports, sqlCfg)
	hosts := map[primitives.ServiceName]static.Hosts{}
	for i, svc := range []primitives.ServiceName{primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(ports[i])))
	}
	dc := dynamicconfig.StaticClient{
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		// A human's Update must be answered even when the worker is busy
		// with a long history replay after a restart.
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key(): true,
		// One host, one partition per task queue: with the default four, a
		// poller can wait on an empty partition while tasks queue in
		// another until matching forwards them, which left notice batches
		// idle between activities.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithDynamicConfigClient(dc),
		temporal.WithLogger(log.NewZapLogger(log.BuildZapLogger(log.Config{Level: opts.LogLevel, Format: "console"}))),
		temporal.WithCustomMetricsHandler(metrics.NoopMetricsHandler),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: new server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start: %w", err)
	}
	s := &Server{temporal: srv, frontend: net.JoinHostPort(opts.IP, strconv.Itoa(ports[0]))}
	if err := waitListening(ctx, s.frontend); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	if opts.UIPort != 0 {
		if err := s.startUI(opts); err != nil {
			_ = srv.Stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) startUI(opts Options) error {
	// The UI server exits the process when it cannot bind, so check first.
	addr := net.JoinHostPort(opts.IP, strconv.Itoa(opts.UIPort))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("devserver: Temporal UI port: %w (set BREACHFLOW_DEV_UI_PORT, 0 turns the UI off)", err)
	}
	_ = l.Close()
	cfg := &uiconfig.Config{
		Host:                opts.IP,
		Port:                opts.UIPort,
		TemporalGRPCAddress: s.frontend,
		EnableUI:            true,
		DefaultNamespace:    opts.Namespace,
		HideLogs:            true,
		DisableNewsFetch:    true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		Distribution:        "breachflow",
	}
	if opts.CodecEndpoint != "" {
		cfg.Codec = uiconfig.Codec{Endpoint: opts.CodecEndpoint, PassAccessToken: false}
	}
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(cfg))
	go func() { _ = s.ui.Start() }()
	s.uiURL = "http://" + addr
	return waitListening(context.Background(), addr)
}

// FrontendHostPort is the gRPC address clients dial.
func (s *Server) FrontendHostPort() string { return s.frontend }

// UIURL is the Web UI's address, or "" when it is off.
func (s *Server) UIURL() string { return s.uiURL }

// Stop shuts the UI and every Temporal service down.
func (s *Server) Stop() error {
	if s.ui != nil {
		s.ui.Stop()
	}
	return s.temporal.Stop()
}

func serverConfig(ip string, ports []int, sqlCfg *config.SQL) *config.Config {
	svc := func(i int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: ports[i], MembershipPort: ports[4+i], BindOnIP: ip}}
	}
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: ip},
		},
		Persistence: config.Persistence{
			DefaultStore:     sqliteplugin.PluginName,
			VisibilityStore:  sqliteplugin.PluginName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: net.JoinHostPort(ip, strconv.Itoa(ports[0]))},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services: map[string]config.Service{
			"frontend": svc(0), "history": svc(1), "matching": svc(2), "worker": svc(3),
		},
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		PublicClient: config.PublicClient{HostPort: net.JoinHostPort(ip, strconv.Itoa(ports[0]))},
		NamespaceDefaults: config.NamespaceDefaults{
			Archival: config.ArchivalNamespaceDefaults{
				History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
				Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
			},
		},
	}
}

// freePorts returns the frontend port (the one asked for, or a free one)
// followed by seven free ports for the other services' gRPC and membership.
func freePorts(ip string, frontend int) ([]int, error) {
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for i := 0; i < 8; i++ {
		want := 0
		if i == 0 {
			want = frontend
		}
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(want)))
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("devserver: Temporal frontend port %d: %w (is another Temporal or breachflow dev running? set BREACHFLOW_DEV_TEMPORAL_PORT)", want, err)
			}
			return nil, fmt.Errorf("devserver: free port: %w", err)
		}
		held = append(held, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func waitListening(ctx context.Context, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devserver: %s not listening after 30s: %w", addr, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func durationpbHours(h int) *durationpb.Duration {
	return durationpb.New(time.Duration(h) * time.Hour)
}
