package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/breachflow/breachflow/playbooks"
	"github.com/spf13/cobra"
)

func playbookCommand() *cobra.Command {
	pb := &cobra.Command{Use: "playbook", Short: "Work with playbook files"}
	pb.AddCommand(&cobra.Command{
		Use:   "validate FILE...",
		Short: "Check playbook files; errors name file, line and field",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			bad := 0
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				p, err := playbooks.Parse(f, data)
				if err != nil {
					bad++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: %s v%d, %d steps\n", f, p.ID, p.Version, len(p.Steps))
			}
			if bad > 0 {
				return errors.New("invalid playbook")
			}
			return nil
		},
	})
	return pb
}
