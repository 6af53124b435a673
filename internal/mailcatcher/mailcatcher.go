// Package mailcatcher is the SMTP server `breachflow dev` runs instead of a
// real relay: it accepts every message over a real SMTP socket
// (github.com/emersion/go-smtp) and keeps the newest ones in memory so the
// outbox page and the tests can see exactly what would have been sent.
// With a Journal it also keeps them in a file, sealed, so a restart of dev
// does not forget them.
package mailcatcher

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	journal  *journal // nil: memory only
}

// Sealer encrypts the journal's lines; internal/codec.Keyring is one.
type Sealer interface {
	Seal(plaintext, additional []byte) (keyID string, sealed []byte, err error)
	Open(keyID string, sealed, additional []byte) ([]byte, error)
}

// Journal is where a catcher keeps its messages across restarts: Path
// holds one sealed JSON line per message. Sealing matters because customer
// notices carry customers' names and addresses, which breachflow keeps
// only encrypted at rest.
type Journal struct {
	Path   string
	Sealer Sealer
}

type journal struct {
	Journal
	f     *os.File
	lines int // lines in the file, kept or not
}

// journalAD binds a journal line to its purpose.
var journalAD = []byte("mailcatcher.message")

// record is a message as the journal holds it (Message.Raw is not JSON).
type record struct {
	Message
	Raw []byte `json:"raw"`
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
	return start(addr, keep, nil)
}

// StartWithJournal is Start that first reads the messages j holds and then
// appends every message it receives to j. A line that cannot be read (the
// tail of a crash, or sealed with a key no longer configured) is skipped.
func StartWithJournal(addr string, keep int, j Journal) (*Catcher, error) {
	if err := os.MkdirAll(filepath.Dir(j.Path), 0o700); err != nil {
		return nil, fmt.Errorf("mail catcher: %w", err)
	}
	return start(addr, keep, &journal{Journal: j})
}

func start(addr string, keep int, j *journal) (*Catcher, error) {
	c := &Catcher{limit: keep, notify: make(chan struct{}), journal: j}
	if j != nil {
		if err := c.load(); err != nil {
			return nil, fmt.Errorf("mail catcher: %s: %w", j.Path, err)
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		c.closeJournal()
		return nil, fmt.Errorf("mail catcher: %w (set BREACHFLOW_DEV_SMTP_ADDR)", err)
	}
	c.addr = l.Addr().String()
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
		err = nil
	}
	return errors.Join(err, c.closeJournal())
}

func (c *Catcher) closeJournal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.journal == nil || c.journal.f == nil {
		return nil
	}
	err := c.journal.f.Close()
	c.journal.f = nil
	return err
}

// load reads the journal's messages, keeps the newest c.limit and leaves
// the file open for appending; a file holding more than it keeps is
// rewritten.
func (c *Catcher) load() error {
	j := c.journal
	f, err := os.OpenFile(j.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	j.f = f
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4*maxMessageBytes)
	for sc.Scan() {
		j.lines++
		var r record
		if err := c.openLine(sc.Bytes(), &r); err != nil {
			continue
		}
		m := r.Message
		m.Raw = r.Raw
		c.messages = append(c.messages, m)
		c.next = max(c.next, m.ID)
		c.total++
		if c.limit > 0 && len(c.messages) > 2*c.limit {
			c.messages = append([]Message(nil), c.messages[len(c.messages)-c.limit:]...)
		}
	}
	if err := sc.Err(); err != nil {
		_ = f.Close()
		return err
	}
	if c.limit > 0 && len(c.messages) > c.limit {
		c.messages = append([]Message(nil), c.messages[len(c.messages)-c.limit:]...)
	}
	// Lines that did not open are left alone (another key may read them)
	// until the file grows past twice what it keeps.
	if c.total > len(c.messages) {
		return c.rewrite()
	}
	return nil
}

type line struct {
	Key    string `json:"key"`
	Sealed []byte `json:"sealed"`
}

func (c *Catcher) openLine(b []byte, r *record) error {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	plain, err := c.journal.Sealer.Open(l.Key, l.Sealed, journalAD)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, r)
}

func (c *Catcher) sealLine(m Message) ([]byte, error) {
	plain, err := json.Marshal(record{Message: m, Raw: m.Raw})
	if err != nil {
		return nil, err
	}
	key, sealed, err := c.journal.Sealer.Seal(plain, journalAD)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(line{Key: key, Sealed: sealed})
	return append(b, '\n'), err
}

// rewrite replaces the journal with the kept messages (c.mu held, or not
// yet serving).
func (c *Catcher) rewrite() error {
	j := c.journal
	tmp, err := os.CreateTemp(filepath.Dir(j.Path), filepath.Base(j.Path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	w := bufio.NewWriter(tmp)
	kept := c.kept()
	for _, m := range kept {
		b, err := c.sealLine(m)
		if err != nil {
			_ = tmp.Close()
			return err
		}
		_, _ = w.Write(b)
	}
	if err := errors.Join(w.Flush(), tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), j.Path); err != nil {
		return err
	}
	_ = j.f.Close()
	if j.f, err = os.OpenFile(j.Path, os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return err
	}
	j.lines = len(kept)
	return nil
}

// kept is the newest limit messages (c.mu held): c.messages may hold up
// to as many older ones again, not yet dropped.
func (c *Catcher) kept() []Message {
	if c.limit > 0 && len(c.messages) > c.limit {
		return c.messages[len(c.messages)-c.limit:]
	}
	return c.messages
}

// All returns the kept messages, oldest first.
func (c *Catcher) All() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.kept()...)
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
		for _, m := range c.kept() {
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

func (c *Catcher) add(from string, to []string, raw []byte) error {
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
	m.ID = c.next + 1
	if j := c.journal; j != nil {
		// Written before the sender hears 250: a message the journal
		// could not take is refused, as a relay that cannot spool does.
		if j.f == nil {
			return errors.New("mail catcher is closed")
		}
		b, err := c.sealLine(m)
		if err == nil {
			_, err = j.f.Write(b)
		}
		if err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot keep the message: " + err.Error()}
		}
		j.lines++
	}
	c.next++
	c.total++
	c.messages = append(c.messages, m)
	// Dropping the oldest one message at a time copied every kept message
	// for each one received; at twice the limit, the newest limit are kept
	// in a fresh slice instead, so each message is copied about once.
	if c.limit > 0 && len(c.messages) >= 2*c.limit {
		c.messages = append([]Message(nil), c.kept()...)
	}
	if j := c.journal; j != nil && c.limit > 0 && j.lines > 2*c.limit {
		if err := c.rewrite(); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot compact the journal: " + err.Error()}
		}
	}
	close(c.notify)
	c.notify = make(chan struct{})
	return nil
}

// Text returns the message's plain-text body: the text/plain part of a
// MIME message (the first one, searching nested multiparts), decoded from
// quoted-printable or base64; "" when there is none.
func (m Message) Text() string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return ""
	}
	return textPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
}

func textPart(contentType, encoding string, body io.Reader, depth int) string {
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "text/plain", nil
	}
	if err != nil || depth > 4 {
		return ""
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if t := textPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); t != "" {
				return t
			}
		}
	}
	if mt != "text/plain" {
		return ""
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // line breaks are skipped
	}
	b, err := io.ReadAll(io.LimitReader(body, maxMessageBytes))
	if err != nil {
		return ""
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
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
	return s.c.add(s.from, s.to, raw)
}
