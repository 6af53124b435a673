package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// The dashboard's session is a row in the store (dashboard_sessions), so
// replicas share it and the server can end it: signing out ends the row,
// and revoking or expiring its API token ends every session of that token.
// The cookie holds the session's secret (never the API token), an expiry
// and the CSRF secret, sealed (AES-256-GCM, the payload keys) into an
// HttpOnly cookie; forms carry the CSRF secret in a hidden field
// (synchronizer token) and every POST is checked against it. A copied
// cookie replayed after sign-out is refused.
const (
	sessionCookie = "bf_session"
	loginCookie   = "bf_login" // double-submit CSRF for the sign-in form
	flashCookie   = "bf_flash"
	sessionTTL    = 12 * time.Hour
	csrfField     = "csrf"
	csrfKey       = "breachflow.csrf"
	sessionIDKey  = "breachflow.session"

	sessionAAD = "breachflow/dashboard/session/v1"
	flashAAD   = "breachflow/dashboard/flash/v1"
)

// session is what the cookie holds, sealed.
type session struct {
	ID      string `json:"s"` // the store's session secret
	Expires int64  `json:"e"` // unix seconds
	CSRF    string `json:"c"`
}

var errNoSession = errors.New("no valid session")

func randomToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // the platform is broken; nothing safe to do
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// seal encrypts v under the current key with aad bound in, as
// base64url(keyID) "." base64url(ciphertext).
func (s *Server) seal(v any, aad string) (string, error) {
	if s.keys == nil {
		return "", errors.New("dashboard: no encryption keys configured")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	kid, sealed, err := s.keys.Seal(raw, []byte(aad))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kid)) + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open reverses seal; any tampering, a wrong aad or an unknown key fails.
func (s *Server) open(value, aad string, v any) error {
	if s.keys == nil {
		return errNoSession
	}
	k, c, ok := strings.Cut(value, ".")
	if !ok {
		return errNoSession
	}
	kid, err1 := base64.RawURLEncoding.DecodeString(k)
	sealed, err2 := base64.RawURLEncoding.DecodeString(c)
	if err1 != nil || err2 != nil {
		return errNoSession
	}
	raw, err := s.keys.Open(string(kid), sealed, []byte(aad))
	if err != nil {
		return errNoSession
	}
	if json.Unmarshal(raw, v) != nil {
		return errNoSession
	}
	return nil
}

// secureRequest reports whether the browser reached us over HTTPS,
// directly or through a proxy that says so.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secureRequest(c.Request), SameSite: http.SameSiteLaxMode,
	})
}

// startSession starts a server-side session for an authenticated token
// and sets its cookie.
func (s *Server) startSession(c *gin.Context, tok store.Token) error {
	expires := s.now().Add(sessionTTL)
	id, err := s.store.CreateSession(c.Request.Context(), tok.ID, expires)
	if err != nil {
		return err
	}
	v, err := s.seal(session{ID: id, Expires: expires.Unix(), CSRF: randomToken()}, sessionAAD)
	if err != nil {
		return err
	}
	setCookie(c, sessionCookie, v, int(sessionTTL/time.Second))
	return nil
}

// readSession opens the session cookie and finds its live session, and so
// its token, in the store.
func (s *Server) readSession(c *gin.Context) (store.Token, session, error) {
	v, err := c.Cookie(sessionCookie)
	if err != nil || v == "" {
		return store.Token{}, session{}, errNoSession
	}
	var sess session
	if err := s.open(v, sessionAAD, &sess); err != nil {
		return store.Token{}, session{}, err
	}
	if sess.ID == "" || sess.CSRF == "" || s.now().Unix() >= sess.Expires {
		return store.Token{}, session{}, errNoSession
	}
	tok, err := s.store.AuthenticateSession(c.Request.Context(), sess.ID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, session{}, errNoSession
	}
	if err != nil {
		return store.Token{}, session{}, err
	}
	return tok, sess, nil
}

// dashSession puts the signed-in token in the context, or sends the
// browser to the sign-in page (a POST gets the same, nothing is applied).
func (d *dash) dashSession(c *gin.Context) {
	s := d.Server
	tok, sess, err := s.readSession(c)
	if errors.Is(err, errNoSession) {
		if _, had := c.Cookie(sessionCookie); had == nil {
			setCookie(c, sessionCookie, "", -1)
			s.setFlash(c, "error", "Your session has expired or is no longer valid. Sign in again.")
		}
		next := ""
		if c.Request.Method == http.MethodGet {
			next = "?next=" + url.QueryEscape(c.Request.URL.RequestURI())
		}
		c.Redirect(http.StatusSeeOther, "/login"+next)
		c.Abort()
		return
	}
	if err != nil {
		s.log.ErrorContext(c, "dashboard session", "error", err)
		d.errorPage(c, http.StatusInternalServerError, "Something went wrong", "An internal error occurred; it has been logged.")
		return
	}
	c.Set(tokenKey, tok)
	c.Set(csrfKey, sess.CSRF)
	c.Set(sessionIDKey, sess.ID)
	c.Next()
}

