package api

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
	"gopkg.in/yaml.v3"
)

// factsTableMarkdown renders breach.FactTable as docs/api.md shows it.
func factsTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| fact | value | who sets it | meaning |\n|---|---|---|---|\n")
	for _, f := range breach.FactTable() {
		value := map[breach.FactKind]string{
			breach.KindTime: "RFC 3339 time", breach.KindBool: "true or false",
			breach.KindJurisdictions: "list of ISO 3166 codes", breach.KindCounts: "ISO 3166 code → count",
		}[f.Kind]
		switch f.Kind {
		case breach.KindChoice:
			value = "one of `" + strings.Join(f.Values, "`, `") + "`"
		case breach.KindChoices:
			value = "list of `" + strings.Join(f.Values, "`, `") + "`"
		}
		who := "responder or legal"
		switch {
		case f.System:
			who = "breachflow"
		case f.Role != "":
			who = f.Role
		}
		if f.Required {
			who += " (required)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, value, who, f.Doc)
	}
	return b.String()
}

// TestFactTableDocumented keeps the docs in step with breach.FactTable:
// docs/api.md shows the table as it is, and docs/openapi.yaml has every
// fact a request may set, with the same vocabularies.
func TestFactTableDocumented(t *testing.T) {
	md, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := factsTableMarkdown(); !strings.Contains(string(md), want) {
		t.Errorf("docs/api.md's facts table differs from breach.FactTable; put this under \"## Facts\":\n%s", want)
	}
	raw, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Components struct {
			Schemas map[string]struct {
				Enum       []string       `yaml:"enum"`
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	schemas := spec.Components.Schemas
	var documented []string
	for name := range schemas["FactFields"].Properties {
		documented = append(documented, name)
	}
	slices.Sort(documented)
	settable := breach.FactNames("", false)
	slices.Sort(settable)
	if !slices.Equal(documented, settable) {
		t.Errorf("openapi FactFields has %v, the table's settable facts are %v", documented, settable)
	}
	for schema, want := range map[string][]string{"Flag": breach.FlagNames(), "DataCategory": breach.DataCategories(), "Risk": breach.RiskLevels()} {
		if got := schemas[schema].Enum; !slices.Equal(got, want) {
			t.Errorf("openapi %s enum is %v, the facts table says %v", schema, got, want)
		}
	}
}
