package api

import "testing"

// TestReasonQuotes: a free-text reason holding an email address, or the
// customer's own name or address, is caught; plain reasons pass.
func TestReasonQuotes(t *testing.T) {
	known := []string{"Nora Nomail", "3 Paper Rd", "Oakland", "94607", "王小明"}
	for reason, want := range map[string]bool{
		"addressee unknown":                      false,
		"moved, no forwarding address":           false,
		"returned by the post office on 2 Dec":   false,
		"sent to nora@example.com instead":       true,
		"ask <legal.team@shop.example> why":      true,
		"NORA NOMAIL moved away":                 true,
		"3 paper rd is a vacant lot":             true,
		"no such street in Oakland":              true,
		"postcode 94607 does not exist":          true,
		"收件人王小明已搬走":                              true,
		"no usable contact for 120 Californians": false,
	} {
		if got := reasonQuotes(reason, known...); got != want {
			t.Errorf("reasonQuotes(%q) = %v, want %v", reason, got, want)
		}
	}
	if reasonQuotes("CA", "CA") {
		t.Error("a two-letter region counts as quoting the address")
	}
}
