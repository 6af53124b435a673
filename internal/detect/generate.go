package detect

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Planted is an anomaly Generate put into a log: the rule that should
// find it, the user and the organisation's day.
type Planted struct {
	Rule, User, Day string
}

// Generate writes a Salesforce ReportExport EventLogFile of n events
// (n ≥ 10,000): 200 users exporting reports in business hours (Europe/
// Berlin) over the four weeks to Friday 2026-11-27, the two account
// managers of the shipped configuration reading the high-tier report, and
// three planted anomalies for the shipped rules. It is deterministic.
func Generate(w io.Writer, n int) ([]Planted, error) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(16, 2026))
	type ev struct {
		at      time.Time
		user    string
		report  string
		records int
	}
	user := func(i int) string { return fmt.Sprintf("0055e000001U%03d", i) }
	const highTier = "00O5e000001KEYAC"
	managers := []string{"0055e000001AM01", "0055e000001AM02"}
	first := time.Date(2026, 10, 31, 0, 0, 0, 0, loc)
	var days []time.Time
	for d := first; d.Before(time.Date(2026, 11, 28, 0, 0, 0, 0, loc)); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			days = append(days, d)
		}
	}
	at := func(day time.Time, h, m int) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), h, m, rng.IntN(60), 0, loc)
	}
	dayOf := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	planted := []ev{
		// After hours: 3,000 records at 02:00 on Tuesday 24 November.
		{at(dayOf(2026, 11, 24), 2, 5), user(7), "00O5e00000R0003", 1000},
		{at(dayOf(2026, 11, 24), 2, 9), user(7), "00O5e00000R0004", 1000},
		{at(dayOf(2026, 11, 24), 2, 14), user(7), "00O5e00000R0005", 1000},
		// A spike: 100,000 records in working hours on Wednesday 25 November.
		{at(dayOf(2026, 11, 25), 11, 0), user(42), "00O5e00000R0010", 20000},
		{at(dayOf(2026, 11, 25), 11, 5), user(42), "00O5e00000R0011", 20000},
		{at(dayOf(2026, 11, 25), 11, 10), user(42), "00O5e00000R0012", 20000},
		{at(dayOf(2026, 11, 25), 11, 15), user(42), "00O5e00000R0013", 20000},
		{at(dayOf(2026, 11, 25), 11, 20), user(42), "00O5e00000R0014", 20000},
		// A non-owner reads the key-account report on Thursday 26 November.
		{at(dayOf(2026, 11, 26), 14, 0), user(99), highTier, 40},
		{at(dayOf(2026, 11, 26), 14, 30), user(99), highTier, 40},
	}
	normal := n - len(planted)
	byDay := make([][]ev, len(days))
	for i := range normal {
		d := i % len(days)
		e := ev{at: at(days[d], 9+rng.IntN(8), rng.IntN(60)), records: 10 + rng.IntN(191)}
		if rng.IntN(500) == 0 {
			e.user, e.report = managers[rng.IntN(2)], highTier
		} else {
			e.user, e.report = user(rng.IntN(200)), fmt.Sprintf("00O5e00000R%04d", rng.IntN(50))
		}
		byDay[d] = append(byDay[d], e)
	}
	for _, p := range planted {
		for d, day := range days {
			if day.Format(time.DateOnly) == p.at.Format(time.DateOnly) {
				byDay[d] = append(byDay[d], p)
			}
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "CLIENT_IP", "URI", "REPORT_ID", "ROW_COUNT"}); err != nil {
		return nil, err
	}
	seq := 0
	for _, evs := range byDay {
		slices.SortStableFunc(evs, func(a, b ev) int { return a.at.Compare(b.at) })
		for _, e := range evs {
			seq++
			rec := []string{"ReportExport", e.at.UTC().Format("20060102150405.000"), fmt.Sprintf("4Zq%08d", seq),
				"00D5e0000000001", e.user, "198.51.100." + strconv.Itoa(1+seq%200), "/" + e.report, e.report, strconv.Itoa(e.records)}
			if err := cw.Write(rec); err != nil {
				return nil, err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, err
	}
	return []Planted{
		{"after-hours-export", user(7), "2026-11-24"},
		{"export-volume-spike", user(42), "2026-11-25"},
		{"non-owner-high-tier", user(99), "2026-11-26"},
	}, nil
}
