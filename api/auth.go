package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

const tokenKey = "breachflow.token"

// authenticate resolves the bearer token; every /v1 route sits behind it.
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="breachflow"`)
		problem(c, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
		return
	}
	tok, err := s.store.AuthenticateToken(c.Request.Context(), strings.TrimSpace(secret))
	if errors.Is(err, store.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="breachflow", error="invalid_token"`)
		problem(c, http.StatusUnauthorized, tokenRefusal(err, "token"))
		return
	}
	if err != nil {
		s.internal(c, "authenticate", err)
		return
	}
	c.Set(tokenKey, tok)
	c.Next()
}

// authenticateCalendar admits the calendar feed's caller: a calendar
// token in the query (calendar apps cannot send headers) acts as the API
// token that made it; without one, a bearer token.
func (s *Server) authenticateCalendar(c *gin.Context) {
	secret := c.Query("token")
	if secret == "" {
		s.authenticate(c)
		return
	}
	tok, err := s.store.AuthenticateCalendarToken(c.Request.Context(), secret)
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusUnauthorized, tokenRefusal(err, "calendar token"))
		return
	} else if err != nil {
		s.internal(c, "calendar token", err)
		return
	}
	c.Set(tokenKey, tok)
	c.Next()
}

// allowed reports whether role satisfies any of roles.
func allowed(role string, roles []string) bool {
	for _, r := range roles {
		if breach.RoleSatisfies(role, r) {
			return true
		}
	}
	return false
}

func caller(c *gin.Context) store.Token {
	v, _ := c.Get(tokenKey)
	tok, _ := v.(store.Token)
	return tok
}
