package playbooks

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

//go:embed playbook.schema.json
var schemaJSON []byte

// schemaURL is the schema's $id; the compiler resolves it from memory.
const schemaURL = "https://github.com/breachflow/breachflow/playbooks/playbook.schema.json"

// Schema returns the JSON Schema for playbook files (draft 2020-12). Point
// an editor's YAML language server at it for completion and checking.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// compiledSchema compiles the embedded schema once; the result is never
// modified, and a broken schema is a build defect that every Parse reports.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("playbooks: read schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("playbooks: add schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("playbooks: compile schema: %w", err)
	}
	return s, nil
})

// maxFileSize bounds a playbook file; real ones are a few kilobytes.
const maxFileSize = 1 << 20

// Parse reads one playbook file. It is strict: unknown keys, duplicate keys,
// aliases and every schema or semantic problem are refused. file names the
// source in problems and becomes Playbook.Source. The error, when not nil,
// is a *ValidationError listing every problem found.
func Parse(file string, data []byte) (*Playbook, error) {
	fail := func(line int, field, msg string) (*Playbook, error) {
		return nil, &ValidationError{Problems: []Problem{{File: file, Line: line, Field: field, Message: msg}}}
	}
	if len(data) > maxFileSize {
		return fail(0, "", fmt.Sprintf("file is larger than %d bytes", maxFileSize))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(1, "", "empty document")
		}
		line, msg := yamlErrorLine(err)
		return fail(line, "", msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			line, _ = yamlErrorLine(err)
		}
		return fail(line, "", "a file holds exactly one playbook (found a second YAML document)")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}

	t := &tree{file: file, lines: map[string]int{"": root.Line}, keyLines: map[string]int{}, values: map[string]any{}}
	value := t.convert(root, "")
	if len(t.problems) > 0 {
		// Duplicate keys or aliases make the document ambiguous; checking
		// it further would report consequences, not causes.
		return nil, &ValidationError{Problems: sortProblems(t.problems)}
	}

	t.checkDurations(value)
	defaults := DefaultTiering()
	p := &Playbook{Tiering: &defaults} // fields the file omits keep the defaults
	if obj, ok := value.(map[string]any); ok {
		if b, err := json.Marshal(obj); err == nil {
			// Type mismatches leave fields zero; the schema reports them.
			_ = json.Unmarshal(b, p)
		}
	}
	p.Source = file
	t.checkSemantics(p)
	t.checkSchema(value)
	if len(t.problems) > 0 {
		return nil, &ValidationError{Problems: sortProblems(t.problems)}
	}
	if p.Tiering == nil { // "tiering: null"
		p.Tiering = &defaults
	}
	p.normalize()
	return p, nil
}

// yamlLineRE finds the line number in yaml.v3's error text.
var yamlLineRE = regexp.MustCompile(`line (\d+): `)

// yamlErrorLine pulls the line number out of a yaml.v3 syntax error.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatchIndex(msg); m != nil {
		n, _ := strconv.Atoi(msg[m[2]:m[3]])
		return n, "YAML syntax: " + msg[:m[0]] + msg[m[1]:]
	}
	return 0, "YAML syntax: " + msg
}

// tree maps field paths ("steps[3].after[0]") of one document to YAML lines
// and collects problems.
type tree struct {
	file     string
	lines    map[string]int // path -> line of the value
	keyLines map[string]int // path -> line of its key
	values   map[string]any // path -> scalar value, as converted
	problems []Problem
}

