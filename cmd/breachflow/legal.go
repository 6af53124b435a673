package main

// Legal's work from a terminal: facts (`incident patch`), filings and
// waivers (`obligation file|waive`), report drafts (`obligation report`),
// assessments before launch and what-ifs (`assess`), legal hold
// (`incident hold`) and evidence packs (`evidence export|verify|key`).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/spf13/cobra"
)

// factArg turns one --fact name=value into the JSON the API takes for
// that fact, by the fact's kind: lists are comma-separated, counts are
// CODE:N pairs (or a JSON object), "null" clears the fact.
func factArg(arg string) (string, json.RawMessage, error) {
	name, value, ok := strings.Cut(arg, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", nil, fmt.Errorf("--fact %q: want name=value", arg)
	}
	fact, known := breach.LookupFact(name)
	if !known || fact.System || fact.Name != name {
		return "", nil, fmt.Errorf("--fact %q: unknown fact; facts are %s", name, strings.Join(breach.FactNames("", false), ", "))
	}
	value = strings.TrimSpace(value)
	if value == "null" {
		return name, json.RawMessage("null"), nil
	}
	var v any
	switch fact.Kind {
	case breach.KindBool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return "", nil, fmt.Errorf("--fact %s: want true or false, not %q", name, value)
		}
		v = b
	case breach.KindChoices, breach.KindJurisdictions:
		list := []string{}
		for _, x := range strings.Split(value, ",") {
			if x = strings.TrimSpace(x); x != "" {
				list = append(list, x)
			}
		}
		v = list
	case breach.KindCounts:
		if strings.HasPrefix(value, "{") {
			return name, json.RawMessage(value), nil
		}
		counts := map[string]int{}
		for _, pair := range strings.Split(value, ",") {
			code, n, ok := strings.Cut(strings.TrimSpace(pair), ":")
			num, err := strconv.Atoi(strings.TrimSpace(n))
			if !ok || err != nil {
				return "", nil, fmt.Errorf("--fact %s: want CODE:N pairs such as US-CA:600,US-TX:40, not %q", name, value)
			}
			counts[strings.TrimSpace(code)] = num
		}
		v = counts
	default:
		v = value
	}
	raw, err := json.Marshal(v)
	return name, raw, err
}

