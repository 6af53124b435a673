package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// accessGrant is an access grant as the API answers it.
type accessGrant struct {
	ID          int64      `json:"id"`
	RequestedBy string     `json:"requested_by"`
	Reason      string     `json:"reason"`
	Duration    string     `json:"duration"`
	Status      string     `json:"status"`
	ApprovedBy  string     `json:"approved_by"`
	ExpiresAt   *time.Time `json:"expires_at"`
	Needs       string     `json:"needs"`
}

// grantCommand is `incident grant request|approve|list`: two-person
// control of reading the customers' decrypted contacts.
func (o *clientOptions) grantCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "grant",
		Short: "Request, approve and list time-boxed access grants to customers' contacts",
		Long: "Reading an incident's decrypted customer contacts (the outreach call list) needs an\n" +
			"access grant: one person requests it with a reason and a duration, a second person\n" +
			"with the legal role approves it, and it is good for its requester, that incident and\n" +
			"its time box only. Every request, approval and read is in the audit chain.",
	}
	var reason, duration string
	request := &cobra.Command{
		Use:   "request ID --reason R --duration D",
		Short: "Ask for a grant (at most 8h); a second person must approve it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var g accessGrant
			return o.call(cmd, apiRequest{method: http.MethodPost, path: incidentPath(args[0], "grants"),
				body: map[string]string{"reason": reason, "duration": duration}}, &g, func(w io.Writer) error {
				fmt.Fprintf(w, "Requested access grant %d on %s for %s; it needs %s.\n", g.ID, args[0], g.Duration, g.Needs)
				return nil
			})
		},
	}
	request.Flags().StringVar(&reason, "reason", "", "why you need the customers' contacts; kept in the audit chain (required)")
	request.Flags().StringVar(&duration, "duration", "1h", "how long, from the approval: 30m, 2h, at most 8h")
	_ = request.MarkFlagRequired("reason")
	approve := &cobra.Command{
		Use:   "approve ID GRANT",
		Short: "Approve another person's grant (legal), starting its time box",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := strconv.ParseInt(args[1], 10, 64); err != nil {
				return fmt.Errorf("GRANT %q: a grant number, as `incident grant list` shows", args[1])
			}
			var g accessGrant
			return o.call(cmd, apiRequest{method: http.MethodPost, path: incidentPath(args[0], "grants", args[1], "approve")}, &g,
				func(w io.Writer) error {
					fmt.Fprintf(w, "Approved access grant %d: %s may read the contacts of %s until %s.\n", g.ID, g.RequestedBy, args[0], stampPtr(g.ExpiresAt))
					return nil
				})
		},
	}
	list := &cobra.Command{
		Use:   "list ID",
		Short: "List an incident's access grants",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct {
				Grants []accessGrant `json:"grants"`
			}
			return o.call(cmd, apiRequest{method: http.MethodGet, path: incidentPath(args[0], "grants")}, &out, func(w io.Writer) error {
				fmt.Fprintln(w, "GRANT\tREQUESTED BY\tFOR\tSTATUS\tAPPROVED BY\tUNTIL\tREASON")
				for _, g := range out.Grants {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, cell(g.RequestedBy), cell(g.Duration), cell(g.Status),
						cell(g.ApprovedBy), stampPtr(g.ExpiresAt), cell(g.Reason))
				}
				return nil
			})
		},
	}
	cmd.AddCommand(request, approve, list)
	return cmd
}

func stampPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return stamp(*t)
}
