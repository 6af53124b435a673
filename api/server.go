// Package api is breachflow's HTTP face: the REST API under /v1, health
// and metrics, and (in dev) the outbox of the embedded mail catcher. It
// is a Gin router; every /v1 route is authenticated and role-checked, and
// every error is an RFC 9457 problem document.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/breachflow/breachflow/internal/actionrecorder"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/mailcatcher"
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
	// Alerts switches on alert intake, the detector and the triage queue
	// (api/alerts.go). Nil = off: those routes answer 404.
	Alerts *AlertDeps
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
	alerts     *alertIntake // nil when alert intake is off
	room       string       // IncidentInput.Room of new launches: "slack" or ""
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	router     *gin.Engine
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
	s := &Server{
		store: d.Store, temporal: d.Temporal, converter: d.Converter, playbooks: d.Playbooks,
		log: d.Logger, outbox: d.Outbox, actions: d.Actions, codec: d.Codec, devOrigin: d.DevCodecOrigin, now: d.Now, org: d.Org,
		keys: d.Keys, subjectKey: d.SubjectKey, actorKey: d.ActorKey, allowLocal: d.AllowLocalDomains, slack: d.Slack,
		registry: prometheus.NewRegistry(),
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
	s.registry.MustRegister(s.requests, s.latency,
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

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))

	// The calendar feed authenticates itself: calendar apps send a token in the query.
	r.GET("/v1/deadlines.ics", s.deadlinesICS)
	v1 := r.Group("/v1", s.authenticate)
	v1.POST("/incidents", require(breach.RoleResponder), s.launch)
	v1.GET("/incidents", require(breach.RoleViewer), s.listIncidents)
	v1.GET("/incidents/:id", require(breach.RoleViewer), s.getIncident)
	v1.PATCH("/incidents/:id", require(breach.RoleResponder, breach.RoleLegal), s.patchIncident)
	// Step owners are checked by the workflow's validator: it knows the playbook.
	v1.POST("/incidents/:id/steps/:step/complete", require(breach.RoleResponder, breach.RoleLegal), s.completeStep)
	v1.POST("/incidents/:id/steps/:step/decide", require(breach.RoleResponder, breach.RoleLegal), s.decideStep)
	v1.POST("/incidents/:id/remediations", require(breach.RoleResponder), s.addRemediation)
	v1.POST("/incidents/:id/remediations/:rid/done", require(breach.RoleResponder), s.completeRemediation)
	v1.POST("/incidents/:id/obligations/:ob/file", require(breach.RoleLegal), s.fileObligation)
	v1.POST("/incidents/:id/obligations/:ob/waive", require(breach.RoleLegal), s.waiveObligation)
	v1.POST("/incidents/:id/close", require(breach.RoleResponder), s.closeIncident)
	v1.GET("/incidents/:id/audit", require(breach.RoleViewer), s.audit)
	v1.GET("/deadlines", require(breach.RoleViewer), s.deadlines)
	v1.POST("/calendar-tokens", require(breach.RoleViewer), s.calendarToken)
	v1.GET("/incidents/:id/obligations/:ob/report", require(breach.RoleLegal), s.report)
	v1.POST("/incidents/:id/subjects", require(breach.RoleResponder), s.importSubjects)
	v1.GET("/incidents/:id/notices/preview", require(breach.RoleResponder, breach.RoleLegal), s.noticePreview)
	v1.PUT("/incidents/:id/notices/texts/:locale", require(breach.RoleLegal), s.setNoticeText)
	v1.GET("/incidents/:id/notices", require(breach.RoleViewer), s.listNotices)
	v1.GET("/incidents/:id/notices/report", require(breach.RoleViewer), s.deliveryReport)
	v1.POST("/incidents/:id/notices/send", require(breach.RoleResponder), s.sendNotices)
	v1.POST("/incidents/:id/notices/retry", require(breach.RoleResponder), s.retryNotices)
	v1.GET("/incidents/:id/outreach", require(breach.RoleResponder, breach.RoleLegal), s.listOutreach)
	v1.POST("/incidents/:id/outreach/:task/done", require(breach.RoleResponder), s.outreachDone)
	v1.GET("/playbooks", require(breach.RoleViewer), s.listPlaybooks)
	if s.alerts != nil {
		// Sources authenticate with their own tokens (and signatures), not
		// API tokens: api/alerts.go.
		r.POST("/v1/alerts", s.alertSource(maxAlertBody), s.receiveAlerts)
		r.POST("/v1/detect/:format", s.alertSource(maxDetectBody), s.detect)
		v1.GET("/alerts", require(breach.RoleResponder, breach.RoleLegal), s.listAlerts)
		v1.GET("/alerts/:aid", require(breach.RoleResponder, breach.RoleLegal), s.getAlert)
		v1.POST("/alerts/:aid/launch", require(breach.RoleResponder), s.launchAlert)
		v1.POST("/alerts/:aid/attach", require(breach.RoleResponder), s.attachAlert)
		v1.POST("/alerts/:aid/dismiss", require(breach.RoleResponder), s.dismissAlert)
	}
	v1.GET("/playbooks/:id", require(breach.RoleViewer), s.getPlaybook)

	if s.outbox != nil || s.actions != nil {
		dev := r.Group("/dev", s.authenticate)
		if s.outbox != nil {
			dev.GET("/outbox", require(breach.RoleResponder, breach.RoleLegal), s.devOutbox)
		}
		if s.actions != nil {
			dev.GET("/actions", require(breach.RoleResponder, breach.RoleLegal), s.devActions)
		}
	}
	if s.codec != nil && s.devOrigin != "" {
		dev := r.Group("/dev/codec", s.devCORS)
		dev.OPTIONS("/:op", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		dev.POST("/:op", func(c *gin.Context) {
			if op := c.Param("op"); op != "encode" && op != "decode" {
				problem(c, http.StatusNotFound, "no such codec operation")
				return
			}
			s.codec.ServeHTTP(c.Writer, c.Request) // dispatches on the /encode or /decode suffix
		})
	}
	if s.codec != nil {
		// The Temporal UI's codec calls; the browser sends the same bearer token.
		codec := r.Group("/codec", s.authenticate, require(breach.RoleAdmin))
		codec.POST("/encode", gin.WrapH(s.codec))
		codec.POST("/decode", gin.WrapH(s.codec))
	}
	s.dashboard(r) // HTML pages outside /v1: api/dashboard.go
	// Slack signs its requests; they carry no bearer token (api/slack.go).
	r.POST("/slack/commands", s.slackVerify, s.slackCommand)
	r.POST("/slack/interactions", s.slackVerify, s.slackInteraction)
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
			s.log.Error("panic in handler", "route", c.FullPath(), "panic", v)
			problem(c, http.StatusInternalServerError, "internal error")
		}
	}()
	c.Next()
}

// observe logs and counts each request. It logs the route template, never
// the body or query, so nothing a caller sent about people is written out.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := strconv.Itoa(c.Writer.Status())
	s.requests.WithLabelValues(c.Request.Method, route, status).Inc()
	s.latency.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	s.log.Debug("http", "method", c.Request.Method, "route", route, "status", status, "took", time.Since(start))
}

// internal logs err and answers 500 without its text.
func (s *Server) internal(c *gin.Context, op string, err error) {
	s.log.Error(op, "route", c.FullPath(), "error", err)
	problem(c, http.StatusInternalServerError, "internal error; it has been logged")
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{}
	ready := true
	if err := s.store.Ping(ctx); err != nil {
		checks["store"] = "unreachable"
		ready = false
		s.log.Warn("readyz: store", "error", err)
	} else {
		checks["store"] = "ok"
	}
	if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"] = "unreachable"
		ready = false
		s.log.Warn("readyz: temporal", "error", err)
	} else {
		checks["temporal"] = "ok"
	}
	if !ready {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": checks})
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
