// Package tracelog puts a request's trace id, request id and incident id
// on every log line written while the request is served: a slog.Handler
// reads them from the context, so the code that logs passes its context
// and names nothing else. Only ids go in; never a customer's name,
// address or anything a caller sent.
package tracelog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Fields are the ids a log line of a request carries.
type Fields struct {
	TraceID    string // W3C trace id: the caller's traceparent, else generated
	RequestID  string // generated for each request
	IncidentID string // the incident in the route's path, if any
}

type fieldsKey struct{}

// With returns ctx carrying f.
func With(ctx context.Context, f Fields) context.Context {
	return context.WithValue(ctx, fieldsKey{}, f)
}

// From returns the fields ctx carries (zero when none).
func From(ctx context.Context) Fields {
	f, _ := ctx.Value(fieldsKey{}).(Fields)
	return f
}

// FromRequest starts the fields of a request: the trace id of its W3C
// traceparent header when it has a valid one, else a new one, and a new
// request id. Nothing else of the request is read.
func FromRequest(r *http.Request) Fields {
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(r.Header)))
	f := Fields{RequestID: randomHex(8)}
	if sc.HasTraceID() {
		f.TraceID = sc.TraceID().String()
	} else {
		f.TraceID = randomHex(16)
	}
	return f
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// Handler adds the context's Fields to each record it handles.
type Handler struct{ next slog.Handler }

// NewHandler wraps next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled reports whether next handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds trace_id, request_id and incident_id from ctx.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		f := From(ctx)
		if f.TraceID != "" {
			r.AddAttrs(slog.String("trace_id", f.TraceID))
		}
		if f.RequestID != "" {
			r.AddAttrs(slog.String("request_id", f.RequestID))
		}
		if f.IncidentID != "" {
			r.AddAttrs(slog.String("incident_id", f.IncidentID))
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs wraps next's.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs)}
}

// WithGroup wraps next's.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}

// Formats of BREACHFLOW_LOG_FORMAT.
const (
	FormatJSON = "json"
	FormatText = "text"
)

// New is the process's logger: JSON lines or text on w, at info level,
// with the context's ids.
func New(w io.Writer, format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	switch format {
	case FormatJSON:
		return slog.New(NewHandler(slog.NewJSONHandler(w, opts))), nil
	case FormatText:
		return slog.New(NewHandler(slog.NewTextHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("log format %q is not one of json, text", format)
}
