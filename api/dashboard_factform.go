package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/gin-gonic/gin"
)

// The facts inputs of the dashboard's launch form and of the incident
// page's facts form are made from breach.FactTable, so a new fact gets
// its input without a template change. What a form posts is turned into
// the JSON body POST /v1/incidents and PATCH /v1/incidents/{id} take and
// judged by their code; times are typed as wall-clock times in the
// viewer's zone and sent on in UTC.

// localLayout is how a datetime-local input writes a time.
const localLayout = "2006-01-02T15:04"

// factField is one fact's input on a dashboard form.
type factField struct {
	breach.Fact
	// ID is the input's id ("fact-risk"): the anchor a step that needs
	// the fact links to.
	ID string
	// Value is the value as typed or, on an unsent form, as known; a time
	// is written in the viewer's zone. Checked are a choices fact's values.
	Value   string
	Checked []string
	// UTC is a known time's instant, which app.js shows in the browser's
	// zone when the page did not know it.
	UTC    string
	Errors []string
}

// ErrorID is the id of the element that holds the field's errors.
func (f factField) ErrorID() string { return f.ID + "-error" }

// formFacts are the facts a form of role may set: not the system's, and
// not another role's decision (risk is legal's).
func formFacts(role string) []breach.Fact {
	var out []breach.Fact
	for _, f := range breach.FactTable() {
		if f.System || (f.Role != "" && !breach.RoleSatisfies(role, f.Role)) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// viewerZone is the zone the viewer reads and types times in: the form's
// tz field, else the viewer's remembered zone (ViewerZone), else UTC.
func viewerZone(c *gin.Context) *time.Location {
	name := c.PostForm("tz")
	if name == "" {
		name = c.Query("tz")
	}
	if name == "" {
		return ViewerZone(c)
	}
	if len(name) > 64 {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// postedFacts reads each fact's input from the form as typed.
func postedFacts(c *gin.Context, facts []breach.Fact) map[string]string {
	out := map[string]string{}
	for _, f := range facts {
		if f.Kind == breach.KindChoices {
			vals := slices.Clone(c.PostFormArray(f.Name))
			slices.Sort(vals)
			out[f.Name] = strings.Join(slices.Compact(vals), ",")
			continue
		}
		out[f.Name] = strings.TrimSpace(c.PostForm(f.Name))
	}
	return out
}

// knownFacts writes the incident's facts as the form's inputs hold them.
func knownFacts(cur breach.Facts, facts []breach.Fact, loc *time.Location) map[string]string {
	raw := map[string]json.RawMessage{}
	b, _ := json.Marshal(cur)
	_ = json.Unmarshal(b, &raw)
	out := map[string]string{}
	for _, f := range facts {
		v, ok := raw[f.Name]
		if !ok || string(v) == "null" {
			out[f.Name] = ""
			continue
		}
		switch f.Kind {
		case breach.KindTime:
			var t time.Time
			if json.Unmarshal(v, &t) == nil && !t.IsZero() {
				out[f.Name] = t.In(loc).Format(localLayout)
			}
		case breach.KindBool:
			out[f.Name] = string(v)
		case breach.KindChoice:
			var s string
			_ = json.Unmarshal(v, &s)
			out[f.Name] = s
		case breach.KindChoices, breach.KindJurisdictions:
			var list []string
			_ = json.Unmarshal(v, &list)
			if f.Kind == breach.KindChoices {
				slices.Sort(list)
				out[f.Name] = strings.Join(list, ",")
			} else {
				out[f.Name] = strings.Join(list, ", ")
			}
		case breach.KindCounts:
			var m map[string]int
			_ = json.Unmarshal(v, &m)
			var pairs []string
			for _, k := range slices.Sorted(maps.Keys(m)) {
				pairs = append(pairs, k+"="+strconv.Itoa(m[k]))
			}
			out[f.Name] = strings.Join(pairs, ", ")
		}
	}
	return out
}

// factJSON turns one input's value into the fact's JSON value as a
// request body carries it; the value's meaning is judged later, by the
// fact table, as for any body.
func factJSON(f breach.Fact, v string, loc *time.Location) (json.RawMessage, *FieldError) {
	bad := func(msg string) (json.RawMessage, *FieldError) {
		return nil, &FieldError{Field: f.Name, Message: msg}
	}
	var val any
	switch f.Kind {
	case breach.KindTime:
		t, err := time.ParseInLocation(localLayout, v, loc)
		if err != nil {
			t, err = time.ParseInLocation("2006-01-02T15:04:05", v, loc)
		}
		if err != nil {
			t, err = time.Parse(time.RFC3339, v)
		}
		if err != nil {
			return bad(fmt.Sprintf("%q is not a date and time such as 2026-11-23T09:00", v))
		}
		val = t.UTC().Format(time.RFC3339)
	case breach.KindBool:
		switch v {
		case "true":
			val = true
		case "false":
			val = false
		default:
			return bad("yes, no or not known")
		}
	case breach.KindChoice:
		val = v
	case breach.KindChoices:
		val = strings.Split(v, ",")
	case breach.KindJurisdictions:
		val = splitList(v)
	case breach.KindCounts:
		counts := map[string]int{}
		for _, pair := range splitPairs(v) {
			code, n, ok := strings.Cut(pair, "=")
			num, err := strconv.Atoi(strings.TrimSpace(n))
			if !ok || err != nil {
				return bad(fmt.Sprintf("%q: write CODE=count pairs such as US-CA=600, US-TX=40", pair))
			}
			counts[strings.TrimSpace(code)] = num
		}
		val = counts
	}
	raw, err := json.Marshal(val)
	if err != nil {
		return bad(err.Error())
	}
	return raw, nil
}

// splitList splits "DE, US-CA" (commas, spaces or lines) into codes.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// splitPairs splits "US-CA=600, DE=3" into trimmed pairs.
func splitPairs(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// launchFactsBody is the facts part of a launch body: each fact given.
func launchFactsBody(facts []breach.Fact, posted map[string]string, loc *time.Location) (map[string]json.RawMessage, []FieldError) {
	body := map[string]json.RawMessage{}
	var errs []FieldError
	for _, f := range facts {
		v := posted[f.Name]
		if v == "" {
			continue
		}
		raw, fe := factJSON(f, v, loc)
		if fe != nil {
			errs = append(errs, *fe)
			continue
		}
		body[f.Name] = raw
	}
	return body, errs
}

// patchFactsBody is the facts part of a PATCH body: the facts whose
// input differs from what the incident knows; an emptied input clears.
func patchFactsBody(facts []breach.Fact, posted, known map[string]string, loc *time.Location) (map[string]json.RawMessage, []FieldError) {
	body := map[string]json.RawMessage{}
	var errs []FieldError
	for _, f := range facts {
		v := posted[f.Name]
		if v == known[f.Name] {
			continue
		}
		if v == "" {
			if f.Required {
				errs = append(errs, FieldError{Field: f.Name, Message: "required: it cannot be cleared"})
				continue
			}
			body[f.Name] = json.RawMessage("null")
			continue
		}
		raw, fe := factJSON(f, v, loc)
		if fe != nil {
			errs = append(errs, *fe)
			continue
		}
		body[f.Name] = raw
	}
	return body, errs
}

// factFields builds the inputs of facts with their values (times in loc)
// and the errors that name them.
func factFields(facts []breach.Fact, values map[string]string, errs []FieldError, loc *time.Location) []factField {
	var out []factField
	for _, f := range facts {
		ff := factField{Fact: f, ID: "fact-" + f.Name, Value: values[f.Name]}
		if f.Kind == breach.KindChoices && ff.Value != "" {
			ff.Checked = strings.Split(ff.Value, ",")
		}
		if f.Kind == breach.KindTime && ff.Value != "" {
			if t, err := time.ParseInLocation(localLayout, ff.Value, loc); err == nil {
				ff.UTC = t.UTC().Format(time.RFC3339)
			}
		}
		for _, e := range errs {
			if errField(e.Field) == f.Name {
				ff.Errors = append(ff.Errors, e.Message)
			}
		}
		out = append(out, ff)
	}
	return out
}

// errField is the input a field error belongs to: "members[2]" and
// "affected.US-XX" belong to members and affected.
func errField(field string) string {
	name, _, _ := strings.Cut(field, "[")
	name, _, _ = strings.Cut(name, ".")
	return name
}
