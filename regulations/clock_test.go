package regulations

import (
	"slices"
	"testing"
	"time"
)

func TestReminderOffsets(t *testing.T) {
	h, m, s := time.Hour, time.Minute, time.Second
	for _, tc := range []struct {
		d    time.Duration
		want []time.Duration
	}{
		{72 * h, []time.Duration{24 * h, 48 * h, 60 * h, 68 * h, 71 * h}},
		{24 * h, []time.Duration{8 * h, 16 * h, 20 * h, 22*h + 40*m, 23*h + 40*m}},
		{h, []time.Duration{20 * m, 40 * m, 50 * m, 56*m + 40*s, 59*m + 10*s}},
		// 1, 2, 2.5, 2.83, 2.96 min: the last three are under a minute after 2 min.
		{3 * m, []time.Duration{m, 2 * m}},
		{30 * s, []time.Duration{10 * s}},
		{0, nil},
		{-h, nil},
	} {
		if got := ReminderOffsets(tc.d); !slices.Equal(got, tc.want) {
			t.Errorf("ReminderOffsets(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
	// Long clocks must not overflow: 200 years, points increasing and inside the clock.
	long := 200 * 365 * 24 * h
	got := ReminderOffsets(long)
	if len(got) != 5 || got[0] <= 0 || got[4] >= long || !slices.IsSorted(got) {
		t.Errorf("ReminderOffsets(200y) = %v", got)
	}
}

func TestDueConventions(t *testing.T) {
	rs := defaultRules(t)
	ny, _ := time.LoadLocation("America/New_York")
	for _, tc := range []struct {
		name   string
		d      Deadline
		loc    *time.Location
		anchor string
		want   string
	}{
		{"hours ignore zones", Deadline{Amount: 72, Unit: UnitHours}, nil, "2026-03-06T23:30:00-05:00", "2026-03-10T00:30:00-04:00"},
		{"calendar day 0 is the anchor day", Deadline{Amount: 1, Unit: UnitCalendarDays}, ny, "2026-05-01T23:50:00-04:00", "2026-05-02T23:59:59-04:00"},
		{"calendar day read in the zone, not UTC", Deadline{Amount: 1, Unit: UnitCalendarDays}, ny, "2026-05-02T01:00:00Z", "2026-05-02T23:59:59-04:00"},
		{"business days skip the weekend", Deadline{Amount: 1, Unit: UnitBusinessDays, Holidays: "none"}, ny, "2026-05-01T10:00:00-04:00", "2026-05-04T23:59:59-04:00"},
		{"business day count excludes a working anchor day", Deadline{Amount: 1, Unit: UnitBusinessDays, Holidays: "us"}, ny, "2026-05-04T00:01:00-04:00", "2026-05-05T23:59:59-04:00"},
		{"US observed holiday (4 July on Saturday → Friday 3 July)", Deadline{Amount: 1, Unit: UnitBusinessDays, Holidays: "us"}, ny, "2026-07-02T10:00:00-04:00", "2026-07-06T23:59:59-04:00"},
		{"months keep the day", Deadline{Amount: 1, Unit: UnitMonths}, ny, "2026-03-15T10:00:00-04:00", "2026-04-15T23:59:59-04:00"},
		{"months clamp to a leap February", Deadline{Amount: 1, Unit: UnitMonths}, ny, "2028-01-31T10:00:00-05:00", "2028-02-29T23:59:59-05:00"},
		{"months across a year", Deadline{Amount: 1, Unit: UnitMonths}, ny, "2026-12-31T10:00:00-05:00", "2027-01-31T23:59:59-05:00"},
		{"days after year end in a leap year", Deadline{Amount: 60, Unit: UnitDaysAfterYearEnd}, ny, "2027-06-01T10:00:00-04:00", "2028-02-29T23:59:59-05:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rs.due(tc.d, tc.loc, at(t, tc.anchor))
			if err != nil {
				t.Fatal(err)
			}
			if want := at(t, tc.want); !got.Equal(want) {
				t.Errorf("due = %s, want %s", got.In(want.Location()).Format(time.RFC3339), tc.want)
			}
		})
	}
	if _, err := rs.due(Deadline{Unit: UnitNone}, nil, time.Now()); err == nil {
		t.Error("unit none must have no due time")
	}
}

func TestDeadlineText(t *testing.T) {
	for _, tc := range []struct {
		d    Deadline
		want string
	}{
		{Deadline{Amount: 72, Unit: UnitHours}, "72 hours"},
		{Deadline{Amount: 1, Unit: UnitHours}, "1 hour"},
		{Deadline{Amount: 3, Unit: UnitBusinessDays}, "3 business days"},
		{Deadline{Amount: 30, Unit: UnitCalendarDays}, "30 calendar days"},
		{Deadline{Amount: 1, Unit: UnitMonths}, "1 month"},
		{Deadline{Unit: UnitNone}, "no fixed limit"},
		{Deadline{Amount: 4, Unit: UnitHours, Text: "custom"}, "custom"},
	} {
		if got := deadlineText(tc.d); got != tc.want {
			t.Errorf("deadlineText(%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
