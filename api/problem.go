package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// FieldError names one bad field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Accepted lists the values the field takes, when it is one of a
	// closed set (a flag, a data category, a jurisdiction code).
	Accepted []string `json:"accepted,omitempty"`
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// Blockers lists what keeps an incident from closing (409 on close).
	Blockers []string `json:"blockers,omitempty"`
}

func problem(c *gin.Context, status int, detail string, fields ...FieldError) {
	writeProblem(c, Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Errors: fields,
	})
}

func writeProblem(c *gin.Context, p Problem) {
	p.Instance = c.Request.URL.Path
	body, _ := json.Marshal(p)
	c.Abort()
	c.Data(p.Status, "application/problem+json", body)
}

// maxBody caps request bodies; launch and facts are small documents.
const maxBody = 1 << 20

// decodeStrict decodes one JSON object into v, refusing unknown fields,
// trailing data and bodies over maxBody. It writes the problem itself and
// reports whether decoding succeeded.
func decodeStrict(c *gin.Context, v any) bool {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		problem(c, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send application/json", ct))
		return false
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			problem(c, http.StatusBadRequest, "request body holds more than one JSON value")
			return false
		}
		return true
	}
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		problem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", maxBody))
	case errors.Is(err, io.EOF):
		problem(c, http.StatusBadRequest, "request body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		problem(c, http.StatusBadRequest, "malformed JSON: "+err.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		problem(c, http.StatusBadRequest, "wrong type for "+field,
			FieldError{Field: field, Message: fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		problem(c, http.StatusBadRequest, "unknown field "+name, FieldError{Field: name, Message: "unknown field"})
	default:
		problem(c, http.StatusBadRequest, "bad request body: "+err.Error())
	}
	return false
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "float64":
		return "a number"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	}
	return goKind
}

// actionError is why an action that the API and the dashboard share (one
// code path per action) did not happen: a refusal the caller can act on
// (Status, Detail, Fields), or an internal failure (Op, Err), logged and
// answered without detail. Each surface answers it its own way: the API
// as a problem document (answerAction), the dashboard as a page or a
// flash.
type actionError struct {
	Status int
	Detail string
	Fields []FieldError
	Op     string
	Err    error
}

// refusedAction is a refusal with its status, message and bad fields.
func refusedAction(status int, detail string, fields ...FieldError) *actionError {
	return &actionError{Status: status, Detail: detail, Fields: fields}
}

// failedAction is an internal failure of op.
func failedAction(op string, err error) *actionError {
	return &actionError{Op: op, Err: err}
}

// answerAction answers e as the API does.
func (s *Server) answerAction(c *gin.Context, e *actionError) {
	if e.Err != nil {
		s.internal(c, e.Op, e.Err)
		return
	}
	problem(c, e.Status, e.Detail, e.Fields...)
}
