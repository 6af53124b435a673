package activities

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"time"

	"github.com/jordan-wright/email"
)

// ErrNoStartTLS is the error of a relay that does not offer STARTTLS when
// the mailer requires it. It is retried: the relay, or whoever stands in
// the way of it, may offer it again.
var ErrNoStartTLS = errors.New("the SMTP relay does not offer STARTTLS; refusing to send in clear text (BREACHFLOW_SMTP_INSECURE allows it)")

// smtpPool keeps up to size SMTP connections open and sends one message
// per turn on one of them. Unlike email.Pool it will not go on in clear
// text when STARTTLS is required and the relay does not offer it — on any
// connection, not just the first.
type smtpPool struct {
	addr       string
	host       string
	auth       smtp.Auth
	tls        *tls.Config
	requireTLS bool
	idle       chan *smtpConn
	slots      chan struct{} // one per open connection
}

// smtpConn is a client and its connection, whose deadline bounds a send.
type smtpConn struct {
	*smtp.Client
	conn      net.Conn
	idleSince time.Time
}

// smtpIdleCheck is how long a connection may sit idle before it is asked
// with NOOP whether it still answers. A NOOP before every message cost a
// round trip in five, and an eighth of the mailer's CPU; a relay drops an
// idle connection only after minutes (RFC 5321 §4.5.3.2.7: five at least),
// and one dropped sooner fails at MAIL, before any of the message is sent,
// and is redialled (send).
const smtpIdleCheck = 10 * time.Second

func newSMTPPool(addr string, size int, auth smtp.Auth, tlsConfig *tls.Config, requireTLS bool) (*smtpPool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	return &smtpPool{addr: addr, host: host, auth: auth, tls: tlsConfig, requireTLS: requireTLS,
		idle: make(chan *smtpConn, size), slots: make(chan struct{}, size)}, nil
}

// send delivers e on an idle connection, or a new one while fewer than
// size are open. A connection that fails is closed, not reused. When a
// reused connection fails at MAIL because the relay had dropped it (no
// answer, or 421), nothing of the message has been sent, and it is sent
// on a fresh connection.
func (p *smtpPool) send(ctx context.Context, e *email.Email) error {
	from, to, msg, err := envelope(e)
	if err != nil {
		return err
	}
	for {
		c, reused, err := p.get(ctx)
		if err != nil {
			return err
		}
		if d, ok := ctx.Deadline(); ok {
			_ = c.conn.SetDeadline(d)
		}
		if err := c.Mail(from); err != nil {
			p.discard(c)
			if reused && dropped(err) && ctx.Err() == nil {
				continue
			}
			return err
		}
		if err := deliver(c.Client, to, msg); err != nil {
			p.discard(c)
			return err
		}
		c.idleSince = time.Now()
		p.idle <- c
		return nil
	}
}

// dropped reports whether err means the relay closed the connection: no
// answer at all, or 421, the reply of a relay closing the channel (idle
// timeout, shutting down).
func dropped(err error) bool {
	var reply *textproto.Error
	return !errors.As(err, &reply) || reply.Code == 421
}

// get returns an idle connection — asked with NOOP first when it has been
// idle long — or dials one; reused says which.
func (p *smtpPool) get(ctx context.Context) (c *smtpConn, reused bool, err error) {
	for {
		select {
		case c := <-p.idle:
			if d, ok := ctx.Deadline(); ok {
				_ = c.conn.SetDeadline(d)
			}
			if time.Since(c.idleSince) < smtpIdleCheck || c.Noop() == nil {
				return c, true, nil
			}
			p.discard(c)
		case p.slots <- struct{}{}:
			c, err := p.dial(ctx)
			if err != nil {
				<-p.slots
				return nil, false, err
			}
			return c, false, nil
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

func (p *smtpPool) discard(c *smtpConn) {
	_ = c.Close()
	<-p.slots
}

func (p *smtpPool) dial(ctx context.Context) (*smtpConn, error) {
	conn, err := (&net.Dialer{Timeout: 30 * time.Second}).DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	c, err := smtp.NewClient(conn, p.host)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(p.tls); err != nil {
			_ = c.Close()
			return nil, err
		}
	} else if p.requireTLS {
		_ = c.Close()
		return nil, ErrNoStartTLS
	}
	if p.auth != nil {
		if ok, _ := c.Extension("AUTH"); ok {
			if err := c.Auth(p.auth); err != nil {
				_ = c.Close()
				return nil, err
			}
		}
	}
	return &smtpConn{Client: c, conn: conn}, nil
}

// close closes the idle connections.
func (p *smtpPool) close() {
	for {
		select {
		case c := <-p.idle:
			_ = c.Quit()
			<-p.slots
		default:
			return
		}
	}
}

func envelope(e *email.Email) (from string, to []string, msg []byte, err error) {
	f, err := mail.ParseAddress(e.From)
	if err != nil {
		return "", nil, nil, fmt.Errorf("from: %w", err)
	}
	for _, list := range [][]string{e.To, e.Cc, e.Bcc} {
		for _, a := range list {
			addr, err := mail.ParseAddress(a)
			if err != nil {
				return "", nil, nil, fmt.Errorf("recipient: %w", err)
			}
			to = append(to, addr.Address)
		}
	}
	if len(to) == 0 {
		return "", nil, nil, errors.New("no recipient")
	}
	msg, err = e.Bytes()
	return f.Address, to, msg, err
}

// deliver sends the recipients and the message after MAIL. The message
// goes through writeDotted rather than net/smtp's Data writer, whose
// byte-at-a-time dot-stuffing cost 60 µs a notice, an eighth of the send
// (bench notify); the session (EHLO, STARTTLS, AUTH, MAIL, RCPT, the
// replies) stays net/smtp's.
func deliver(c *smtp.Client, to []string, msg []byte) error {
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	id, err := c.Text.Cmd("DATA")
	if err != nil {
		return err
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(354)
	c.Text.EndResponse(id)
	if err != nil {
		return err
	}
	if err := writeDotted(c.Text.W, msg); err != nil {
		return err
	}
	_, _, err = c.Text.ReadResponse(250)
	return err
}

// writeDotted writes msg as the data of a DATA command (RFC 5321 §4.5.2)
// and flushes it, as textproto's DotWriter does but a line at a time:
// each line ends in CRLF (a bare LF becomes CRLF), a line that begins with
// a dot gets another, and the data ends with a line holding a dot. A CR
// not followed by LF is data; two in a row, which DotWriter would turn
// into three, do not occur in what jordan-wright/email writes.
func writeDotted(w *bufio.Writer, msg []byte) error {
	if len(msg) == 0 {
		w.WriteString("\r\n")
	}
	for len(msg) > 0 {
		line, rest, ended := bytes.Cut(msg, []byte{'\n'})
		if len(line) > 0 && line[0] == '.' {
			w.WriteByte('.')
		}
		switch {
		case ended:
			w.Write(bytes.TrimSuffix(line, []byte{'\r'}))
			w.WriteString("\r\n")
		case line[len(line)-1] == '\r':
			w.Write(line)
			w.WriteByte('\n')
		default:
			w.Write(line)
			w.WriteString("\r\n")
		}
		msg = rest
	}
	w.WriteString(".\r\n")
	return w.Flush()
}
