package activities_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/emersion/go-smtp"
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

// TestPoolRedialsAConnectionTheRelayDropped: the pool reuses an idle
// connection without asking NOOP first, so when the relay has dropped it
// (here after 200 ms idle, as relays do after minutes) the send fails at
// MAIL, before any of the message went out, and goes once more on a fresh
// connection: both messages arrive, each once.
func TestPoolRedialsAConnectionTheRelayDropped(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	relay := &countingRelay{}
	srv := smtp.NewServer(relay)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 200 * time.Millisecond
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := &activities.Mailer{Addr: l.Addr().String(), From: "security@example.org", TLS: "none", PoolSize: 1}
	defer m.Close()
	for i := range 2 {
		e := email.NewEmail()
		e.From, e.To, e.Subject, e.Text = "security@example.org", []string{"legal@example.org"}, "Clock", []byte("72 hours")
		if err := m.SendEmail(ctx, e); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
		time.Sleep(600 * time.Millisecond) // the relay drops the idle connection
	}
	if got := relay.messages.Load(); got != 2 {
		t.Fatalf("the relay received %d messages, want 2", got)
	}
	if got := relay.sessions.Load(); got != 2 {
		t.Fatalf("the relay saw %d connections, want 2 (the second after it dropped the first)", got)
	}
}

// countingRelay is a go-smtp backend that counts connections and messages.
type countingRelay struct{ sessions, messages atomic.Int64 }

func (r *countingRelay) NewSession(*smtp.Conn) (smtp.Session, error) {
	r.sessions.Add(1)
	return relaySession{r}, nil
}

type relaySession struct{ r *countingRelay }

func (relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (relaySession) Reset()                               {}
func (relaySession) Logout() error                        { return nil }
func (s relaySession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.r.messages.Add(1)
	return nil
}
