// Package mailcatcher is the SMTP server `breachflow dev` runs instead of a
// real relay: it accepts every message over a real SMTP socket
// (github.com/emersion/go-smtp) and keeps the newest ones in memory so the
// outbox page and the tests can see exactly what would have been sent.
package mailcatcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/mail"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one received message.
type Message struct {
	ID         int       `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	MessageID  string    `json:"message_id"`
	Size       int       `json:"size"`
	Raw        []byte    `json:"-"`
}

// Catcher is a running SMTP catcher.
type Catcher struct {
	server *smtp.Server
	addr   string
	limit  int

	mu       sync.Mutex
	messages []Message
	next     int
	total    int
	notify   chan struct{}
	refuse   func(rcpt string) error
}

// Refuse makes the catcher answer RCPT TO with refuse's error (an
// *smtp.SMTPError carries its code: 4xx temporary, 5xx permanent), the
// way a real relay refuses an address; nil accepts every recipient.
func (c *Catcher) Refuse(refuse func(rcpt string) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse = refuse
}

// maxMessageBytes bounds one message; notices are small.
const maxMessageBytes = 10 << 20

// Start listens on addr ("127.0.0.1:1025", or port 0 for a free one) and
// keeps at most keep messages (the oldest are dropped first).
func Start(addr string, keep int) (*Catcher, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail catcher: %w (set BREACHFLOW_DEV_SMTP_ADDR)", err)
	}
	c := &Catcher{limit: keep, addr: l.Addr().String(), notify: make(chan struct{})}
	s := smtp.NewServer(backend{c})
	s.Domain = "localhost"
	s.MaxMessageBytes = maxMessageBytes
	s.MaxRecipients = 100
	s.AllowInsecureAuth = true
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	s.ErrorLog = log.New(io.Discard, "", 0) // a sender hanging up mid-message is not news
	c.server = s
	go func() { _ = s.Serve(l) }()
	return c, nil
}

// Addr is the address the catcher listens on.
func (c *Catcher) Addr() string { return c.addr }

// Close stops accepting mail and waits for open sessions to finish.
func (c *Catcher) Close(ctx context.Context) error {
	err := c.server.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// All returns the kept messages, oldest first.
func (c *Catcher) All() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.messages...)
}

// Messages implements the API's outbox listing: newest first (Raw is
// never encoded).
func (c *Catcher) Messages() []Message {
	all := c.All()
	slices.Reverse(all)
	return all
}

// Total counts every message received, including dropped ones.
func (c *Catcher) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Wait blocks until a message satisfying match arrives or ctx ends.
func (c *Catcher) Wait(ctx context.Context, match func(Message) bool) (Message, error) {
	for {
		c.mu.Lock()
		for _, m := range c.messages {
			if match(m) {
				c.mu.Unlock()
				return m, nil
			}
		}
		ch := c.notify
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return Message{}, ctx.Err()
		case <-ch:
		}
	}
}

func (c *Catcher) add(from string, to []string, raw []byte) {
	m := Message{ReceivedAt: time.Now().UTC(), From: from, To: to, Size: len(raw), Raw: raw}
	if parsed, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		dec := new(mime.WordDecoder)
		m.Subject = parsed.Header.Get("Subject")
		if s, err := dec.DecodeHeader(m.Subject); err == nil {
			m.Subject = s
		}
		m.MessageID = parsed.Header.Get("Message-Id")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	c.total++
	m.ID = c.next
	c.messages = append(c.messages, m)
	if c.limit > 0 && len(c.messages) > c.limit {
		c.messages = append([]Message(nil), c.messages[len(c.messages)-c.limit:]...)
	}
	close(c.notify)
	c.notify = make(chan struct{})
}

type backend struct{ c *Catcher }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: b.c}, nil }

type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string { return []string{"PLAIN"} }

func (s *session) Auth(string) (sasl.Server, error) {
	// The catcher accepts any credentials so the sender's AUTH path runs.
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.c.mu.Lock()
	refuse := s.c.refuse
	s.c.mu.Unlock()
	if refuse != nil {
		if err := refuse(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.c.add(s.from, s.to, raw)
	return nil
}
