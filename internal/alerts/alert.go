// Package alerts turns machine signals into incidents: it reads the alert
// formats sources already send (a generic JSON alert, the Prometheus
// Alertmanager and Grafana webhook, Splunk's alert webhook), fingerprints
// them so repeats are counted instead of launched twice, and routes each
// new alert by rules kept as versioned YAML data: launch a playbook, attach
// to an open incident, or queue it for a person to triage.
package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Formats a source may declare with ?format=.
const (
	FormatGeneric      = "generic"
	FormatAlertmanager = "alertmanager" // also Grafana's webhook contact point
	FormatSplunk       = "splunk"
)

// Formats lists the accepted formats.
var Formats = []string{FormatGeneric, FormatAlertmanager, FormatSplunk}

// Alert statuses as sources report them.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Alert is one signal, normalised from whatever format it arrived in.
// Title, Severity and Labels are kept in the clear to route and triage it;
// Text and Raw may hold personal data and are sealed at rest.
type Alert struct {
	Fingerprint string            // stable identity of "the same alert"
	Title       string            // short; e.g. Alertmanager's alertname
	Severity    string            // low|medium|high|critical, or "" when the source gave none
	Status      string            // Firing or Resolved
	Labels      map[string]string // routing keys; never a customer's name or email by contract
	Text        string            // description, summary; may hold anything
	StartsAt    time.Time         // when the source says it began; zero when unknown
	Raw         json.RawMessage   // this alert's own JSON as the source sent it
}

// Limits on what one alert may carry.
const (
	MaxTitle  = 200
	MaxLabels = 64
	MaxText   = 8000
)

// fingerprint hashes parts into a stable hex id.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// labelsFingerprint hashes a label set independently of its order.
func labelsFingerprint(prefix string, labels map[string]string) string {
	parts := []string{prefix}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return fingerprint(parts...)
}

// severityOf maps the words sources use to breachflow's severities; ""
// when the word is unknown or empty.
func severityOf(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit", "fatal", "emergency", "page", "p1":
		return "critical"
	case "high", "error", "major", "p2":
		return "high"
	case "medium", "warning", "warn", "moderate", "p3":
		return "medium"
	case "low", "info", "informational", "minor", "p4", "p5":
		return "low"
	}
	return ""
}

// check enforces the limits every format shares; it names the field.
func (a *Alert) check(prefix string) error {
	a.Title = strings.TrimSpace(a.Title)
	switch {
	case a.Title == "":
		return fmt.Errorf("%stitle: required", prefix)
	case len(a.Title) > MaxTitle:
		return fmt.Errorf("%stitle: at most %d characters", prefix, MaxTitle)
	case len(a.Labels) > MaxLabels:
		return fmt.Errorf("%slabels: at most %d labels", prefix, MaxLabels)
	case len(a.Text) > MaxText:
		return fmt.Errorf("%stext: at most %d characters", prefix, MaxText)
	}
	for k, v := range a.Labels {
		if k == "" || len(k) > 100 || len(v) > 500 {
			return fmt.Errorf("%slabels.%s: names up to 100 and values up to 500 characters", prefix, k)
		}
	}
	if a.Status == "" {
		a.Status = Firing
	}
	if a.Status != Firing && a.Status != Resolved {
		return fmt.Errorf("%sstatus: %q is not firing or resolved", prefix, a.Status)
	}
	return nil
}
