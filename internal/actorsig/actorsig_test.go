package actorsig

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

var (
	key   = []byte("0123456789abcdef0123456789abcdef")
	other = []byte("fedcba9876543210fedcba9876543210")
	t0    = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	bind  = Bind{WorkflowID: "incident/BR-ABC123", Update: "decide", UpdateID: "decide:k1"}
	ann   = breach.Actor{Name: "ann", Role: breach.RoleLegal}
)

func TestVerify(t *testing.T) {
	sig, err := Sign(key, ann, bind, t0)
	if err != nil {
		t.Fatal(err)
	}
	signed := ann
	signed.Sig = sig
	with := func(f func(a *breach.Actor, b *Bind)) (breach.Actor, Bind) {
		a, b := signed, bind
		f(&a, &b)
		return a, b
	}
	for _, tc := range []struct {
		name string
		key  []byte
		edit func(a *breach.Actor, b *Bind)
		now  time.Time
		want string // "" = accepted
	}{
		{name: "good", now: t0.Add(time.Minute)},
		{name: "good at the edge of its age", now: t0.Add(MaxAge)},
		{name: "wrong key", key: other, now: t0, want: "does not match"},
		{name: "no key", key: []byte{}, now: t0, want: "no actor key"},
		{name: "changed role", edit: func(a *breach.Actor, _ *Bind) { a.Role = breach.RoleAdmin }, now: t0, want: "does not match"},
		{name: "changed name", edit: func(a *breach.Actor, _ *Bind) { a.Name = "bob" }, now: t0, want: "does not match"},
		{name: "other incident", edit: func(_ *breach.Actor, b *Bind) { b.WorkflowID = "incident/BR-ZZZ999" }, now: t0, want: "does not match"},
		{name: "other update name", edit: func(_ *breach.Actor, b *Bind) { b.Update = "close" }, now: t0, want: "does not match"},
		{name: "other update id", edit: func(_ *breach.Actor, b *Bind) { b.UpdateID = "decide:k2" }, now: t0, want: "does not match"},
		{name: "expired", now: t0.Add(MaxAge + time.Second), want: "expired"},
		{name: "from the future", now: t0.Add(-Skew - time.Second), want: "in the future"},
		{name: "unsigned", edit: func(a *breach.Actor, _ *Bind) { a.Sig = "" }, now: t0, want: "no signature"},
		{name: "malformed", edit: func(a *breach.Actor, _ *Bind) { a.Sig = "v1.x.y" }, now: t0, want: "malformed"},
		{name: "time moved", edit: func(a *breach.Actor, _ *Bind) {
			a.Sig = strings.Replace(a.Sig, ".1", ".2", 1)
		}, now: t0, want: "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := key
			if tc.key != nil {
				k = tc.key
			}
			a, b := signed, bind
			if tc.edit != nil {
				a, b = with(tc.edit)
			}
			err := Verify(k, a, b, tc.now)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatal("accepted")
			case tc.want != "" && (!errors.Is(err, ErrNotSigned) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %q, want ErrNotSigned saying %q", err, tc.want)
			}
		})
	}
}

func TestSignShortKey(t *testing.T) {
	if _, err := Sign(key[:31], ann, bind, t0); err == nil {
		t.Fatal("signed with a 31-byte key")
	}
}

func TestSignInput(t *testing.T) {
	in := breach.Decide{Actor: ann, Step: "approve-notice", Decision: "approve"}
	out, err := SignInput(key, in, bind, t0)
	if err != nil {
		t.Fatal(err)
	}
	if in.Actor.Sig != "" {
		t.Fatal("SignInput changed its argument")
	}
	d, ok := out.(breach.Decide)
	if !ok {
		t.Fatalf("SignInput returned %T, want breach.Decide", out)
	}
	if d.Step != in.Step || d.Decision != in.Decision {
		t.Fatalf("SignInput changed the input: %+v", d)
	}
	a, ok := ActorOf(d)
	if !ok || Verify(key, a, bind, t0) != nil {
		t.Fatalf("the signed input does not verify: %+v", a)
	}
	p, err := SignInput(key, &in, bind, t0)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := ActorOf(p); p.(*breach.Decide) == &in || Verify(key, a, bind, t0) != nil {
		t.Fatal("a pointer input is not copied and signed")
	}
	if _, err := SignInput(key, struct{ Step string }{"x"}, bind, t0); err == nil {
		t.Fatal("signed an input without an actor")
	}
}
