package main

// The client commands: `breachflow incident …` drives the HTTP API the way
// a responder or lawyer would from a terminal or a script.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/spf13/cobra"
)

const (
	defaultAPIURL     = "http://127.0.0.1:8080"
	apiRequestTimeout = 30 * time.Second
	// maxAPIResponse bounds what the CLI reads; an incident's full status
	// with its timeline is far below it.
	maxAPIResponse = 16 << 20
	// maxRetryWait bounds how long the CLI waits in all on the API's
	// Retry-After (503 while Temporal or the store is away, 429) before it
	// gives the error to the user.
	maxRetryWait = time.Minute
)

// incidentCommand is `breachflow incident`, configured from the process
// environment and clock.
func incidentCommand() *cobra.Command {
	return newIncidentCommand(os.Getenv, time.Now)
}

// clientOptions are the flags every incident subcommand shares.
type clientOptions struct {
	api, token string
	json       bool
	getenv     func(string) string
	now        func() time.Time
}

// subjectsCommand is `breachflow subjects`: the affected-customer list.
func subjectsCommand() *cobra.Command {
	o := &clientOptions{getenv: os.Getenv, now: time.Now}
	cmd := &cobra.Command{Use: "subjects", Short: "Upload an incident's affected-customer list through the HTTP API"}
	o.flags(cmd)
	imp := &cobra.Command{
		Use:   "import ID FILE",
		Short: "Upload a CSV export (generic, Salesforce or HubSpot) and print the import report",
		Long: "Upload a CSV of affected customers to an incident. The whole file is checked before anything\n" +
			"is stored: a file with an error in its structure is refused whole; bad rows are listed by line\n" +
			"number with the reason. A re-upload adds and updates customers, never duplicates them.",
		Args: cobra.ExactArgs(2),
	}
	imp.RunE = func(cmd *cobra.Command, args []string) error {
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		var rep importAnswer
		return o.call(cmd, apiRequest{method: http.MethodPost, path: incidentPath(args[0], "subjects"), upload: f, contentType: "text/csv"},
			&rep, func(w io.Writer) error {
				r := rep.Report
				fmt.Fprintf(w, "Format\t%s\n", cell(r.Format))
				fmt.Fprintf(w, "Rows\t%d\nAccepted\t%d\nDuplicates merged\t%d\nRejected\t%d\nNew customers\t%d\nUpdated customers\t%d\n",
					r.Rows, r.Accepted, r.Duplicates, len(r.Rejected), rep.Inserted, rep.Updated)
				for _, j := range slices.Sorted(maps.Keys(rep.Stored.PerJurisdiction)) {
					fmt.Fprintf(w, "  %s\t%d\n", cell(j), rep.Stored.PerJurisdiction[j])
				}
				if len(r.Rejected) > 0 {
					fmt.Fprintln(w, "\nLINE\tREASON")
					for _, x := range r.Rejected {
						fmt.Fprintf(w, "%d\t%s\n", x.Line, printable(x.Reason, 200))
					}
				}
				return nil
			})
	}
	cmd.AddCommand(imp)
	return cmd
}

