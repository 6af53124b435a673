// Package api is breachflow's HTTP face: the REST API under /v1, health
// and metrics, and (in dev) the outbox of the embedded mail catcher. It
// is a Gin router; every /v1 route is authenticated and role-checked, and
// every error is an RFC 9457 problem document.
package api

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/actionrecorder"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/internal/tracelog"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"golang.org/x/time/rate"
)

// Playbooks is the catalog the API launches from.
type Playbooks interface {
	Get(id string) (*playbooks.Playbook, bool)
	List() []*playbooks.Playbook
}

// Outbox lists what the dev SMTP catcher received.
type Outbox interface {
	Messages() []mailcatcher.Message // newest first
}

// ActionLog lists the containment calls the dev action recorder received.
type ActionLog interface {
	Calls() []actionrecorder.Call // newest first
}

// Deps are the API's collaborators.
type Deps struct {
	Store     store.Store
	Temporal  client.Client
	Converter converter.DataConverter // decodes memos; must match the client's
	Playbooks Playbooks
	Logger    *slog.Logger
	Outbox    Outbox       // nil outside dev
	Actions   ActionLog    // nil outside dev, or when every action has a webhook
	Codec     http.Handler // payload codec for the Temporal UI; nil to not serve it
	// DevCodecOrigin (dev only) serves the codec without a token at
	// /dev/codec/{encode,decode} for the browser of the embedded Temporal
	// UI at this origin (CORS); the key sits in the dev data dir anyway.
	DevCodecOrigin string
	Now            func() time.Time
	// Org is who files regulator reports (entity, contact, DPO).
	Org templates.Organisation
	// Keys seal subjects' names and emails; SubjectKey keys their email
	// HMAC (32 bytes or more). Without them subject import is off.
	Keys       store.Sealer
	SubjectKey []byte
	// ActorKey signs the actor of every Update the API sends
	// (BREACHFLOW_ACTOR_KEY); workers refuse an actor it did not sign.
	// Nil sends actors unsigned, which only a worker without the check
	// (the workflow tests' environment) accepts.
	ActorKey []byte
	// AllowLocalDomains lets subject import accept emails the public
	// internet cannot deliver to (BREACHFLOW_ALLOW_LOCAL_DOMAINS).
	AllowLocalDomains bool
	// Slack switches on the incident room: launches set Room "slack" and
	// /slack/commands and /slack/interactions answer. Nil = Slack off.
	Slack *Slack
	// EvidenceKey signs evidence packs (BREACHFLOW_EVIDENCE_KEY); nil
	// turns GET /v1/incidents/{id}/evidence off (503).
	EvidenceKey ed25519.PrivateKey
	// Alerts switches on alert intake, the detector and the triage queue
	// (api/alerts.go). Nil = off: those routes answer 404.
	Alerts *AlertDeps
	// Registry is the Prometheus registry GET /metrics serves; the caller
	// passes the one its Temporal client records into
	// (telemetry.TemporalMetrics). nil = a registry of the server's own.
	Registry *prometheus.Registry
	// LetterFonts are the fonts letters are set in; zero means
	// letters.DefaultFonts.
	LetterFonts letters.Fonts
	// Remedies finds a customer's remedy code for their letter; nil reads
	// the code the incident's remedy-code pool gave them.
	Remedies RemedyLookup
}

// Server is the HTTP API.
type Server struct {
	store      store.Store
	temporal   client.Client
	converter  converter.DataConverter
	playbooks  Playbooks
	log        *slog.Logger
	outbox     Outbox
	actions    ActionLog
	codec      http.Handler
	devOrigin  string
	now        func() time.Time
	org        templates.Organisation
	keys       store.Sealer
	subjectKey []byte
	actorKey   []byte
	allowLocal bool
	slack      *Slack
	// evidenceSigner signs evidence packs; nil = packs off.
	evidenceSigner ed25519.PrivateKey
	alerts         *alertIntake // nil when alert intake is off
	room           string       // IncidentInput.Room of new launches: "slack" or ""
	registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	router         *gin.Engine
	health         temporalHealth // remembered Temporal health checks
	pages          pageLimiter    // rate of the public notice pages per client
	letters        *letterRenderer
	remedies       RemedyLookup
}

