package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// tokensView is the admin page of API and calendar tokens.
type tokensView struct {
	Tokens   []TokenView
	Calendar []CalendarTokenView
	Self     int64 // the signed-in token's id
	Roles    []string
	// Created is the token just made and Secret its secret, shown once.
	Created *TokenView
	Secret  string
	Errors  []FieldError
	Form    tokenForm
}

// tokenForm is what the create form was given, shown again on a refusal.
type tokenForm struct{ Name, Role, ExpiresIn string }

// tokensPage lists every token (never a secret) with a revoke form each.
func (d *dash) tokensPage(c *gin.Context) {
	d.showTokens(c, http.StatusOK, tokensView{Form: tokenForm{Role: breach.RoleViewer}})
}

func (d *dash) showTokens(c *gin.Context, status int, v tokensView) {
	ctx := c.Request.Context()
	toks, err := d.store.ListTokens(ctx)
	if err != nil {
		d.internalPage(c, "list tokens", err)
		return
	}
	cts, err := d.store.ListCalendarTokens(ctx, 0)
	if err != nil {
		d.internalPage(c, "list calendar tokens", err)
		return
	}
	now := d.now()
	v.Self, v.Roles = caller(c).ID, []string{breach.RoleViewer, breach.RoleResponder, breach.RoleLegal, breach.RoleAdmin}
	for _, t := range toks {
		v.Tokens = append(v.Tokens, tokenView(t, now))
	}
	for _, ct := range cts {
		cv := CalendarTokenView{ID: ct.ID, Owner: ct.OwnerName, OwnerID: ct.OwnerID, Status: "active",
			CreatedAt: ct.CreatedAt.UTC(), RevokedAt: timePtr(ct.RevokedAt)}
		if cv.RevokedAt != nil {
			cv.Status = "revoked"
		}
		v.Calendar = append(v.Calendar, cv)
	}
	d.render(c, status, "tokens", "Tokens", "tokens", v)
}

// createTokenForm makes an API token and answers the page with its
// secret, shown this once (the page is not cached and not redirected to,
// so the secret is in no URL and no history entry).
func (d *dash) createTokenForm(c *gin.Context) {
	f := tokenForm{Name: strings.TrimSpace(c.PostForm("name")), Role: c.PostForm("role"), ExpiresIn: strings.TrimSpace(c.PostForm("expires_in"))}
	var errs []FieldError
	if f.Name == "" || len(f.Name) > maxTokenName {
		errs = append(errs, FieldError{Field: "name", Message: "required, at most 100 characters"})
	}
	if !breach.ValidRole(f.Role) {
		errs = append(errs, FieldError{Field: "role", Message: "must be one of admin, responder, legal, viewer"})
	}
	expires, err := TokenExpiry(nil, f.ExpiresIn, d.now())
	if err != nil {
		errs = append(errs, FieldError{Field: "expires_in", Message: err.Error()})
	}
	if len(errs) > 0 {
		d.showTokens(c, http.StatusUnprocessableEntity, tokensView{Form: f, Errors: errs})
		return
	}
	secret, tok, err := d.store.IssueToken(c.Request.Context(), store.TokenSpec{Name: f.Name, Role: f.Role, ExpiresAt: expires})
	if errors.Is(err, store.ErrInvalid) {
		d.showTokens(c, http.StatusUnprocessableEntity, tokensView{Form: f, Errors: []FieldError{{Field: "name", Message: err.Error()}}})
		return
	} else if err != nil {
		d.internalPage(c, "create token", err)
		return
	}
	d.log.Info("token created", "by", caller(c).Name, "token_id", tok.ID, "name", tok.Name, "role", tok.Role)
	tv := tokenView(tok, d.now())
	d.showTokens(c, http.StatusCreated, tokensView{Created: &tv, Secret: secret, Form: tokenForm{Role: breach.RoleViewer}})
}

// revokeTokenForm revokes an API token from the tokens page.
func (d *dash) revokeTokenForm(c *gin.Context) {
	d.revokeFromPage(c, "token", func(id int64) error { return d.store.RevokeToken(c.Request.Context(), id) })
}

// revokeCalendarTokenForm revokes one calendar token from the tokens page.
func (d *dash) revokeCalendarTokenForm(c *gin.Context) {
	d.revokeFromPage(c, "calendar token", func(id int64) error { return d.store.RevokeCalendarToken(c.Request.Context(), id, 0) })
}

func (d *dash) revokeFromPage(c *gin.Context, what string, revoke func(int64) error) {
	id, err := strconv.ParseInt(c.Param("tid"), 10, 64)
	if err == nil && id > 0 {
		err = revoke(id)
	} else {
		err = store.ErrNotFound
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.setFlash(c, "error", "There is no "+what+" "+strconv.Quote(c.Param("tid"))+". Nothing was changed.")
	case err != nil:
		d.internalPage(c, "revoke "+what, err)
		return
	default:
		d.log.Info(what+" revoked", "by", caller(c).Name, "id", id)
		d.setFlash(c, "ok", "Revoked "+what+" "+strconv.FormatInt(id, 10)+"; it is refused from its next request.")
	}
	c.Redirect(http.StatusSeeOther, "/tokens")
}