func (o *clientOptions) patchCommand() *cobra.Command {
	var risk, severity, key string
	var facts []string
	cmd := &cobra.Command{
		Use:   "patch ID [--risk R] [--severity S] [--fact name=value …]",
		Short: "Change an incident's facts; obligations and clocks are recomputed",
		Long: "Change an incident's facts (docs/api.md lists them). Lists are comma-separated\n" +
			"(--fact jurisdictions=US-CA,US-TX), counts are CODE:N pairs (--fact affected=US-CA:600,US-TX:40),\n" +
			"times RFC 3339, and null clears a fact. Setting risk needs the legal role.",
		Example: "  breachflow incident patch BR-7K3F9Q --risk high --fact determined_at=2026-11-24T09:00:00Z --fact affected=US-CA:600,US-TX:40",
		Args:    cobra.ExactArgs(1),
	}
	f := cmd.Flags()
	f.StringVar(&risk, "risk", "", "legal's risk assessment: "+strings.Join(breach.RiskLevels(), ", "))
	f.StringVar(&severity, "severity", "", "low, medium, high or critical")
	// StringArray: a list value holds commas.
	f.StringArrayVar(&facts, "fact", nil, "a fact as name=value (repeatable)")
	f.StringVar(&key, "idempotency-key", "", "makes a retried request return the first answer")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		body := map[string]json.RawMessage{}
		if risk != "" {
			body["risk"], _ = json.Marshal(risk)
		}
		if severity != "" {
			body["severity"], _ = json.Marshal(severity)
		}
		for _, a := range facts {
			name, raw, err := factArg(a)
			if err != nil {
				return err
			}
			body[name] = raw
		}
		if len(body) == 0 {
			return errors.New("nothing to change: give --risk, --severity or --fact name=value")
		}
		var st incidentStatus
		return o.call(cmd, apiRequest{method: http.MethodPatch, path: incidentPath(args[0]), body: body, idempotencyKey: key}, &st,
			func(w io.Writer) error {
				fmt.Fprintf(w, "Changed %s of %s.\n\n", strings.Join(slices.Sorted(mapKeys(body)), ", "), st.ID)
				o.renderIncident(w, &st)
				return nil
			})
	}
	return cmd
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (o *clientOptions) holdCommand() *cobra.Command {
	var reason string
	var lift bool
	cmd := &cobra.Command{
		Use:   "hold ID --reason R [--lift]",
		Short: "Place (or --lift) a legal hold: a held incident's customer data cannot be purged",
		Args:  cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why; kept for the record (required)")
	cmd.Flags().BoolVar(&lift, "lift", false, "lift the standing hold")
	_ = cmd.MarkFlagRequired("reason")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		path := incidentPath(args[0], "hold")
		if lift {
			path += "/lift"
		}
		var st struct {
			Incident string `json:"incident"`
			Held     bool   `json:"held"`
			Hold     *struct {
				PlacedBy string    `json:"placed_by"`
				PlacedAt time.Time `json:"placed_at"`
				Reason   string    `json:"reason"`
			} `json:"hold"`
		}
		return o.call(cmd, apiRequest{method: http.MethodPost, path: path, body: map[string]string{"reason": reason}}, &st,
			func(w io.Writer) error {
				if st.Held && st.Hold != nil {
					fmt.Fprintf(w, "%s is under legal hold since %s (placed by %s: %s).\n", cell(st.Incident), stamp(st.Hold.PlacedAt),
						cell(st.Hold.PlacedBy), printable(st.Hold.Reason, 200))
				} else {
					fmt.Fprintf(w, "The legal hold on %s is lifted.\n", cell(st.Incident))
				}
				return nil
			})
	}
	return cmd
}

// obligationCommand is `breachflow obligation`: legal's filings, waivers
// and report drafts.
func obligationCommand() *cobra.Command { return newObligationCommand(os.Getenv, time.Now) }

func newObligationCommand(getenv func(string) string, now func() time.Time) *cobra.Command {
	o := &clientOptions{getenv: getenv, now: now}
	cmd := &cobra.Command{Use: "obligation", Short: "Record filings and waivers of an incident's obligations, and print report drafts"}
	o.flags(cmd)

	var ref, note, delay, filedAt, key string
	var supplement bool
	file := &cobra.Command{Use: "file ID OBLIGATION --reference REF", Short: "Record that an obligation was filed", Args: cobra.ExactArgs(2)}
	file.Flags().StringVar(&ref, "reference", "", "the regulator's case or receipt number")
	file.Flags().StringVar(&note, "note", "", "note for the record")
	file.Flags().StringVar(&delay, "delay-reason", "", "why it was filed late (kept for the record)")
	file.Flags().StringVar(&filedAt, "filed-at", "", "when it was filed (RFC 3339; default now)")
	file.Flags().BoolVar(&supplement, "supplement", false, "a follow-up report to an earlier filing")
	file.Flags().StringVar(&key, "idempotency-key", "", "makes a retried request return the first answer")
	file.RunE = func(cmd *cobra.Command, args []string) error {
		if filedAt != "" {
			if _, err := time.Parse(time.RFC3339, filedAt); err != nil {
				return fmt.Errorf("--filed-at: %q is not an RFC 3339 time such as 2026-11-23T08:00:00Z", filedAt)
			}
		}
		body := map[string]any{"reference": ref, "note": note, "delay_reason": delay, "supplement": supplement}
		if filedAt != "" {
			body["filed_at"] = filedAt
		}
		return o.obligationChange(cmd, apiRequest{method: http.MethodPost, path: incidentPath(args[0], "obligations", args[1], "file"),
			body: body, idempotencyKey: key}, "Recorded the filing of %s of %s.\n\n", args)
	}

	var reason, wkey string
	waive := &cobra.Command{Use: "waive ID OBLIGATION --reason R", Short: "Waive an obligation, with the reason kept for the record", Args: cobra.ExactArgs(2)}
	waive.Flags().StringVar(&reason, "reason", "", "why the duty does not apply (required)")
	waive.Flags().StringVar(&wkey, "idempotency-key", "", "makes a retried request return the first answer")
	_ = waive.MarkFlagRequired("reason")
	waive.RunE = func(cmd *cobra.Command, args []string) error {
		if strings.TrimSpace(reason) == "" {
			return errors.New("--reason: a waiver needs a reason")
		}
		return o.obligationChange(cmd, apiRequest{method: http.MethodPost, path: incidentPath(args[0], "obligations", args[1], "waive"),
			body: map[string]string{"reason": reason}, idempotencyKey: wkey}, "Waived %s of %s.\n\n", args)
	}

	var format string
	report := &cobra.Command{Use: "report ID OBLIGATION", Short: "Print the draft regulator report of an obligation", Args: cobra.ExactArgs(2)}
	report.Flags().StringVar(&format, "format", "md", "md, html or json")
	report.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := o.connect()
		if err != nil {
			return err
		}
		if o.json {
			format = "json"
		}
		raw, err := c.do(cmd.Context(), apiRequest{method: http.MethodGet, path: incidentPath(args[0], "obligations", args[1], "report"),
			query: url.Values{"format": {format}}})
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(raw)
		return err
	}
	cmd.AddCommand(file, waive, report)
	return cmd
}

