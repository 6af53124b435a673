package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// TokenView is an API token as /v1/tokens shows it: never the secret.
type TokenView struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Status    string     `json:"status"` // active | expired | revoked
	Bootstrap bool       `json:"bootstrap,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// TokenStatus is a token's state at instant now: active, expired or revoked.
func TokenStatus(t store.Token, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func tokenView(t store.Token, now time.Time) TokenView {
	return TokenView{ID: t.ID, Name: t.Name, Role: t.Role, Status: TokenStatus(t, now), Bootstrap: t.Bootstrap,
		CreatedAt: t.CreatedAt.UTC(), ExpiresAt: timePtr(t.ExpiresAt), RevokedAt: timePtr(t.RevokedAt)}
}

// maxTokenName bounds a token's name, which the audit trail shows.
const maxTokenName = 100

type createTokenRequest struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	ExpiresAt *time.Time `json:"expires_at"`
	ExpiresIn string     `json:"expires_in"` // Go duration, e.g. "720h"
}

// TokenExpiry turns the two ways of giving an expiry (an instant, or a
// duration from now such as "720h") into one instant; zero means never.
// The message of a returned error names what is wrong.
func TokenExpiry(at *time.Time, in string, now time.Time) (time.Time, error) {
	switch {
	case at != nil && in != "":
		return time.Time{}, errors.New("give expires_at or expires_in, not both")
	case in != "":
		d, err := time.ParseDuration(in)
		if err != nil || d <= 0 {
			return time.Time{}, errors.New(`must be a positive duration such as "720h"`)
		}
		return now.Add(d), nil
	case at != nil:
		if !at.After(now) {
			return time.Time{}, errors.New("must be in the future")
		}
		return *at, nil
	}
	return time.Time{}, nil
}

// listTokens answers every token, revoked and expired ones included.
func (s *Server) listTokens(c *gin.Context) {
	toks, err := s.store.ListTokens(c.Request.Context())
	if err != nil {
		s.internal(c, "list tokens", err)
		return
	}
	now := s.now()
	out := make([]TokenView, 0, len(toks))
	for _, t := range toks {
		out = append(out, tokenView(t, now))
	}
	c.JSON(http.StatusOK, gin.H{"tokens": out})
}

// createToken makes a token and answers its secret, the only time it is shown.
func (s *Server) createToken(c *gin.Context) {
	var req createTokenRequest
	if !decodeStrict(c, &req) {
		return
	}
	var errs []FieldError
	if n := strings.TrimSpace(req.Name); n == "" || len(req.Name) > maxTokenName {
		errs = append(errs, FieldError{Field: "name", Message: "required, at most 100 characters"})
	}
	if !breach.ValidRole(req.Role) {
		errs = append(errs, FieldError{Field: "role", Message: "must be one of admin, responder, legal, viewer"})
	}
	expires, err := TokenExpiry(req.ExpiresAt, req.ExpiresIn, s.now())
	if err != nil {
		field := "expires_at"
		if req.ExpiresIn != "" && req.ExpiresAt == nil {
			field = "expires_in"
		}
		errs = append(errs, FieldError{Field: field, Message: err.Error()})
	}
	if len(errs) > 0 {
		problem(c, http.StatusBadRequest, "invalid token request", errs...)
		return
	}
	secret, tok, err := s.store.IssueToken(c.Request.Context(), store.TokenSpec{Name: req.Name, Role: req.Role, ExpiresAt: expires})
	if errors.Is(err, store.ErrInvalid) {
		problem(c, http.StatusBadRequest, err.Error())
		return
	} else if err != nil {
		s.internal(c, "create token", err)
		return
	}
	s.log.InfoContext(c, "token created", "by", caller(c).Name, "token_id", tok.ID, "name", tok.Name, "role", tok.Role)
	c.JSON(http.StatusCreated, gin.H{"token": tokenView(tok, s.now()), "secret": secret})
}

// idParam reads a positive integer path parameter, or writes a 404.
func idParam(c *gin.Context, name, what string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		problem(c, http.StatusNotFound, "no "+what+" "+strconv.Quote(c.Param(name)))
		return 0, false
	}
	return id, true
}

// revokeToken revokes a token: its bearer use, its calendar feeds and its
// dashboard sessions end at once. Revoking twice is harmless.
func (s *Server) revokeToken(c *gin.Context) {
	id, ok := idParam(c, "tid", "token")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if err := s.store.RevokeToken(ctx, id); errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no token "+strconv.FormatInt(id, 10))
		return
	} else if err != nil {
		s.internal(c, "revoke token", err)
		return
	}
	s.log.InfoContext(c, "token revoked", "by", caller(c).Name, "token_id", id)
	toks, err := s.store.ListTokens(ctx)
	if err != nil {
		s.internal(c, "list tokens", err)
		return
	}
	for _, t := range toks {
		if t.ID == id {
			c.JSON(http.StatusOK, gin.H{"token": tokenView(t, s.now())})
			return
		}
	}
	s.internal(c, "revoke token", errors.New("revoked token not listed"))
}

// CalendarTokenView is a calendar feed token as listed: never the secret.
type CalendarTokenView struct {
	ID        int64      `json:"id"`
	Owner     string     `json:"owner"`
	OwnerID   int64      `json:"owner_id"`
	Status    string     `json:"status"` // active | revoked
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// calendarOwnerScope is whose calendar tokens the caller may list and
// revoke: an admin's are everyone's (0), anyone else's their own.
func calendarOwnerScope(tok store.Token) int64 {
	if tok.Role == breach.RoleAdmin {
		return 0
	}
	return tok.ID
}

// listCalendarTokens lists the caller's calendar tokens (an admin's: all).
func (s *Server) listCalendarTokens(c *gin.Context) {
	cts, err := s.store.ListCalendarTokens(c.Request.Context(), calendarOwnerScope(caller(c)))
	if err != nil {
		s.internal(c, "list calendar tokens", err)
		return
	}
	out := make([]CalendarTokenView, 0, len(cts))
	for _, ct := range cts {
		v := CalendarTokenView{ID: ct.ID, Owner: ct.OwnerName, OwnerID: ct.OwnerID, Status: "active",
			CreatedAt: ct.CreatedAt.UTC(), RevokedAt: timePtr(ct.RevokedAt)}
		if v.RevokedAt != nil {
			v.Status = "revoked"
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"calendar_tokens": out})
}

// revokeCalendarToken stops one calendar feed; someone else's is 404 to
// anyone but an admin, so ids of others' feeds are not confirmed.
func (s *Server) revokeCalendarToken(c *gin.Context) {
	id, ok := idParam(c, "cid", "calendar token")
	if !ok {
		return
	}
	err := s.store.RevokeCalendarToken(c.Request.Context(), id, calendarOwnerScope(caller(c)))
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no calendar token "+strconv.FormatInt(id, 10)+" of yours")
		return
	} else if err != nil {
		s.internal(c, "revoke calendar token", err)
		return
	}
	s.log.InfoContext(c, "calendar token revoked", "by", caller(c).Name, "calendar_token_id", id)
	c.JSON(http.StatusOK, gin.H{"id": id, "status": "revoked"})
}

// tokenRefusal is the 401 detail for a secret that does not authenticate.
func tokenRefusal(err error, what string) string {
	switch {
	case errors.Is(err, store.ErrTokenRevoked):
		return what + " has been revoked; ask an admin for a new one"
	case errors.Is(err, store.ErrTokenExpired):
		return what + " has expired; ask an admin for a new one"
	}
	return "unknown " + what
}
