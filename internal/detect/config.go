// Package detect reads CRM access logs (Salesforce Event Monitoring
// EventLogFile CSV, HubSpot's audit-log export, a generic JSON-lines
// access log) and finds what precedes most customer-data breaches seen
// from the inside: bulk exports after hours, a user's export volume far
// above their own baseline, and high-tier customers' records read by
// someone who does not manage them. Findings carry counts, time windows
// and user ids, never a customer's name or email; the API turns each into
// an alert through the ordinary intake.
package detect

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvConfig names the environment variable holding the path of the
// detector's YAML configuration; empty uses the shipped default.
const EnvConfig = "BREACHFLOW_DETECT_CONFIG"

//go:embed default.yaml
var defaultConfig []byte

// Rule kinds.
const (
	KindAfterHours  = "after_hours_export"
	KindVolumeSpike = "volume_spike"
	KindNonOwner    = "non_owner_high_tier"
)

// Config is the detector's configuration: the organisation's calendar,
// the rules, and which objects hold high-tier customers' records.
type Config struct {
	Version       int           `yaml:"version"`
	TimeZone      string        `yaml:"timezone"`
	BusinessHours BusinessHours `yaml:"business_hours"`
	Holidays      []string      `yaml:"holidays"`
	Rules         []Rule        `yaml:"rules"`
	HighTier      []HighTier    `yaml:"high_tier"`

	loc      *time.Location
	holidays map[string]bool
	owners   map[string][]string // object → managers
	start    time.Duration       // business day start, from midnight
	end      time.Duration
	weekdays map[time.Weekday]bool
}

// BusinessHours are the hours on working days when exports are expected.
type BusinessHours struct {
	Start    string   `yaml:"start"` // "08:00"
	End      string   `yaml:"end"`   // "19:00"
	Weekdays []string `yaml:"weekdays"`
}

// Rule is one detection rule.
type Rule struct {
	ID           string  `yaml:"id"`
	Kind         string  `yaml:"kind"`
	Severity     string  `yaml:"severity"`
	MinRecords   int64   `yaml:"min_records"`   // after_hours_export, volume_spike: at least this many records in the day
	Factor       float64 `yaml:"factor"`        // volume_spike: above factor × the user's trailing daily mean
	BaselineDays int     `yaml:"baseline_days"` // volume_spike: days of that mean
}

// HighTier names an object (report, record or entity id) that holds
// high-tier customers' records, and the users who manage them.
type HighTier struct {
	Object   string   `yaml:"object"`
	Managers []string `yaml:"managers"`
}

var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// DefaultConfig returns the shipped configuration.
func DefaultConfig() (*Config, error) { return ParseConfig("default.yaml", defaultConfig) }

// LoadConfig reads the configuration at path, or the default when empty.
func LoadConfig(path string) (*Config, error) {
	if path == "" {
		return DefaultConfig()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return ParseConfig(path, b)
}

// ParseConfig reads and checks a configuration; problems name the line.
func ParseConfig(file string, data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	bad := func(path []string, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", file, line(&root, path), strings.Join(path, "."), fmt.Sprintf(format, args...))
	}
	if c.Version != 1 {
		return nil, bad([]string{"version"}, "want 1")
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return nil, bad([]string{"timezone"}, "%q is not an IANA time zone such as Europe/Berlin", c.TimeZone)
	}
	c.loc = loc
	if c.start, err = clock(c.BusinessHours.Start); err != nil {
		return nil, bad([]string{"business_hours", "start"}, "%v", err)
	}
	if c.end, err = clock(c.BusinessHours.End); err != nil || c.end <= c.start {
		return nil, bad([]string{"business_hours", "end"}, "want HH:MM after start")
	}
	c.weekdays = map[time.Weekday]bool{}
	for _, d := range c.BusinessHours.Weekdays {
		wd, ok := weekdayNames[strings.ToLower(d)]
		if !ok {
			return nil, bad([]string{"business_hours", "weekdays"}, "%q is not mon, tue, wed, thu, fri, sat or sun", d)
		}
		c.weekdays[wd] = true
	}
	c.holidays = map[string]bool{}
	for _, h := range c.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			return nil, bad([]string{"holidays"}, "%q is not a date such as 2026-12-25", h)
		}
		c.holidays[h] = true
	}
	ids := map[string]bool{}
	for i, r := range c.Rules {
		at := []string{"rules", fmt.Sprint(i)}
		switch {
		case r.ID == "" || ids[r.ID]:
			return nil, bad(append(at, "id"), "missing or repeated rule id %q", r.ID)
		case !slices.Contains([]string{KindAfterHours, KindVolumeSpike, KindNonOwner}, r.Kind):
			return nil, bad(append(at, "kind"), "%q is not one of %s, %s, %s", r.Kind, KindAfterHours, KindVolumeSpike, KindNonOwner)
		case r.Severity != "" && !slices.Contains([]string{"low", "medium", "high", "critical"}, r.Severity):
			return nil, bad(append(at, "severity"), "%q is not low, medium, high or critical", r.Severity)
		case r.Kind == KindVolumeSpike && (r.Factor <= 1 || r.BaselineDays < 1):
			return nil, bad(append(at, "factor"), "a volume spike needs factor above 1 and baseline_days of 1 or more")
		case r.MinRecords < 0:
			return nil, bad(append(at, "min_records"), "must not be negative")
		}
		ids[r.ID] = true
	}
	c.owners = map[string][]string{}
	for i, h := range c.HighTier {
		if h.Object == "" {
			return nil, bad([]string{"high_tier", fmt.Sprint(i), "object"}, "required")
		}
		c.owners[h.Object] = append(c.owners[h.Object], h.Managers...)
	}
	return &c, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time such as 08:00", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// line finds the line of a dotted path (sequence indexes as numbers).
func line(root *yaml.Node, path []string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	ln := n.Line
	for _, p := range path {
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					ln, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return ln
			}
		case yaml.SequenceNode:
			var i int
			if _, err := fmt.Sscanf(p, "%d", &i); err != nil || i >= len(n.Content) {
				return ln
			}
			n = n.Content[i]
			ln = n.Line
		default:
			return ln
		}
	}
	return ln
}

// businessHours reports whether t falls in the organisation's working
// hours, in its time zone and calendar.
func (c *Config) businessHours(t time.Time) bool {
	l := t.In(c.loc)
	if !c.weekdays[l.Weekday()] || c.holidays[l.Format(time.DateOnly)] {
		return false
	}
	since := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second
	return since >= c.start && since < c.end
}

// day is the organisation's calendar day of t.
func (c *Config) day(t time.Time) string { return t.In(c.loc).Format(time.DateOnly) }
