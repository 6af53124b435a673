package regulations

import (
	"fmt"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/us"
)

// Day-count conventions (the reading legal counsel expects; applied to every rule):
//
//   - hours: continuous elapsed hours from the anchor instant (anchor + N×1h). A DST
//     change does not stretch or shrink the clock: 72 hours are 72 real hours.
//   - calendar_days: "within N days" ends at the end (23:59:59) of the Nth calendar
//     day after the anchor's date, both read in the jurisdiction's zone. The anchor
//     day itself is day 0. A DST change in between only moves the UTC offset.
//   - business_days: the end (23:59:59 local) of the Nth business day after the
//     anchor's date; the anchor day is never counted even when it is a business day.
//     Business days skip Saturdays, Sundays and the jurisdiction's public holidays
//     (rickar/cal/v2 country calendars, observed dates).
//   - months: the end of the same day-of-month N months after the anchor's date,
//     clamped to the last day of a shorter month (31 Jan + 1 month → 28/29 Feb).
//   - days_after_year_end: the end of the Nth day after 31 December of the year the
//     anchor falls in (HIPAA's annual log of small breaches).
//
// Due times are returned in UTC; the local reading is in the rule's zone.

// businessCalendar tells working days of one jurisdiction.
type businessCalendar interface {
	IsWorkday(time.Time) bool
}

// newBusinessCalendar builds the working-day calendar named by rules' holidays field.
// Calendars are built per RuleSet (no shared mutable state) and are not cacheable,
// so concurrent evaluations only read them.
func newBusinessCalendar(name string) businessCalendar {
	c := cal.NewBusinessCalendar()
	c.Cacheable = false
	switch name {
	case "br":
		c.AddHoliday(br.Holidays...)
		// Dia Nacional de Zumbi e da Consciência Negra (20 Nov) is a national holiday
		// since Lei 14.759/2023 but is missing from cal/v2 v2.1.13's br package.
		c.AddHoliday(&cal.Holiday{Name: "Dia da Consciência Negra", Type: cal.ObservancePublic,
			Month: time.November, Day: 20, StartYear: 2024, Func: cal.CalcDayOfMonth})
	case "us":
		// US federal holidays: the days EDGAR and federal agencies are closed.
		c.AddHoliday(us.Holidays...)
	}
	return c
}

// due computes when a clock of d starting at anchor ends, per the conventions above.
func (rs *RuleSet) due(d Deadline, loc *time.Location, anchor time.Time) (time.Time, error) {
	switch {
	case d.Unit == UnitHours:
		return anchor.Add(time.Duration(d.Amount) * time.Hour).UTC(), nil
	case d.Unit == UnitNone:
		return time.Time{}, fmt.Errorf("due: unit %q has no fixed limit", d.Unit)
	case loc == nil:
		return time.Time{}, fmt.Errorf("due: unit %q needs a time zone", d.Unit)
	}
	local := anchor.In(loc)
	y, m, day := local.Date()
	var t time.Time
	switch d.Unit {
	case UnitCalendarDays:
		t = time.Date(y, m, day+d.Amount, 23, 59, 59, 0, loc)
	case UnitBusinessDays:
		bc, ok := rs.cals[d.Holidays]
		if !ok {
			return time.Time{}, fmt.Errorf("due: no business calendar %q", d.Holidays)
		}
		date := time.Date(y, m, day, 12, 0, 0, 0, loc)
		for n := 0; n < d.Amount; {
			date = date.AddDate(0, 0, 1)
			if bc.IsWorkday(date) {
				n++
			}
		}
		t = time.Date(date.Year(), date.Month(), date.Day(), 23, 59, 59, 0, loc)
	case UnitMonths:
		target := time.Date(y, m+time.Month(d.Amount), 1, 12, 0, 0, 0, loc)
		last := time.Date(target.Year(), target.Month()+1, 0, 12, 0, 0, 0, loc).Day()
		t = time.Date(target.Year(), target.Month(), min(day, last), 23, 59, 59, 0, loc)
	case UnitDaysAfterYearEnd:
		t = time.Date(y, time.December, 31+d.Amount, 23, 59, 59, 0, loc)
	default:
		return time.Time{}, fmt.Errorf("due: unit %q has no fixed limit", d.Unit)
	}
	return t.UTC(), nil
}

// deadlineText is the human form of a deadline, e.g. "72 hours", "3 business days".
func deadlineText(d Deadline) string {
	if d.Text != "" {
		return d.Text
	}
	plural := func(one, many string) string {
		if d.Amount == 1 {
			return fmt.Sprintf("1 %s", one)
		}
		return fmt.Sprintf("%d %s", d.Amount, many)
	}
	switch d.Unit {
	case UnitHours:
		return plural("hour", "hours")
	case UnitCalendarDays:
		return plural("calendar day", "calendar days")
	case UnitBusinessDays:
		return plural("business day", "business days")
	case UnitMonths:
		return plural("month", "months")
	case UnitDaysAfterYearEnd:
		return plural("day", "days") + " after the end of the calendar year"
	}
	return "no fixed limit"
}

// ReminderOffsets returns the elapsed times from the anchor at which to remind for
// a clock of total length d: 1/3, 2/3, 5/6, 17/18 and 71/72 of d (for 72 h exactly
// 24 h, 48 h, 60 h, 68 h and 71 h). A point closer than one minute to the previous
// kept point is dropped, so short clocks do not produce a burst of reminders.
func ReminderOffsets(d time.Duration) []time.Duration {
	if d <= 0 {
		return nil
	}
	fractions := [][2]time.Duration{{1, 3}, {2, 3}, {5, 6}, {17, 18}, {71, 72}}
	var out []time.Duration
	for _, f := range fractions {
		// Split d so d×num cannot overflow int64 for long clocks.
		p := d/f[1]*f[0] + d%f[1]*f[0]/f[1]
		if p <= 0 {
			continue
		}
		if len(out) > 0 && p-out[len(out)-1] < time.Minute {
			continue
		}
		out = append(out, p)
	}
	return out
}
