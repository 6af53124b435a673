// Command breachflow is the one binary: the dev stack, the API server, the
// worker, migrations, tokens, and the client commands responders and legal
// use from a terminal.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "breachflow:", err)
		os.Exit(1)
	}
}

func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "breachflow",
		Short:         "Orchestrate the response to a personal-data breach",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(devCommand(), serverCommand(), workerCommand(), migrateCommand(), tokenCommand(), playbookCommand(), incidentCommand(), subjectsCommand(), deadlinesCommand(), auditCommand(), obligationCommand(), assessCommand(), evidenceCommand(), alertsCommand(), detectCommand(), benchCommand(), versionCommand(), namespaceCommand(), mailcatcherCommand(), replayCommand())
	return root
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "breachflow", version)
			return nil
		},
	}
}