// importAnswer is the API's answer to a subjects upload.
type importAnswer struct {
	Report struct {
		Rows       int    `json:"rows"`
		Accepted   int    `json:"accepted"`
		Duplicates int    `json:"duplicates"`
		Format     string `json:"format"`
		Rejected   []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"rejected"`
	} `json:"report"`
	Inserted int `json:"inserted"`
	Updated  int `json:"updated"`
	Stored   struct {
		PerJurisdiction map[string]int `json:"per_jurisdiction"`
	} `json:"stored"`
}

// flags adds the API flags every client command shares.
func (o *clientOptions) flags(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	// Defaults are resolved when a command runs, so --help never prints a token.
	pf.StringVar(&o.api, "api", "", "API base URL (default $BREACHFLOW_API_URL or "+defaultAPIURL+")")
	pf.StringVar(&o.token, "token", "", "API token (default $BREACHFLOW_TOKEN, else a local dev server's $BREACHFLOW_DATA_DIR/admin-token)")
	pf.BoolVar(&o.json, "json", false, "print the API's raw JSON response")
}

func newIncidentCommand(getenv func(string) string, now func() time.Time) *cobra.Command {
	o := &clientOptions{getenv: getenv, now: now}
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "Launch, inspect and work incidents through the HTTP API",
		Long: "Launch, inspect and work incidents through the HTTP API.\n\n" +
			"The API is BREACHFLOW_API_URL (default " + defaultAPIURL + ") and the token\n" +
			"BREACHFLOW_TOKEN; --api and --token override them. Without a token, a CLI talking to\n" +
			"a dev server on this machine uses the admin token dev keeps in\n" +
			"$BREACHFLOW_DATA_DIR/admin-token (default ./data/admin-token).",
	}
	o.flags(cmd)
	cmd.AddCommand(o.launchCommand(), o.listCommand(), o.showCommand(), o.completeCommand(),
		o.decideCommand(), o.closeCommand(), o.auditCommand(), o.grantCommand(), o.membersCommand(), o.patchCommand(), o.holdCommand())
	return cmd
}

// connect builds the API client from flags and environment.
func (o *clientOptions) connect() (*incidentAPI, error) {
	base := o.api
	if base == "" {
		base = o.getenv("BREACHFLOW_API_URL")
	}
	if base == "" {
		base = defaultAPIURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--api / BREACHFLOW_API_URL: %q is not an http(s) URL", base)
	}
	token := o.token
	if token == "" {
		token = o.getenv("BREACHFLOW_TOKEN")
	}
	if token == "" {
		token = devToken(u, o.getenv)
	}
	if token == "" {
		return nil, errors.New("no API token: set BREACHFLOW_TOKEN or pass --token (create one with `breachflow token create`; " +
			"against a local dev server the CLI reads $BREACHFLOW_DATA_DIR/admin-token, default ./data/admin-token)")
	}
	return &incidentAPI{
		base:  strings.TrimSuffix(u.String(), "/"),
		token: token,
		http:  &http.Client{Timeout: apiRequestTimeout},
	}, nil
}

// call runs one request and then either prints the raw JSON (--json) or
// hands the decoded answer to render.
func (o *clientOptions) call(cmd *cobra.Command, req apiRequest, out any, render func(w io.Writer) error) error {
	c, err := o.connect()
	if err != nil {
		return err
	}
	c.retries = cmd.ErrOrStderr()
	raw, err := c.do(cmd.Context(), req)
	if o.json && raw != nil {
		w := cmd.OutOrStdout()
		w.Write(raw)
		if !bytes.HasSuffix(raw, []byte("\n")) {
			fmt.Fprintln(w)
		}
	}
	if err != nil || o.json {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode response: %w", req.method, req.path, err)
		}
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
	if err := render(tw); err != nil {
		return err
	}
	return tw.Flush()
}

// incidentAPI is a small client of breachflow's HTTP API.
type incidentAPI struct {
	base  string
	token string
	http  *http.Client
	// retries, when set, is told of each wait on Retry-After.
	retries io.Writer
}

// apiRequest is one call to the API.
type apiRequest struct {
	method, path   string
	query          url.Values
	body           any // JSON-encoded when not nil
	idempotencyKey string
	wantStatus     *int // receives the HTTP status of a success
	// upload, when set, is sent as the body with contentType instead of
	// JSON, without the client's overall timeout (a large file takes long).
	upload      io.Reader
	contentType string
	// download, when set, receives a success's body as it streams (an
	// evidence pack); do then returns no body.
	download io.Writer
	// accept overrides the Accept header (a Markdown report, a zip).
	accept string
}

// do sends req and returns the response body. A non-2xx answer is an
// *apiError; its body is returned too, for --json. When the API answers
// 503 or 429 with Retry-After and the request can be sent again without
// doing twice what it asks (a read, a PUT, a request with an
// Idempotency-Key, which every state-changing command sends; not an
// upload, whose body is a stream), do waits as told and sends it again,
// up to maxRetryWait in all.
func (c *incidentAPI) do(ctx context.Context, req apiRequest) ([]byte, error) {
	var waited time.Duration
	for {
		raw, retryIn, err := c.send(ctx, req)
		if retryIn <= 0 || waited+retryIn > maxRetryWait {
			return raw, err
		}
		if c.retries != nil {
			fmt.Fprintf(c.retries, "%v; sending it again in %s, as the API asks (Retry-After)\n", err, retryIn)
		}
		select {
		case <-ctx.Done():
			return raw, err
		case <-time.After(retryIn):
		}
		waited += retryIn
	}
}

// repeatable reports whether req may be sent again after a refusal.
func (req apiRequest) repeatable() bool {
	if req.upload != nil {
		return false
	}
	switch req.method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.idempotencyKey != ""
}

// retryAfter is how long resp asks the client to wait before sending the
// request again (RFC 9110 §10.2.3: seconds or a date), 0 when it does not.
func retryAfter(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(n)*time.Second, 100*time.Millisecond)
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 100*time.Millisecond)
	}
	return 0
}

// send sends req once; retryIn is the wait a refusal asked for, when req
// may be sent again.
func (c *incidentAPI) send(ctx context.Context, req apiRequest) (raw []byte, retryIn time.Duration, err error) {
	target := c.base + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.upload != nil {
		body = req.upload
	}
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return nil, 0, fmt.Errorf("%s %s: encode request: %w", req.method, req.path, err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	hr.Header.Set("Authorization", "Bearer "+c.token)
	hr.Header.Set("Accept", "application/json, application/problem+json")
	if req.accept != "" {
		hr.Header.Set("Accept", req.accept+", application/problem+json")
	}
	hr.Header.Set("User-Agent", "breachflow-cli/"+version)
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	client := c.http
	if req.upload != nil {
		hr.Header.Set("Content-Type", req.contentType)
		client = &http.Client{Transport: c.http.Transport} // the command's context bounds it
	}
	if req.idempotencyKey != "" {
		hr.Header.Set("Idempotency-Key", req.idempotencyKey)
	}
	resp, err := client.Do(hr)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", req.method, req.path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if req.download != nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if _, err := io.Copy(req.download, resp.Body); err != nil {
			return nil, 0, fmt.Errorf("%s %s: read response: %w", req.method, req.path, err)
		}
		if req.wantStatus != nil {
			*req.wantStatus = resp.StatusCode
		}
		return nil, 0, nil
	}
	raw, err = io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: read response: %w", req.method, req.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if req.repeatable() {
			retryIn = retryAfter(resp)
		}
		return raw, retryIn, newAPIError(req, resp, raw)
	}
	if req.wantStatus != nil {
		*req.wantStatus = resp.StatusCode
	}
	return raw, 0, nil
}

// unwrapURLError drops *url.Error's copy of the URL, which repeats what
// the message already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// apiError is an RFC 9457 problem the API answered with.
type apiError struct {
	Method, Path string
	Status       int
	Title        string          `json:"title"`
	Detail       string          `json:"detail"`
	Errors       []apiFieldError `json:"errors"`
	Blockers     []string        `json:"blockers"`
}

// apiFieldError names one bad field of a request.
type apiFieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func newAPIError(req apiRequest, resp *http.Response, raw []byte) *apiError {
	e := &apiError{Method: req.method, Path: req.path, Status: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		_ = json.Unmarshal(raw, e) // a malformed problem still has its status
	} else {
		// A proxy's HTML page: show its start, never the whole page.
		e.Detail = printable(string(raw), 200)
	}
	e.Status = resp.StatusCode
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}

// Error prints the problem's detail, then each field error and blocker on
// its own line.
func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.Status, e.Title)
	if e.Detail != "" {
		b.WriteString(": " + printable(e.Detail, 1000))
	}
	for _, f := range e.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", printable(f.Field, 100), printable(f.Message, 300))
	}
	if len(e.Blockers) > 0 {
		b.WriteString("\n  blocked by:")
		for _, x := range e.Blockers {
			b.WriteString("\n  - " + printable(x, 300))
		}
	}
	if e.Status == http.StatusUnauthorized {
		b.WriteString("\n  check --token or BREACHFLOW_TOKEN")
	}
	return b.String()
}

// printable strips control characters (a hostile server must not drive
// the terminal) and cuts s to n runes.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

// The parts of the API's answers the human output shows; --json shows all.

type incidentSummary struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	Status       string     `json:"status"`
	Severity     string     `json:"severity"`
	Playbook     string     `json:"playbook"`
	NextDeadline *time.Time `json:"next_deadline"`
	LaunchedAt   time.Time  `json:"launched_at"`
}

type incidentList struct {
	Incidents     []incidentSummary `json:"incidents"`
	NextPageToken string            `json:"next_page_token"`
}

type incidentStatus struct {
	ID              string     `json:"id"`
	Title           string     `json:"title"`
	Severity        string     `json:"severity"`
	Status          string     `json:"status"`
	Phase           string     `json:"phase"`
	Playbook        string     `json:"playbook"`
	PlaybookVersion int        `json:"playbook_version"`
	ExternalRef     string     `json:"external_ref"`
	LaunchedBy      string     `json:"launched_by"`
	LaunchedAt      time.Time  `json:"launched_at"`
	NextDeadline    *time.Time `json:"next_deadline"`
	ClosedAt        *time.Time `json:"closed_at"`
	Facts           struct {
		AwareAt      time.Time  `json:"aware_at"`
		DiscoveredAt *time.Time `json:"discovered_at"`
		Assumed      []string   `json:"assumed"`
	} `json:"facts"`
	Obligations []struct {
		ID            string     `json:"id"`
		Jurisdiction  string     `json:"jurisdiction"`
		Recipient     string     `json:"recipient"`
		RecipientName string     `json:"recipient_name"`
		DueAt         *time.Time `json:"due_at"`
		Deadline      string     `json:"deadline"`
		Status        string     `json:"status"`
		MissingFacts  []string   `json:"missing_facts"`
	} `json:"obligations"`
	Steps []struct {
		ID        string     `json:"id"`
		Owner     string     `json:"owner"`
		State     string     `json:"state"`
		DueAt     *time.Time `json:"due_at"`
		Approvals []struct {
			By string `json:"by"`
		} `json:"approvals"`
		Needs *breach.ApprovalNeeds `json:"needs"`
	} `json:"steps"`
	Remediations []struct {
		ID     string     `json:"id"`
		Title  string     `json:"title"`
		Owner  string     `json:"owner"`
		Status string     `json:"status"`
		DueAt  *time.Time `json:"due_at"`
	} `json:"remediations"`
}

type auditLog struct {
	Events []struct {
		Seq    int       `json:"seq"`
		At     time.Time `json:"at"`
		Actor  string    `json:"actor"`
		Action string    `json:"action"`
		Target string    `json:"target"`
	} `json:"events"`
	Chain struct {
		OK       bool   `json:"ok"`
		Events   int    `json:"events"`
		BrokenAt int    `json:"broken_at"`
		Reason   string `json:"reason"`

		Authenticated int `json:"authenticated"`
		Legacy        int `json:"legacy"`
		Checkpoint    int `json:"checkpoint"`
	} `json:"chain"`
}

// incidentPath is the API path of an incident, or of something below it.
func incidentPath(id string, rest ...string) string {
	p := "/v1/incidents/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func (o *clientOptions) launchCommand() *cobra.Command {
	var (
		req struct {
			Playbook       string         `json:"playbook"`
			Title          string         `json:"title"`
			Summary        string         `json:"summary,omitempty"`
			Severity       string         `json:"severity,omitempty"`
			ExternalRef    string         `json:"external_ref,omitempty"`
			AwareAt        string         `json:"aware_at,omitempty"`
			OccurredAt     string         `json:"occurred_at,omitempty"`
			DiscoveredAt   string         `json:"discovered_at,omitempty"`
			DataCategories []string       `json:"data_categories,omitempty"`
			Jurisdictions  []string       `json:"jurisdictions,omitempty"`
			Affected       map[string]int `json:"affected,omitempty"`
			Risk           string         `json:"risk,omitempty"`
			Flags          []string       `json:"flags,omitempty"`
			Restricted     bool           `json:"restricted,omitempty"`
			Members        []string       `json:"members,omitempty"`
		}
		key string
	)
	cmd := &cobra.Command{
		Use:   "launch --playbook ID --title TITLE [flags]",
		Short: "Declare a breach: launch a playbook",
		Example: "  breachflow incident launch --playbook customer-data-breach --title 'CRM export on a public bucket' \\\n" +
			"    --severity high --external-ref SIEM-4411 --aware-at 2026-11-23T08:00:00Z \\\n" +
			"    --jurisdiction DE --jurisdiction US-CA --category contact --category financial",
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&req.Playbook, "playbook", "", "playbook id (required)")
	f.StringVar(&req.Title, "title", "", "short title, no personal data (required)")
	f.StringVar(&req.Summary, "summary", "", "what is known so far")
	f.StringVar(&req.Severity, "severity", "", "low, medium, high or critical (default medium)")
	f.StringVar(&req.ExternalRef, "external-ref", "", "reference in another system (SIEM, ticket); a repeat returns the existing incident")
	f.StringVar(&req.AwareAt, "aware-at", "", "when the organisation became aware (RFC 3339; default now); starts the legal clocks")
	f.StringVar(&req.OccurredAt, "occurred-at", "", "when the breach happened (RFC 3339)")
	f.StringVar(&req.DiscoveredAt, "discovered-at", "", "when it was discovered (RFC 3339)")
	f.StringSliceVar(&req.Jurisdictions, "jurisdiction", nil, "ISO 3166 code of an affected jurisdiction, e.g. DE or US-CA (repeatable)")
	f.StringSliceVar(&req.DataCategories, "category", nil, "data category exposed, e.g. contact, financial, health (repeatable)")
	f.StringSliceVar(&req.Flags, "flag", nil, "sector flag, e.g. public_company, data_encrypted (repeatable)")
	f.StringToIntVar(&req.Affected, "affected", nil, "estimated affected residents per jurisdiction, e.g. DE=1200,US-TX=300")
	f.StringVar(&req.Risk, "risk", "", "unassessed, none, risk or high")
	f.BoolVar(&req.Restricted, "restricted", false, "visible only to its members and admins (you are always a member)")
	f.StringSliceVar(&req.Members, "member", nil, "a member of a restricted incident: token name, slack:<user id> or staff email (repeatable)")
	f.StringVar(&key, "idempotency-key", "", "makes a retried launch return the first answer")
	_ = cmd.MarkFlagRequired("playbook")
	_ = cmd.MarkFlagRequired("title")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		for flag, v := range map[string]string{"aware-at": req.AwareAt, "occurred-at": req.OccurredAt, "discovered-at": req.DiscoveredAt} {
			if v == "" {
				continue
			}
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("--%s: %q is not an RFC 3339 time such as 2026-11-23T08:00:00Z", flag, v)
			}
		}
		var st incidentStatus
		var code int
		return o.call(cmd, apiRequest{method: http.MethodPost, path: "/v1/incidents", body: req, idempotencyKey: key, wantStatus: &code}, &st,
			func(w io.Writer) error {
				if code == http.StatusCreated {
					fmt.Fprintf(w, "Launched %s.\n\n", st.ID)
				} else {
					fmt.Fprintf(w, "%s already exists (same idempotency key or external ref); nothing new was launched.\n\n", st.ID)
				}
				o.renderIncident(w, &st)
				return nil
			})
	}
	return cmd
}

func (o *clientOptions) listCommand() *cobra.Command {
	var status, severity, playbook, pageToken string
	var pageSize int
	cmd := &cobra.Command{Use: "list", Short: "List incidents", Args: cobra.NoArgs}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "active or closed")
	f.StringVar(&severity, "severity", "", "low, medium, high or critical")
	f.StringVar(&playbook, "playbook", "", "playbook id")
	f.IntVar(&pageSize, "page-size", 0, "incidents per page, 1–500 (default 50)")
	f.StringVar(&pageToken, "page-token", "", "the next page, as printed after the previous one")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := url.Values{}
		for k, v := range map[string]string{"status": status, "severity": severity, "playbook": playbook, "page_token": pageToken} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if pageSize != 0 {
			q.Set("page_size", fmt.Sprint(pageSize))
		}
		var list incidentList
		return o.call(cmd, apiRequest{method: http.MethodGet, path: "/v1/incidents", query: q}, &list, func(w io.Writer) error {
			if len(list.Incidents) == 0 {
				fmt.Fprintln(w, "No incidents.")
				return nil
			}
			now := o.now()
			fmt.Fprintln(w, "ID\tSEVERITY\tSTATUS\tPLAYBOOK\tNEXT DEADLINE\tTITLE")
			for _, in := range list.Incidents {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", cell(in.ID), cell(in.Severity), cell(in.Status),
					cell(in.Playbook), relDeadline(in.NextDeadline, now), printable(in.Title, 60))
			}
			if list.NextPageToken != "" {
				fmt.Fprintf(w, "\nMore: --page-token %s\n", printable(list.NextPageToken, 500))
			}
			return nil
		})
	}
	return cmd
}

func (o *clientOptions) showCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident: clocks, obligations and steps",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var st incidentStatus
			return o.call(cmd, apiRequest{method: http.MethodGet, path: incidentPath(args[0])}, &st, func(w io.Writer) error {
				o.renderIncident(w, &st)
				return nil
			})
		},
	}
}

func (o *clientOptions) completeCommand() *cobra.Command {
	var body struct {
		Note     string   `json:"note"`
		Evidence []string `json:"evidence"`
	}
	var key string
	cmd := &cobra.Command{
		Use:   "complete ID STEP",
		Short: "Mark a playbook step done",
		Args:  cobra.ExactArgs(2),
	}
	cmd.Flags().StringVar(&body.Note, "note", "", "what was done")
	// StringArray, not StringSlice: evidence is free text and may hold commas.
	cmd.Flags().StringArrayVar(&body.Evidence, "evidence", nil, "evidence reference, e.g. a ticket or document link (repeatable)")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "makes a retried request return the first answer")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if body.Evidence == nil {
			body.Evidence = []string{}
		}
		return o.stepChange(cmd, apiRequest{method: http.MethodPost, path: incidentPath(args[0], "steps", args[1], "complete"),
			body: body, idempotencyKey: key}, "Completed step %s of %s.\n\n", args)
	}
	return cmd
}

func (o *clientOptions) decideCommand() *cobra.Command {
	var approve, reject bool
	var reason, key string
	cmd := &cobra.Command{
		Use:   "decide ID STEP --approve|--reject [--reason R]",
		Short: "Approve or reject an approval step",
		Args:  cobra.ExactArgs(2),
	}
	f := cmd.Flags()
	f.BoolVar(&approve, "approve", false, "approve")
	f.BoolVar(&reject, "reject", false, "reject (needs --reason)")
	f.StringVar(&reason, "reason", "", "why; kept for the record")
	f.StringVar(&key, "idempotency-key", "", "makes a retried request return the first answer")
	cmd.MarkFlagsMutuallyExclusive("approve", "reject")
	cmd.MarkFlagsOneRequired("approve", "reject")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		decision := "approve"
		if reject {
			decision = "reject"
			if strings.TrimSpace(reason) == "" {
				return errors.New("--reject needs --reason: the record must say why")
			}
		}
		body := map[string]string{"decision": decision}
		if reason != "" {
			body["reason"] = reason
		}
		verb := map[string]string{"approve": "Approved", "reject": "Rejected"}[decision]
		return o.stepChange(cmd, apiRequest{method: http.MethodPost, path: incidentPath(args[0], "steps", args[1], "decide"),
			body: body, idempotencyKey: key}, verb+" step %s of %s.\n\n", args)
	}
	return cmd
}

// stepChange posts a change to a step and shows the incident it answers with.
func (o *clientOptions) stepChange(cmd *cobra.Command, req apiRequest, done string, args []string) error {
	var st incidentStatus
	return o.call(cmd, req, &st, func(w io.Writer) error {
		fmt.Fprintf(w, done, args[1], args[0])
		o.renderIncident(w, &st)
		return nil
	})
}

func (o *clientOptions) closeCommand() *cobra.Command {
	var note, key string
	cmd := &cobra.Command{
		Use:   "close ID",
		Short: "Close an incident (refused while anything required is open)",
		Args:  cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&note, "note", "", "closing note")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "makes a retried request return the first answer")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var st incidentStatus
		return o.call(cmd, apiRequest{method: http.MethodPost, path: incidentPath(args[0], "close"),
			body: map[string]string{"note": note}, idempotencyKey: key}, &st, func(w io.Writer) error {
			fmt.Fprintf(w, "Closed %s.\n\n", st.ID)
			o.renderIncident(w, &st)
			return nil
		})
	}
	return cmd
}

func (o *clientOptions) auditCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "audit ID",
		Short: "Show the incident's audit trail and verify its hash chain",
		Long:  "Show the incident's audit trail and verify its hash chain; exits non-zero when the chain is broken.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var log auditLog
			err := o.call(cmd, apiRequest{method: http.MethodGet, path: incidentPath(args[0], "audit")}, &log, func(w io.Writer) error {
				fmt.Fprintln(w, "SEQ\tAT\tACTOR\tACTION\tTARGET")
				for _, e := range log.Events {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", e.Seq, stamp(e.At), cell(e.Actor), cell(e.Action), cell(e.Target))
				}
				fmt.Fprintln(w)
				if log.Chain.OK {
					fmt.Fprintf(w, "Chain verified: %d events.\n", log.Chain.Events)
					fmt.Fprintf(w, "%d authenticated with the audit keys, %d legacy (hash-chained only); ", log.Chain.Authenticated, log.Chain.Legacy)
					if log.Chain.Checkpoint > 0 {
						fmt.Fprintf(w, "matches the workflow's checkpoint at event %d.\n", log.Chain.Checkpoint)
					} else {
						fmt.Fprintln(w, "no workflow checkpoint compared.")
					}
				} else {
					fmt.Fprintf(w, "Chain BROKEN at event %d: %s\n", log.Chain.BrokenAt, printable(log.Chain.Reason, 300))
				}
				return nil
			})
			if err == nil && !o.json && !log.Chain.OK {
				return fmt.Errorf("audit %s: hash chain broken at event %d", args[0], log.Chain.BrokenAt)
			}
			return err
		},
	}
}

func (o *clientOptions) membersCommand() *cobra.Command {
	var add, remove []string
	cmd := &cobra.Command{
		Use:   "members ID [--add P]… [--remove P]…",
		Short: "List, add or remove the members of a restricted incident (adding and removing: admins)",
		Long: "List, add or remove the members of a restricted incident. A member is a principal: an API token's\n" +
			"name, slack:<user id>, or the staff email a Slack user is mapped by. Each change is in the audit trail.",
		Example: "  breachflow incident members BR-7K3F9Q --add lena-legal --remove rui-responder",
		Args:    cobra.ExactArgs(1),
	}
	cmd.Flags().StringSliceVar(&add, "add", nil, "principal to make a member (repeatable)")
	cmd.Flags().StringSliceVar(&remove, "remove", nil, "principal whose membership ends (repeatable)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var out struct {
			Incident   string   `json:"incident"`
			Restricted bool     `json:"restricted"`
			Members    []string `json:"members"`
		}
		reqs := []apiRequest{}
		for _, p := range add {
			reqs = append(reqs, apiRequest{method: http.MethodPut, path: incidentPath(args[0], "members", p)})
		}
		for _, p := range remove {
			reqs = append(reqs, apiRequest{method: http.MethodDelete, path: incidentPath(args[0], "members", p)})
		}
		if len(reqs) == 0 {
			reqs = append(reqs, apiRequest{method: http.MethodGet, path: incidentPath(args[0], "members")})
		}
		for i, r := range reqs {
			render := func(w io.Writer) error {
				if i < len(reqs)-1 {
					return nil // only the last answer is the list as it ends up
				}
				if !out.Restricted {
					fmt.Fprintf(w, "%s is not restricted: everyone with a role sees it.\n", cell(out.Incident))
					return nil
				}
				fmt.Fprintf(w, "Members of %s (and every admin):\n", cell(out.Incident))
				for _, m := range out.Members {
					fmt.Fprintf(w, "  %s\n", cell(m))
				}
				return nil
			}
			if err := o.call(cmd, r, &out, render); err != nil {
				return err
			}
		}
		return nil
	}
	return cmd
}

// renderIncident prints an incident's status: header lines, then its
// obligations, steps and remediation as tables.
func (o *clientOptions) renderIncident(w io.Writer, st *incidentStatus) {
	now := o.now()
	fmt.Fprintf(w, "%s\t%s\n", cell(st.ID), printable(st.Title, 200))
	status := cell(st.Status)
	if st.Phase != "" {
		status += " (phase " + cell(st.Phase) + ")"
	}
	fmt.Fprintf(w, "Status\t%s\n", status)
	fmt.Fprintf(w, "Severity\t%s\n", cell(st.Severity))
	fmt.Fprintf(w, "Playbook\t%s v%d\n", cell(st.Playbook), st.PlaybookVersion)
	if st.ExternalRef != "" {
		fmt.Fprintf(w, "External ref\t%s\n", cell(st.ExternalRef))
	}
	fmt.Fprintf(w, "Launched\t%s by %s\n", stamp(st.LaunchedAt), cell(st.LaunchedBy))
	if st.ClosedAt != nil {
		fmt.Fprintf(w, "Closed\t%s\n", stamp(*st.ClosedAt))
	}
	if !st.Facts.AwareAt.IsZero() {
		fmt.Fprintf(w, "Aware\t%s\n", stamp(st.Facts.AwareAt))
	}
	if st.Facts.DiscoveredAt != nil {
		note := ""
		if slices.Contains(st.Facts.Assumed, "discovered_at") {
			note = " (assumed: not stated at launch; set it with PATCH discovered_at)"
		}
		fmt.Fprintf(w, "Discovered\t%s%s\n", stamp(*st.Facts.DiscoveredAt), note)
	}
	if st.NextDeadline != nil {
		fmt.Fprintf(w, "Next deadline\t%s (%s)\n", stamp(*st.NextDeadline), relDeadline(st.NextDeadline, now))
	} else {
		fmt.Fprintf(w, "Next deadline\t-\n")
	}

	if len(st.Obligations) > 0 {
		fmt.Fprintln(w, "\nOBLIGATION\tJURISDICTION\tRECIPIENT\tDUE\tSTATUS")
		for _, ob := range st.Obligations {
			due := "-"
			switch {
			case ob.DueAt != nil:
				due = stamp(*ob.DueAt) + " (" + relDeadline(ob.DueAt, now) + ")"
			case len(ob.MissingFacts) > 0:
				// The clock has not started: its length is no due time.
				due = "waiting for " + printable(strings.Join(ob.MissingFacts, ", "), 60)
			case ob.Deadline != "":
				due = printable(ob.Deadline, 60)
			}
			recipient := cell(ob.Recipient)
			if ob.RecipientName != "" {
				recipient += ": " + printable(ob.RecipientName, 60)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", cell(ob.ID), cell(ob.Jurisdiction), recipient, due, cell(ob.Status))
		}
	}
	if len(st.Steps) > 0 {
		fmt.Fprintln(w, "\nSTEP\tOWNER\tSTATE\tDUE")
		for _, s := range st.Steps {
			due := "-"
			if s.DueAt != nil {
				due = stamp(*s.DueAt)
				if s.State == "pending" || s.State == "ready" {
					due += " (" + relDeadline(s.DueAt, now) + ")"
				}
			}
			state := s.State
			if s.Needs != nil && s.Needs.Count > 0 && s.State == "ready" {
				// Two-person control: say who approved and who is still needed.
				var by []string
				for _, a := range s.Approvals {
					by = append(by, a.By)
				}
				state += fmt.Sprintf(" (%d of %d approvals", len(by), s.Needs.Quorum)
				if len(by) > 0 {
					state += " by " + strings.Join(by, ", ")
				}
				state += "; needs " + breach.DescribeNeeds(*s.Needs) + ")"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", cell(s.ID), cell(s.Owner), cell(state), due)
		}
	}
	if len(st.Remediations) > 0 {
		fmt.Fprintln(w, "\nREMEDIATION\tOWNER\tSTATUS\tDUE\tTITLE")
		for _, r := range st.Remediations {
			due := "-"
			if r.DueAt != nil {
				due = stamp(*r.DueAt)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", cell(r.ID), cell(r.Owner), cell(r.Status), due, printable(r.Title, 60))
		}
	}
}

// cell makes a server-supplied value safe for one table cell: printable,
// bounded, never empty (an empty cell shifts the columns).
func cell(s string) string {
	s = printable(s, 80)
	if s == "" {
		return "-"
	}
	return s
}

// stamp prints a time in UTC, the zone regulators' deadlines are read in.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// relDeadline says how far a deadline is: "in 2h13m" or "overdue 3h".
func relDeadline(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	d := t.Sub(now)
	if d >= 0 {
		return "in " + shortDuration(d)
	}
	return "overdue " + shortDuration(-d)
}

// shortDuration truncates d to the minute and prints at most two units:
// 3d4h, 2h13m, 3h, 45m, <1m.
func shortDuration(d time.Duration) string {
	m := int64(d / time.Minute)
	if m < 1 {
		return "<1m"
	}
	days, hours, mins := m/(24*60), m/60%24, m%60
	var s string
	switch {
	case days > 0:
		s = fmt.Sprintf("%dd", days)
		if hours > 0 {
			s += fmt.Sprintf("%dh", hours)
		}
	case hours > 0:
		s = fmt.Sprintf("%dh", hours)
		if mins > 0 {
			s += fmt.Sprintf("%dm", mins)
		}
	default:
		s = fmt.Sprintf("%dm", mins)
	}
	return s
}

// devToken is the admin token `breachflow dev` keeps in its data directory
// ($BREACHFLOW_DATA_DIR, default ./data), or "". It is read only when the
// API is on this machine, so a local dev credential never goes to a remote
// server.
func devToken(api *url.URL, getenv func(string) string) string {
	host := api.Hostname()
	if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
		return ""
	}
	dir := getenv("BREACHFLOW_DATA_DIR")
	if dir == "" {
		dir = "./data"
	}
	b, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