// New builds the router.
func New(d Deps) *Server {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Converter == nil {
		d.Converter = converter.GetDefaultDataConverter()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		store: d.Store, temporal: d.Temporal, converter: d.Converter, playbooks: d.Playbooks,
		log: d.Logger, outbox: d.Outbox, actions: d.Actions, codec: d.Codec, devOrigin: d.DevCodecOrigin, now: d.Now, org: d.Org,
		keys: d.Keys, subjectKey: d.SubjectKey, actorKey: d.ActorKey, allowLocal: d.AllowLocalDomains, slack: d.Slack,
		evidenceSigner: d.EvidenceKey, registry: d.Registry,
	}
	if d.LetterFonts == (letters.Fonts{}) {
		d.LetterFonts = letters.DefaultFonts
	}
	s.letters, s.remedies = &letterRenderer{fonts: d.LetterFonts}, d.Remedies
	if s.remedies == nil {
		s.remedies = poolRemedies{store: s.store, keys: s.keys}
	}
	if d.Slack != nil {
		s.room = "slack"
	}
	if d.Alerts != nil {
		s.alerts = &alertIntake{deps: *d.Alerts, limiters: map[string]*rate.Limiter{}}
		s.alerts.intake = &alerts.Intake{Store: d.Store, Keys: d.Keys, Rules: d.Alerts.Rules, Launcher: s, Now: d.Now, Log: d.Logger,
			Triaged: s.postAlertCard}
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "breachflow_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"method", "route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "breachflow_http_request_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})
	s.registry.MustRegister(s.requests, s.latency, newOpsCollector(s),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.router = s.routes()
	return s
}

// Handler is the root http.Handler.
func (s *Server) Handler() http.Handler { return s.router }

// Routes lists "METHOD path" for every route (the OpenAPI test uses it).
func (s *Server) Routes() []gin.RouteInfo { return s.router.Routes() }

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(s.recover, s.observe)
	r.NoRoute(func(c *gin.Context) { problem(c, http.StatusNotFound, "no such route") })
	r.HandleMethodNotAllowed = true
	r.NoMethod(func(c *gin.Context) { problem(c, http.StatusMethodNotAllowed, "method not allowed on this route") })

	root := &r.RouterGroup
	handle(root, s.gate, "GET", "/healthz", s.healthz)
	handle(root, s.gate, "GET", "/readyz", s.readyz)
	handle(root, s.gate, "GET", "/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))

	// Every route is mounted through handle, behind its rule in RouteRules
	// (api/authz.go): the role, membership of a restricted incident, and
	// no writes to a closed one are decided there, before the handler.
	// The calendar feed authenticates itself: calendar apps send a token in the query.
	handle(r.Group("/v1", s.authenticateCalendar), s.gate, "GET", "/deadlines.ics", s.deadlinesICS)
	v1 := r.Group("/v1", s.authenticate)
	rest := func(method, path string, h gin.HandlerFunc) { handle(v1, s.gate, method, path, h) }
	rest("POST", "/incidents", s.launch)
	rest("GET", "/incidents", s.listIncidents)
	rest("GET", "/incidents/:id", s.getIncident)
	rest("PATCH", "/incidents/:id", s.patchIncident)
	rest("POST", "/incidents/:id/steps/:step/complete", s.completeStep)
	rest("POST", "/incidents/:id/steps/:step/decide", s.decideStep)
	rest("POST", "/incidents/:id/remediations", s.addRemediation)
	rest("POST", "/incidents/:id/remediations/:rid/done", s.completeRemediation)
	rest("POST", "/incidents/:id/obligations/:ob/file", s.fileObligation)
	rest("POST", "/incidents/:id/obligations/:ob/waive", s.waiveObligation)
	rest("POST", "/incidents/:id/close", s.closeIncident)
	rest("GET", "/incidents/:id/audit", s.audit)
	rest("GET", "/deadlines", s.deadlines)
	rest("POST", "/calendar-tokens", s.calendarToken)
	rest("GET", "/calendar-tokens", s.listCalendarTokens)
	rest("POST", "/calendar-tokens/:cid/revoke", s.revokeCalendarToken)
	rest("GET", "/tokens", s.listTokens)
	rest("POST", "/tokens", s.createToken)
	rest("POST", "/tokens/:tid/revoke", s.revokeToken)
	rest("GET", "/incidents/:id/obligations/:ob/report", s.report)
	rest("POST", "/incidents/:id/subjects", s.importSubjects)
	rest("GET", "/incidents/:id/notices/preview", s.noticePreview)
	rest("PUT", "/incidents/:id/notices/texts/:locale", s.setNoticeText)
	rest("GET", "/incidents/:id/notices", s.listNotices)
	rest("GET", "/incidents/:id/notices/report", s.deliveryReport)
	rest("POST", "/incidents/:id/notices/send", s.sendNotices)
	rest("POST", "/incidents/:id/notices/retry", s.retryNotices)
	rest("POST", "/incidents/:id/remedy-codes", s.importRemedyCodes)
	rest("GET", "/incidents/:id/remedy-codes", s.remedyCodes)
	rest("GET", "/incidents/:id/outreach", s.listOutreach)
	rest("POST", "/incidents/:id/outreach/:task/done", s.outreachDone)
	rest("GET", "/incidents/:id/letters", s.listLetters)
	rest("POST", "/incidents/:id/letters", s.generateLetters)
	rest("GET", "/incidents/:id/letters/:batch/letters.pdf", s.letterPDF)
	rest("GET", "/incidents/:id/letters/:batch/manifest.csv", s.letterManifest)
	rest("POST", "/incidents/:id/letters/:batch/printed", s.letterPrinted)
	rest("POST", "/incidents/:id/letters/returns", s.letterReturned)
	rest("POST", "/incidents/:id/substitute-notice", s.decideSubstitute)
	rest("GET", "/incidents/:id/substitute-notice", s.getSubstitute)
	rest("POST", "/incidents/:id/grants", s.requestGrant)
	rest("GET", "/incidents/:id/grants", s.listGrants)
	rest("POST", "/incidents/:id/grants/:gid/approve", s.approveGrant)
	rest("GET", "/incidents/:id/members", s.listMembers)
	rest("PUT", "/incidents/:id/members/:principal", s.putMember)
	rest("DELETE", "/incidents/:id/members/:principal", s.deleteMember)
	rest("POST", "/assessments", s.assess)
	rest("POST", "/incidents/:id/assessments", s.whatIf)
	rest("GET", "/incidents/:id/evidence", s.evidence)
	rest("GET", "/evidence-key", s.evidenceKey)
	rest("GET", "/incidents/:id/hold", s.getHold)
	rest("POST", "/incidents/:id/hold", s.placeHold)
	rest("DELETE", "/incidents/:id/hold", s.liftHold)
	rest("POST", "/incidents/:id/hold/lift", s.liftHold)
	rest("DELETE", "/incidents/:id/subjects", s.purgeSubjects)
	rest("GET", "/playbooks", s.listPlaybooks)
	if s.alerts != nil {
		// Sources authenticate with their own tokens (and signatures), not
		// API tokens: api/alerts.go.
		handle(r.Group("/v1", s.alertSource(maxAlertBody)), s.gate, "POST", "/alerts", s.receiveAlerts)
		handle(r.Group("/v1", s.alertSource(maxDetectBody)), s.gate, "POST", "/detect/:format", s.detect)
		rest("GET", "/alerts", s.listAlerts)
		rest("GET", "/alerts/:aid", s.getAlert)
		rest("POST", "/alerts/:aid/launch", s.launchAlert)
		rest("POST", "/alerts/:aid/attach", s.attachAlert)
		rest("POST", "/alerts/:aid/dismiss", s.dismissAlert)
	}
	rest("GET", "/playbooks/:id", s.getPlaybook)

	if s.outbox != nil || s.actions != nil {
		dev := r.Group("/dev", s.authenticate)
		if s.outbox != nil {
			handle(dev, s.gate, "GET", "/outbox", s.devOutbox)
		}
		if s.actions != nil {
			handle(dev, s.gate, "GET", "/actions", s.devActions)
		}
	}
	if s.codec != nil && s.devOrigin != "" {
		dev := r.Group("/dev/codec", s.devCORS)
		handle(dev, s.gate, "OPTIONS", "/:op", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		handle(dev, s.gate, "POST", "/:op", func(c *gin.Context) {
			if op := c.Param("op"); op != "encode" && op != "decode" {
				problem(c, http.StatusNotFound, "no such codec operation")
				return
			}
			s.codec.ServeHTTP(c.Writer, c.Request) // dispatches on the /encode or /decode suffix
		})
	}
	if s.codec != nil {
		// The Temporal UI's codec calls; the browser sends the same bearer token.
		codec := r.Group("/codec", s.authenticate)
		handle(codec, s.gate, "POST", "/encode", gin.WrapH(s.codec))
		handle(codec, s.gate, "POST", "/decode", gin.WrapH(s.codec))
	}
	s.dashboard(r) // HTML pages outside /v1: api/dashboard.go
	// The customer's notice page: the token is the authority (api/noticepage.go).
	handle(root, s.gate, "GET", "/n/:token", s.noticePage)
	handle(root, s.gate, "POST", "/n/:token/ack", s.ackNoticePage)
	// Slack signs its requests; they carry no bearer token (api/slack.go).
	handle(root, s.gate, "POST", "/slack/commands", s.slackVerify, s.slackCommand)
	handle(root, s.gate, "POST", "/slack/interactions", s.slackVerify, s.slackInteraction)
	return r
}

// devCORS lets the embedded Temporal UI's page call the dev codec.
func (s *Server) devCORS(c *gin.Context) {
	if c.GetHeader("Origin") == s.devOrigin {
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", s.devOrigin)
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Vary", "Origin")
	}
	c.Next()
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			s.log.ErrorContext(c, "panic in handler", "route", c.FullPath(), "panic", v)
			problem(c, http.StatusInternalServerError, "internal error")
		}
	}()
	c.Next()
}

// observe logs and counts each request. It logs the route template, never
// the body or query, so nothing a caller sent about people is written out.
// Every line logged while the request is served (with its context) carries
// its trace id, request id and the incident in its path (tracelog); the
// request id is answered in X-Request-Id.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	f := tracelog.FromRequest(c.Request)
	if id := c.Param("id"); id != "" && strings.Contains(c.FullPath(), "/incidents/:id") && incidentIDPattern.MatchString(id) {
		f.IncidentID = id
	}
	c.Request = c.Request.WithContext(tracelog.With(c.Request.Context(), f))
	c.Header("X-Request-Id", f.RequestID)
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := strconv.Itoa(c.Writer.Status())
	s.requests.WithLabelValues(c.Request.Method, route, status).Inc()
	s.latency.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	s.log.InfoContext(c, "http", "method", c.Request.Method, "route", route, "status", status, "took", time.Since(start))
}

