package api

import (
	"crypto/subtle"
	"errors"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"

	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/gin-gonic/gin"
)

// The customer upload: one of the dashboard's two multipart forms (the
// other is the remedy-code pool, dashboard_remedy.go). Its body is read
// part by part as it arrives, never parsed into memory or temporary files
// by the router: the CSRF token part first, then the file, which streams
// into importCSV, the import POST /v1/incidents/{id}/subjects runs, under
// the same limits.

// uploadRoute is the route of the upload form.
const uploadRoute = "/incidents/:id/subjects"

// uploadLimits are the dashboard's multipart forms, each with the limit of
// the import its file streams into.
var uploadLimits = map[string]int64{
	uploadRoute:       maxSubjectsBytes,
	remedyUploadRoute: remedy.MaxBytes,
}

// multipartKey holds the upload's multipart reader in the request context.
const multipartKey = "breachflow.multipart"

// uploadSlack is what an upload's body may hold besides the file: the
// CSRF token, the boundaries and part headers.
const uploadSlack = 64 << 10

// uploadLimit readies an upload form's body: multipart only, bounded by
// the import's own limit, read by the handler as a stream.
func (d *dash) uploadLimit(c *gin.Context, limit int64) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		d.errorPage(c, http.StatusUnsupportedMediaType, "Upload refused",
			"A file is uploaded with its page's upload form (multipart/form-data); this request was not. Nothing was imported.")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+uploadSlack)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		d.errorPage(c, http.StatusBadRequest, "Upload refused", "The upload could not be read. Nothing was imported.")
		return
	}
	c.Set(multipartKey, mr)
	c.Next()
}

// countRow is one line of the report's per-jurisdiction or per-tier
// table: the file's count and the store's after the import.
type countRow struct {
	Key            string
	InFile, Stored int
}

// subjectsView is the import report page.
type subjectsView struct {
	ID     string
	Error  string
	Result *importResult
	// Rejected are the first maxShownRejections of the report's.
	Rejected      []subjects.Rejection
	MoreRejected  int
	ByJur, ByTier []countRow
}

// maxShownRejections bounds the rejected lines the page lists.
const maxShownRejections = 1000

// uploadSubjects handles POST /incidents/{id}/subjects: the import report
// as a page, with the form again to upload a corrected file. Nothing is
// read from the file before the form's CSRF token has been checked.
func (d *dash) uploadSubjects(c *gin.Context) {
	id := c.Param("id")
	if !incidentIDPattern.MatchString(id) {
		d.notFound(c, id)
		return
	}
	file, ok := d.uploadedFile(c)
	switch {
	case !ok:
	case file == nil:
		d.showImport(c, http.StatusUnprocessableEntity, subjectsView{ID: id, Error: "Choose a CSV file to upload. Nothing was imported."})
	default:
		d.importPart(c, id, file)
	}
}

// uploadedFile reads an upload form's parts up to its file part, which
// it returns to be streamed: the CSRF token part must come first. A
// refusal (a bad or missing token, an unreadable body) is answered here
// (ok false); a form without a chosen file is a nil part.
func (d *dash) uploadedFile(c *gin.Context) (file *multipart.Part, ok bool) {
	mr, _ := c.MustGet(multipartKey).(*multipart.Reader)
	want := c.GetString(csrfKey)
	csrfOK := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.errorPage(c, http.StatusBadRequest, "Upload refused", "The upload could not be read. Nothing was imported.")
			return nil, false
		}
		switch part.FormName() {
		case csrfField:
			got, _ := io.ReadAll(io.LimitReader(part, 200))
			csrfOK = want != "" && subtle.ConstantTimeCompare(got, []byte(want)) == 1
		case "file":
			if !csrfOK {
				d.csrfRefused(c)
				return nil, false
			}
			if part.FileName() == "" {
				return nil, true
			}
			return part, true
		}
	}
	if !csrfOK {
		d.csrfRefused(c)
		return nil, false
	}
	return nil, true
}

func (d *dash) csrfRefused(c *gin.Context) {
	d.errorPage(c, http.StatusForbidden, "Form refused",
		"This form did not carry a valid security token (it may be stale, or sent from another site). Nothing was changed. Go back, reload the page and try again.")
}

// importPart imports the file part and shows the report.
func (d *dash) importPart(c *gin.Context, id string, file io.Reader) {
	res, ierr := d.importCSV(c.Request.Context(), id, file, actor(c))
	switch {
	case ierr == nil:
	case ierr.Err != nil:
		d.internalPage(c, ierr.Op, ierr.Err)
		return
	case ierr.Update != nil:
		// The subjects are stored; the incident refused the new counts.
		r, known := refusal(id, ierr.Update)
		if !known {
			d.internalPage(c, "import subjects: affected", ierr.Update)
			return
		}
		d.showImport(c, r.Status, subjectsView{ID: id, Error: "The customers were stored, but the incident did not take their counts: " + r.Detail})
		return
	default:
		d.showImport(c, ierr.Status, subjectsView{ID: id, Error: ierr.Detail})
		return
	}
	v := subjectsView{ID: id, Result: res, Rejected: res.Report.Rejected}
	if n := len(v.Rejected); n > maxShownRejections {
		v.Rejected, v.MoreRejected = v.Rejected[:maxShownRejections], n-maxShownRejections
	}
	v.ByJur = countRows(res.Report.PerJurisdiction, res.PerJurisdiction)
	v.ByTier = countRows(res.Report.PerTier, res.PerTier)
	d.showImport(c, http.StatusOK, v)
}

func (d *dash) showImport(c *gin.Context, status int, v subjectsView) {
	d.render(c, status, "subjects", v.ID+" · customer import", "incidents", v)
}

// countRows joins the file's and the store's counts by key.
func countRows(file, stored map[string]int) []countRow {
	keys := slices.Collect(maps.Keys(file))
	for k := range stored {
		if _, ok := file[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []countRow
	for _, k := range keys {
		out = append(out, countRow{Key: k, InFile: file[k], Stored: stored[k]})
	}
	return out
}