// obligationChange posts a filing or waiver and shows the incident.
func (o *clientOptions) obligationChange(cmd *cobra.Command, req apiRequest, done string, args []string) error {
	var st incidentStatus
	return o.call(cmd, req, &st, func(w io.Writer) error {
		fmt.Fprintf(w, done, args[1], args[0])
		o.renderIncident(w, &st)
		return nil
	})
}

// assessCommand is `breachflow assess`.
func assessCommand() *cobra.Command { return newAssessCommand(os.Getenv, time.Now) }

// assessAnswer is the part of POST /v1/assessments (and of a what-if)
// the table shows.
type assessAnswer struct {
	Facts struct {
		AwareAt time.Time `json:"aware_at"`
	} `json:"facts"`
	Obligations []assessDuty `json:"obligations"`
	Missing     []struct {
		Fact        string   `json:"fact"`
		Doc         string   `json:"doc"`
		Obligations []string `json:"obligations"`
	} `json:"missing_facts"`
	Sources []struct {
		URL         string   `json:"url"`
		Obligations []string `json:"obligations"`
	} `json:"sources"`
	// A what-if's difference.
	Changed   []string     `json:"changed_facts"`
	Added     []assessDuty `json:"added"`
	Removed   []dutyChange `json:"removed"`
	Moved     []dutyChange `json:"changed"`
	Unchanged []string     `json:"unchanged"`
}

type assessDuty struct {
	ID            string     `json:"id"`
	Regime        string     `json:"regime"`
	Jurisdiction  string     `json:"jurisdiction"`
	Recipient     string     `json:"recipient"`
	RecipientName string     `json:"recipient_name"`
	DueAt         *time.Time `json:"due_at"`
	Deadline      string     `json:"deadline"`
	MissingFacts  []string   `json:"missing_facts"`
	Exempt        bool       `json:"exempt"`
	NeedsLegal    bool       `json:"needs_legal_confirmation"`
}

type dutyChange struct {
	ID           string     `json:"id"`
	Jurisdiction string     `json:"jurisdiction"`
	Status       string     `json:"status"`
	DueAt        *time.Time `json:"due_at"`
	NewDueAt     *time.Time `json:"new_due_at"`
	NowMissing   []string   `json:"new_missing_facts"`
	Note         string     `json:"note"`
}

