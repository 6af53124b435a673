package playbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvDir names the environment variable whose directory adds playbooks to,
// or overrides, the embedded ones.
const EnvDir = "BREACHFLOW_PLAYBOOK_DIR"

//go:embed *.yaml
var embedded embed.FS

// Catalog holds the playbooks available for launch, one version per id.
// It is read-only once built; callers must not modify the playbooks it
// returns.
type Catalog struct {
	byID map[string]*Playbook
}

// Embedded returns the playbooks shipped in the binary.
func Embedded() (*Catalog, error) {
	return Load("")
}

// Load returns the embedded playbooks plus every *.yaml and *.yml file in
// overrideDir (not its subdirectories); a file with the id of an embedded
// playbook replaces it. An empty overrideDir means embedded only. Any
// invalid file fails the whole load, so a catalog is never partial; the
// error lists every problem in every file.
func Load(overrideDir string) (*Catalog, error) {
	c := &Catalog{byID: map[string]*Playbook{}}
	var problems []Problem

	names, err := fs.Glob(embedded, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("playbooks: list embedded: %w", err)
	}
	for _, name := range names {
		data, err := embedded.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("playbooks: read embedded %s: %w", name, err)
		}
		problems = c.add("embedded:"+name, data, false, problems)
	}

	if overrideDir != "" {
		entries, err := os.ReadDir(overrideDir)
		if err != nil {
			return nil, fmt.Errorf("playbooks: read %s directory: %w", EnvDir, err)
		}
		overridden := map[string]string{} // id -> file, to refuse two files with one id
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
				continue
			}
			path := filepath.Join(overrideDir, e.Name())
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("playbooks: read %s: %w", path, err)
			}
			before := len(problems)
			problems = c.add(path, data, true, problems)
			if len(problems) > before {
				continue
			}
			for id, p := range c.byID {
				if p.Source != path {
					continue
				}
				if other, dup := overridden[id]; dup {
					problems = append(problems, Problem{File: path, Line: idLine(data), Field: "id",
						Message: fmt.Sprintf("playbook %q is also defined in %s", id, other)})
				}
				overridden[id] = path
			}
		}
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: sortProblems(problems)}
	}
	return c, nil
}

// add parses one file into the catalog and returns problems extended by
// whatever is wrong with it.
func (c *Catalog) add(file string, data []byte, override bool, problems []Problem) []Problem {
	p, err := Parse(file, data)
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		return append(problems, ve.Problems...)
	case err != nil:
		return append(problems, Problem{File: file, Message: err.Error()})
	}
	if prev, dup := c.byID[p.ID]; dup && !override {
		return append(problems, Problem{File: file, Line: idLine(data), Field: "id",
			Message: fmt.Sprintf("playbook %q is also defined in %s", p.ID, prev.Source)})
	}
	c.byID[p.ID] = p
	return problems
}

// Get returns the playbook with the given id.
func (c *Catalog) Get(id string) (*Playbook, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// List returns every playbook, sorted by id.
func (c *Catalog) List() []*Playbook {
	out := make([]*Playbook, 0, len(c.byID))
	for _, p := range c.byID {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Playbook) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// idLine returns the line of the top-level id key of a file that parsed.
func idLine(data []byte) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "id" {
			return m.Content[i].Line
		}
	}
	return 0
}