// checkCSRF refuses a POST whose form lacks the session's CSRF token.
func (d *dash) checkCSRF(c *gin.Context) {
	want, _ := c.Get(csrfKey)
	w, _ := want.(string)
	got := c.PostForm(csrfField)
	if w == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(w)) != 1 {
		d.errorPage(c, http.StatusForbidden, "Form refused",
			"This form did not carry a valid security token (it may be stale, or sent from another site). Nothing was changed. Go back, reload the page and try again.")
		return
	}
	c.Next()
}

// gate is the dashboard's check: a page for a refused read (a hidden
// incident gets the same page as one that does not exist), and for a
// refused action on an incident the page the form came from, with why.
func (d *dash) gate(r RouteRule) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.Param("id")
		den, err := d.may(c.Request.Context(), actor(c), r, id)
		switch {
		case err != nil:
			d.internalPage(c, "authorize", err)
		case den == nil:
			c.Next()
		case den.Status == http.StatusNotFound:
			d.notFound(c, id)
		case den.Status == http.StatusForbidden:
			d.errorPage(c, http.StatusForbidden, "Not allowed",
				"Your role ("+actor(c).Role+") may not do this; it needs "+strings.Join(r.Roles, " or ")+". Nothing was changed.")
		case c.Request.Method == http.MethodPost:
			c.Abort()
			d.refuse(c, den.Detail+".")
		default:
			d.errorPage(c, den.Status, "Not allowed", den.Detail)
		}
	}
}

// flash is a one-shot message shown on the page a POST redirects to.
type flash struct {
	Kind     string   `json:"k"` // ok | error
	Message  string   `json:"m"`
	Blockers []string `json:"b,omitempty"`
}

func (s *Server) setFlash(c *gin.Context, kind, msg string, blockers ...string) {
	if len(msg) > 600 {
		msg = msg[:600] + "…"
	}
	if v, err := s.seal(flash{Kind: kind, Message: msg, Blockers: blockers}, flashAAD); err == nil {
		setCookie(c, flashCookie, v, 60)
	}
}

// takeFlash reads and clears the flash cookie.
func (s *Server) takeFlash(c *gin.Context) *flash {
	v, err := c.Cookie(flashCookie)
	if err != nil || v == "" {
		return nil
	}
	setCookie(c, flashCookie, "", -1)
	var f flash
	if s.open(v, flashAAD, &f) != nil {
		return nil
	}
	return &f
}

// localPath keeps a redirect target on this site.
func localPath(p, fallback string) string {
	// A backslash anywhere is refused: browsers read it as a slash, so
	// "/\\evil" or "/x/..\\..\\/evil" can leave the site; a control
	// character (a tab or newline inside "//") can make a scheme-relative
	// URL of what looks like a path, or split the header.
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
		strings.ContainsFunc(p, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
		return fallback
	}
	return p
}

// dashFormLimit caps a dashboard form: notes, reasons and evidence links
// are short; anything bigger is not a form of ours.
const dashFormLimit = 64 << 10

// formLimit makes every POST to the dashboard a URL-encoded form of at
// most dashFormLimit bytes, parsed here before anything else reads it:
// multipart (file uploads, unbounded parts) and other bodies are refused
// with a page that says so, and nothing is changed — except on the upload
// forms (uploadLimits), whose handlers stream their multipart body.
func (d *dash) formLimit(c *gin.Context) {
	if c.Request.Method != http.MethodPost {
		c.Next()
		return
	}
	if limit, ok := uploadLimits[c.FullPath()]; ok {
		d.uploadLimit(c, limit) // a multipart upload form
		return
	}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		d.errorPage(c, http.StatusUnsupportedMediaType, "Form refused",
			"Dashboard forms are sent as application/x-www-form-urlencoded; this one was not (multipart is refused). Nothing was changed.")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, dashFormLimit)
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			d.errorPage(c, http.StatusRequestEntityTooLarge, "Form refused",
				fmt.Sprintf("The form is larger than %d KB. Shorten the text and try again. Nothing was changed.", dashFormLimit>>10))
			return
		}
		d.errorPage(c, http.StatusBadRequest, "Form refused", "The form could not be read. Nothing was changed.")
		return
	}
	c.Next()
}

// counted is n with the noun phrase that agrees with it: "1 letter",
// "3 letters" (a flash said "1 customers").
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
