package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"
)

func deadlinesCommand() *cobra.Command {
	return newDeadlinesCommand(os.Getenv, time.Now)
}

// deadline is one row of GET /v1/deadlines.
type deadline struct {
	IncidentID             string     `json:"incident_id"`
	Severity               string     `json:"severity"`
	Obligation             string     `json:"obligation"`
	Regime                 string     `json:"regime"`
	Jurisdiction           string     `json:"jurisdiction"`
	RecipientName          string     `json:"recipient_name"`
	DueAt                  *time.Time `json:"due_at"`
	Status                 string     `json:"status"`
	MissingFacts           []string   `json:"missing_facts"`
	NeedsLegalConfirmation bool       `json:"needs_legal_confirmation"`
}

// newDeadlinesCommand prints legal's deadline board as a table.
func newDeadlinesCommand(getenv func(string) string, now func() time.Time) *cobra.Command {
	o := &clientOptions{getenv: getenv, now: now}
	var within, status, jurisdiction, incident string
	cmd := &cobra.Command{
		Use:   "deadlines",
		Short: "Every open notification duty across incidents, soonest first",
		Args:  cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&o.api, "api", "", "API base URL (default $BREACHFLOW_API_URL or "+defaultAPIURL+")")
	f.StringVar(&o.token, "token", "", "API token (default $BREACHFLOW_TOKEN)")
	f.BoolVar(&o.json, "json", false, "print the API's raw JSON response")
	f.StringVar(&within, "within", "", "only duties due within this long, e.g. 24h")
	f.StringVar(&status, "status", "", "pending, overdue, filed, waived (comma-separated; default pending,overdue)")
	f.StringVar(&jurisdiction, "jurisdiction", "", "e.g. EU, DE, US-CA")
	f.StringVar(&incident, "incident", "", "one incident id")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := url.Values{}
		for k, v := range map[string]string{"within": within, "status": status, "jurisdiction": jurisdiction, "incident": incident} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var board struct {
			Deadlines []deadline `json:"deadlines"`
		}
		return o.call(cmd, apiRequest{method: http.MethodGet, path: "/v1/deadlines", query: q}, &board, func(w io.Writer) error {
			if len(board.Deadlines) == 0 {
				fmt.Fprintln(w, "No open deadlines.")
				return nil
			}
			fmt.Fprintln(w, "DUE\tLEFT\tINCIDENT\tSEVERITY\tOBLIGATION\tREGIME\tTO\tSTATUS")
			for _, d := range board.Deadlines {
				due := "no fixed time"
				if d.DueAt != nil {
					due = stamp(*d.DueAt)
				}
				st := d.Status
				if len(d.MissingFacts) > 0 {
					st += " (missing " + fmt.Sprint(d.MissingFacts) + ")"
				}
				if d.NeedsLegalConfirmation {
					st += " [verify]"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", due, relDeadline(d.DueAt, o.now()), cell(d.IncidentID),
					cell(d.Severity), cell(d.Obligation), printable(d.Regime, 40), printable(d.RecipientName, 40), printable(st, 80))
			}
			return nil
		})
	}
	return cmd
}
