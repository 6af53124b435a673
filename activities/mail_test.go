package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/jordan-wright/email"
)

// TestStartTLSRequired: a mailer told to use STARTTLS refuses a relay that
// does not offer it — a real SMTP server on a socket, the dev catcher —
// and sends nothing; only the explicit insecure option lets it go on in
// clear text.
func TestStartTLSRequired(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	catcher, err := mailcatcher.Start("127.0.0.1:0", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close(ctx)
	msg := func() *email.Email {
		e := email.NewEmail()
		e.From, e.To, e.Subject, e.Text = "security@example.org", []string{"legal@example.org"}, "Clock", []byte("72 hours")
		return e
	}

	strict := &activities.Mailer{Addr: catcher.Addr(), From: "security@example.org", TLS: "starttls", PoolSize: 2}
	defer strict.Close()
	for range 2 { // every connection, not only the first
		// classify keeps the reason, not the error value: it reaches history.
		if err := strict.SendEmail(ctx, msg()); err == nil || !strings.Contains(err.Error(), activities.ErrNoStartTLS.Error()) {
			t.Fatalf("send over a relay without STARTTLS: err = %v, want a refusal", err)
		}
	}
	if n := len(catcher.Messages()); n != 0 {
		t.Fatalf("the relay received %d messages in clear text", n)
	}

	insecure := &activities.Mailer{Addr: catcher.Addr(), From: "security@example.org", TLS: "starttls", PoolSize: 2, Insecure: true}
	defer insecure.Close()
	for range 3 {
		if err := insecure.SendEmail(ctx, msg()); err != nil {
			t.Fatalf("send with the insecure option: %v", err)
		}
	}
	if n := len(catcher.Messages()); n != 3 {
		t.Fatalf("the relay received %d messages, want 3", n)
	}
}