func newAssessCommand(getenv func(string) string, now func() time.Time) *cobra.Command {
	o := &clientOptions{getenv: getenv, now: now}
	var (
		file, incident, awareAt, determinedAt, risk string
		jurisdictions, categories, flags, facts     []string
		affected                                    map[string]int
	)
	cmd := &cobra.Command{
		Use:   "assess [-f facts.json] [flags]",
		Short: "What do we owe, to whom, by when? Obligations for facts, before (or without) a launch",
		Long: "Answer the obligations, with due times, missing facts and sources, that facts give rise to:\n" +
			"the same facts a launch takes (from a JSON file, flags, or both; flags win), with times in the\n" +
			"past or the future. Nothing is launched or stored. With --incident, the facts change a copy of\n" +
			"that incident's facts and the answer is the difference against its current obligations.",
		Example: "  breachflow assess --jurisdiction US-CA --jurisdiction US-TX --affected US-CA=600,US-TX=40 \\\n" +
			"    --category health --aware-at 2026-11-24T09:00:00Z\n" +
			"  breachflow assess --incident BR-7K3F9Q --fact affected=US-CA:600,US-TX:501",
		Args: cobra.NoArgs,
	}
	o.flags(cmd)
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "JSON file of facts, as a launch body (- for stdin)")
	f.StringVar(&incident, "incident", "", "what-if on this incident: the difference against its current obligations")
	f.StringVar(&awareAt, "aware-at", "", "when the organisation became aware (RFC 3339; default now)")
	f.StringVar(&determinedAt, "determined-at", "", "when the breach was determined (RFC 3339)")
	f.StringSliceVar(&jurisdictions, "jurisdiction", nil, "ISO 3166 code, e.g. DE or US-CA (repeatable)")
	f.StringToIntVar(&affected, "affected", nil, "affected people per jurisdiction, e.g. US-CA=600,US-TX=40")
	f.StringSliceVar(&categories, "category", nil, "data category, e.g. health (repeatable)")
	f.StringSliceVar(&flags, "flag", nil, "sector flag, e.g. hipaa_covered_entity (repeatable)")
	f.StringVar(&risk, "risk", "", "risk level: "+strings.Join(breach.RiskLevels(), ", "))
	f.StringArrayVar(&facts, "fact", nil, "any other fact as name=value, as `incident patch` takes it (repeatable)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		body := map[string]json.RawMessage{}
		if file != "" {
			var raw []byte
			var err error
			if file == "-" {
				raw, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
			} else {
				raw, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("-f: %w", err)
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				return fmt.Errorf("-f %s: not a JSON object of facts: %w", file, err)
			}
		}
		set := func(name string, v any) { body[name], _ = json.Marshal(v) }
		if awareAt != "" {
			set("aware_at", awareAt)
		}
		if determinedAt != "" {
			set("determined_at", determinedAt)
		}
		if len(jurisdictions) > 0 {
			set("jurisdictions", jurisdictions)
		}
		if len(affected) > 0 {
			set("affected", affected)
		}
		if len(categories) > 0 {
			set("data_categories", categories)
		}
		if len(flags) > 0 {
			set("flags", flags)
		}
		if risk != "" {
			set("risk", risk)
		}
		for _, a := range facts {
			name, raw, err := factArg(a)
			if err != nil {
				return err
			}
			body[name] = raw
		}
		path := "/v1/assessments"
		if incident != "" {
			path = incidentPath(incident, "assessments")
		}
		var ans assessAnswer
		return o.call(cmd, apiRequest{method: http.MethodPost, path: path, body: body}, &ans, func(w io.Writer) error {
			if incident != "" {
				o.renderWhatIf(w, incident, &ans)
			} else {
				o.renderAssessment(w, &ans)
			}
			return nil
		})
	}
	return cmd
}

// due prints a duty's due time, or what it waits for.
func (o *clientOptions) due(d assessDuty) string {
	switch {
	case d.Exempt:
		return "exempt"
	case d.DueAt != nil:
		return stamp(*d.DueAt) + " (" + relDeadline(d.DueAt, o.now()) + ")"
	case len(d.MissingFacts) > 0:
		return "waiting for " + printable(strings.Join(d.MissingFacts, ", "), 60)
	}
	return printable(d.Deadline, 60)
}

