package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, the accessibility engine (testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one failed axe-core rule with the elements it failed on.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// checkAccessible runs axe-core's WCAG 2.1 A and AA rules on the page now
// open and fails the test with every violation, naming the elements.
func (p page) checkAccessible(what string) {
	p.t.Helper()
	var raw string
	script := axeSource + `
;(async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']});
  return JSON.stringify(r.violations);
})()`
	p.run("axe-core on "+what, chromedp.Evaluate(script, &raw, func(ep *runtime.EvaluateParams) *runtime.EvaluateParams {
		return ep.WithAwaitPromise(true)
	}))
	var violations []axeViolation
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		p.t.Fatalf("axe-core on %s: %v (%.200s)", what, err, raw)
	}
	for _, v := range violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
		}
		p.t.Errorf("%s: WCAG violation %s (%s): %s\n\t%s", what, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
	}
}
