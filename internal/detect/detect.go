package detect

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/breachflow/breachflow/internal/alerts"
)

// Finding is one rule's hit: one user, one day of the organisation's
// calendar, with counts and the time window, never customer data.
type Finding struct {
	Rule     string    `json:"rule"`
	Kind     string    `json:"kind"`
	Severity string    `json:"severity,omitempty"`
	User     string    `json:"user"`
	Day      string    `json:"day"`
	Events   int       `json:"events"`
	Records  int64     `json:"records"`
	Objects  int       `json:"objects"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Baseline float64   `json:"baseline,omitempty"` // volume_spike: the user's trailing daily mean
}

// Report is what a log yielded.
type Report struct {
	Format   string    `json:"format"`
	Events   int       `json:"events"`   // good events the rules looked at
	Problems []Problem `json:"problems"` // the first maxProblems
	// ProblemCount counts every problem, listed or not.
	ProblemCount int       `json:"problem_count"`
	Findings     []Finding `json:"findings"`
}

// tally aggregates one user's events of one day for one rule.
type tally struct {
	events  int
	records int64
	objects map[string]bool
	from    time.Time
	to      time.Time
}

func (t *tally) add(e Event) {
	if t.events == 0 || e.Time.Before(t.from) {
		t.from = e.Time
	}
	if t.events == 0 || e.Time.After(t.to) {
		t.to = e.Time
	}
	t.events++
	t.records += e.Records
	if e.Object != "" {
		if t.objects == nil {
			t.objects = map[string]bool{}
		}
		t.objects[e.Object] = true
	}
}

type userDay struct{ user, day string }

// Run reads a log of format and applies the configuration's rules.
func (c *Config) Run(format string, in io.Reader) (*Report, error) {
	var rd reader
	afterHours := map[userDay]*tally{}
	exports := map[userDay]*tally{}
	nonOwner := map[userDay]*tally{}
	get := func(m map[userDay]*tally, k userDay) *tally {
		t := m[k]
		if t == nil {
			t = &tally{}
			m[k] = t
		}
		return t
	}
	n := 0
	err := rd.read(format, in, func(e Event) {
		n++
		k := userDay{e.User, c.day(e.Time)}
		if e.Action == ActionExport {
			get(exports, k).add(e)
			if !c.businessHours(e.Time) {
				get(afterHours, k).add(e)
			}
		}
		if c.highTierStranger(e) {
			get(nonOwner, k).add(e)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	rep := &Report{Format: format, Events: n, Problems: rd.problems, ProblemCount: rd.count}
	if rep.Problems == nil {
		rep.Problems = []Problem{}
	}
	for _, r := range c.Rules {
		switch r.Kind {
		case KindAfterHours:
			for k, t := range afterHours {
				if t.records >= max(r.MinRecords, 1) {
					rep.Findings = append(rep.Findings, finding(r, k, t))
				}
			}
		case KindNonOwner:
			for k, t := range nonOwner {
				if t.records >= r.MinRecords {
					rep.Findings = append(rep.Findings, finding(r, k, t))
				}
			}
		case KindVolumeSpike:
			rep.Findings = append(rep.Findings, c.spikes(r, exports)...)
		}
	}
	slices.SortFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.User, b.User))
	})
	return rep, nil
}

// highTierStranger reports a read or export of high-tier customers'
// records by someone who does not manage them.
func (c *Config) highTierStranger(e Event) bool {
	if managers, ok := c.owners[e.Object]; ok {
		return !slices.Contains(managers, e.User)
	}
	return e.Tier == "high" && e.Owner != "" && e.Owner != e.User
}

// spikes finds user-days whose exported records exceed Factor times the
// user's mean over the BaselineDays before (days without exports count
// as zero). A user with no exports in that window has no baseline and is
// left to the other rules.
func (c *Config) spikes(r Rule, exports map[userDay]*tally) []Finding {
	var out []Finding
	for k, t := range exports {
		if t.records < r.MinRecords {
			continue
		}
		day, _ := time.ParseInLocation(time.DateOnly, k.day, c.loc)
		var sum int64
		for i := 1; i <= r.BaselineDays; i++ {
			if p := exports[userDay{k.user, day.AddDate(0, 0, -i).Format(time.DateOnly)}]; p != nil {
				sum += p.records
			}
		}
		mean := float64(sum) / float64(r.BaselineDays)
		if mean > 0 && float64(t.records) > r.Factor*mean {
			f := finding(r, k, t)
			f.Baseline = mean
			out = append(out, f)
		}
	}
	return out
}

func finding(r Rule, k userDay, t *tally) Finding {
	return Finding{Rule: r.ID, Kind: r.Kind, Severity: r.Severity, User: k.user, Day: k.day,
		Events: t.events, Records: t.records, Objects: len(t.objects), From: t.from, To: t.to}
}

// titles word each kind for an alert title.
var titles = map[string]string{
	KindAfterHours:  "After-hours export by %s on %s",
	KindVolumeSpike: "Export volume spike by %s on %s",
	KindNonOwner:    "High-tier customer records accessed by non-owner %s on %s",
}

// Alert turns a finding into an alert for the intake: labels say which
// detector rule, user and day, so a log sent twice de-duplicates.
func (f Finding) Alert(format string) alerts.Alert {
	raw, _ := json.Marshal(f)
	return alerts.Alert{
		Fingerprint: "detect:" + f.Rule + ":" + f.User + ":" + f.Day,
		Title:       fmt.Sprintf(titles[f.Kind], f.User, f.Day),
		Severity:    f.Severity,
		Status:      alerts.Firing,
		Labels: map[string]string{
			"detector": "crm", "finding": f.Kind, "detect_rule": f.Rule, "user": f.User, "day": f.Day,
			"log": format, "records": strconv.FormatInt(f.Records, 10), "events": strconv.Itoa(f.Events),
		},
		Text:     fmt.Sprintf("%d events, %d records, %d objects between %s and %s", f.Events, f.Records, f.Objects, f.From.Format(time.RFC3339), f.To.Format(time.RFC3339)),
		StartsAt: f.From,
		Raw:      raw,
	}
}

// Kinds lists the rule kinds, sorted.
func Kinds() []string { return slices.Sorted(maps.Keys(titles)) }
