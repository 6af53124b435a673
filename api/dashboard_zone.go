package api

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// The viewer's time zone: every time a page shows is in it, with UTC on
// hover. It is chosen once — the header's form, or the browser's own zone
// that the page script sends when no choice was made — and remembered in
// the bf_tz cookie. Without a cookie (no script, no choice) pages are UTC.
// Countdowns are differences of absolute instants, so no zone (and no DST
// change) can make them wrong.

// zoneCookie remembers the viewer's IANA time zone for a year.
const zoneCookie = "bf_tz"

// zoneChoices are offered in the header's form; any IANA name is accepted.
var zoneChoices = []string{"UTC", "Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
	"Europe/Warsaw", "Europe/Helsinki", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Sao_Paulo", "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney"}

// ViewerZone is the time zone the signed-in viewer chose (the bf_tz
// cookie), or UTC. Pages that take times (the launch form) read it to
// show and convert the zone their inputs are in.
func ViewerZone(c *gin.Context) *time.Location {
	v, err := c.Cookie(zoneCookie)
	if err != nil {
		return time.UTC
	}
	loc, ok := loadZone(v)
	if !ok {
		return time.UTC
	}
	return loc
}

// loadZone accepts an IANA zone name (never a path or a local file).
func loadZone(name string) (*time.Location, bool) {
	if name == "" || len(name) > 64 || strings.Contains(name, "..") || strings.HasPrefix(name, "/") || name == "Local" {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// fmtWhenIn is a compact absolute time in loc, its abbreviation named:
// "Sun 25 Oct 04:30 CET".
func fmtWhenIn(t any, loc *time.Location) string {
	tt, ok := timeOf(t)
	if !ok {
		return "—"
	}
	return tt.In(loc).Format("Mon 2 Jan 15:04 MST")
}

// fmtUTC is the same instant in UTC, for the hover title.
func fmtUTC(t any) string {
	tt, ok := timeOf(t)
	if !ok {
		return ""
	}
	return tt.UTC().Format("2006-01-02 15:04 UTC")
}

func timeOf(t any) (time.Time, bool) {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v == nil {
			return tt, false
		}
		tt = *v
	default:
		return tt, false
	}
	return tt, !tt.IsZero()
}

// zonePages parses the pages once per zone the viewers use, each with
// "when" and "at" bound to that zone (html/template cannot change a
// function once a template has run).
type zonePages struct {
	mu    sync.Mutex
	byTZ  map[string]map[string]*template.Template
	parse func(loc *time.Location) map[string]*template.Template
}

func (z *zonePages) get(loc *time.Location) map[string]*template.Template {
	z.mu.Lock()
	defer z.mu.Unlock()
	if p, ok := z.byTZ[loc.String()]; ok {
		return p
	}
	p := z.parse(loc)
	z.byTZ[loc.String()] = p
	return p
}

// zoneFuncs are the template functions that show times in loc.
func zoneFuncs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"when": func(t any) string { return fmtWhenIn(t, loc) },
		"utc":  fmtUTC,
		// at is a <time> element in the viewer's zone with UTC on hover.
		"at": func(t any) template.HTML {
			tt, ok := timeOf(t)
			if !ok {
				return "—"
			}
			return template.HTML(`<time datetime="` + tt.UTC().Format(time.RFC3339) + `" title="` + fmtUTC(tt) + `">` +
				template.HTMLEscapeString(fmtWhenIn(tt, loc)) + `</time>`)
		},
	}
}

// zoneView is what the header's zone form shows.
type zoneView struct {
	Name    string
	Choices []string
}

func newZoneView(loc *time.Location) zoneView {
	v := zoneView{Name: loc.String(), Choices: zoneChoices}
	if !slices.Contains(v.Choices, v.Name) {
		v.Choices = append([]string{v.Name}, v.Choices...)
	}
	return v
}

// setZone handles POST /preferences/zone: remember the viewer's zone.
func (d *dash) setZone(c *gin.Context) {
	name := strings.TrimSpace(c.PostForm("zone"))
	back := localPath(c.PostForm("back"), "/board")
	if _, ok := loadZone(name); !ok {
		d.setFlash(c, "error", "Unknown time zone "+name+": use an IANA name such as Europe/Berlin or America/New_York. Nothing was changed.")
		c.Redirect(http.StatusSeeOther, back)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: zoneCookie, Value: name, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: secureRequest(c.Request), SameSite: http.SameSiteLaxMode})
	d.setFlash(c, "ok", "Times are shown in "+name+".")
	c.Redirect(http.StatusSeeOther, back)
}
