package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// tokensView is the admin page of API and calendar tokens.
type tokensView struct {
	Tokens   []TokenView
	Calendar []CalendarTokenView
	Self     int64 // the signed-in token's id
}

// tokensPage lists every token (never a secret) with a revoke form each.
func (d *dash) tokensPage(c *gin.Context) {
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
	v := tokensView{Self: caller(c).ID}
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
	d.render(c, http.StatusOK, "tokens", "Tokens", "tokens", v)
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
