package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// While Temporal is unreachable the SDK retries a call until its deadline
// (30 s for a launch or an action), so without a check an outage answers
// only after that long. Calls that need Temporal first ask temporalHealth,
// which checks the frontend with a short deadline and remembers the answer
// briefly: in an outage they answer 503 with Retry-After within
// healthTimeout, and at once while the failure is remembered.
const (
	healthTimeout = 1500 * time.Millisecond
	healthUpFor   = 500 * time.Millisecond // how long a success is trusted
	healthDownFor = time.Second            // how long a failure is
	// retryAfter is the Retry-After of a 503 for an unreachable dependency.
	retryAfter = 5 * time.Second
)

// errTemporalDown is the answer of a call refused because Temporal is
// unreachable; nothing was sent.
var errTemporalDown = errors.New("the workflow engine (Temporal) is unreachable; try again shortly")

type temporalHealth struct {
	mu      sync.Mutex
	checked time.Time
	err     error
}

// temporalReachable is nil when the Temporal frontend answered a health
// check lately, else errTemporalDown (wrapping the check's error).
func (s *Server) temporalReachable(ctx context.Context) error {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	since := time.Since(h.checked)
	if (h.err == nil && since < healthUpFor) || (h.err != nil && since < healthDownFor) {
		return h.err
	}
	cctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	_, err := s.temporal.CheckHealth(cctx, &client.CheckHealthRequest{})
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // the caller gave up; that says nothing about Temporal
	}
	h.checked, h.err = time.Now(), nil
	if err != nil {
		h.err = fmt.Errorf("%w (%v)", errTemporalDown, err)
		s.log.WarnContext(ctx, "temporal unreachable", "error", err)
	}
	return h.err
}

// temporalUnavailable reports whether err means Temporal could not be
// reached (checked before the call, or the call's own Unavailable).
func temporalUnavailable(err error) bool {
	var un *serviceerror.Unavailable
	return errors.Is(err, errTemporalDown) || errors.As(err, &un)
}

// unavailable answers 503 with Retry-After for a dependency that is down.
func unavailable(c *gin.Context, detail string) {
	c.Header("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	problem(c, http.StatusServiceUnavailable, detail)
}
