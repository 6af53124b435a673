package alerts

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"gopkg.in/yaml.v3"
)

// EnvRulesDir names the environment variable whose directory adds rule
// files to, or replaces, the shipped ones.
const EnvRulesDir = "BREACHFLOW_ALERT_RULES_DIR"

//go:embed rules/*.yaml
var embeddedRules embed.FS

// Actions a rule may take on a new alert.
const (
	ActionLaunch = "launch" // launch a playbook
	ActionAttach = "attach" // attach to the open incident with a matching key
	ActionTriage = "triage" // queue for a person
)

// DefaultDedupWindow is how long a repeat of an alert counts as the same
// alert when no rule file says otherwise.
const DefaultDedupWindow = 24 * time.Hour

// Rules is the routing table: every rule of every file, in order (shipped
// files first, then the directory's, each file's rules as written). The
// first rule that matches an alert decides; no match means triage.
type Rules struct {
	DedupWindow time.Duration
	Rules       []*Rule
}

// Rule is one routing rule.
type Rule struct {
	ID          string  `yaml:"id" json:"id"`
	Description string  `yaml:"description" json:"description,omitempty"`
	Match       Match   `yaml:"match" json:"match"`
	Action      string  `yaml:"action" json:"action"`
	Launch      *Launch `yaml:"launch" json:"launch,omitempty"`
	Attach      *Attach `yaml:"attach" json:"attach,omitempty"`
	Storm       *Storm  `yaml:"storm" json:"storm,omitempty"`
	File        string  `yaml:"-" json:"file"`
	Line        int     `yaml:"-" json:"line"`
	textRE      *regexp.Regexp
	labelRE     map[string]*regexp.Regexp
}

// Match selects alerts; every given condition must hold, an empty one
// holds always.
type Match struct {
	Sources    []string          `yaml:"source" json:"source,omitempty"`
	Severities []string          `yaml:"severity" json:"severity,omitempty"`
	Labels     map[string]string `yaml:"labels" json:"labels,omitempty"` // exact value, or ~regexp
	Text       string            `yaml:"text" json:"text,omitempty"`     // regexp on title and text
}

// Launch says which playbook a matching alert launches and how.
type Launch struct {
	Playbook       string   `yaml:"playbook" json:"playbook"`
	Title          string   `yaml:"title" json:"title,omitempty"` // default: the alert's title
	Severity       string   `yaml:"severity" json:"severity,omitempty"`
	Jurisdictions  []string `yaml:"jurisdictions" json:"jurisdictions,omitempty"`
	DataCategories []string `yaml:"data_categories" json:"data_categories,omitempty"`
	Restricted     bool     `yaml:"restricted" json:"restricted,omitempty"`
	Members        []string `yaml:"members" json:"members,omitempty"`
	// Facts maps a fact to the alert field that sets it: starts_at for a
	// time fact, labels.<name> for a jurisdictions, choice or choices
	// fact (one value). aware_at is never set from an alert.
	Facts map[string]string `yaml:"facts" json:"facts,omitempty"`
	// ExternalRefLabel, when set, makes the label's value the incident's
	// external_ref, so attach rules (and repeats) find it.
	ExternalRefLabel string `yaml:"external_ref_label" json:"external_ref_label,omitempty"`
}

// Attach says how a matching alert finds its incident: the active
// incident whose external_ref is the value of the label.
type Attach struct {
	ExternalRefLabel string `yaml:"external_ref_label" json:"external_ref_label"`
}

// Storm gathers a burst: every alert the rule launches for within Window
// of the first joins the first one's incident.
type Storm struct {
	Window Duration `yaml:"window" json:"window"`
}

// Duration is a time.Duration written as "10m", "24h".
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: %q is not a positive duration such as 10m or 24h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// ruleFile is one YAML file.
type ruleFile struct {
	Version     int       `yaml:"version"`
	DedupWindow *Duration `yaml:"dedup_window"`
	Rules       []*Rule   `yaml:"rules"`
}

// PlaybookCatalog is what rule validation needs of the playbooks.
type PlaybookCatalog interface {
	Get(id string) (*playbooks.Playbook, bool)
}

var ruleIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ParseRules reads one rule file, checking it against the playbook
// catalog; every problem names the file, line and field.
func ParseRules(file string, data []byte, pbs PlaybookCatalog) (*Rules, error) {
	var problems []playbooks.Problem
	add := func(line int, field, format string, args ...any) {
		problems = append(problems, playbooks.Problem{File: file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	fail := func() (*Rules, error) {
		return nil, &playbooks.ValidationError{Problems: problems}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlErrorLine(err)
		add(line, "", "%s", msg)
		return fail()
	}
	if len(root.Content) == 0 {
		add(1, "", "empty file")
		return fail()
	}
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			line, msg := yamlErrorLine(err)
			add(line, "", "%s", msg)
			return fail()
		}
		for _, e := range te.Errors {
			line, msg := yamlErrorLine(errors.New(e))
			add(line, "", "%s", msg)
		}
		// Unknown fields alone leave the rest worth checking: decode
		// again without them and go on, so one run names every problem.
		f = ruleFile{}
		if yaml.Unmarshal(data, &f) != nil {
			return fail()
		}
	}
	doc := root.Content[0]
	if f.Version != 1 {
		add(keyLine(doc, "version"), "version", "want 1 (the rule file format's version)")
	}
	rulesNode := child(doc, "rules")
	seen := map[string]bool{}
	for i, r := range f.Rules {
		var n *yaml.Node
		if rulesNode != nil && i < len(rulesNode.Content) {
			n = rulesNode.Content[i]
		}
		p := fmt.Sprintf("rules[%d]", i)
		if r == nil {
			add(lineOf(n), p, "an empty rule")
			continue
		}
		r.File, r.Line = file, lineOf(n)
		at := func(path ...string) int { return keyLine(n, path...) }
		switch {
		case !ruleIDPattern.MatchString(r.ID):
			add(at("id"), p+".id", "want lower-case letters, digits and dashes (%q)", r.ID)
		case seen[r.ID]:
			add(at("id"), p+".id", "rule %q is defined twice", r.ID)
		}
		seen[r.ID] = true
		for j, sev := range r.Match.Severities {
			if !slices.Contains(breach.Severities, sev) {
				add(at("match", "severity"), fmt.Sprintf("%s.match.severity[%d]", p, j), "%q is not one of %s", sev, strings.Join(breach.Severities, ", "))
			}
		}
		if r.Match.Text != "" {
			re, err := regexp.Compile(r.Match.Text)
			if err != nil {
				add(at("match", "text"), p+".match.text", "not a regular expression: %v", err)
			}
			r.textRE = re
		}
		r.labelRE = map[string]*regexp.Regexp{}
		for k, v := range r.Match.Labels {
			if expr, ok := strings.CutPrefix(v, "~"); ok {
				re, err := regexp.Compile("^(?:" + expr + ")$")
				if err != nil {
					add(at("match", "labels", k), p+".match.labels."+k, "not a regular expression: %v", err)
				}
				r.labelRE[k] = re
			}
		}
		switch r.Action {
		case ActionLaunch:
			if r.Launch == nil {
				add(at("action"), p+".launch", "required when action is launch")
			} else {
				checkLaunch(r.Launch, pbs, func(field, format string, args ...any) {
					path := append([]string{"launch"}, strings.Split(field, ".")...)
					add(at(path...), p+".launch."+field, format, args...)
				})
			}
		case ActionAttach:
			if r.Attach == nil || r.Attach.ExternalRefLabel == "" {
				add(at("action"), p+".attach.external_ref_label", "required when action is attach")
			}
		case ActionTriage:
		default:
			add(at("action"), p+".action", "%q is not one of launch, attach, triage", r.Action)
		}
		if r.Action != ActionLaunch && r.Launch != nil {
			add(at("launch"), p+".launch", "only with action: launch")
		}
		if r.Action != ActionAttach && r.Attach != nil {
			add(at("attach"), p+".attach", "only with action: attach")
		}
		if r.Storm != nil && r.Action != ActionLaunch {
			add(at("storm"), p+".storm", "only with action: launch")
		}
	}
	if len(problems) > 0 {
		return fail()
	}
	out := &Rules{DedupWindow: DefaultDedupWindow, Rules: f.Rules}
	if f.DedupWindow != nil {
		out.DedupWindow = time.Duration(*f.DedupWindow)
	}
	return out, nil
}

// checkLaunch checks a launch block; bad names the field under launch.
func checkLaunch(l *Launch, pbs PlaybookCatalog, bad func(field, format string, args ...any)) {
	if l.Playbook == "" {
		bad("playbook", "required")
	} else if _, ok := pbs.Get(l.Playbook); !ok {
		bad("playbook", "unknown playbook %q", l.Playbook)
	}
	if l.Severity != "" && !slices.Contains(breach.Severities, l.Severity) {
		bad("severity", "%q is not one of %s", l.Severity, strings.Join(breach.Severities, ", "))
	}
	if len(l.Title) > MaxTitle {
		bad("title", "at most %d characters", MaxTitle)
	}
	for i, j := range l.Jurisdictions {
		if err := breach.ValidateJurisdiction(j); err != nil {
			bad("jurisdictions", "[%d]: %v", i, err)
		}
	}
	for _, c := range l.DataCategories {
		if !slices.Contains(breach.DataCategories(), c) {
			bad("data_categories", "%q is not one of %s", c, strings.Join(breach.DataCategories(), ", "))
		}
	}
	if len(l.Members) > 0 && !l.Restricted {
		bad("members", "only with restricted: true")
	}
	for name, field := range l.Facts {
		fact, ok := breach.LookupFact(name)
		switch {
		case name == "aware_at":
			bad("facts."+name, "aware_at starts the legal clock and is set by a person accepting an alert, never by a rule")
		case !ok || fact.System || fact.Name != name:
			bad("facts."+name, "unknown fact %q", name)
		case fact.Role != "":
			bad("facts."+name, "%s is %s's decision, never a rule's", name, fact.Role)
		case fact.Kind == breach.KindTime && field != "starts_at":
			bad("facts."+name, "a time fact takes starts_at, not %q", field)
		case fact.Kind == breach.KindJurisdictions || fact.Kind == breach.KindChoice || fact.Kind == breach.KindChoices:
			if label, ok := strings.CutPrefix(field, "labels."); !ok || label == "" {
				bad("facts."+name, "a %s fact takes labels.<name>, not %q", fact.Kind, field)
			}
		case fact.Kind != breach.KindTime:
			bad("facts."+name, "a %s fact cannot be taken from an alert", fact.Kind)
		}
	}
}

// LoadRules reads the shipped rule files and every *.yaml or *.yml file in
// dir (when not empty); a file in dir named like a shipped one replaces
// it. Any invalid file fails the whole load, listing every problem.
func LoadRules(dir string, pbs PlaybookCatalog) (*Rules, error) {
	files := map[string][]byte{}
	var order []string
	shipped, err := fs.Glob(embeddedRules, "rules/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(shipped)
	for _, p := range shipped {
		b, err := embeddedRules.ReadFile(p)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(p)
		files[name] = b
		order = append(order, name)
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("alerts: read rules dir: %w", err)
		}
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("alerts: read rule file: %w", err)
			}
			if _, ok := files[e.Name()]; !ok {
				order = append(order, e.Name())
			}
			files[e.Name()] = b
		}
	}
	all := &Rules{DedupWindow: DefaultDedupWindow}
	var problems []playbooks.Problem
	ids := map[string]string{}
	for i, name := range order {
		rs, err := ParseRules(name, files[name], pbs)
		var ve *playbooks.ValidationError
		if errors.As(err, &ve) {
			problems = append(problems, ve.Problems...)
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, r := range rs.Rules {
			if other, dup := ids[r.ID]; dup {
				problems = append(problems, playbooks.Problem{File: name, Line: r.Line, Field: "id", Message: fmt.Sprintf("rule %q is also defined in %s", r.ID, other)})
			}
			ids[r.ID] = name
		}
		all.Rules = append(all.Rules, rs.Rules...)
		if i == 0 || rs.DedupWindow != DefaultDedupWindow {
			all.DedupWindow = rs.DedupWindow
		}
	}
	if len(problems) > 0 {
		return nil, &playbooks.ValidationError{Problems: problems}
	}
	return all, nil
}

