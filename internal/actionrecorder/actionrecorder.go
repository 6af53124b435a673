// Package actionrecorder is the containment webhook receiver of
// `breachflow dev`: it checks each call's signature exactly as a real
// receiver must (activities.VerifySignature), records the call and answers
// 200, so a playbook's action steps run in dev as they would in
// production. It never does the action.
package actionrecorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/breachflow/breachflow/activities"
)

// Tolerance is how far a call's signed timestamp may be from now.
const Tolerance = 5 * time.Minute

// maxBody bounds one call; a webhook document is a few hundred bytes.
const maxBody = 64 << 10

// Call is one verified containment call.
type Call struct {
	At          time.Time         `json:"at"`
	Action      string            `json:"action"`
	IncidentID  string            `json:"incident_id"`
	Step        string            `json:"step"`
	RequestedBy string            `json:"requested_by"`
	Params      map[string]string `json:"params,omitempty"`
	DeliveryID  string            `json:"delivery_id"`
	// Deliveries counts the calls with this delivery id: Temporal retries
	// an activity, and a receiver must act on a delivery once.
	Deliveries int `json:"deliveries"`
}

// Recorder receives containment calls at /actions/{name}.
type Recorder struct {
	secret []byte
	keep   int
	now    func() time.Time
	addr   string
	srv    *http.Server

	mu    sync.Mutex
	calls []Call // oldest first
}

// Start listens on addr (host:port; port 0 picks one) and records up to
// keep calls, verified with secret.
func Start(addr string, secret []byte, keep int) (*Recorder, error) {
	if len(secret) == 0 {
		return nil, errors.New("action recorder: no secret")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("action recorder: %w", err)
	}
	r := &Recorder{secret: secret, keep: keep, now: time.Now, addr: ln.Addr().String()}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Addr is the address the recorder listens on.
func (r *Recorder) Addr() string { return r.addr }

// URL is where the containment action named action is to be sent.
func (r *Recorder) URL(action string) string { return "http://" + r.addr + "/actions/" + action }

// Close stops the recorder.
func (r *Recorder) Close(ctx context.Context) error { return r.srv.Shutdown(ctx) }

// Calls returns the recorded calls, newest first.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.calls)
	slices.Reverse(out)
	return out
}

// ServeHTTP verifies and records one call.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	name, ok := strings.CutPrefix(req.URL.Path, "/actions/")
	if !ok || name == "" || strings.Contains(name, "/") {
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if err := activities.VerifySignature(r.secret, req.Header.Get(activities.HeaderTimestamp),
		req.Header.Get(activities.HeaderSignature), body, r.now(), Tolerance); err != nil {
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var doc activities.WebhookBody
	if err := json.Unmarshal(body, &doc); err != nil || doc.Action != name || doc.DeliveryID == "" {
		http.Error(w, "not a containment call for "+name, http.StatusBadRequest)
		return
	}
	if hdr := req.Header.Get(activities.HeaderDelivery); hdr != doc.DeliveryID {
		http.Error(w, "delivery id header and body differ", http.StatusBadRequest)
		return
	}
	r.record(Call{At: r.now().UTC(), Action: doc.Action, IncidentID: doc.IncidentID, Step: doc.Step,
		RequestedBy: doc.RequestedBy, Params: doc.Params, DeliveryID: doc.DeliveryID})
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"recorded":true,"note":"breachflow dev recorded this action; nothing was done"}`)
}

// record adds c, or counts a repeat of a delivery already recorded.
func (r *Recorder) record(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.calls {
		if r.calls[i].DeliveryID == c.DeliveryID {
			r.calls[i].Deliveries++
			return
		}
	}
	c.Deliveries = 1
	r.calls = append(r.calls, c)
	if len(r.calls) > r.keep {
		r.calls = slices.Delete(r.calls, 0, len(r.calls)-r.keep)
	}
}