// internal logs err and answers 500 without its text; 503 with
// Retry-After when the store's database is unreachable.
func (s *Server) internal(c *gin.Context, op string, err error) {
	s.log.ErrorContext(c, op, "route", c.FullPath(), "error", err)
	if storeUnavailable(err) {
		unavailable(c, "the store's database is unreachable; nothing was changed; repeat the request shortly")
		return
	}
	problem(c, http.StatusInternalServerError, "internal error; it has been logged")
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 when the store and Temporal answer, else 503 naming
// the dependency that did not (checks: {"store": "unreachable", …}).
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{}
	var failed []string
	if err := s.store.Ping(ctx); err != nil {
		checks["store"] = "unreachable"
		failed = append(failed, "store")
		s.log.WarnContext(c, "readyz: store", "error", err)
	} else {
		checks["store"] = "ok"
	}
	if err := s.temporalReachable(ctx); err != nil {
		checks["temporal"] = "unreachable"
		failed = append(failed, "temporal")
		s.log.WarnContext(c, "readyz: temporal", "error", err)
	} else {
		checks["temporal"] = "ok"
	}
	if len(failed) > 0 {
		c.Header("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": checks, "failed": failed})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": checks})
}

// devActions lists the containment calls the dev recorder received.
func (s *Server) devActions(c *gin.Context) {
	calls := s.actions.Calls()
	if calls == nil {
		calls = []actionrecorder.Call{}
	}
	c.JSON(http.StatusOK, gin.H{"actions": calls})
}

func (s *Server) devOutbox(c *gin.Context) {
	// Customer notices land here too: recipients are masked as on the
	// dashboard's outbox, and bodies are left to the dashboard, which
	// hides the names and addresses in them (outboxBody).
	c.JSON(http.StatusOK, gin.H{"messages": outboxRows(s.outbox.Messages())})
}
