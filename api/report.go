package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/breachflow/breachflow/templates"
	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
)

// report renders the draft regulator notification for one obligation:
// ?format=md (default), html, or json (title, markdown, missing).
func (s *Server) report(c *gin.Context) {
	id, ob := c.Param("id"), c.Param("ob")
	if !incidentIDPattern.MatchString(id) {
		problem(c, http.StatusNotFound, "no incident "+strconv.Quote(id))
		return
	}
	format := c.DefaultQuery("format", "md")
	if format != "md" && format != "html" && format != "json" {
		problem(c, http.StatusBadRequest, "format must be md, html or json", FieldError{Field: "format", Message: "md, html or json"})
		return
	}
	st, err := s.queryStatus(c.Request.Context(), id)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		problem(c, http.StatusNotFound, "no incident "+id)
		return
	}
	if err != nil {
		s.internal(c, "query incident", err)
		return
	}
	for _, o := range st.Obligations {
		if o.ID != ob {
			continue
		}
		rep, err := templates.RenderReport(templates.ReportInput{Incident: st, Obligation: o, Org: s.org, GeneratedAt: s.now().UTC()})
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
