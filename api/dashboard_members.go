package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// membersView is the page of who may see a restricted incident.
type membersView struct {
	St      *breach.Status
	Closed  bool
	Members []string
}

// membersPage lists who may see the incident: its members when it is
// restricted (admins see every incident), everyone with a token when not.
func (d *dash) membersPage(c *gin.Context) {
	st, ok := d.loadIncident(c)
	if !ok {
		return
	}
	d.render(c, http.StatusOK, "members", st.ID+" · members", "incidents",
		membersView{St: st, Closed: st.Status == breach.StatusClosed, Members: st.Members})
}

// addMemberForm adds a principal to a restricted incident (admins).
func (d *dash) addMemberForm(c *gin.Context) {
	d.memberForm(c, strings.TrimSpace(c.PostForm("principal")), true)
}

// removeMemberForm removes one (admins).
func (d *dash) removeMemberForm(c *gin.Context) { d.memberForm(c, c.Param("principal"), false) }

// memberForm goes through the set_member Update as the API does, so the
// workflow judges it and writes the store's index and the audit chain.
func (d *dash) memberForm(c *gin.Context, principal string, member bool) {
	id := c.Param("id")
	back := "/incidents/" + id + "/members"
	if principal == "" || len(principal) > 200 {
		d.setFlash(c, "error", "Name the member: a token's name, slack:<user id> or a staff email (up to 200 characters). Nothing was changed.")
		c.Redirect(http.StatusSeeOther, back)
		return
	}
	inc, err := d.store.GetIncident(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		d.notFound(c, id)
		return
	} else if err != nil {
		d.internalPage(c, "get incident", err)
		return
	}
	if !inc.Restricted {
		d.setFlash(c, "error", "Incident "+id+" is not restricted, so it has no members: everyone signed in may see it. Nothing was changed.")
		c.Redirect(http.StatusSeeOther, back)
		return
	}
	principal = principalName(principal)
	done := principal + " may now see " + id + "."
	if !member {
		done = principal + " is no longer a member of " + id + "."
	}
	d.act(c, workflows.UpdateSetMember, breach.SetMember{Actor: actor(c), Principal: principal, Member: member}, done)
}