// Get returns the rule with id.
func (rs *Rules) Get(id string) (*Rule, bool) {
	for _, r := range rs.Rules {
		if r.ID == id {
			return r, true
		}
	}
	return nil, false
}

// Route returns the first rule matching an alert from source, or nil.
func (rs *Rules) Route(source string, a Alert) *Rule {
	for _, r := range rs.Rules {
		if r.Matches(source, a) {
			return r
		}
	}
	return nil
}

// Matches reports whether every condition of the rule holds for a.
func (r *Rule) Matches(source string, a Alert) bool {
	m := r.Match
	if len(m.Sources) > 0 && !slices.Contains(m.Sources, source) {
		return false
	}
	if len(m.Severities) > 0 && !slices.Contains(m.Severities, a.Severity) {
		return false
	}
	for k, want := range m.Labels {
		got, ok := a.Labels[k]
		if !ok {
			return false
		}
		if re := r.labelRE[k]; re != nil {
			if !re.MatchString(got) {
				return false
			}
		} else if got != want {
			return false
		}
	}
	if r.textRE != nil && !r.textRE.MatchString(a.Title) && !r.textRE.MatchString(a.Text) {
		return false
	}
	return true
}

// yamlLineRE finds the line number in yaml.v3's error text.
var yamlLineRE = regexp.MustCompile(`line (\d+): `)

func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatchIndex(msg); m != nil {
		var n int
		_, _ = fmt.Sscanf(msg[m[2]:m[3]], "%d", &n)
		msg = msg[:m[0]] + msg[m[1]:]
		msg = strings.Replace(msg, "not found in type alerts.", "is not a known field of ", 1)
		return n, msg
	}
	return 0, msg
}

// child returns the value node of key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// keyLine is the line of the deepest key of path that exists under n.
func keyLine(n *yaml.Node, path ...string) int {
	line := lineOf(n)
	for _, k := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			break
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}
