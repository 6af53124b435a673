package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// MaxAlertsPerBody bounds one webhook call; Alertmanager groups rarely
// exceed a few dozen.
const MaxAlertsPerBody = 1000

// FormatError says why a body is not the declared format; its text names
// the field.
type FormatError struct {
	Format string
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("not a %s alert body: %s", e.Format, e.Reason)
}

// Parse reads a webhook body of format into its alerts.
func Parse(format string, body []byte) ([]Alert, error) {
	var (
		out []Alert
		err error
	)
	switch format {
	case "", FormatGeneric:
		format = FormatGeneric
		out, err = parseGeneric(body)
	case FormatAlertmanager:
		out, err = parseAlertmanager(body)
	case FormatSplunk:
		out, err = parseSplunk(body)
	default:
		return nil, &FormatError{Format: format, Reason: "unknown format; use one of " + strings.Join(Formats, ", ")}
	}
	if err != nil {
		return nil, &FormatError{Format: format, Reason: jsonReason(err)}
	}
	return out, nil
}

// jsonReason words a decoding error for a caller.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: want %s, got %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: the body ends before the value does"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// decodeStrict decodes exactly one JSON value, refusing unknown fields
// when strict.
func decodeStrict(body []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Generic is breachflow's own alert body.
type Generic struct {
	Title       string            `json:"title"`
	Severity    string            `json:"severity,omitempty"`
	Status      string            `json:"status,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Text        string            `json:"text,omitempty"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	OccurredAt  *time.Time        `json:"occurred_at,omitempty"`
}

func parseGeneric(body []byte) ([]Alert, error) {
	var g Generic
	if err := decodeStrict(body, &g, true); err != nil {
		return nil, err
	}
	a := Alert{Title: g.Title, Status: g.Status, Labels: g.Labels, Text: g.Text, Raw: json.RawMessage(bytes.TrimSpace(body))}
	if g.Severity != "" {
		if a.Severity = severityOf(g.Severity); a.Severity == "" {
			return nil, fmt.Errorf("severity: %q is not low, medium, high or critical", g.Severity)
		}
	}
	if g.OccurredAt != nil {
		a.StartsAt = g.OccurredAt.UTC()
	}
	if err := a.check(""); err != nil {
		return nil, err
	}
	a.Fingerprint = g.Fingerprint
	if a.Fingerprint == "" {
		a.Fingerprint = labelsFingerprint("generic\x00"+a.Title, a.Labels)
	} else if len(a.Fingerprint) > 200 {
		return nil, errors.New("fingerprint: at most 200 characters")
	}
	return []Alert{a}, nil
}

// amWebhook is the Alertmanager webhook (version 4), which Grafana's
// webhook contact point also sends (with a few more fields, ignored here).
type amWebhook struct {
	Version string    `json:"version"`
	Status  string    `json:"status"`
	Alerts  []amAlert `json:"alerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

func parseAlertmanager(body []byte) ([]Alert, error) {
	var w amWebhook
	// Not strict: Alertmanager and Grafana add fields between versions.
	if err := decodeStrict(body, &w, false); err != nil {
		return nil, err
	}
	var raw struct {
		Alerts []json.RawMessage `json:"alerts"`
	}
	_ = json.Unmarshal(body, &raw)
	switch {
	case w.Alerts == nil:
		return nil, errors.New("alerts: required (an Alertmanager webhook carries an alerts array)")
	case len(w.Alerts) == 0:
		return nil, errors.New("alerts: empty")
	case len(w.Alerts) > MaxAlertsPerBody:
		return nil, fmt.Errorf("alerts: at most %d per call", MaxAlertsPerBody)
	}
	out := make([]Alert, 0, len(w.Alerts))
	for i, x := range w.Alerts {
		prefix := fmt.Sprintf("alerts[%d].", i)
		name := x.Labels["alertname"]
		if name == "" {
			return nil, fmt.Errorf("%slabels.alertname: required", prefix)
		}
		status := x.Status
		if status == "" {
			status = w.Status
		}
		a := Alert{
			Title: name, Status: status, Labels: x.Labels,
			Severity: severityOf(x.Labels["severity"]), Raw: raw.Alerts[i],
		}
		if x.StartsAt != "" {
			t, err := time.Parse(time.RFC3339Nano, x.StartsAt)
			if err != nil {
				return nil, fmt.Errorf("%sstartsAt: %q is not an RFC 3339 time", prefix, x.StartsAt)
			}
			a.StartsAt = t.UTC()
		}
		if s := x.Annotations["summary"]; s != "" {
			a.Text = s
		}
		if d := x.Annotations["description"]; d != "" {
			a.Text = strings.TrimSpace(a.Text + "\n" + d)
		}
		if err := a.check(prefix); err != nil {
			return nil, err
		}
		a.Fingerprint = x.Fingerprint
		if a.Fingerprint == "" {
			a.Fingerprint = labelsFingerprint("alertmanager", a.Labels)
		}
		out = append(out, a)
	}
	return out, nil
}

// splunkWebhook is what Splunk's "Webhook" alert action posts.
type splunkWebhook struct {
	SearchName  string         `json:"search_name"`
	SID         string         `json:"sid"`
	App         string         `json:"app"`
	Owner       string         `json:"owner"`
	ResultsLink string         `json:"results_link"`
	Result      map[string]any `json:"result"`
}

// splunkLabels are the result fields copied to labels: routing keys that
// searches conventionally set and that do not name people.
var splunkLabels = []string{"severity", "urgency", "host", "source", "sourcetype", "index", "signature", "rule_name"}

func parseSplunk(body []byte) ([]Alert, error) {
	var w splunkWebhook
	if err := decodeStrict(body, &w, false); err != nil {
		return nil, err
	}
	if strings.TrimSpace(w.SearchName) == "" {
		return nil, errors.New("search_name: required (the name of the saved search that fired)")
	}
	if w.Result == nil {
		return nil, errors.New("result: required (the first result row of the search)")
	}
	labels := map[string]string{"search_name": w.SearchName}
	if w.App != "" {
		labels["app"] = w.App
	}
	for _, k := range splunkLabels {
		if v, ok := w.Result[k].(string); ok && v != "" {
			labels[k] = v
		}
	}
	a := Alert{
		Title: w.SearchName, Labels: labels, Severity: severityOf(labels["severity"]),
		Raw: json.RawMessage(bytes.TrimSpace(body)),
	}
	if v, ok := w.Result["_time"].(string); ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			a.StartsAt = t.UTC()
		}
	}
	if err := a.check(""); err != nil {
		return nil, err
	}
	// One search firing again is the same alert; its rows change each time.
	keys := []string{"splunk", w.App, w.SearchName}
	for _, k := range []string{"host", "signature"} {
		if slices.Contains(splunkLabels, k) {
			keys = append(keys, labels[k])
		}
	}
	a.Fingerprint = fingerprint(keys...)
	return []Alert{a}, nil
}
