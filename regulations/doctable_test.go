package regulations

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/regulations.md from rules.yaml")

const regulationsDoc = "../docs/regulations.md"

// TestRegulationsDocInStep fails when docs/regulations.md's rule tables differ
// from those rendered from rules.yaml; -update rewrites them, keeping the prose
// outside the markers.
func TestRegulationsDocInStep(t *testing.T) {
	raw, err := os.ReadFile(regulationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	before, rest, ok := strings.Cut(doc, DocTableBegin+"\n")
	if !ok {
		t.Fatalf("%s: begin marker %q missing", regulationsDoc, DocTableBegin)
	}
	committed, after, ok := strings.Cut(rest, DocTableEnd)
	if !ok {
		t.Fatalf("%s: end marker %q missing", regulationsDoc, DocTableEnd)
	}
	rendered := defaultRules(t).DocTable()
	if committed == rendered {
		return
	}
	if *update {
		if err := os.WriteFile(regulationsDoc, []byte(before+DocTableBegin+"\n"+rendered+DocTableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	cl, rl := strings.Split(committed, "\n"), strings.Split(rendered, "\n")
	for i := range max(len(cl), len(rl)) {
		var c, r string
		if i < len(cl) {
			c = cl[i]
		}
		if i < len(rl) {
			r = rl[i]
		}
		if c != r {
			t.Fatalf("%s differs from rules.yaml at generated line %d:\n doc:   %s\n rules: %s\nrun go test ./regulations -run TestRegulationsDocInStep -update", regulationsDoc, i+1, c, r)
		}
	}
}

// TestDocTableShowsThresholdOperators: the doc must show the comparison the
// evaluator applies, so "more than 500" and "500 or more" read differently.
func TestDocTableShowsThresholdOperators(t *testing.T) {
	table := defaultRules(t).DocTable()
	for _, want := range []string{
		"affected US-CA > 500",      // Cal. Civ. Code 1798.82(f): more than 500
		"affected US-FL >= 500",     // Fla. Stat. 501.171(3): 500 or more
		"affected total >= 1000000", // CAC: 100万人以上
		"### US-WY — Wyoming",
		"### US-GU — Guam",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("doc table lacks %q", want)
		}
	}
}
