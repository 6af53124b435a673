package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/templates"
	"github.com/gin-gonic/gin"
)

// report renders the draft regulator notification for one obligation:
// ?format=md (default), html, or json (title, markdown, missing).
func (s *Server) report(c *gin.Context) {
	id, ob := c.Param("id"), c.Param("ob")
	format := c.DefaultQuery("format", "md")
	if format != "md" && format != "html" && format != "json" {
		problem(c, http.StatusBadRequest, "format must be md, html or json", FieldError{Field: "format", Message: "md, html or json"})
		return
	}
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	for _, o := range st.Obligations {
		if o.ID != ob {
			continue
		}
		in, err := s.reportInput(c.Request.Context(), st, o, s.now().UTC())
		if err != nil {
			s.internal(c, "count the customers' channels", err)
			return
		}
		rep, err := templates.RenderReport(in)
		if err != nil {
			s.internal(c, "render report", err)
			return
		}
		switch format {
		case "html":
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(rep.HTML))
		case "json":
			c.JSON(http.StatusOK, gin.H{"title": rep.Title, "markdown": rep.Markdown, "missing": rep.Missing})
		default:
			c.Data(http.StatusOK, "text/markdown; charset=utf-8", []byte(rep.Markdown))
		}
		return
	}
	problem(c, http.StatusNotFound, "incident "+id+" has no obligation "+strconv.Quote(ob))
}

// reportInput is what a draft regulator report of obligation o is rendered
// from, with the customers counted by the channel that reached them.
func (s *Server) reportInput(ctx context.Context, st *breach.Status, o breach.Obligation, at time.Time) (templates.ReportInput, error) {
	reach, err := s.store.NoticeReach(ctx, st.ID)
	if err != nil {
		return templates.ReportInput{}, err
	}
	return templates.ReportInput{Incident: st, Obligation: o, Org: s.org, GeneratedAt: at, Reach: reach}, nil
}

// noticePreview renders the customer notice legal approves, for one
// locale, with a neutral greeting: no customer's data is involved.
// ?format=html (default) or text. Legal's texts of the locale stand under
// their headings; one not written yet is a marked placeholder, and the
// Notice-Texts-Missing header names it.
func (s *Server) noticePreview(c *gin.Context) {
	format := c.DefaultQuery("format", "html")
	if format != "html" && format != "text" {
		problem(c, http.StatusBadRequest, "format must be html or text", FieldError{Field: "format", Message: "html or text"})
		return
	}
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	n, err := templates.RenderNotice(templates.NoticeInput{Incident: st, Org: s.org, Locale: c.DefaultQuery("locale", "en"),
		GeneratedAt: s.now().UTC(), Draft: true})
	if err != nil {
		problem(c, http.StatusUnprocessableEntity, err.Error())
		return
	}
	c.Header("Content-Language", n.Locale)
	if m := st.NoticeTexts[n.Locale].Missing(); len(m) > 0 {
		c.Header("Notice-Texts-Missing", strings.Join(m, ", "))
	}
	if format == "text" {
		c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("Subject: "+n.Subject+"\n\n"+n.Text))
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(n.HTML))
}
