package api

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// TestTimesAcrossDST: on the night Europe/Berlin and America/New_York
// leave summer time, times show in the viewer's zone with the right
// abbreviation and UTC on hover, and a countdown (from absolute instants)
// says three hours where the wall clocks differ by two.
func TestTimesAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// 00:30 UTC on 25 Oct 2026 is 02:30 CEST; three hours later, 04:30 CET.
	now := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)
	due := now.Add(3 * time.Hour)
	for _, c := range []struct {
		loc       *time.Location
		t         time.Time
		want, utc string
	}{
		{berlin, now, "Sun 25 Oct 02:30 CEST", "2026-10-25 00:30 UTC"},
		{berlin, due, "Sun 25 Oct 04:30 CET", "2026-10-25 03:30 UTC"},
		{time.UTC, due, "Sun 25 Oct 03:30 UTC", "2026-10-25 03:30 UTC"},
		// New York falls back a week later: 05:30 UTC is 01:30 EDT, 06:30 UTC 01:30 EST.
		{newYork, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), "Sun 1 Nov 01:30 EDT", "2026-11-01 05:30 UTC"},
		{newYork, time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), "Sun 1 Nov 01:30 EST", "2026-11-01 06:30 UTC"},
	} {
		if got := fmtWhenIn(c.t, c.loc); got != c.want {
			t.Errorf("fmtWhenIn(%s, %s) = %q, want %q", c.t, c.loc, got, c.want)
		}
		if got := fmtUTC(&c.t); got != c.utc {
			t.Errorf("fmtUTC(%s) = %q, want %q", c.t, got, c.utc)
		}
		at := string(zoneFuncs(c.loc)["at"].(func(any) template.HTML)(c.t))
		if !strings.Contains(at, `title="`+c.utc+`"`) || !strings.Contains(at, ">"+c.want+"</time>") ||
			!strings.Contains(at, `datetime="`+c.t.UTC().Format(time.RFC3339)+`"`) {
			t.Errorf("at = %s; want the zone's time, its instant and UTC on hover", at)
		}
	}
	if got := fmtRemaining(&due, now); got != "3h 00m left" {
		t.Errorf("countdown across the change = %q, want 3h 00m left (wall clocks say 2h)", got)
	}
	if wall := due.In(berlin).Hour() - now.In(berlin).Hour(); wall != 2 {
		t.Fatalf("the fixture is not across the DST change: wall-clock difference %dh", wall)
	}
}

// TestViewerZone reads the zone cookie: an IANA name is used, anything
// else (a path, Local, nonsense, none) is UTC.
func TestViewerZone(t *testing.T) {
	gin.SetMode(gin.TestMode)
	for cookie, want := range map[string]string{"Europe/Berlin": "Europe/Berlin", "America/New_York": "America/New_York",
		"": "UTC", "Local": "UTC", "../../etc/passwd": "UTC", "/etc/localtime": "UTC", "Mars/Olympus": "UTC"} {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodGet, "/board", nil)
		if cookie != "" {
			c.Request.AddCookie(&http.Cookie{Name: zoneCookie, Value: cookie})
		}
		if got := ViewerZone(c).String(); got != want {
			t.Errorf("ViewerZone with %q = %s, want %s", cookie, got, want)
		}
	}
}

// TestMaskReason: a delivery error never shows an address.
func TestMaskReason(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.1.1 <ann.lee@example.com>: Recipient address rejected": "550 5.1.1 <‹address›>: Recipient address rejected",
		"smtp: 552 mailbox full for bob@example.org":                  "smtp: 552 mailbox full for ‹address›",
		"": "no reason recorded",
		"dial tcp 127.0.0.1:25: connection refused": "dial tcp 127.0.0.1:25: connection refused",
	} {
		if got := maskReason(in); got != want || strings.Contains(got, "@") {
			t.Errorf("maskReason(%q) = %q, want %q", in, got, want)
		}
	}
}
