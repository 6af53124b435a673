package main

import (
	"context"
	"fmt"
	"time"

	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/spf13/cobra"
)

// mailcatcherCommand runs dev's SMTP catcher on its own, as the sink of a
// local cluster (deploy/cluster.sh): it accepts every message, keeps none
// on disk, and prints how many it has received, never whom to.
func mailcatcherCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "mailcatcher", Short: "Run an SMTP server that accepts and counts every message (a local cluster's mail sink)", Args: cobra.NoArgs}
	addr := cmd.Flags().String("addr", "127.0.0.1:1025", "SMTP listen address")
	every := cmd.Flags().Duration("every", 10*time.Second, "how often to print the count while it changes")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		sink, err := mailcatcher.Start(*addr, 1000)
		if err != nil {
			return fmt.Errorf("--addr: %w", err)
		}
		defer sink.Close(context.Background())
		out := cmd.OutOrStdout()
		fmt.Fprintf(out, "mailcatcher listening on %s\n", sink.Addr())
		t := time.NewTicker(*every)
		defer t.Stop()
		last := 0
		for {
			select {
			case <-cmd.Context().Done():
				fmt.Fprintf(out, "mailcatcher received %d messages\n", sink.Total())
				return nil
			case <-t.C:
				if n := sink.Total(); n != last {
					fmt.Fprintf(out, "mailcatcher received %d messages\n", n)
					last = n
				}
			}
		}
	}
	return cmd
}
