package playbooks

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"*.yaml", "testdata/*/*.yaml", "testdata/*/*.yml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "---\n", "[]", "id: t\n", "{id: t, version: 1, title: T, steps: [{}]}",
		header + taskStep("a") + "    after: [a]\n",
		header + taskStep("a") + "    when: [{risk: [high]}]\n    due: {after: 1w, from: start}\n",
		header + approvalStep("b") + "    quorum: 2\n    approvers: [legal, admin]\n    exclude_launcher: true\n",
		"a: &x [*x]\n", "version: .inf\n", "version: 99999999999999999999999\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			for _, pr := range ve.Problems {
				if pr.File != "fuzz.yaml" || pr.Line < 0 {
					t.Fatalf("bad problem %+v", pr)
				}
			}
			return
		}
		// Whatever parses is a DAG the workflow can run and survives JSON.
		if p.Version < 1 || len(p.Steps) == 0 || len(p.Roots()) == 0 || p.Tiering == nil {
			t.Fatalf("accepted an unusable playbook: %+v", p)
		}
		for _, s := range p.Steps {
			for _, dep := range s.After {
				if _, ok := p.Step(dep); !ok {
					t.Fatalf("accepted after: %q naming no step", dep)
				}
			}
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back Playbook
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		back.Source = p.Source
		if !reflect.DeepEqual(&back, p) {
			t.Fatalf("JSON round trip differs:\n%+v\n%+v", p, &back)
		}
	})
}
