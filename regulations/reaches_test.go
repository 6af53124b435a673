package regulations

import "testing"

func TestReaches(t *testing.T) {
	for _, tc := range []struct {
		duty, present string
		want          bool
	}{
		{"US-CA", "US-CA", true},
		{"US-CA", "US", false}, // a US customer with no state is not a Californian
		{"US-CA", "US-TX", false},
		{"US", "US-CA", true},
		{"US", "US", true},
		{"EU", "DE", true},
		{"EU", "FR", true},
		{"EU", "NO", true}, // the GDPR applies across the EEA
		{"EU", "GB", false},
		{"EU", "CH", false},
		{"EU", "unknown", false},
		{"GB", "GB", true},
		{"GB", "DE", false},
		{"CA", "CA-ON", true},
		{"CN", "unknown", false},
		{"US-PR", "PR", true}, // a territory's country code and its US code are one place
		{"PR", "US-PR", true},
		{"US-GU", "GU", true},
		{"US-VI", "PR", false},
		{"US-CA", "PR", false},
	} {
		if got := Reaches(tc.duty, tc.present); got != tc.want {
			t.Errorf("Reaches(%q, %q) = %v, want %v", tc.duty, tc.present, got, tc.want)
		}
	}
}
