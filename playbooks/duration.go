package playbooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a span of time written the way responders talk about it:
// "90m", "4h", "2h30m", "3d" (a day is 24 hours) or "1w".
//
// Days are exact 24-hour spans, not calendar days: regulatory clocks such as
// GDPR's 72 hours run in continuous hours, so "3d" is exactly 72h.
type Duration time.Duration

// durationUnits lists the accepted units from largest to smallest; String
// emits them in this order so formatting is canonical.
const durationUnits = "wdhms"

// unitSize is the length of durationUnits[i].
func unitSize(i int) time.Duration {
	switch durationUnits[i] {
	case 'w':
		return 7 * 24 * time.Hour
	case 'd':
		return 24 * time.Hour
	case 'h':
		return time.Hour
	case 'm':
		return time.Minute
	}
	return time.Second
}

// maxDuration bounds parsed values so arithmetic on them cannot overflow;
// ten years is far beyond any breach-response deadline.
const maxDuration = 10 * 365 * 24 * time.Hour

// errDurationSyntax is returned for strings that are not a sequence of
// <digits><unit> pairs.
var errDurationSyntax = errors.New(`want digits followed by a unit w, d, h, m or s, e.g. "90m", "4h", "2h30m", "3d"`)

// ParseDuration parses "90m", "4h", "2h30m", "3d" or "1w". Units may be
// combined ("1d12h") but each must be larger than the one after it.
func ParseDuration(s string) (Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("parse duration %q: %w", s, errDurationSyntax)
	}
	var total time.Duration
	rest := s
	last := -1
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 9 {
			return 0, fmt.Errorf("parse duration %q: %w", s, errDurationSyntax)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, fmt.Errorf("parse duration %q: %w", s, errDurationSyntax)
		}
		unit := strings.IndexByte(durationUnits, rest[i])
		if unit < 0 || unit <= last {
			return 0, fmt.Errorf("parse duration %q: %w", s, errDurationSyntax)
		}
		last = unit
		total += time.Duration(n) * unitSize(unit)
		if total > maxDuration {
			return 0, fmt.Errorf("parse duration %q: longer than ten years", s)
		}
		rest = rest[i+1:]
	}
	return Duration(total), nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d canonically with the largest units first ("1w", "1d12h",
// "1h30m"); ParseDuration(d.String()) == d for whole seconds.
func (d Duration) String() string {
	v := time.Duration(d)
	if v == 0 {
		return "0s"
	}
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
		v = -v
	}
	for i := range len(durationUnits) {
		size := unitSize(i)
		if n := v / size; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteByte(durationUnits[i])
			v -= n * size
		}
	}
	if v > 0 {
		// Sub-second remainders cannot come from ParseDuration; show them
		// rather than silently dropping them.
		b.WriteString(v.String())
	}
	return b.String()
}

// MarshalJSON writes the string form, so workflow inputs stay readable.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads the string form written by MarshalJSON.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"4h\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the string form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads the string form.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: duration must be a string such as \"4h\"", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}
