package api

import (
	"net/http"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// listMembers handles GET /v1/incidents/{id}/members: the store's index
// of who may see a restricted incident (empty for an unrestricted one).
func (s *Server) listMembers(c *gin.Context) {
	id := c.Param("id")
	ctx := c.Request.Context()
	inc, err := s.store.GetIncident(ctx, id)
	if err != nil {
		s.internal(c, "get incident", err)
		return
	}
	members, err := s.store.IncidentMembers(ctx, id)
	if err != nil {
		s.internal(c, "list members", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"incident": id, "restricted": inc.Restricted, "members": members})
}

// putMember handles PUT /v1/incidents/{id}/members/{principal}.
func (s *Server) putMember(c *gin.Context) { s.setMember(c, true) }

// deleteMember handles DELETE /v1/incidents/{id}/members/{principal}.
func (s *Server) deleteMember(c *gin.Context) { s.setMember(c, false) }

// setMember adds or removes a member of a restricted incident through the
// set_member Update: the workflow judges it (admins only), writes the
// store's index that authorization reads (an activity, retried until it
// lands) and records it in the audit chain, so a refused change writes
// nothing and an accepted one is in all three when this answers.
func (s *Server) setMember(c *gin.Context, member bool) {
	id, principal := c.Param("id"), principalName(c.Param("principal"))
	ctx := c.Request.Context()
	inc, err := s.store.GetIncident(ctx, id)
	if err != nil {
		s.internal(c, "get incident", err)
		return
	}
	if !inc.Restricted {
		problem(c, http.StatusUnprocessableEntity, "incident "+id+" is not restricted, so it has no members",
			FieldError{Field: "id", Message: "not a restricted incident"})
		return
	}
	key, ok := updateKey(c)
	if !ok {
		return
	}
	who := actor(c)
	st, err := s.sendUpdate(ctx, id, workflows.UpdateSetMember, key, breach.SetMember{Actor: who, Principal: principal, Member: member})
	if err != nil {
		s.updateError(c, id, err)
		return
	}
	members := st.Members
	if members == nil {
		members = []string{}
	}
	c.JSON(http.StatusOK, gin.H{"incident": id, "restricted": true, "members": members})
}