func (o *clientOptions) renderAssessment(w io.Writer, a *assessAnswer) {
	fmt.Fprintf(w, "Aware\t%s\n", stamp(a.Facts.AwareAt))
	if len(a.Obligations) == 0 {
		fmt.Fprintln(w, "\nNo obligations arise from these facts.")
	} else {
		fmt.Fprintln(w, "\nOBLIGATION\tJURISDICTION\tRECIPIENT\tDUE\tDEADLINE")
		for _, d := range a.Obligations {
			id := cell(d.ID)
			if d.NeedsLegal {
				id += " *"
			}
			recipient := cell(d.Recipient)
			if d.RecipientName != "" {
				recipient += ": " + printable(d.RecipientName, 50)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", id, cell(d.Jurisdiction), recipient, o.due(d), cell(d.Deadline))
		}
	}
	if len(a.Missing) > 0 {
		fmt.Fprintln(w, "\nMISSING FACT\tNEEDED BY\tMEANING")
		for _, m := range a.Missing {
			fmt.Fprintf(w, "%s\t%s\t%s\n", cell(m.Fact), printable(strings.Join(m.Obligations, ", "), 60), printable(m.Doc, 80))
		}
	}
	if len(a.Sources) > 0 {
		fmt.Fprintln(w, "\nSOURCE\tFOR")
		for _, s := range a.Sources {
			fmt.Fprintf(w, "%s\t%s\n", printable(s.URL, 200), printable(strings.Join(s.Obligations, ", "), 80))
		}
	}
	for _, d := range a.Obligations {
		if d.NeedsLegal {
			fmt.Fprintln(w, "\n* the rule awaits legal confirmation against the statute's text")
			break
		}
	}
}

func (o *clientOptions) renderWhatIf(w io.Writer, id string, a *assessAnswer) {
	fmt.Fprintf(w, "What if, for %s: %s changed. Nothing was changed.\n\n", cell(id), printable(strings.Join(a.Changed, ", "), 200))
	if len(a.Added)+len(a.Removed)+len(a.Moved) == 0 {
		fmt.Fprintln(w, "No obligation would change.")
	} else {
		fmt.Fprintln(w, "CHANGE\tOBLIGATION\tJURISDICTION\tDUE")
		for _, d := range a.Added {
			fmt.Fprintf(w, "added\t%s\t%s\t%s\n", cell(d.ID), cell(d.Jurisdiction), o.due(d))
		}
		for _, d := range a.Removed {
			note := ""
			if d.Note != "" {
				note = " (" + printable(d.Note, 80) + ")"
			}
			fmt.Fprintf(w, "removed\t%s\t%s\twas %s%s\n", cell(d.ID), cell(d.Jurisdiction), optStamp(d.DueAt), note)
		}
		for _, d := range a.Moved {
			after := optStamp(d.NewDueAt)
			if d.NewDueAt == nil && len(d.NowMissing) > 0 {
				after = "waiting for " + printable(strings.Join(d.NowMissing, ", "), 60)
			}
			fmt.Fprintf(w, "changed\t%s\t%s\t%s → %s\n", cell(d.ID), cell(d.Jurisdiction), optStamp(d.DueAt), after)
		}
	}
	if len(a.Unchanged) > 0 {
		fmt.Fprintf(w, "\nUnchanged\t%s\n", printable(strings.Join(a.Unchanged, ", "), 300))
	}
}

func optStamp(t *time.Time) string {
	if t == nil {
		return "no fixed time"
	}
	return stamp(*t)
}

// readKeyArg reads --public-key: base64, or @FILE holding it.
func readKeyArg(v string) (string, error) {
	if rest, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(rest)
		if err != nil {
			return "", fmt.Errorf("--public-key: %w", err)
		}
		return string(bytes.TrimSpace(b)), nil
	}
	return v, nil
}
