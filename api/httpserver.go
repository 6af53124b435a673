package api

import (
	"net/http"
	"time"
)

// HTTPTimeouts bound how long one client may hold a connection: a client
// that sends its headers or body slowly, reads the answer slowly, or keeps
// an idle connection, is cut off instead of holding a goroutine and a
// socket for ever.
type HTTPTimeouts struct {
	ReadHeader time.Duration // request line and headers
	Read       time.Duration // the whole request, body included (CSV uploads)
	Write      time.Duration // from the end of the headers to the end of the answer
	Idle       time.Duration // between requests on a kept-alive connection
}

// DefaultHTTPTimeouts returns the timeouts of `breachflow server` and `dev`.
// Read allows a large customer list upload; Write allows a launch, which
// waits for the workflow's first pass, with room to spare.
func DefaultHTTPTimeouts() HTTPTimeouts {
	return HTTPTimeouts{
		ReadHeader: 10 * time.Second,
		Read:       5 * time.Minute,
		Write:      5 * time.Minute,
		Idle:       2 * time.Minute,
	}
}

// NewHTTPServer returns the http.Server that serves h at addr with t.
func NewHTTPServer(addr string, h http.Handler, t HTTPTimeouts) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
	}
}
