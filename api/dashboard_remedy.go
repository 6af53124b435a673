package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/gin-gonic/gin"
)

// The remedy-code pool on the customer-notice page: its counts, and legal's
// upload of the provider's CSV, the dashboard's second multipart form. The
// file streams, after the CSRF token part, into importRemedyPool, the
// import POST /v1/incidents/{id}/remedy-codes runs, under the same limit.
// No page ever shows a code.

// remedyUploadRoute is the route of the pool's upload form.
const remedyUploadRoute = "/incidents/:id/remedy-codes"

// remedyView is the pool import's report page.
type remedyView struct {
	ID     string
	Error  string
	Closed bool
	// Added is set when the file was imported: the codes accepted.
	Added *int
	// Lines are the refused lines (the first maxShownRejections), each with
	// its number, field and reason; MoreLines counts the rest.
	Lines     []remedy.LineError
	MoreLines int
	// Pool is the pool after the upload.
	Pool *remedyPoolStatus
}

// uploadRemedyCodes handles POST /incidents/{id}/remedy-codes: the
// import's report as a page, with the pool's counts after it and the form
// again. Nothing is read from the file before the CSRF token is checked.
func (d *dash) uploadRemedyCodes(c *gin.Context) {
	id := c.Param("id")
	if !incidentIDPattern.MatchString(id) {
		d.notFound(c, id)
		return
	}
	file, ok := d.uploadedFile(c)
	if !ok {
		return
	}
	if file == nil {
		d.showPoolImport(c, http.StatusUnprocessableEntity, remedyView{ID: id, Error: "Choose the provider's CSV file to upload. Nothing was imported."})
		return
	}
	res, lines, e := d.importRemedyPool(c.Request.Context(), id, file, actor(c), "")
	v := remedyView{ID: id}
	status := http.StatusOK
	switch {
	case e != nil && e.Err != nil:
		d.internalPage(c, e.Op, e.Err)
		return
	case e != nil && e.Status == http.StatusNotFound:
		d.notFound(c, id)
		return
	case e != nil:
		status, v.Error, v.Lines = e.Status, e.Detail+".", lines
		if n := len(v.Lines); n > maxShownRejections {
			v.Lines, v.MoreLines = v.Lines[:maxShownRejections], n-maxShownRejections
		}
	default:
		v.Added = &res.Added
	}
	d.showPoolImport(c, status, v)
}

// showPoolImport answers the report page with the pool's counts now.
func (d *dash) showPoolImport(c *gin.Context, status int, v remedyView) {
	ps, e := d.poolStatus(c.Request.Context(), v.ID)
	switch {
	case e != nil && e.Err != nil:
		d.internalPage(c, e.Op, e.Err)
		return
	case e != nil:
		d.notFound(c, v.ID)
		return
	}
	v.Pool = ps
	d.render(c, status, "remedy", v.ID+" · remedy codes", "incidents", v)
}

// poolProduct is one product's line of the pool's table.
type poolProduct struct {
	Product               string
	Total, Assigned, Free int
}

// Products are the pool's products, by name.
func (p remedyPoolStatus) Products() []poolProduct {
	out := make([]poolProduct, 0, len(p.Pool.ByProduct))
	for name, n := range p.Pool.ByProduct {
		out = append(out, poolProduct{Product: name, Total: n.Total, Assigned: n.Assigned, Free: n.Free})
	}
	slices.SortFunc(out, func(a, b poolProduct) int { return strings.Compare(a.Product, b.Product) })
	return out
}
