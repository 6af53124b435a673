package playbooks

import (
	"strings"
	"testing"
	"time"
)

const clockBase = `id: quick
version: 1
title: Quick
%s
steps:
  - id: triage
    title: Triage
    kind: task
    owner: responder
`

func TestClockReminders(t *testing.T) {
	p, err := Parse("quick.yaml", []byte(strings.Replace(clockBase, "%s", "clock_reminders: [12h, 36h, 70h]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	got := p.ClockReminderOffsets(24 * time.Hour)
	want := []time.Duration{4 * time.Hour, 12 * time.Hour, 23*time.Hour + 20*time.Minute}
	if len(got) != len(want) {
		t.Fatalf("offsets for a 24h clock = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("offsets for a 24h clock = %v, want %v (scaled from a 72h clock)", got, want)
		}
	}
	if p72 := p.ClockReminderOffsets(72 * time.Hour); p72[0] != 12*time.Hour || p72[2] != 70*time.Hour {
		t.Fatalf("72h clock offsets = %v", p72)
	}
	none, err := Parse("quick.yaml", []byte(strings.Replace(clockBase, "%s", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if none.ClockReminderOffsets(72*time.Hour) != nil {
		t.Fatal("a playbook without clock_reminders must keep the defaults (nil)")
	}
	for _, tc := range []struct{ yaml, want string }{
		{"clock_reminders: [24h, 72h]", "clock_reminders[1]: clock reminders are points elapsed on a 72h clock"},
		{"clock_reminders: [48h, 24h]", "clock_reminders[1]: clock reminders must ascend"},
		{"clock_reminders: [soon]", "clock_reminders[0]: bad duration"},
	} {
		_, err := Parse("quick.yaml", []byte(strings.Replace(clockBase, "%s", tc.yaml, 1)))
		if err == nil || !strings.Contains(err.Error(), "quick.yaml:4: "+tc.want) {
			t.Errorf("%s: err = %v, want quick.yaml:4: %s", tc.yaml, err, tc.want)
		}
	}
}
