package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/workflows"
	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// namespaceCommand prepares a Temporal cluster for breachflow: the
// namespace and breachflow's search attributes, each created only when
// missing, so it can run before every start (deploy/cluster.sh does).
func namespaceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "namespace", Short: "Register BREACHFLOW_TEMPORAL_NAMESPACE and breachflow's search attributes on a Temporal cluster (idempotent)", Args: cobra.NoArgs}
	load := config.Flags(cmd.Flags(), os.Getenv)
	retention := cmd.Flags().Duration("retention", 720*time.Hour, "how long Temporal keeps a closed incident's history (a new namespace's retention)")
	wait := cmd.Flags().Duration("wait", time.Minute, "how long to wait for the frontend to answer (a server that is still starting)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		if cfg.TemporalAddress == "" {
			return errors.New("BREACHFLOW_TEMPORAL_ADDRESS: required")
		}
		keys, err := codec.ParseKeys(cfg.EncryptionKeys)
		if err != nil {
			return fmt.Errorf("BREACHFLOW_ENCRYPTION_KEYS: %w", err)
		}
		ctx := cmd.Context()
		wctx, cancel := context.WithTimeout(ctx, *wait)
		defer cancel()
		var c client.Client
		for {
			dctx, dcancel := context.WithTimeout(wctx, dialTimeout)
			c, err = dialCluster(dctx, cfg, keys, logger(cfg), nil)
			dcancel()
			if err == nil {
				break
			}
			select {
			case <-wctx.Done():
				return fmt.Errorf("BREACHFLOW_TEMPORAL_ADDRESS: no Temporal frontend answered at %s within %s (%s)", cfg.TemporalAddress, *wait, oneLine(err))
			case <-time.After(time.Second):
			}
		}
		defer c.Close()
		created, err := ensureNamespace(wctx, c, cfg.TemporalNamespace, *retention)
		if err != nil {
			return fmt.Errorf("BREACHFLOW_TEMPORAL_NAMESPACE: %s: %s", cfg.TemporalNamespace, oneLine(err))
		}
		// A new namespace reaches the frontend's cache a moment after it
		// is registered: retry the search attributes until it has.
		for {
			err = workflows.EnsureSearchAttributes(wctx, c, cfg.TemporalNamespace)
			if err == nil {
				break
			}
			select {
			case <-wctx.Done():
				return fmt.Errorf("BREACHFLOW_TEMPORAL_NAMESPACE: %s: %s", cfg.TemporalNamespace, oneLine(err))
			case <-time.After(time.Second):
			}
		}
		verb := "found"
		if created {
			verb = "registered"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s namespace %s with breachflow's search attributes\n", verb, cfg.TemporalNamespace)
		return nil
	}
	return cmd
}

// ensureNamespace registers namespace unless it exists; it reports whether
// it registered it.
func ensureNamespace(ctx context.Context, c client.Client, namespace string, retention time.Duration) (bool, error) {
	_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err == nil {
		return false, nil
	}
	var notFound *serviceerror.NamespaceNotFound
	if !errors.As(err, &notFound) {
		return false, fmt.Errorf("describe namespace: %w", err)
	}
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: namespace, WorkflowExecutionRetentionPeriod: durationpb.New(retention)})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return false, fmt.Errorf("register namespace: %w", err)
	}
	return err == nil, nil
}
