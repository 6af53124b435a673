package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
)

// BenchmarkMay is the cost of the authorization decision every
// per-incident request now pays, on SQLite: a member and a non-member of
// a restricted incident with 50 members, among 1,000 incidents.
//
//	go test ./api -run '^$' -bench May -benchtime 2000x
func BenchmarkMay(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir()+"/app.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var members []string
	for i := range 50 {
		members = append(members, fmt.Sprintf("member-%02d", i))
	}
	var id string
	for i := range 1000 {
		in := store.Incident{PlaybookID: "insider-exfiltration", Severity: "high", CreatedBy: "b"}
		if i%10 == 0 {
			in.Restricted, in.Members = true, members
		}
		rec, _, err := st.CreateIncident(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if in.Restricted {
			id = rec.ID
		}
	}
	s := New(Deps{Store: st})
	read := RouteRules["GET /v1/incidents/:id"]
	for _, who := range []breach.Actor{{Name: "member-42", Role: breach.RoleResponder}, {Name: "outsider", Role: breach.RoleResponder}} {
		b.Run(who.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.may(ctx, who, read, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("hidden list", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.hidden(ctx, breach.Actor{Name: "outsider", Role: breach.RoleResponder}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
