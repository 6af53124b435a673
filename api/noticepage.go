package api

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/breachflow/breachflow/api/web"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// The customer's notice page, GET {PUBLIC_URL}/n/{token}: public, no
// sign-in — the token in the link is the authority, and it opens one
// customer's page only. The token is 256 bits derived under the
// deployment's HMAC key; the store keeps its SHA-256 only. A wrong,
// malformed or expired token gets the same 404 page, which names nothing.
// The page works without JavaScript: the acknowledgement is a form that
// posts and redirects back.

// noticePageRate bounds requests per client address to the public pages,
// so tokens cannot be tried in bulk (they cannot be guessed anyway).
const (
	noticePageRate  = rate.Limit(2) // per second, sustained
	noticePageBurst = 20
	// noticePageClients bounds the limiter table; a full table starts over.
	noticePageClients = 10000
)

// pageLimiter is a token bucket per client address.
type pageLimiter struct {
	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func (l *pageLimiter) allow(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil || len(l.clients) >= noticePageClients {
		l.clients = map[string]*rate.Limiter{}
	}
	lim, ok := l.clients[client]
	if !ok {
		lim = rate.NewLimiter(noticePageRate, noticePageBurst)
		l.clients[client] = lim
	}
	return lim.Allow()
}

var noticePageTemplate = template.Must(template.New("noticepage.html").Funcs(template.FuncMap{
	"paragraphs": paragraphs,
}).ParseFS(web.Templates, "templates/noticepage.html"))

// paragraphs splits legal's text into its non-empty lines.
func paragraphs(s string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// pageWords are the page's own words in one locale.
type pageWords struct {
	Remedy, Code, Enroll, EnrollBy, FAQ, Contact, Ack, Acked, AckHint, NotFound, NotFoundHint string
}

func noticePageWords(locale string) pageWords {
	if locale == breach.LocaleZhCN {
		return pageWords{Remedy: "您的补救服务", Code: "登记码", Enroll: "登记网址", EnrollBy: "登记截止日期",
			FAQ: "常见问题", Contact: "联系我们", Ack: "我已阅读本通知", Acked: "感谢您确认已阅读本通知。",
			AckHint: "点击下方按钮，告诉我们您已收到并阅读本通知。我们只统计人数。"}
	}
	return pageWords{Remedy: "Your remedy", Code: "Enrollment code", Enroll: "Enroll at", EnrollBy: "Enroll by",
		FAQ: "Questions and answers", Contact: "Contact", Ack: "I have read this notice", Acked: "Thank you for confirming that you have read this notice.",
		AckHint: "Press the button to tell us you received and read this notice. We only count how many people do."}
}

// noticePageData is what noticepage.html renders.
type noticePageData struct {
	Lang     string
	Title    string
	NotFound bool
	Token    string
	Notice   *templates.NoticeView
	Remedy   *noticePageRemedy
	FAQ      []string
	Contact  []string
	Acked    bool
	Words    pageWords
}

type noticePageRemedy struct {
	Product, Code, URL, EnrollBy string
}

// noticePageHeaders: no caching, no indexing, and no Referer: the token
// must not leave with a click on the enrollment link.
func noticePageHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
}

func (s *Server) renderNoticePage(c *gin.Context, status int, d noticePageData) {
	noticePageHeaders(c)
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := noticePageTemplate.Execute(c.Writer, d); err != nil {
		s.log.Error("render notice page", "error", err)
	}
}

// noticePageMissing is the one answer to every token that opens nothing.
func (s *Server) noticePageMissing(c *gin.Context) {
	s.renderNoticePage(c, http.StatusNotFound, noticePageData{Lang: breach.LocaleEN, Title: "Notice not found", NotFound: true,
		Words: pageWords{NotFound: "This link does not open a notice. It may be mistyped or expired.",
			NotFoundHint: "此链接无法打开通知，可能有误或已过期。"}})
}

// noticeToken checks the rate and the token's shape and answers its hash.
func (s *Server) noticeToken(c *gin.Context) (token, hash string, ok bool) {
	if !s.pages.allow(c.ClientIP()) {
		c.Header("Retry-After", "10")
		problem(c, http.StatusTooManyRequests, "too many requests; try again in a few seconds")
		return "", "", false
	}
	token = c.Param("token")
	if !remedy.ValidToken(token) {
		s.noticePageMissing(c)
		return "", "", false
	}
	return token, remedy.TokenHash(token), true
}

// noticePage handles GET /n/{token}: the customer's notice, their remedy
// code, legal's FAQ and contact, and the acknowledgement button. The
// first view counts as a read.
func (s *Server) noticePage(c *gin.Context) {
	token, hash, ok := s.noticeToken(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p, err := s.store.NoticePageByHash(ctx, hash, s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.noticePageMissing(c)
		return
	} else if err != nil {
		s.internal(c, "notice page", err)
		return
	}
	recs, err := s.store.GetSubjects(ctx, []int64{p.SubjectID})
	if err != nil {
		s.internal(c, "notice page subject", err)
		return
	}
	if len(recs) != 1 || recs[0].IncidentID != p.IncidentID {
		s.noticePageMissing(c) // the customer list was purged
		return
	}
	rec := recs[0]
	name, _, err := subjects.Open(rec, s.keys)
	if err != nil {
		s.internal(c, "notice page: open subject", err)
		return
	}
	st, err := s.queryStatus(ctx, p.IncidentID)
	if err != nil {
		s.internal(c, "notice page: incident status", err)
		return
	}
	locale := breach.NormalizeLocale(rec.Locale)
	in := templates.NoticeInput{Incident: st, Org: s.org, Locale: locale, Name: name, DataElements: rec.DataElements, GeneratedAt: st.LaunchedAt}
	d := noticePageData{Lang: locale, Token: token, Acked: !p.AckedAt.IsZero(), Words: noticePageWords(locale)}
	codes, err := s.store.RemedyCodesFor(ctx, p.IncidentID, []int64{p.SubjectID})
	if err != nil {
		s.internal(c, "notice page: remedy code", err)
		return
	}
	if rc, ok := codes[p.SubjectID]; ok {
		code, err := remedy.Open(rc, s.keys)
		if err != nil {
			s.internal(c, "notice page: open remedy code", err)
			return
		}
		in.Remedy = &templates.NoticeRemedy{Product: rc.Product, Code: code, EnrollmentURL: rc.EnrollmentURL, EnrollBy: rc.EnrollBy}
		d.Remedy = &noticePageRemedy{Product: rc.Product, Code: code, URL: rc.EnrollmentURL, EnrollBy: pageDate(locale, rc.EnrollBy)}
	}
	if d.Notice, err = templates.BuildNotice(in); err != nil {
		s.internal(c, "notice page: build notice", err)
		return
	}
	d.Title = d.Notice.Title
	texts := st.NoticeTexts[locale]
	d.FAQ, d.Contact = paragraphs(texts.FAQ), paragraphs(texts.Contact)
	s.renderNoticePage(c, http.StatusOK, d)
}

// ackNoticePage handles POST /n/{token}/ack: the customer says they read
// the notice. Idempotent (the first acknowledgement counts); answers with
// a redirect to the page, which then thanks them.
func (s *Server) ackNoticePage(c *gin.Context) {
	token, hash, ok := s.noticeToken(c)
	if !ok {
		return
	}
	if _, err := s.store.AckNoticePage(c.Request.Context(), hash, s.now()); errors.Is(err, store.ErrNotFound) {
		s.noticePageMissing(c)
		return
	} else if err != nil {
		s.internal(c, "acknowledge notice page", err)
		return
	}
	noticePageHeaders(c)
	c.Redirect(http.StatusSeeOther, "/n/"+token+"#ack")
}

func pageDate(locale string, t time.Time) string {
	if locale == breach.LocaleZhCN {
		return t.UTC().Format("2006年1月2日")
	}
	return t.UTC().Format("2 January 2006")
}