// add records a problem.
func (t *tree) add(line int, field, format string, args ...any) {
	t.problems = append(t.problems, Problem{File: t.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// line returns the line of path, or of its nearest ancestor that exists.
func (t *tree) line(path string) int {
	for {
		if n, ok := t.lines[path]; ok {
			return n
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// has reports whether path is present in the document.
func (t *tree) has(path string) bool {
	_, ok := t.lines[path]
	return ok
}

// parentPath strips the last ".key" or "[i]" from path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// joinKey appends a mapping key to path.
func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinIndex appends a sequence index to path.
func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// convert turns a YAML node into the JSON data model (map[string]any,
// []any, string, float64, int, bool, nil) the schema validator expects,
// recording each path's line on the way.
func (t *tree) convert(n *yaml.Node, path string) any {
	switch n.Kind {
	case yaml.DocumentNode:
		// An empty document: treat as null so the schema says "want object".
		return nil
	case yaml.AliasNode:
		t.add(n.Line, path, "anchors and aliases are not supported in playbooks")
		return nil
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				t.add(k.Line, path, "mapping keys must be plain strings")
				continue
			}
			if k.Value == "<<" {
				t.add(k.Line, path, "merge keys (<<) are not supported in playbooks")
				continue
			}
			child := joinKey(path, k.Value)
			if _, dup := m[k.Value]; dup {
				t.add(k.Line, child, "duplicate key (first at line %d)", t.keyLines[child])
				continue
			}
			t.lines[child] = v.Line
			t.keyLines[child] = k.Line
			m[k.Value] = t.convert(v, child)
		}
		return m
	case yaml.SequenceNode:
		a := make([]any, len(n.Content))
		for i, c := range n.Content {
			child := joinIndex(path, i)
			t.lines[child] = c.Line
			a[i] = t.convert(c, child)
		}
		return a
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return n.Value
			}
			if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				// JSON has no NaN or infinity; keep the text so the schema
				// reports a type error instead of the encoder failing.
				return n.Value
			}
			t.values[path] = v
			return v
		}
		// Strings, timestamps, binary and custom tags: the text as written.
		return n.Value
	}
	return nil
}

// checkSchema validates the document against the embedded JSON Schema and
// turns each failure into a Problem at the offending node's line.
func (t *tree) checkSchema(doc any) {
	sch, err := compiledSchema()
	if err != nil {
		t.add(0, "", "%v", err)
		return
	}
	err = sch.Validate(doc)
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		t.add(0, "", "schema: %v", err)
		return
	}
	printer := message.NewPrinter(language.English)
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		path := instancePath(doc, e.InstanceLocation)
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			for _, name := range k.Properties {
				f := joinKey(path, name)
				t.add(t.keyLines[f], f, "unknown field %q", name)
			}
		case *kind.Required:
			for _, name := range k.Missing {
				t.add(t.line(path), joinKey(path, name), "required field is missing")
			}
		default:
			t.add(t.line(path), path, "%s", e.ErrorKind.LocalizedString(printer))
		}
	}
	walk(ve)
}

// instancePath turns a JSON pointer's tokens into a field path, using the
// document to tell array indexes from object keys.
func instancePath(doc any, tokens []string) string {
	path := ""
	v := doc
	for _, tok := range tokens {
		switch x := v.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return joinKey(path, tok)
			}
			path = joinIndex(path, i)
			v = x[i]
		case map[string]any:
			path = joinKey(path, tok)
			v = x[tok]
		default:
			return joinKey(path, tok)
		}
	}
	return path
}

// normalize turns empty lists into nil, the form JSON's omitempty gives
// back, so a playbook equals its own JSON round trip (the workflow receives
// it as JSON and must see exactly what was validated).
func (p *Playbook) normalize() {
	p.Reminders = nilIfEmpty(p.Reminders)
	for i := range p.Steps {
		s := &p.Steps[i]
		s.After = nilIfEmpty(s.After)
		s.When = nilIfEmpty(s.When)
		for j := range s.When {
			s.When[j].Risk = nilIfEmpty(s.When[j].Risk)
		}
		s.Reminders = nilIfEmpty(s.Reminders)
		s.Requires = nilIfEmpty(s.Requires)
		s.OnReject = nilIfEmpty(s.OnReject)
	}
}

// nilIfEmpty returns nil for an empty slice.
func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}
